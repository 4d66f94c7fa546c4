//! `aegisd config`: read and write the home's client.toml (client defaults).

use std::path::Path;

use aegis_node::client_config::ClientConfig;
use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    cmd: Option<ConfigCmd>,
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print one value (chain-id, node, grpc, keyring-backend, output).
    Get { key: String },
    /// Set one value, checked first (chain-id, node, grpc, keyring-backend, output).
    Set { key: String, value: String },
}

pub fn run(args: ConfigArgs, home: &Path) -> Result<()> {
    let path = ClientConfig::path(home);
    let loaded = ClientConfig::load(home)?;
    match args.cmd {
        None => {
            if loaded.is_none() {
                eprintln!("note: {} does not exist; these are the built-in defaults", path.display());
            }
            print!("{}", loaded.unwrap_or_default().to_toml());
        }
        Some(ConfigCmd::Get { key }) => println!("{}", loaded.unwrap_or_default().get(&key)?),
        Some(ConfigCmd::Set { key, value }) => {
            let mut c = loaded.unwrap_or_default();
            c.set(&key, &value)?;
            c.save(home)?;
            eprintln!("{key} = {value:?} in {}", path.display());
        }
    }
    Ok(())
}
