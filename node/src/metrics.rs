//! Prometheus metrics for operators, served at `http://<metrics_listen>/metrics`
//! (app.toml). Measured here, around the ABCI services, so that the state
//! machine itself never reads a clock: blocks, block height, FinalizeBlock
//! and Commit durations, transaction outcomes, CheckTx outcomes, and
//! cnidarium's own storage timings.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use aegis_app::abci::BoxError;
use anyhow::{Context as _, Result};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};
use tendermint::abci::request::CheckTxKind;
use tendermint::v0_38::abci::{ConsensusRequest, ConsensusResponse, MempoolRequest, MempoolResponse};
use tower::Service;

/// Start the Prometheus endpoint on the current tokio runtime.
pub fn install(listen: &str) -> Result<()> {
    let addr: SocketAddr = listen.parse().with_context(|| format!("metrics_listen {listen:?}"))?;
    metrics_exporter_prometheus::PrometheusBuilder::new().with_http_listener(addr).install().context("starting the metrics endpoint")?;
    cnidarium::register_metrics();
    describe_gauge!("aegis_block_height", "Height of the last block this node finalized");
    describe_counter!("aegis_blocks_total", "Blocks finalized since start");
    describe_counter!("aegis_txs_total", "Transactions in finalized blocks, by result (ok or failed)");
    describe_counter!("aegis_checktx_total", "CheckTx answers, by kind (new or recheck) and result (accepted or rejected)");
    describe_histogram!("aegis_abci_duration_seconds", Unit::Seconds, "Time to answer FinalizeBlock and Commit");
    Ok(())
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// Wraps an ABCI service and records what passes through it.
#[derive(Clone)]
pub struct Measured<S>(pub S);

impl<S> Service<ConsensusRequest> for Measured<S>
where
    S: Service<ConsensusRequest, Response = ConsensusResponse, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = ConsensusResponse;
    type Error = BoxError;
    type Future = BoxFuture<ConsensusResponse>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: ConsensusRequest) -> Self::Future {
        let (method, height) = match &req {
            ConsensusRequest::FinalizeBlock(f) => (Some("finalize_block"), f.height.value()),
            ConsensusRequest::Commit => (Some("commit"), 0),
            _ => (None, 0),
        };
        let start = Instant::now();
        let fut = self.0.call(req);
        Box::pin(async move {
            let resp = fut.await?;
            if let Some(method) = method {
                histogram!("aegis_abci_duration_seconds", "method" => method).record(start.elapsed().as_secs_f64());
            }
            if let ConsensusResponse::FinalizeBlock(f) = &resp {
                gauge!("aegis_block_height").set(height as f64);
                counter!("aegis_blocks_total").increment(1);
                let ok = f.tx_results.iter().filter(|r| r.code.is_ok()).count() as u64;
                counter!("aegis_txs_total", "result" => "ok").increment(ok);
                counter!("aegis_txs_total", "result" => "failed").increment(f.tx_results.len() as u64 - ok);
            }
            Ok(resp)
        })
    }
}

impl<S> Service<MempoolRequest> for Measured<S>
where
    S: Service<MempoolRequest, Response = MempoolResponse, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = MempoolResponse;
    type Error = BoxError;
    type Future = BoxFuture<MempoolResponse>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: MempoolRequest) -> Self::Future {
        let MempoolRequest::CheckTx(c) = &req;
        let kind = if c.kind == CheckTxKind::Recheck { "recheck" } else { "new" };
        let fut = self.0.call(req);
        Box::pin(async move {
            let resp = fut.await?;
            let MempoolResponse::CheckTx(r) = &resp;
            let result = if r.code.is_ok() { "accepted" } else { "rejected" };
            counter!("aegis_checktx_total", "kind" => kind, "result" => result).increment(1);
            Ok(resp)
        })
    }
}
