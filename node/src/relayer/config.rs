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
//!
//! A CCV path (Interchain Security: a provider and one of its consumer
//! chains) names the consumer; its clients exist already (the consumer's
//! genesis client of the provider, the provider's client of the consumer
//! made at launch), its ports are `provider` and `consumer`, and its
//! channel is ORDERED with version "1":
//!
//! ```toml
//! [path]
//! kind = "ccv"
//! consumer_chain_id = "aegis-consumer-a"   # one of the two chains
//! consumer_id = 1                          # the consumer's id on the provider
//! ```
//!
//! `start` relays every open channel on the path's connection (a CCV
//! path's consumer also opens a `transfer` channel for its rewards) and
//! completes channel handshakes it finds half done there.

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

/// What `create-path` builds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathKind {
    /// Clients, a connection and a channel on `port` at both ends.
    #[default]
    Generic,
    /// ICS's CCV channel between a provider and a consumer, over the
    /// clients they already have.
    Ccv,
}

impl PathKind {
    fn is_generic(&self) -> bool {
        *self == PathKind::Generic
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathConfig {
    #[serde(default, skip_serializing_if = "PathKind::is_generic")]
    pub kind: PathKind,
    /// CCV: which chain is the consumer (its chain id) and its id on the provider.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub consumer_chain_id: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub consumer_id: u64,
    #[serde(default = "default_port")]
    pub port: String,
    /// The port on chain A and on chain B when they differ from `port`
    /// (a CCV path: `provider` and `consumer`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub port_a: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub port_b: String,
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

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// One end of a path: the ids on one chain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct End {
    pub port: String,
    pub client: String,
    pub connection: String,
    pub channel: String,
}

impl PathConfig {
    pub fn is_established(&self) -> bool {
        !self.channel_a.is_empty() && !self.channel_b.is_empty()
    }

    /// The ids at chain `i` (0 = A, 1 = B).
    pub fn end(&self, i: usize) -> End {
        let (port, client, connection, channel) = if i == 0 {
            (&self.port_a, &self.client_a, &self.connection_a, &self.channel_a)
        } else {
            (&self.port_b, &self.client_b, &self.connection_b, &self.channel_b)
        };
        let port = if port.is_empty() { self.port.clone() } else { port.clone() };
        End { port, client: client.clone(), connection: connection.clone(), channel: channel.clone() }
    }

    pub fn set_end(&mut self, i: usize, e: End) {
        let port = if e.port == self.port { String::new() } else { e.port };
        if i == 0 {
            (self.port_a, self.client_a, self.connection_a, self.channel_a) = (port, e.client, e.connection, e.channel);
        } else {
            (self.port_b, self.client_b, self.connection_b, self.channel_b) = (port, e.client, e.connection, e.channel);
        }
    }

    pub fn ordered(&self) -> bool {
        self.ordering == "ordered"
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
        let mut cfg = cfg;
        if cfg.path.kind == PathKind::Ccv {
            cfg.ccv_defaults().with_context(|| format!("{}: [path] kind = \"ccv\"", path.display()))?;
        }
        Ok(cfg)
    }

    /// The chain (0 or 1) that is the consumer of a CCV path.
    pub fn consumer_index(&self) -> Result<usize> {
        let p = &self.path;
        self.chains.iter().position(|c| c.chain_id == p.consumer_chain_id).ok_or_else(|| {
            anyhow::anyhow!(
                "consumer_chain_id {:?} names neither chain ({} or {})",
                p.consumer_chain_id,
                self.chains[0].chain_id,
                self.chains[1].chain_id
            )
        })
    }

    /// A CCV path's fixed shape: ports `provider` and `consumer`, ORDERED,
    /// version "1" (ICS's); anything else written in the file is an error.
    fn ccv_defaults(&mut self) -> Result<()> {
        if self.path.consumer_id == 0 {
            bail!("consumer_id (the consumer's id on the provider) is missing");
        }
        let consumer = self.consumer_index()?;
        let p = &mut self.path;
        let want = |i: usize| if i == consumer { aegis_app::ccv::CONSUMER_PORT } else { aegis_app::ccv::PROVIDER_PORT };
        for (i, port) in [(0, &mut p.port_a), (1, &mut p.port_b)] {
            if !port.is_empty() && port != want(i) {
                bail!("the {} end's port must be {:?}, the file says {port:?}", if i == consumer { "consumer" } else { "provider" }, want(i));
            }
            *port = want(i).to_string();
        }
        p.ordering = "ordered".into();
        p.version = aegis_app::ccv::VERSION.into();
        Ok(())
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut out = toml::Value::try_from(self)?;
        if self.path.kind == PathKind::Ccv {
            // Implied by the kind: not written.
            if let Some(t) = out.get_mut("path").and_then(|p| p.as_table_mut()) {
                for k in ["port", "port_a", "port_b", "version", "ordering"] {
                    t.remove(k);
                }
            }
        }
        std::fs::write(path, toml::to_string_pretty(&out)?).with_context(|| format!("writing {}", path.display()))
    }
}
