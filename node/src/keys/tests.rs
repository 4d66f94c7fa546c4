use super::*;

const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const PASS: &str = "correct horse battery";

fn mnemonic(seed: u8) -> String {
    Signer::generate_mnemonic([seed; 32])
}

fn address_of(m: &str) -> String {
    Signer::from_mnemonic(m).unwrap().address.to_string()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn stored_keys_are_owner_only_and_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let kr = Keyring::with_backend(dir.path(), Backend::Test);
    let s = kr.store("alice", ABANDON).unwrap();
    assert_eq!(mode(&dir.path().join("keyring/alice.json")), 0o600);
    assert_eq!(mode(&dir.path().join("keyring")), 0o700);
    assert_eq!(kr.store("alice", ABANDON).unwrap_err().to_string(), format!("key \"alice\" already exists in {}", kr.dir().display()));
    assert_eq!(kr.signer("alice").unwrap().address, s.address);
    assert_eq!(kr.list().unwrap(), vec![("alice".to_string(), s.address.to_string())]);
    assert_eq!(kr.store("../evil", ABANDON).unwrap_err().to_string(), "invalid key name \"../evil\": use letters, digits, '-' and '_'");
    assert!(kr.store("bob", "not a mnemonic").is_err());
}

#[test]
fn test_backend_keeps_the_plain_format_of_existing_devnet_homes() {
    let dir = tempfile::tempdir().unwrap();
    let m = mnemonic(1);
    let addr = address_of(&m);
    // A key file as devnet homes already hold it.
    std::fs::create_dir_all(dir.path().join("keyring")).unwrap();
    let old = serde_json::json!({"name": "faucet", "address": addr, "mnemonic": m});
    std::fs::write(dir.path().join("keyring/faucet.json"), serde_json::to_string_pretty(&old).unwrap()).unwrap();
    let kr = Keyring::with_backend(dir.path(), Backend::Test);
    assert_eq!(kr.mnemonic("faucet").unwrap(), m);
    assert_eq!(kr.signer("faucet").unwrap().address.to_string(), addr);
    // And a key stored now is written in that same format.
    let m2 = mnemonic(2);
    kr.store("bob", &m2).unwrap();
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("keyring/bob.json")).unwrap()).unwrap();
    assert_eq!(written, serde_json::json!({"name": "bob", "address": address_of(&m2), "mnemonic": m2}));
}

#[test]
fn file_keyring_round_trips_a_sealed_mnemonic_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let kr = Keyring::file_with_passphrase(dir.path(), PASS);
    let m = mnemonic(3);
    let s = kr.store("alice", &m).unwrap();
    let path = dir.path().join("keyring-file/alice.json");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.path().join("keyring-file")), 0o700);
    assert!(!dir.path().join("keyring").exists());
    let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(file["name"], "alice");
    assert_eq!(file["address"], s.address.to_string());
    assert_eq!(file["sealed"]["kdf"], "scrypt");
    assert_eq!(file["sealed"]["log_n"], 15);
    assert_eq!(file["sealed"]["r"], 8);
    assert_eq!(file["sealed"]["p"], 1);
    assert_eq!(file["sealed"]["cipher"], "chacha20poly1305");
    assert_eq!(file["sealed"]["salt"].as_str().unwrap().len(), 64);
    assert_eq!(file["sealed"]["nonce"].as_str().unwrap().len(), 24);
    // Ciphertext = mnemonic + 16-byte tag, in hex.
    assert_eq!(file["sealed"]["ciphertext"].as_str().unwrap().len(), 2 * (m.len() + 16));
    assert!(file.get("mnemonic").is_none());

    assert_eq!(kr.mnemonic("alice").unwrap(), m);
    assert_eq!(kr.signer("alice").unwrap().address, s.address);
    // Reopened with the same passphrase: a fresh derivation opens it.
    assert_eq!(Keyring::file_with_passphrase(dir.path(), PASS).mnemonic("alice").unwrap(), m);
    // Listing and showing need no passphrase.
    let wrong = Keyring::file_with_passphrase(dir.path(), "not the passphrase");
    assert_eq!(wrong.list().unwrap(), vec![("alice".to_string(), s.address.to_string())]);
    assert_eq!(wrong.address("alice").unwrap(), s.address.to_string());
    // Two keys sealed with one passphrase differ in salt and nonce.
    kr.store("bob", &mnemonic(4)).unwrap();
    let bob: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("keyring-file/bob.json")).unwrap()).unwrap();
    assert_ne!(bob["sealed"]["salt"], file["sealed"]["salt"]);
    assert_ne!(bob["sealed"]["nonce"], file["sealed"]["nonce"]);
}

