//! A node's home directory: CometBFT's `config/` and `data/` plus Aegis's
//! `config/app.toml`, its RocksDB under `data/aegis.db`, and `keyring/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// `config/app.toml`: what `aegisd start` listens on and talks to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppConfig {
    /// ABCI server address CometBFT's `proxy_app` points at.
    pub abci_listen: String,
    /// gRPC server address (Cosmos services + reflection).
    pub grpc_listen: String,
    /// This node's own CometBFT RPC, used to broadcast and look up txs.
    pub cometbft_rpc: String,
    /// Node-local minimum gas price enforced in CheckTx, e.g. `0.025uaegis`.
    pub minimum_gas_prices: String,
    /// RocksDB directory, relative to the home directory.
    pub db_dir: String,
    /// Prometheus endpoint (`/metrics`); empty disables it.
    #[serde(default)]
    pub metrics_listen: String,
    /// REST (LCD) API address, the Cosmos SDK's `api.address`; empty
    /// disables it (and is what an app.toml written before it had means).
    #[serde(default)]
    pub api_listen: String,
    /// Origins the REST API answers with CORS headers: `["*"]` allows any,
    /// empty sends none.
    #[serde(default)]
    pub api_cors_allowed_origins: Vec<String>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            abci_listen: "127.0.0.1:26658".into(),
            grpc_listen: "127.0.0.1:26659".into(),
            cometbft_rpc: "http://127.0.0.1:26657".into(),
            minimum_gas_prices: "0.025uaegis".into(),
            db_dir: "data/aegis.db".into(),
            metrics_listen: "127.0.0.1:26655".into(),
            api_listen: "127.0.0.1:1317".into(),
            api_cors_allowed_origins: vec![],
        }
    }
}

impl AppConfig {
    pub fn path(home: &Path) -> PathBuf {
        home.join("config").join("app.toml")
    }

    pub fn load(home: &Path) -> Result<Self> {
        let path = Self::path(home);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {} (run `aegisd init` first)", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn save(&self, home: &Path) -> Result<()> {
        let path = Self::path(home);
        std::fs::create_dir_all(path.parent().unwrap())?;
        std::fs::write(&path, toml::to_string_pretty(self)?).with_context(|| format!("writing {}", path.display()))
    }

    pub fn db_path(&self, home: &Path) -> PathBuf {
        home.join(&self.db_dir)
    }
}

/// Expand a leading `~/` to $HOME.
pub fn expand_home(p: &Path) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    p.to_path_buf()
}
