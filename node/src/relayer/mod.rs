//! `aegisd relayer`: an IBC relayer for one path between two chains.
//!
//! It speaks only standard IBC: `/ibc.core.*` messages in ordinary signed
//! transactions, ICS23 proofs from ABCI `store/ibc/key`, the standard
//! `ibc.core.*.v1.Query` services over ABCI, signed headers and validator
//! sets from CometBFT RPC, and ibc-go's event attributes through
//! `tx_search` and `block_search`. So Hermes, configured with Aegis's proof specs and the
//! `ibc` store prefix, can take its place; this one exists because no
//! standard relayer installs here unmodified.

pub mod chain;
pub mod channels;
pub mod client;
pub mod config;
pub mod handshake;
pub mod relay;

use std::path::Path;

use anyhow::{Context, Result};

use chain::Chain;
use config::RelayerConfig;

async fn connect(cfg: &RelayerConfig) -> Result<[Chain; 2]> {
    let a = Chain::connect(&cfg.chains[0]).await?;
    let b = Chain::connect(&cfg.chains[1]).await?;
    Ok([a, b])
}

/// Create clients (unless the path is a CCV path, whose clients exist), a
/// connection and a channel; record their ids in the config file.
pub async fn create_path(config_path: &Path) -> Result<()> {
    let mut cfg = RelayerConfig::load(config_path)?;
    let [mut a, mut b] = connect(&cfg).await?;
    handshake::create_path(&mut cfg, &mut a, &mut b).await?;
    cfg.save(config_path)?;
    println!(
        "{}",
        serde_json::json!({
            "port_a": cfg.path.end(0).port, "port_b": cfg.path.end(1).port,
            "client_a": cfg.path.client_a, "client_b": cfg.path.client_b,
            "connection_a": cfg.path.connection_a, "connection_b": cfg.path.connection_b,
            "channel_a": cfg.path.channel_a, "channel_b": cfg.path.channel_b,
        })
    );
    Ok(())
}

/// Relay on the established path until stopped.
pub async fn start(config_path: &Path) -> Result<()> {
    let cfg = RelayerConfig::load(config_path)?;
    if !cfg.path.is_established() {
        anyhow::bail!("{}: no channel yet; run `aegisd relayer create-path --config {}` first", config_path.display(), config_path.display());
    }
    if !cfg.metrics_listen.is_empty() {
        crate::metrics::install(&cfg.metrics_listen).context("relayer metrics")?;
    }
    let mut chains = connect(&cfg).await?;
    relay::run(&cfg, &mut chains).await
}