#[test]
fn file_keyring_holds_no_word_hex_or_base64_of_the_mnemonic() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let m = mnemonic(5);
    Keyring::file_with_passphrase(dir.path(), PASS).store("alice", &m).unwrap();
    let text = std::fs::read_to_string(dir.path().join("keyring-file/alice.json")).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Random hex (salt, nonce, ciphertext) may spell a word of letters a-f
    // by chance; every word must be absent from the rest of the file.
    let mut rest = text.clone();
    for field in ["salt", "nonce", "ciphertext"] {
        rest = rest.replace(file["sealed"][field].as_str().unwrap(), "");
    }
    let words: Vec<&str> = m.split_whitespace().collect();
    assert_eq!(words.len(), 24);
    for w in &words {
        assert!(!rest.contains(w), "word {w:?} in {text}");
        if !w.chars().all(|c| c.is_ascii_hexdigit()) {
            assert!(!text.contains(w), "word {w:?} in {text}");
        }
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    for encoded in [hex::encode(&m), hex::encode_upper(&m), b64.encode(&m), base64::engine::general_purpose::URL_SAFE.encode(&m)] {
        assert!(!text.contains(&encoded[..32]), "{encoded} in {text}");
    }
}

#[test]
fn wrong_passphrase_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let m = mnemonic(6);
    Keyring::file_with_passphrase(dir.path(), PASS).store("alice", &m).unwrap();
    let path = dir.path().join("keyring-file/alice.json");
    let before = std::fs::read(&path).unwrap();
    let wrong = Keyring::file_with_passphrase(dir.path(), "correct horse battery!");
    let expected = format!("wrong passphrase: it does not open key \"alice\" in {}", dir.path().join("keyring-file").display());
    assert_eq!(wrong.mnemonic("alice").unwrap_err().to_string(), expected);
    assert_eq!(wrong.signer("alice").unwrap_err().to_string(), expected);
    // Adding a key needs the keyring's one passphrase, too.
    assert_eq!(wrong.store("bob", &mnemonic(7)).unwrap_err().to_string(), expected);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(dir.path().join("keyring-file")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("alice.json")]);
}

#[test]
fn a_new_file_keyring_needs_a_passphrase_of_eight_characters() {
    let dir = tempfile::tempdir().unwrap();
    let err = Keyring::file_with_passphrase(dir.path(), "short").store("alice", &mnemonic(8)).unwrap_err();
    assert_eq!(err.to_string(), "the passphrase has 5 characters; a new keyring's needs at least 8");
    assert!(!dir.path().join("keyring-file/alice.json").exists());
    Keyring::file_with_passphrase(dir.path(), "12345678").store("alice", &mnemonic(8)).unwrap();
}

#[test]
fn an_address_already_held_is_refused_under_another_name_in_both_backends() {
    for backend in [Backend::Test, Backend::File] {
        let dir = tempfile::tempdir().unwrap();
        let kr = match backend {
            Backend::Test => Keyring::with_backend(dir.path(), Backend::Test),
            Backend::File => Keyring::file_with_passphrase(dir.path(), PASS),
        };
        let m = mnemonic(9);
        kr.store("alice", &m).unwrap();
        // The same mnemonic, differently spaced, is the same address.
        let err = kr.store("alice2", &format!("  {m}\n")).unwrap_err();
        assert_eq!(err.to_string(), format!("address {} is already in {} as key \"alice\"; nothing was stored", address_of(&m), kr.dir().display()));
        assert_eq!(kr.list().unwrap(), vec![("alice".to_string(), address_of(&m))]);
    }
}

