//! `aegisd relayer`: create an IBC path between two chains and relay on it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum RelayerCmd {
    /// Create clients, a connection and a channel between the two chains of the config; write their ids into it.
    /// With `[path] kind = "ccv"`: a CCV path over the clients a provider and its consumer already have.
    CreatePath {
        #[arg(long)]
        config: PathBuf,
    },
    /// Relay packets, acknowledgements and timeouts both ways on every open channel of the path's connection,
    /// finishing channel handshakes found half done there (until stopped).
    Start {
        #[arg(long)]
        config: PathBuf,
    },
}

pub async fn run(cmd: RelayerCmd) -> Result<()> {
    match cmd {
        RelayerCmd::CreatePath { config } => aegis_node::relayer::create_path(&config).await,
        RelayerCmd::Start { config } => aegis_node::relayer::start(&config).await,
    }
}
