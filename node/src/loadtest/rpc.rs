//! The few CometBFT JSON-RPC calls the load generator makes, over plain
//! HTTP POST with JSON bodies (no typed client: the answers are read as
//! JSON, so any CometBFT 0.37/0.38 node works), including JSON-RPC batch
//! requests, which CometBFT serves in order.

use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

/// One node's RPC endpoint.
#[derive(Clone)]
pub struct CometRpc {
    url: String,
    http: reqwest::Client,
}

/// CometBFT's answer to one broadcast in a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BroadcastAnswer {
    /// Accepted (async: handed to the mempool; sync: CheckTx code 0).
    Accepted,
    /// CheckTx answered a non-zero code (sync mode only).
    Rejected { codespace: String, code: u32, log: String },
    /// The RPC call failed (mempool full, tx already in cache, ...).
    RpcError(String),
}

/// What the scanner needs of a committed block.
pub struct BlockTxs {
    pub height: u64,
    /// Header time, Unix nanoseconds.
    pub time_ns: i128,
    pub txs: Vec<Vec<u8>>,
}

impl CometRpc {
    pub fn new(url: &str) -> Result<Self> {
        // A node that stops answering ends the run instead of hanging it.
        let http = reqwest::Client::builder().pool_max_idle_per_host(64).timeout(std::time::Duration::from_secs(60)).build().context("HTTP client")?;
        Ok(CometRpc { url: url.trim_end_matches('/').to_string(), http })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn post(&self, body: &Value) -> Result<Value> {
        let r = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .with_context(|| format!("CometBFT RPC at {}", self.url))?;
        let bytes = r.bytes().await.with_context(|| format!("reading CometBFT RPC's answer at {}", self.url))?;
        serde_json::from_slice(&bytes).with_context(|| format!("CometBFT RPC at {} answered no JSON", self.url))
    }

    /// The `result` of one call (a query: tried again up to 4 times when
    /// the connection fails, as when the server closes an idle keep-alive
    /// connection under the request); an RPC error is an error.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": method, "params": params});
        let mut attempt = 0;
        let v = loop {
            match self.post(&body).await {
                Ok(v) => break v,
                Err(_) if attempt < 4 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
                Err(e) => return Err(e),
            }
        };
        if let Some(e) = v.get("error") {
            bail!("{method}: {}", error_text(e));
        }
        v.get("result").cloned().ok_or_else(|| anyhow!("{method}: no result in {v}"))
    }

    /// (chain id, latest height) from /status.
    pub async fn status(&self) -> Result<(String, u64)> {
        let s = self.call("status", json!({})).await?;
        let chain_id = s["node_info"]["network"].as_str().ok_or_else(|| anyhow!("status has no node_info.network"))?.to_string();
        Ok((chain_id, num(&s["sync_info"]["latest_block_height"])?))
    }

    /// Txs waiting in the node's mempool.
    pub async fn unconfirmed_txs(&self) -> Result<u64> {
        num(&self.call("num_unconfirmed_txs", json!({})).await?["total"])
    }

    /// Broadcast `txs` in one JSON-RPC batch request (`broadcast_tx_sync`
    /// or `broadcast_tx_async`); one answer per tx, in order. An error
    /// means the whole request failed.
    pub async fn broadcast_batch(&self, method: &str, txs: &[&[u8]]) -> Result<Vec<BroadcastAnswer>> {
        let body: Vec<Value> = txs
            .iter()
            .enumerate()
            .map(|(i, tx)| json!({"jsonrpc": "2.0", "id": i, "method": method, "params": {"tx": B64.encode(tx)}}))
            .collect();
        // Once more if the connection failed: at worst CometBFT then
        // answers "tx already exists in cache" for txs it had taken.
        let body = Value::Array(body);
        let v = match self.post(&body).await {
            Ok(v) => v,
            Err(_) => self.post(&body).await?,
        };
        let items = match v {
            Value::Array(items) => items,
            // CometBFT answers a batch of one with a bare object.
            one if txs.len() == 1 && one.get("id").is_some_and(|id| id == 0) => vec![one],
            // Else a bare object means the whole request failed.
            other => bail!("{method} batch: {}", other.get("error").map(error_text).unwrap_or_else(|| other.to_string())),
        };
        let mut answers = vec![BroadcastAnswer::RpcError("no answer".into()); txs.len()];
        for item in items {
            let Some(i) = item["id"].as_u64().map(|i| i as usize).filter(|i| *i < txs.len()) else { continue };
            answers[i] = match (item.get("error"), item.get("result")) {
                (Some(e), _) => BroadcastAnswer::RpcError(error_text(e)),
                (None, Some(r)) => match r["code"].as_u64().unwrap_or(0) {
                    0 => BroadcastAnswer::Accepted,
                    code => BroadcastAnswer::Rejected {
                        codespace: r["codespace"].as_str().unwrap_or_default().to_string(),
                        code: code as u32,
                        log: r["log"].as_str().unwrap_or_default().to_string(),
                    },
                },
                (None, None) => BroadcastAnswer::RpcError(format!("no result in {item}")),
            };
        }
        Ok(answers)
    }

    /// Block `height`: its header time and txs.
    pub async fn block(&self, height: u64) -> Result<BlockTxs> {
        let r = self.call("block", json!({"height": height.to_string()})).await?;
        let header = &r["block"]["header"];
        let time = header["time"].as_str().ok_or_else(|| anyhow!("block {height} has no header time"))?;
        let time_ns = tendermint::Time::parse_from_rfc3339(time).map_err(|e| anyhow!("block {height} time {time:?}: {e}"))?.unix_timestamp_nanos();
        let txs = r["block"]["data"]["txs"]
            .as_array()
            .map(|a| a.iter().map(|t| B64.decode(t.as_str().unwrap_or_default())).collect::<Result<Vec<_>, _>>())
            .transpose()
            .map_err(|e| anyhow!("block {height} tx is not base64: {e}"))?
            .unwrap_or_default();
        Ok(BlockTxs { height, time_ns, txs })
    }

    /// The (codespace, code) of each tx of block `height`, in block order.
    pub async fn block_results(&self, height: u64) -> Result<Vec<(String, u32)>> {
        let r = self.call("block_results", json!({"height": height.to_string()})).await?;
        Ok(r["txs_results"]
            .as_array()
            .map(|a| a.iter().map(|t| (t["codespace"].as_str().unwrap_or_default().to_string(), t["code"].as_u64().unwrap_or(0) as u32)).collect())
            .unwrap_or_default())
    }
}

fn error_text(e: &Value) -> String {
    let msg = e["message"].as_str().unwrap_or_default();
    match e["data"].as_str() {
        Some(d) if !d.is_empty() => format!("{msg}: {d}"),
        _ => msg.to_string(),
    }
}

/// CometBFT writes 64-bit integers as strings.
fn num(v: &Value) -> Result<u64> {
    match v {
        Value::String(s) => s.parse().map_err(|_| anyhow!("{s:?} is not a number")),
        Value::Number(n) => n.as_u64().ok_or_else(|| anyhow!("{n} is not a u64")),
        other => bail!("{other} is not a number"),
    }
}