#[test]
fn rename_and_delete_in_both_backends() {
    for backend in [Backend::Test, Backend::File] {
        let dir = tempfile::tempdir().unwrap();
        let kr = match backend {
            Backend::Test => Keyring::with_backend(dir.path(), Backend::Test),
            Backend::File => Keyring::file_with_passphrase(dir.path(), PASS),
        };
        let (ma, mb) = (mnemonic(10), mnemonic(11));
        kr.store("alice", &ma).unwrap();
        kr.store("bob", &mb).unwrap();
        let d = kr.dir().display().to_string();

        assert_eq!(kr.rename("alice", "carol").unwrap(), address_of(&ma));
        assert_eq!(kr.list().unwrap(), vec![("bob".to_string(), address_of(&mb)), ("carol".to_string(), address_of(&ma))]);
        assert_eq!(kr.mnemonic("carol").unwrap(), ma);
        assert_eq!(mode(&kr.dir().join("carol.json")), 0o600);
        assert!(!kr.dir().join("alice.json").exists());
        assert_eq!(kr.rename("carol", "bob").unwrap_err().to_string(), format!("key \"bob\" already exists in {d}; nothing was renamed"));
        assert_eq!(kr.rename("nobody", "dave").unwrap_err().to_string(), format!("key \"nobody\" not found in {d}"));
        assert_eq!(kr.rename("carol", "a/b").unwrap_err().to_string(), "invalid key name \"a/b\": use letters, digits, '-' and '_'");
        assert_eq!(kr.list().unwrap().len(), 2);

        assert_eq!(kr.delete("bob").unwrap(), address_of(&mb));
        assert_eq!(kr.list().unwrap(), vec![("carol".to_string(), address_of(&ma))]);
        assert_eq!(kr.delete("bob").unwrap_err().to_string(), format!("key \"bob\" not found in {d}"));
        // The deleted address may be stored again.
        kr.store("bob", &mb).unwrap();
        assert_eq!(kr.signer("bob").unwrap().address.to_string(), address_of(&mb));
    }
}

#[test]
fn backends_parse_by_name_and_keep_separate_directories() {
    assert_eq!(Backend::parse("test").unwrap(), Backend::Test);
    assert_eq!(Backend::parse("file").unwrap(), Backend::File);
    assert_eq!(Backend::parse("os").unwrap_err().to_string(), "keyring backend \"os\" is not one of: test, file (aegisd has no os backend)");
    let dir = tempfile::tempdir().unwrap();
    Keyring::with_backend(dir.path(), Backend::Test).store("alice", &mnemonic(12)).unwrap();
    assert_eq!(Keyring::file_with_passphrase(dir.path(), PASS).list().unwrap(), vec![]);
    assert_eq!(Keyring::with_backend(dir.path(), Backend::File).dir(), dir.path().join("keyring-file"));
}

#[test]
fn a_damaged_key_file_is_named_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let kr = Keyring::file_with_passphrase(dir.path(), PASS);
    let m = mnemonic(13);
    kr.store("alice", &m).unwrap();
    let path = dir.path().join("keyring-file/alice.json");
    let mut file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // The address is bound as associated data: editing it breaks decryption.
    file["address"] = address_of(&mnemonic(14)).into();
    std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
    assert_eq!(kr.mnemonic("alice").unwrap_err().to_string(), format!("wrong passphrase: it does not open key \"alice\" in {}", kr.dir().display()));
    // An absurd scrypt cost is refused before any allocation.
    file["sealed"]["log_n"] = 40.into();
    std::fs::write(&path, serde_json::to_string(&file).unwrap()).unwrap();
    assert_eq!(kr.mnemonic("alice").unwrap_err().to_string(), "scrypt log_n 40 is above 20: the key file is damaged");
}
