//! The keys access tokens are signed and verified with: one signing key (an
//! HMAC secret, or an Ed25519, P-256 or RSA private key) and the earlier keys
//! still accepted. Each key is named by its RFC 7638 thumbprint, the `kid` of
//! the tokens it signs, and is bound to one algorithm; the public halves of
//! the asymmetric ones make the JWK Set other services verify with.

use std::{io, path::Path};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ed25519_dalek::pkcs8::{
    spki::der::pem::LineEnding, DecodePrivateKey, DecodePublicKey, EncodePrivateKey,
};
use jsonwebtoken::{
    jwk::{
        AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
        EllipticCurveKeyType, Jwk, JwkSet, OctetKeyPairParameters, OctetKeyPairType,
        OctetKeyParameters, OctetKeyType, PublicKeyUse, RSAKeyParameters, RSAKeyType,
        ThumbprintHash,
    },
    Algorithm, DecodingKey, EncodingKey,
};
use rsa::{pkcs1::EncodeRsaPrivateKey, traits::PublicKeyParts};

use crate::secret::{self, Secret};

/// The algorithms a key can be configured for (`JWT_ALGORITHM`).
pub const ALGORITHMS: [Algorithm; 6] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::EdDSA,
    Algorithm::ES256,
    Algorithm::RS256,
];

/// RSA keys shorter than this are refused.
const MIN_RSA_BITS: usize = 2048;
/// The size of the RSA keys `server keys generate` makes.
const NEW_RSA_BITS: usize = 2048;

pub fn is_hmac(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    )
}

/// `EdDSA`, `ES256`, ... as `JWT_ALGORITHM` names it.
pub fn parse_algorithm(name: &str) -> Option<Algorithm> {
    ALGORITHMS
        .into_iter()
        .find(|a| format!("{a:?}").eq_ignore_ascii_case(name))
}

/// The key new tokens are signed with.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub key: EncodingKey,
}

/// A key tokens are accepted from, for its one algorithm.
#[derive(Clone)]
pub struct VerifyingKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
    /// The public JWK, with `kid`, `alg` and `use`; `None` for a secret.
    pub public: Option<Jwk>,
}

/// The signing key and every key verification accepts (the signing key's
/// own among them), each `kid` once.
#[derive(Clone)]
pub struct KeyRing {
    pub signing: SigningKey,
    pub verifying: Vec<VerifyingKey>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = self
            .verifying
            .iter()
            .map(|k| format!("{:?} {}", k.algorithm, k.kid))
            .collect();
        write!(
            f,
            "KeyRing(signing {:?} {}, verifying {keys:?})",
            self.signing.algorithm, self.signing.kid
        )
    }
}

impl KeyRing {
    /// The ring of `signing` and the earlier keys `previous`; the same key
    /// given twice is kept once. (A `kid` always names one algorithm: a
    /// key's type gives it, and every secret is for the one HMAC algorithm
    /// the configuration names.)
    pub fn new(signing: (SigningKey, VerifyingKey), previous: Vec<VerifyingKey>) -> Self {
        let (signing, own) = signing;
        let mut verifying: Vec<VerifyingKey> = vec![own];
        for key in previous {
            if !verifying.iter().any(|k| k.kid == key.kid) {
                verifying.push(key);
            }
        }
        KeyRing { signing, verifying }
    }

    /// The public keys: the JWK Set of `/.well-known/jwks.json`.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self
                .verifying
                .iter()
                .filter_map(|k| k.public.clone())
                .collect(),
        }
    }
}

/// The HMAC key `secret` for `algorithm`. Its `kid` is the thumbprint of the
/// secret as a JWK: a SHA-256 of it, which reveals nothing a token signed
/// with it does not.
pub fn hmac(secret: &Secret, algorithm: Algorithm) -> (SigningKey, VerifyingKey) {
    let jwk = Jwk {
        common: CommonParameters::default(),
        algorithm: AlgorithmParameters::OctetKey(OctetKeyParameters {
            key_type: OctetKeyType::Octet,
            value: URL_SAFE_NO_PAD.encode(secret.expose()),
        }),
    };
    let kid = thumbprint(&jwk);
    (
        SigningKey {
            kid: kid.clone(),
            algorithm,
            key: EncodingKey::from_secret(secret.expose()),
        },
        VerifyingKey {
            kid,
            algorithm,
            key: DecodingKey::from_secret(secret.expose()),
            public: None,
        },
    )
}

