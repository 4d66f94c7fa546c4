//! The local keyring, with two backends like the Cosmos SDK's:
//!
//! - `test`: one JSON file per key under `<home>/keyring/`, holding the
//!   BIP39 mnemonic in clear, readable by its owner only. For devnets and
//!   scripts; `aegisd init` and `aegisd testnet` write these.
//! - `file`: one JSON file per key under `<home>/keyring-file/`, holding the
//!   name and address in clear and the mnemonic sealed with a passphrase
//!   (scrypt, then ChaCha20-Poly1305 with the address as associated data).
//!   One passphrase opens every key of a keyring.
//!
//! Listing keys and showing addresses never needs the passphrase; signing,
//! exporting and adding do. [`Keyring::open`] picks the backend set once per
//! process with [`set_default_backend`] (from `--keyring-backend`).

use std::io::IsTerminal;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use aegis_app::signer::Signer;
use anyhow::{anyhow, bail, ensure, Context, Result};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// Environment variable a script sets to give the `file` keyring's passphrase.
pub const PASSPHRASE_ENV: &str = "AEGIS_KEYRING_PASSPHRASE";
/// A new `file` keyring's passphrase has at least this many characters (as the SDK asks).
pub const MIN_PASSPHRASE_CHARS: usize = 8;
/// scrypt cost of new keys: N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s).
const SCRYPT_LOG_N: u8 = 15;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// The most a key file may ask of scrypt (2^20 x 8 x 128 B = 1 GiB), so a
/// tampered file cannot make us allocate without bound.
const SCRYPT_MAX_LOG_N: u8 = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Mnemonics in clear under <home>/keyring (devnets, scripts).
    Test,
    /// Mnemonics encrypted with a passphrase under <home>/keyring-file.
    File,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Test => "test",
            Backend::File => "file",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "test" => Ok(Backend::Test),
            "file" => Ok(Backend::File),
            _ => bail!("keyring backend {s:?} is not one of: test, file (aegisd has no os backend)"),
        }
    }

    fn dir_name(self) -> &'static str {
        match self {
            Backend::Test => "keyring",
            Backend::File => "keyring-file",
        }
    }
}

static DEFAULT_BACKEND: OnceLock<Backend> = OnceLock::new();

/// The backend [`Keyring::open`] uses in this process; set once, first
/// call wins. Unset, it is `test`.
pub fn set_default_backend(backend: Backend) {
    let _ = DEFAULT_BACKEND.set(backend);
}

pub fn default_backend() -> Backend {
    DEFAULT_BACKEND.get().copied().unwrap_or(Backend::Test)
}

/// Each `file` keyring's passphrase once read (by directory), so standard
/// input or the terminal is asked once per keyring and process (a relayer
/// may open two keyrings).
static PASSPHRASES: Mutex<Vec<(PathBuf, String)>> = Mutex::new(Vec::new());

/// The passphrase from, in order: `AEGIS_KEYRING_PASSPHRASE`; a prompt on
/// the terminal when standard input is one (twice for a new keyring); the
/// next line of standard input.
fn interactive_passphrase(dir: &Path, new_keyring: bool) -> Result<String> {
    let mut cached = PASSPHRASES.lock().expect("passphrase lock");
    if let Some((_, p)) = cached.iter().find(|(d, _)| d == dir) {
        return Ok(p.clone());
    }
    let p = if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        p
    } else if std::io::stdin().is_terminal() {
        let prompt = if new_keyring {
            format!("Choose a passphrase for {} (at least {MIN_PASSPHRASE_CHARS} characters): ", dir.display())
        } else {
            format!("Enter the passphrase of {}: ", dir.display())
        };
        let p = rpassword::prompt_password(prompt).context("reading the passphrase from the terminal")?;
        if new_keyring {
            let again = rpassword::prompt_password("Enter it again: ").context("reading the passphrase from the terminal")?;
            ensure!(again == p, "the two passphrases differ; nothing was stored");
        }
        p
    } else {
        let mut line = String::new();
        let n = std::io::stdin().read_line(&mut line).context("reading the passphrase from standard input")?;
        ensure!(n > 0, "the file keyring needs a passphrase: set {PASSPHRASE_ENV}, type it on a terminal, or give it as a line of standard input");
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    cached.push((dir.to_path_buf(), p.clone()));
    Ok(p)
}

#[derive(Clone)]
enum Passphrase {
    /// Ask when first needed (see [`interactive_passphrase`]).
    Interactive,
    Given(String),
}

/// A key file of either backend: `mnemonic` in a `test` keyring, `sealed`
/// in a `file` keyring.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    name: String,
    address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mnemonic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<Sealed>,
}

