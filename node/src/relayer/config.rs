//! `relayer.toml`: the two chains (RPC address, the relayer's key, gas
//! price), the path between them, and what `create-path` established.
//!
//! ```toml
//! metrics_listen = "127.0.0.1:26690"   # Prometheus; "" disables
//! poll_interval_ms = 500
//!
//! [[chains]]
//! chain_id = "aegis-a"
//! rpc = "http://127.0.0.1:26657"
//! keyring_home = ".devnet/a/node0"      # aegisd keyring holding the key
//! key_name = "relayer"
//! gas_price = "0.025uaegis"
//!
//! [[chains]]
//! chain_id = "aegis-b"
//! ...
//!
//! [path]
//! port = "transfer"
//! version = "ics20-1"
//! ordering = "unordered"
//! # written by `create-path`:
//! client_a = "07-tendermint-0"
//! ...
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayerConfig {
    #[serde(default = "default_metrics")]
    pub metrics_listen: String,
    #[serde(default = "default_poll")]
    pub poll_interval_ms: u64,
    pub chains: Vec<ChainConfig>,
    pub path: PathConfig,
}

fn default_metrics() -> String {
    "127.0.0.1:26690".into()
}

fn default_poll() -> u64 {
    500
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainConfig {
    pub chain_id: String,
    pub rpc: String,
    /// The `aegisd` home whose keyring holds the relayer's key.
    pub keyring_home: PathBuf,
    pub key_name: String,
    #[serde(default = "default_gas_price")]
    pub gas_price: String,
    /// Clock drift a client of this chain tolerates, in seconds.
    #[serde(default = "default_drift")]
    pub max_clock_drift_seconds: u64,
}

fn default_gas_price() -> String {
    "0.025uaegis".into()
}

fn default_drift() -> u64 {
    20
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathConfig {
    #[serde(default = "default_port")]
    pub port: String,
    #[serde(default = "default_version")]
    pub version: String,
    /// "unordered" or "ordered".
    #[serde(default = "default_ordering")]
    pub ordering: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_a: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_b: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub connection_a: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub connection_b: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel_a: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel_b: String,
}

fn default_port() -> String {
    "transfer".into()
}

fn default_version() -> String {
    "ics20-1".into()
}

fn default_ordering() -> String {
    "unordered".into()
}

impl PathConfig {
    pub fn is_established(&self) -> bool {
        !self.channel_a.is_empty() && !self.channel_b.is_empty()
    }
}

impl RelayerConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let cfg: RelayerConfig = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if cfg.chains.len() != 2 {
            bail!("{}: a path joins exactly two chains, found {}", path.display(), cfg.chains.len());
        }
        if !matches!(cfg.path.ordering.as_str(), "ordered" | "unordered") {
            bail!("{}: path.ordering must be \"ordered\" or \"unordered\", got {:?}", path.display(), cfg.path.ordering);
        }
        Ok(cfg)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, toml::to_string_pretty(self)?).with_context(|| format!("writing {}", path.display()))
    }
}