/// A private key from PKCS#8 PEM: Ed25519 (EdDSA), P-256 (ES256) or RSA
/// (RS256), the algorithm following from the key.
pub fn from_private_pem(pem: &str) -> Result<(SigningKey, VerifyingKey), String> {
    let (algorithm, key, public) = if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
        let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_der(der.as_bytes()),
            ed25519_jwk(&key.verifying_key()),
        )
    } else if let Ok(key) = p256::SecretKey::from_pkcs8_pem(pem) {
        let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
        (
            Algorithm::ES256,
            EncodingKey::from_ec_der(der.as_bytes()),
            p256_jwk(&key.public_key()),
        )
    } else if let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
        check_rsa_size(key.size())?;
        let der = key.to_pkcs1_der().map_err(|e| e.to_string())?;
        (
            Algorithm::RS256,
            EncodingKey::from_rsa_der(der.as_bytes()),
            rsa_jwk(&key.to_public_key()),
        )
    } else {
        return Err(not_a_key("private"));
    };
    let verifying = verifying_key(algorithm, public)?;
    Ok((
        SigningKey {
            kid: verifying.kid.clone(),
            algorithm,
            key,
        },
        verifying,
    ))
}

/// An earlier key from PEM: a private key as [`from_private_pem`] reads it,
/// or the public key alone (SubjectPublicKeyInfo, `PUBLIC KEY`).
pub fn from_pem(pem: &str) -> Result<VerifyingKey, String> {
    if pem.contains("PRIVATE KEY-----") {
        return from_private_pem(pem).map(|(_, verifying)| verifying);
    }
    let (algorithm, public) = if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem)
    {
        (Algorithm::EdDSA, ed25519_jwk(&key))
    } else if let Ok(key) = p256::PublicKey::from_public_key_pem(pem) {
        (Algorithm::ES256, p256_jwk(&key))
    } else if let Ok(key) = rsa::RsaPublicKey::from_public_key_pem(pem) {
        check_rsa_size(key.size())?;
        (Algorithm::RS256, rsa_jwk(&key))
    } else {
        return Err(not_a_key("private or public"));
    };
    verifying_key(algorithm, public)
}

/// A new private key for `algorithm`, as PKCS#8 PEM, from the OS's random source.
pub fn generate(algorithm: Algorithm) -> Result<zeroize::Zeroizing<String>, String> {
    let mut rng = rand_core::OsRng;
    let pem = match algorithm {
        Algorithm::EdDSA => {
            ed25519_dalek::SigningKey::generate(&mut rng).to_pkcs8_pem(LineEnding::LF)
        }
        Algorithm::ES256 => p256::SecretKey::random(&mut rng).to_pkcs8_pem(LineEnding::LF),
        Algorithm::RS256 => rsa::RsaPrivateKey::new(&mut rng, NEW_RSA_BITS)
            .map_err(|e| e.to_string())?
            .to_pkcs8_pem(LineEnding::LF),
        other => return Err(format!("{other:?} takes a secret, not a key file")),
    };
    pem.map_err(|e| e.to_string())
}

/// The development key for `algorithm` at `path`: read, or generated and
/// written there (mode 0600) when there is none.
pub fn load_or_generate(
    path: &Path,
    algorithm: Algorithm,
) -> io::Result<(SigningKey, VerifyingKey)> {
    let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
    let pem = secret::read_or_create(path, || {
        Ok(generate(algorithm).map_err(invalid)?.to_string())
    })?;
    let key = from_private_pem(&pem).map_err(invalid)?;
    if key.0.algorithm != algorithm {
        return Err(invalid(format!("it holds a {:?} key", key.0.algorithm)));
    }
    Ok(key)
}

fn not_a_key(what: &str) -> String {
    format!(
        "not a PKCS#8 PEM {what} key of Ed25519, P-256 or RSA \
         (`openssl pkcs8 -topk8 -nocrypt` converts other private keys)"
    )
}

fn check_rsa_size(bytes: usize) -> Result<(), String> {
    if bytes * 8 < MIN_RSA_BITS {
        return Err(format!(
            "an RSA key of {} bits; at least {MIN_RSA_BITS} are needed",
            bytes * 8
        ));
    }
    Ok(())
}

/// The verifying key of a public JWK, with its `kid`, `alg` and `use` set.
fn verifying_key(algorithm: Algorithm, mut public: Jwk) -> Result<VerifyingKey, String> {
    let kid = thumbprint(&public);
    public.common = CommonParameters {
        public_key_use: Some(PublicKeyUse::Signature),
        key_algorithm: Some(algorithm.into()),
        key_id: Some(kid.clone()),
        ..Default::default()
    };
    let key = DecodingKey::from_jwk(&public).map_err(|e| e.to_string())?;
    Ok(VerifyingKey {
        kid,
        algorithm,
        key,
        public: Some(public),
    })
}

/// The RFC 7638 thumbprint (SHA-256) of `jwk`.
fn thumbprint(jwk: &Jwk) -> String {
    jwk.thumbprint(ThumbprintHash::SHA256)
        .expect("every key made here is of a kind with a thumbprint")
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn ed25519_jwk(key: &ed25519_dalek::VerifyingKey) -> Jwk {
    Jwk {
        common: CommonParameters::default(),
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: b64(key.as_bytes()),
        }),
    }
}