/// The mnemonic encrypted: key = scrypt(passphrase, salt, 2^log_n, r, p),
/// ciphertext = ChaCha20-Poly1305(key, nonce, mnemonic, aad = address).
#[derive(Serialize, Deserialize)]
struct Sealed {
    kdf: String,
    log_n: u8,
    r: u32,
    p: u32,
    salt: String,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

fn derive_key(passphrase: &str, salt: &[u8], log_n: u8, r: u32, p: u32) -> Result<Key> {
    ensure!(log_n <= SCRYPT_MAX_LOG_N, "scrypt log_n {log_n} is above {SCRYPT_MAX_LOG_N}: the key file is damaged");
    let params = scrypt::Params::new(log_n, r, p, 32).map_err(|e| anyhow!("scrypt parameters log_n {log_n}, r {r}, p {p}: {e}"))?;
    let mut key = Key::default();
    scrypt::scrypt(passphrase.as_bytes(), salt, &params, &mut key).map_err(|e| anyhow!("scrypt: {e}"))?;
    Ok(key)
}

fn seal(passphrase: &str, mnemonic: &str, address: &str) -> Result<Sealed> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let key = derive_key(passphrase, &salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P)?;
    let ciphertext = ChaCha20Poly1305::new(&key)
        .encrypt(&Nonce::from(nonce), Payload { msg: mnemonic.as_bytes(), aad: address.as_bytes() })
        .map_err(|_| anyhow!("encrypting the mnemonic failed"))?;
    Ok(Sealed {
        kdf: "scrypt".into(),
        log_n: SCRYPT_LOG_N,
        r: SCRYPT_R,
        p: SCRYPT_P,
        salt: hex::encode(salt),
        cipher: "chacha20poly1305".into(),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ciphertext),
    })
}

/// The mnemonic, or `None` when the passphrase does not open it.
fn unseal(s: &Sealed, passphrase: &str, address: &str) -> Result<Option<String>> {
    ensure!(s.kdf == "scrypt" && s.cipher == "chacha20poly1305", "unknown key encryption {}+{} (this aegisd reads scrypt+chacha20poly1305)", s.kdf, s.cipher);
    let bytes = |field: &str, v: &str| hex::decode(v).map_err(|e| anyhow!("{field} is not hex ({e}): the key file is damaged"));
    let (salt, nonce, ciphertext) = (bytes("salt", &s.salt)?, bytes("nonce", &s.nonce)?, bytes("ciphertext", &s.ciphertext)?);
    let nonce: [u8; 12] = nonce.try_into().map_err(|n: Vec<u8>| anyhow!("nonce has {} bytes, not 12: the key file is damaged", n.len()))?;
    let key = derive_key(passphrase, &salt, s.log_n, s.r, s.p)?;
    match ChaCha20Poly1305::new(&key).decrypt(&Nonce::from(nonce), Payload { msg: &ciphertext, aad: address.as_bytes() }) {
        Ok(plain) => Ok(Some(String::from_utf8(plain).context("the decrypted mnemonic is not UTF-8")?)),
        Err(_) => Ok(None),
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        bail!("invalid key name {name:?}: use letters, digits, '-' and '_'");
    }
    Ok(())
}

pub struct Keyring {
    dir: PathBuf,
    backend: Backend,
    passphrase: Passphrase,
}

impl Keyring {
    /// `home`'s keyring of the process's backend (see [`set_default_backend`]).
    pub fn open(home: &Path) -> Self {
        Self::with_backend(home, default_backend())
    }

    /// `home`'s keyring of `backend`; a `file` keyring asks for its passphrase when needed.
    pub fn with_backend(home: &Path, backend: Backend) -> Self {
        Keyring { dir: home.join(backend.dir_name()), backend, passphrase: Passphrase::Interactive }
    }

