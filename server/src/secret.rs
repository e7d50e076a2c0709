//! Secrets that never print, and the development HMAC key kept on disk.

use std::{fs, io, io::Write, os::unix::fs::OpenOptionsExt, path::Path};

use base64::{engine::general_purpose::STANDARD, Engine};

/// An HMAC key needs at least this many bytes.
pub const MIN_LEN: usize = 32;

/// Key material that never prints.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Secret {
    fn from(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes>)", self.0.len())
    }
}

/// Reads the development key at `path`, or writes a fresh one there
/// (48 bytes from the OS CSPRNG, base64, mode 0600) when there is none.
pub fn load_or_generate(path: &Path) -> io::Result<Secret> {
    let text = read_or_create(path, || {
        let mut key = vec![0u8; 48];
        getrandom::fill(&mut key).map_err(io::Error::other)?;
        Ok(STANDARD.encode(&key))
    })?;
    let key = STANDARD
        .decode(text.trim())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the key file is not base64"))?;
    if key.len() < MIN_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the key file holds fewer than 32 bytes",
        ));
    }
    Ok(Secret(key))
}

/// The text of the development key file at `path`; when there is none,
/// `make`'s, written there first ([`create_private_file`]). Of processes
/// starting at once, one writes and every one reads what it wrote.
pub fn read_or_create(
    path: &Path,
    make: impl FnOnce() -> io::Result<String>,
) -> io::Result<String> {
    match fs::read_to_string(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            match create_private_file(path, make()?.as_bytes()) {
                Ok(()) => fs::read_to_string(path),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => fs::read_to_string(path),
                Err(e) => Err(e),
            }
        }
        read => read,
    }
}

/// Writes `contents` to a new file at `path` that only its owner can read
/// (mode 0600), creating the directory. A file already there is left alone
/// (`AlreadyExists`): two processes starting at once never overwrite each
/// other's key. The file appears whole or not at all (written aside, then
/// linked into place), so a process that finds it never reads half a key.
pub fn create_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(io::Error::other)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let aside = dir.join(format!(".{name}.{:016x}", u64::from_le_bytes(suffix)));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&aside)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .and_then(|()| fs::hard_link(&aside, path));
    let _ = fs::remove_file(&aside);
    written
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_development_key_is_generated_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/jwt-secret");
        let first = load_or_generate(&path).unwrap();
        assert!(first.expose().len() >= MIN_LEN);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = load_or_generate(&path).unwrap();
        assert_eq!(first.expose(), second.expose());
        assert_ne!(
            first.expose(),
            load_or_generate(&dir.path().join("other"))
                .unwrap()
                .expose()
        );
    }

    /// Processes starting at once on an empty data directory: each must
    /// read the one key written, never a file still being written.
    #[test]
    fn starts_at_once_all_get_the_one_key() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("jwt-secret");
            let keys: Vec<Vec<u8>> = std::thread::scope(|scope| {
                let starts: Vec<_> = (0..30)
                    .map(|_| scope.spawn(|| load_or_generate(&path).map(|k| k.expose().to_vec())))
                    .collect();
                starts
                    .into_iter()
                    .map(|s| s.join().unwrap().unwrap())
                    .collect()
            });
            assert!(keys.iter().all(|k| k == &keys[0]));
            assert_eq!(
                fs::read_dir(dir.path()).unwrap().count(),
                1,
                "no file left behind"
            );
        }
    }

    #[test]
    fn a_corrupt_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt-secret");
        fs::write(&path, "c2hvcnQ=").unwrap();
        assert!(load_or_generate(&path).is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let s = Secret::from(b"super-secret-key-material-0123456789".to_vec());
        assert!(!format!("{s:?}").contains("super"));
    }
}
