//! Key commands over the keyring in <home>/keyring.

use std::io::Read;
use std::path::Path;

use aegis_node::keys::Keyring;
use anyhow::Result;
use clap::Subcommand;

use super::common::print_json;

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Create a key; prints its mnemonic once. With --recover, reads a mnemonic from stdin.
    Add {
        name: String,
        #[arg(long)]
        recover: bool,
    },
    /// Import a key from a BIP39 mnemonic read from stdin.
    Import { name: String },
    /// Print a key's mnemonic (keep it secret).
    Export { name: String },
    /// List keys and addresses.
    List,
    /// Show a key's address.
    Show { name: String },
}

pub fn run(cmd: KeysCmd, home: &Path) -> Result<()> {
    let kr = Keyring::open(home);
    match cmd {
        KeysCmd::Add { name, recover } => {
            let mnemonic = if recover {
                read_stdin_mnemonic()?
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
            let s = kr.store(&name, &read_stdin_mnemonic()?)?;
            print_json(serde_json::json!({"name": name, "address": s.address.to_string()}));
            Ok(())
        }
        KeysCmd::Export { name } => {
            eprintln!("Anyone with this mnemonic controls the account.");
            println!("{}", kr.mnemonic(&name)?);
            Ok(())
        }
        KeysCmd::List => {
            let keys: Vec<_> = kr.list()?.into_iter().map(|(n, a)| serde_json::json!({"name": n, "address": a})).collect();
            print_json(serde_json::Value::Array(keys));
            Ok(())
        }
        KeysCmd::Show { name } => {
            println!("{}", kr.signer(&name)?.address);
            Ok(())
        }
    }
}

fn read_stdin_mnemonic() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    Ok(s.trim().to_string())
}
