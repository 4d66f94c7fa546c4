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
    /// How many recent heights answer queries at a height
    /// (`x-cosmos-block-height`, ABCI `Query` with a height): at least 10
    /// (cnidarium always keeps the latest 10). Each one pins a RocksDB
    /// snapshot in memory; none survive a restart.
    #[serde(default = "default_pruning_keep_recent")]
    pub pruning_keep_recent: u64,
    /// The Cosmos SDK's `index-events`: the event attributes CometBFT's tx
    /// indexer indexes, as `<type>.<key>` (e.g. `transfer.recipient`);
    /// empty indexes what the modules mark. Fewer costs CometBFT less CPU
    /// per tx; `query txs` then finds txs only by what is listed.
    #[serde(default)]
    pub index_events: Vec<String>,
}

/// 1000 heights: about 8 minutes of a devnet's 0.5 s blocks, 80 minutes of 5 s blocks.
pub const DEFAULT_PRUNING_KEEP_RECENT: u64 = 1000;

fn default_pruning_keep_recent() -> u64 {
    DEFAULT_PRUNING_KEEP_RECENT
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
            pruning_keep_recent: DEFAULT_PRUNING_KEEP_RECENT,
            index_events: vec![],
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
        let cfg: AppConfig = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        cfg.check().with_context(|| format!("in {}", path.display()))?;
        Ok(cfg)
    }

    /// Values that parse but cannot work.
    pub fn check(&self) -> Result<()> {
        aegis_app::abci::IndexEvents::parse(&self.index_events).map_err(|e| anyhow::anyhow!(e))?;
        let floor = aegis_app::store::retained::CNIDARIUM_KEEPS;
        if self.pruning_keep_recent < floor {
            anyhow::bail!(
                "pruning_keep_recent = {}: at least {floor} (the store always keeps the {floor} most recent heights; more keeps more queryable)",
                self.pruning_keep_recent
            );
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keep_recent_defaults_to_1000_and_refuses_fewer_than_10() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = AppConfig::default();
        cfg.save(dir.path()).unwrap();
        // An app.toml written before the setting existed gets the default.
        let text = std::fs::read_to_string(AppConfig::path(dir.path())).unwrap().replace("pruning_keep_recent = 1000\n", "");
        std::fs::write(AppConfig::path(dir.path()), &text).unwrap();
        assert_eq!(AppConfig::load(dir.path()).unwrap().pruning_keep_recent, 1000);

        cfg.pruning_keep_recent = 9;
        cfg.save(dir.path()).unwrap();
        let err = format!("{:#}", AppConfig::load(dir.path()).unwrap_err());
        assert!(err.contains("pruning_keep_recent = 9: at least 10 (the store always keeps the 10 most recent heights"), "{err}");
        cfg.pruning_keep_recent = 10;
        cfg.save(dir.path()).unwrap();
        assert_eq!(AppConfig::load(dir.path()).unwrap().pruning_keep_recent, 10);
    }

    #[test]
    fn index_events_default_to_empty_and_a_malformed_entry_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = AppConfig::default();
        cfg.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(AppConfig::path(dir.path())).unwrap();
        assert!(text.contains("index_events = []\n"), "{text}");
        std::fs::write(AppConfig::path(dir.path()), text.replace("index_events = []\n", "")).unwrap();
        assert_eq!(AppConfig::load(dir.path()).unwrap().index_events, Vec::<String>::new());

        cfg.index_events = vec!["transfer.recipient".into(), "transfer".into()];
        cfg.save(dir.path()).unwrap();
        let err = format!("{:#}", AppConfig::load(dir.path()).unwrap_err());
        assert!(err.ends_with("index_events entry \"transfer\": expected <event type>.<attribute key>, e.g. \"transfer.recipient\""), "{err}");
    }
}
