//! `aegisd relayer`: create an IBC path between two chains and relay on it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum RelayerCmd {
    /// Create clients, a connection and a channel between the two chains of the config; write their ids into it.
    CreatePath {
        #[arg(long)]
        config: PathBuf,
    },
    /// Relay packets, acknowledgements and timeouts both ways on the config's path (until stopped).
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
