//! `aegisd start`: the ABCI server CometBFT connects to, and the gRPC server
//! and REST (LCD) API clients use, over one RocksDB-backed store.

use std::path::Path;

use aegis_app::auth::params::MinGasPrice;
use aegis_app::App;
use anyhow::{anyhow, Context, Result};
use tracing::info;

use crate::config::AppConfig;

pub async fn start(home: &Path) -> Result<()> {
    let cfg = AppConfig::load(home)?;
    let min_gas_price = MinGasPrice::parse(&cfg.minimum_gas_prices).map_err(|e| anyhow!("config minimum_gas_prices: {e}"))?;
    let db = cfg.db_path(home);
    std::fs::create_dir_all(&db)?;
    let storage = aegis_app::store::open(db.clone()).await.with_context(|| format!("opening state at {}", db.display()))?;
    aegis_app::store::retained::retain_recent(&storage, cfg.pruning_keep_recent)?;
    let mut app = App::new(storage.clone());
    app.set_index_events(aegis_app::abci::IndexEvents::parse(&cfg.index_events).map_err(|e| anyhow!("config index_events: {e}"))?);
    let (height, hash) = app.last_committed().await?;
    info!(height, app_hash = %hex::encode_upper(&hash), db = %db.display(), keep_recent = cfg.pruning_keep_recent, "state loaded");

    if !cfg.metrics_listen.is_empty() {
        crate::metrics::install(&cfg.metrics_listen)?;
        info!(metrics = %cfg.metrics_listen, "Prometheus metrics at /metrics");
    }
    let (consensus, mempool, info_svc, snapshot, mempool_view) = aegis_app::abci::services_with_mempool_view(app, min_gas_price);
    let abci = tower_abci::v038::Server::builder()
        .consensus(crate::metrics::Measured(consensus))
        .mempool(crate::metrics::Measured(mempool))
        .info(info_svc)
        .snapshot(snapshot)
        .finish()
        .ok_or_else(|| anyhow!("incomplete ABCI server"))?;
    let abci_addr = cfg.abci_listen.clone();
    let max_tx_bytes = crate::grpc::max_tx_bytes(home)?;
    let grpc_addr = cfg.grpc_listen.parse().with_context(|| format!("grpc_listen {:?}", cfg.grpc_listen))?;
    info!(abci = %abci_addr, grpc = %grpc_addr, cometbft_rpc = %cfg.cometbft_rpc, "aegisd listening");
    let rest = match cfg.api_listen.as_str() {
        "" => None,
        a => Some(crate::rest::RestConfig {
            listen: a.parse().with_context(|| format!("api_listen {a:?}"))?,
            grpc: grpc_addr,
            cors_allowed_origins: cfg.api_cors_allowed_origins.clone(),
        }),
    };
    let rest = async move {
        match rest {
            Some(r) => crate::rest::serve(r).await,
            None => std::future::pending().await,
        }
    };

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = abci.listen_tcp(abci_addr) => r.map_err(|e| anyhow!("ABCI server: {e}"))?,
        r = crate::grpc::serve(storage.clone(), mempool_view, grpc_addr, &cfg.cometbft_rpc, max_tx_bytes) => r.context("gRPC server")?,
        r = rest => r.context("REST API")?,
        _ = tokio::signal::ctrl_c() => info!("interrupted; stopping"),
        _ = term.recv() => info!("terminated; stopping"),
    }
    // Every commit is already durable (RocksDB's WAL); nothing to flush.
    drop(storage);
    Ok(())
}