    /// `home`'s `file` keyring opened with `passphrase`.
    pub fn file_with_passphrase(home: &Path, passphrase: &str) -> Self {
        Keyring { passphrase: Passphrase::Given(passphrase.into()), ..Self::with_backend(home, Backend::File) }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        check_name(name)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    fn passphrase(&self, new_keyring: bool) -> Result<String> {
        match &self.passphrase {
            Passphrase::Given(p) => Ok(p.clone()),
            Passphrase::Interactive => interactive_passphrase(&self.dir, new_keyring),
        }
    }

    fn write_new(&self, path: &Path, file: &KeyFile) -> Result<()> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("creating {}", self.dir.display()))?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        std::io::Write::write_all(&mut f, serde_json::to_string_pretty(file)?.as_bytes()).with_context(|| format!("writing {}", path.display()))
    }

    /// Store `mnemonic` under `name`. Refuses a name already used and an
    /// address already held under any name; in a `file` keyring that holds
    /// keys, the passphrase must open them.
    pub fn store(&self, name: &str, mnemonic: &str) -> Result<Signer> {
        let mnemonic = mnemonic.trim();
        let signer = Signer::from_mnemonic(mnemonic)?;
        let path = self.path(name)?;
        if path.exists() {
            bail!("key {name:?} already exists in {}", self.dir.display());
        }
        let address = signer.address.to_string();
        let existing = self.list()?;
        if let Some((other, _)) = existing.iter().find(|(_, a)| *a == address) {
            bail!("address {address} is already in {} as key {other:?}; nothing was stored", self.dir.display());
        }
        let mut file = KeyFile { name: name.into(), address: address.clone(), mnemonic: None, sealed: None };
        match self.backend {
            Backend::Test => file.mnemonic = Some(mnemonic.into()),
            Backend::File => {
                let passphrase = self.passphrase(existing.is_empty())?;
                match existing.first() {
                    // One passphrase per keyring: it must open the keys already there.
                    Some((other, _)) => {
                        self.unlock(other, &passphrase)?;
                    }
                    None => ensure!(
                        passphrase.chars().count() >= MIN_PASSPHRASE_CHARS,
                        "the passphrase has {} characters; a new keyring's needs at least {MIN_PASSPHRASE_CHARS}",
                        passphrase.chars().count()
                    ),
                }
                file.sealed = Some(seal(&passphrase, mnemonic, &address)?);
            }
        }
        self.write_new(&path, &file)?;
        Ok(signer)
    }

    fn load(&self, name: &str) -> Result<KeyFile> {
        let path = self.path(name)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("key {name:?} not found in {}", self.dir.display()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// `name`'s mnemonic from a `file` keyring with `passphrase`.
    fn unlock(&self, name: &str, passphrase: &str) -> Result<String> {
        let f = self.load(name)?;
        let sealed = f.sealed.as_ref().with_context(|| format!("key {name:?} in {} holds no encrypted mnemonic", self.dir.display()))?;
        unseal(sealed, passphrase, &f.address)?
            .with_context(|| format!("wrong passphrase: it does not open key {name:?} in {}", self.dir.display()))
    }

    /// `name`'s mnemonic (a `file` keyring asks for its passphrase).
    pub fn mnemonic(&self, name: &str) -> Result<String> {
        match self.backend {
            Backend::Test => {
                let f = self.load(name)?;
                f.mnemonic.with_context(|| format!("key {name:?} in {} holds no mnemonic", self.dir.display()))
            }
            Backend::File => {
                self.load(name)?;
                let passphrase = self.passphrase(false)?;
                self.unlock(name, &passphrase)
            }
        }
    }

    pub fn signer(&self, name: &str) -> Result<Signer> {
        let signer = Signer::from_mnemonic(&self.mnemonic(name)?)?;
        let stored = self.address(name)?;
        ensure!(signer.address.to_string() == stored, "key {name:?} in {}: its mnemonic gives {}, not the stored {stored}", self.dir.display(), signer.address);
        Ok(signer)
    }

    /// `name`'s address, without the passphrase.
    pub fn address(&self, name: &str) -> Result<String> {
        Ok(self.load(name)?.address)
    }

    /// (name, address) of every key, sorted by name; no passphrase needed.
    pub fn list(&self) -> Result<Vec<(String, String)>> {
        let mut out = vec![];
        if !self.dir.exists() {
            return Ok(out);
        }
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) == Some("json") {
                let f: KeyFile = serde_json::from_str(&std::fs::read_to_string(&path)?).with_context(|| format!("parsing {}", path.display()))?;
                out.push((f.name, f.address));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Remove `name`; returns its address.
    pub fn delete(&self, name: &str) -> Result<String> {
        let address = self.address(name)?;
        let path = self.path(name)?;
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        Ok(address)
    }

    /// Rename `old` to `new` (no passphrase: the name is not sealed); returns the address.
    pub fn rename(&self, old: &str, new: &str) -> Result<String> {
        let (old_path, new_path) = (self.path(old)?, self.path(new)?);
        let mut f = self.load(old)?;
        if new_path.exists() {
            bail!("key {new:?} already exists in {}; nothing was renamed", self.dir.display());
        }
        f.name = new.into();
        self.write_new(&new_path, &f)?;
        std::fs::remove_file(&old_path).with_context(|| format!("removing {}", old_path.display()))?;
        Ok(f.address)
    }
}

#[cfg(test)]
mod tests;
