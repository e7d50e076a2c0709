//! The refresh token itself: 32 random bytes, standard base64 with padding;
//! stored only as its hash; and the seal that keeps a successor readable
//! by the holder of the token it replaced, and by no one else.

use base64::{engine::general_purpose::STANDARD, Engine};
use sha2::{Digest, Sha256};

/// 32 random bytes, standard base64 with padding: 44 characters.
const TOKEN_BYTES: usize = 32;
const TOKEN_LEN: usize = 44;

pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).expect("the OS random number generator is available");
    STANDARD.encode(bytes)
}

/// Whether `presented` has the shape of a token (and may be looked up).
pub fn is_well_formed(presented: &str) -> bool {
    presented.len() == TOKEN_LEN && STANDARD.decode(presented).map(|b| b.len()) == Ok(TOKEN_BYTES)
}

/// The stored form of a token: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// The key that seals the successor of `presented`: only its holder can
/// derive it. Each token has at most one successor, so a key is used once.
fn successor_key(presented: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"refresh-successor-v1:")
        .chain_update(presented.as_bytes())
        .finalize()
        .into()
}

fn xor(bytes: &[u8], key: &[u8; 32]) -> Vec<u8> {
    bytes.iter().zip(key.iter()).map(|(a, b)| a ^ b).collect()
}

/// The successor of `presented`, sealed: XOR with its key.
pub fn seal(presented: &str, successor: &str) -> Option<String> {
    let plain = STANDARD.decode(successor).ok()?;
    Some(STANDARD.encode(xor(&plain, &successor_key(presented))))
}

/// The successor sealed by [`seal`], read with the token it replaced.
pub fn unseal(presented: &str, sealed: &str) -> Option<String> {
    let bytes = STANDARD.decode(sealed).ok()?;
    if bytes.len() != TOKEN_BYTES {
        return None;
    }
    Some(STANDARD.encode(xor(&bytes, &successor_key(presented))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_44_characters_of_padded_base64_from_32_bytes() {
        let t = new_token();
        assert_eq!(t.len(), TOKEN_LEN);
        assert!(t.ends_with('='));
        assert_eq!(STANDARD.decode(&t).unwrap().len(), TOKEN_BYTES);
        assert!(is_well_formed(&t));
        assert!(!is_well_formed(&t[1..]));
        assert_ne!(t, new_token());
    }

    #[test]
    fn only_the_replaced_token_unseals_its_successor() {
        let (a, b, c) = (new_token(), new_token(), new_token());
        let sealed = seal(&a, &b).unwrap();
        assert_eq!(unseal(&a, &sealed).unwrap(), b);
        assert_ne!(unseal(&c, &sealed).unwrap(), b);
    }
}
