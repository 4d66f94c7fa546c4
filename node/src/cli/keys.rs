//! Key commands over the keyring of `--keyring-backend`: `test` in
//! <home>/keyring, `file` (passphrase-encrypted) in <home>/keyring-file.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use aegis_node::keys::{Backend, Keyring};
use anyhow::{bail, Context, Result};
use clap::Subcommand;

use super::common::print_json;

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Create a key; prints its mnemonic once. With --recover, reads a mnemonic
    /// (the first line of stdin, or typed at a prompt).
    Add {
        name: String,
        #[arg(long)]
        recover: bool,
    },
    /// Import a key from a BIP39 mnemonic (the first line of stdin, or typed at a prompt).
    Import { name: String },
    /// Print a key's mnemonic (keep it secret).
    Export { name: String },
    /// List keys and addresses (no passphrase needed).
    List,
    /// Show a key's address (no passphrase needed).
    Show { name: String },
    /// Delete a key; asks for confirmation on a terminal, refuses elsewhere without -y.
    Delete {
        name: String,
        /// Delete without asking.
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
    /// Rename a key (its address and mnemonic stay).
    Rename { old: String, new: String },
}

pub fn run(cmd: KeysCmd, home: &Path) -> Result<()> {
    let kr = Keyring::open(home);
    match cmd {
        KeysCmd::Add { name, recover } => {
            let mnemonic = if recover {
                read_mnemonic()?
            } else {
                let mut entropy = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut entropy);
                aegis_app::signer::Signer::generate_mnemonic(entropy)
            };
            let s = kr.store(&name, &mnemonic)?;
            if recover {
                print_json(serde_json::json!({"name": name, "address": s.address.to_string()}));
            } else {
                print_json(serde_json::json!({"name": name, "address": s.address.to_string(), "mnemonic": mnemonic}));
                eprintln!("Write the mnemonic down: it is the only way to recover this key.");
            }
            Ok(())
        }
        KeysCmd::Import { name } => {
            let s = kr.store(&name, &read_mnemonic()?)?;
            print_json(serde_json::json!({"name": name, "address": s.address.to_string()}));
            Ok(())
        }
        KeysCmd::Export { name } => {
            let mnemonic = kr.mnemonic(&name)?;
            eprintln!("Anyone with this mnemonic controls the account.");
            println!("{mnemonic}");
            Ok(())
        }
        KeysCmd::List => {
            let list = kr.list()?;
            if list.is_empty() {
                hint_other_backend(&kr, home);
            }
            let keys: Vec<_> = list.into_iter().map(|(n, a)| serde_json::json!({"name": n, "address": a})).collect();
            print_json(serde_json::Value::Array(keys));
            Ok(())
        }
        KeysCmd::Show { name } => {
            let address = kr.address(&name).inspect_err(|_| hint_other_backend(&kr, home))?;
            println!("{address}");
            Ok(())
        }
        KeysCmd::Delete { name, yes } => {
            let address = kr.address(&name)?;
            if !yes {
                confirm_delete(&kr, &name, &address)?;
            }
            kr.delete(&name)?;
            print_json(serde_json::json!({"name": name, "address": address, "deleted": true}));
            Ok(())
        }
        KeysCmd::Rename { old, new } => {
            let address = kr.rename(&old, &new)?;
            print_json(serde_json::json!({"name": new, "address": address, "previous_name": old}));
            Ok(())
        }
    }
}

/// The mnemonic: typed at a prompt on a terminal, else the first line of
/// stdin (a `file` keyring's passphrase may follow on the next line).
fn read_mnemonic() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Enter your BIP39 mnemonic: ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).context("reading the mnemonic from standard input")?;
    let mnemonic = line.trim();
    if mnemonic.is_empty() {
        bail!("no mnemonic: give it as the first line of standard input");
    }
    Ok(mnemonic.to_string())
}

fn confirm_delete(kr: &Keyring, name: &str, address: &str) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("refusing to delete key {name:?} ({address}) without confirmation: standard input is not a terminal; pass -y");
    }
    eprint!("Delete key {name:?} ({address}) from {}? Without its mnemonic it is gone for good. [y/N] ", kr.dir().display());
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        bail!("key {name:?} not deleted");
    }
    Ok(())
}

/// On stderr: the keys are perhaps in the other backend's keyring.
fn hint_other_backend(kr: &Keyring, home: &Path) {
    let other = match kr.backend() {
        Backend::Test => Backend::File,
        Backend::File => Backend::Test,
    };
    let n = Keyring::with_backend(home, other).list().map(|l| l.len()).unwrap_or(0);
    if n > 0 {
        eprintln!("note: {} holds {n} key(s) of the {} backend (--keyring-backend {})", Keyring::with_backend(home, other).dir().display(), other.as_str(), other.as_str());
    }
}
