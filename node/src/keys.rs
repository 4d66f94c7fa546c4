//! The local keyring: one file per key under `<home>/keyring/`, readable
//! by its owner only, holding the BIP39 mnemonic. Deliberately simple (like
//! the Cosmos SDK's `test` backend): suitable for devnets and operators who
//! protect the home directory; not an encrypted store.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use aegis_app::signer::Signer;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct KeyFile {
    name: String,
    address: String,
    mnemonic: String,
}

pub struct Keyring {
    dir: PathBuf,
}

impl Keyring {
    pub fn open(home: &Path) -> Self {
        Keyring { dir: home.join("keyring") }
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            bail!("invalid key name {name:?}: use letters, digits, '-' and '_'");
        }
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Store `mnemonic` under `name`; refuses to overwrite.
    pub fn store(&self, name: &str, mnemonic: &str) -> Result<Signer> {
        let signer = Signer::from_mnemonic(mnemonic)?;
        let path = self.path(name)?;
        if path.exists() {
            bail!("key {name:?} already exists in {}", self.dir.display());
        }
        std::fs::create_dir_all(&self.dir)?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        let file = KeyFile { name: name.into(), address: signer.address.to_string(), mnemonic: mnemonic.trim().into() };
        let mut opts = std::fs::OpenOptions::new();
        use std::os::unix::fs::OpenOptionsExt;
        opts.write(true).create_new(true).mode(0o600);
        let mut f = opts.open(&path).with_context(|| format!("creating {}", path.display()))?;
        std::io::Write::write_all(&mut f, serde_json::to_string_pretty(&file)?.as_bytes())?;
        Ok(signer)
    }

    fn load(&self, name: &str) -> Result<KeyFile> {
        let path = self.path(name)?;
        let text = std::fs::read_to_string(&path).with_context(|| format!("key {name:?} not found in {}", self.dir.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    pub fn signer(&self, name: &str) -> Result<Signer> {
        Signer::from_mnemonic(&self.load(name)?.mnemonic)
    }

    pub fn mnemonic(&self, name: &str) -> Result<String> {
        Ok(self.load(name)?.mnemonic)
    }

    /// (name, address) of every key, sorted by name.
    pub fn list(&self) -> Result<Vec<(String, String)>> {
        let mut out = vec![];
        if !self.dir.exists() {
            return Ok(out);
        }
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) == Some("json") {
                let f: KeyFile = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
                out.push((f.name, f.address));
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_keys_are_owner_only_and_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let kr = Keyring::open(dir.path());
        let m = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
        let s = kr.store("alice", m).unwrap();
        let mode = std::fs::metadata(dir.path().join("keyring/alice.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dmode = std::fs::metadata(dir.path().join("keyring")).unwrap().permissions().mode();
        assert_eq!(dmode & 0o777, 0o700);
        assert!(kr.store("alice", m).unwrap_err().to_string().contains("already exists"));
        assert_eq!(kr.signer("alice").unwrap().address, s.address);
        assert_eq!(kr.list().unwrap(), vec![("alice".to_string(), s.address.to_string())]);
        assert!(kr.store("../evil", m).is_err());
        assert!(kr.store("bob", "not a mnemonic").is_err());
    }
}