fn p256_jwk(key: &p256::PublicKey) -> Jwk {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let point = key.to_encoded_point(false);
    Jwk {
        common: CommonParameters::default(),
        algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
            key_type: EllipticCurveKeyType::EC,
            curve: EllipticCurve::P256,
            x: b64(point.x().expect("an uncompressed point")),
            y: b64(point.y().expect("an uncompressed point")),
        }),
    }
}

fn rsa_jwk(key: &rsa::RsaPublicKey) -> Jwk {
    Jwk {
        common: CommonParameters::default(),
        algorithm: AlgorithmParameters::RSA(RSAKeyParameters {
            key_type: RSAKeyType::RSA,
            n: b64(&key.n().to_bytes_be()),
            e: b64(&key.e().to_bytes_be()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_parse_by_their_jwa_names() {
        assert_eq!(parse_algorithm("EdDSA"), Some(Algorithm::EdDSA));
        assert_eq!(parse_algorithm("ES256"), Some(Algorithm::ES256));
        assert_eq!(parse_algorithm("RS256"), Some(Algorithm::RS256));
        assert_eq!(parse_algorithm("HS512"), Some(Algorithm::HS512));
        assert_eq!(parse_algorithm("none"), None);
        assert_eq!(parse_algorithm("ES384"), None);
    }

    #[test]
    fn each_generated_key_reads_back_with_its_algorithm_and_public_half() {
        for algorithm in [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256] {
            let pem = generate(algorithm).unwrap();
            let (signing, verifying) = from_private_pem(&pem).unwrap();
            assert_eq!(signing.algorithm, algorithm);
            assert_eq!(signing.kid, verifying.kid);
            let public = serde_json::to_value(verifying.public.unwrap()).unwrap();
            assert_eq!(public["kid"], signing.kid.as_str());
            assert_eq!(public["use"], "sig");
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(public.get(private).is_none(), "{algorithm:?}: {public}");
            }
        }
    }

    /// The example key of RFC 7638 §3.1 has the thumbprint given there.
    #[test]
    fn the_kid_is_the_rfc_7638_thumbprint() {
        let jwk = rsa_jwk(&rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(
                "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
            ).unwrap()),
            rsa::BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode("AQAB").unwrap()),
        ).unwrap());
        assert_eq!(
            thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    /// The Ed25519 key of RFC 8037 §A.3 has the thumbprint given there.
    #[test]
    fn the_kid_of_an_ed25519_key_is_its_rfc_8037_thumbprint() {
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let key = ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        assert_eq!(
            thumbprint(&ed25519_jwk(&key)),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn a_public_key_is_read_as_a_verifying_key() {
        let pem = generate(Algorithm::ES256).unwrap();
        let private = p256::SecretKey::from_pkcs8_pem(&pem).unwrap();
        let public_pem =
            p256::pkcs8::EncodePublicKey::to_public_key_pem(&private.public_key(), LineEnding::LF)
                .unwrap();
        let from_public = from_pem(&public_pem).unwrap();
        let (signing, _) = from_private_pem(&pem).unwrap();
        assert_eq!(from_public.kid, signing.kid);
        assert_eq!(from_public.algorithm, Algorithm::ES256);
    }

    /// As for the secret: every process starting at once signs with the one key.
    #[test]
    fn starts_at_once_all_get_the_one_development_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt-eddsa.pem");
        let kids: Vec<String> = std::thread::scope(|scope| {
            let starts: Vec<_> = (0..30)
                .map(|_| scope.spawn(|| load_or_generate(&path, Algorithm::EdDSA).map(|k| k.0.kid)))
                .collect();
            starts
                .into_iter()
                .map(|s| s.join().unwrap().unwrap())
                .collect()
        });
        assert!(kids.iter().all(|k| k == &kids[0]));
    }

    #[test]
    fn a_short_rsa_key_is_refused() {
        let short = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 1024).unwrap();
        let pem = rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(&short, LineEnding::LF).unwrap();
        let error = from_private_pem(&pem).err().unwrap();
        assert!(error.contains("1024 bits"), "{error}");
    }

    #[test]
    fn other_text_is_not_a_key() {
        for text in [
            "",
            "hello",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(from_private_pem(text).is_err());
            assert!(from_pem(text).is_err());
        }
    }

    #[test]
    fn a_secret_has_a_kid_that_does_not_contain_it() {
        let secret = Secret::from(b"a-secret-of-at-least-thirty-two-bytes".to_vec());
        let (signing, verifying) = hmac(&secret, Algorithm::HS256);
        assert_eq!(signing.kid, verifying.kid);
        assert_eq!(signing.kid.len(), 43);
        assert!(verifying.public.is_none());
        assert!(!signing.kid.contains(&b64(secret.expose())[..8]));
    }

    #[test]
    fn the_same_key_twice_is_kept_once() {
        let secret = Secret::from(vec![7u8; 32]);
        let ring = KeyRing::new(
            hmac(&secret, Algorithm::HS256),
            vec![hmac(&secret, Algorithm::HS256).1],
        );
        assert_eq!(ring.verifying.len(), 1);
    }
}
