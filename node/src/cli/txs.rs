//! Queries about transactions and blocks: `query tx`, `query txs` (event
//! search through `cosmos.tx.v1beta1.Service/GetTxsEvent`) and `query block`.

use aegis_node::client;
use anyhow::{bail, Result};
use clap::Args;
use sha2::Digest;

use super::common::{print_json, tx_result, NodeArgs};

#[derive(Args)]
pub struct TxsArgs {
    /// CometBFT event query, e.g. "message.sender='aegis1...'" or "tx.height=5".
    #[arg(long)]
    pub query: String,
    /// Page number, from 1.
    #[arg(long, default_value_t = 1)]
    pub page: u64,
    /// Results per page (at most 100).
    #[arg(long, default_value_t = 30)]
    pub limit: u64,
    /// Newest first.
    #[arg(long)]
    pub desc: bool,
    #[command(flatten)]
    pub node: NodeArgs,
}

/// A committed tx by hash: code, height, gas, events, decoded messages.
pub async fn tx(hash: String, node: NodeArgs) -> Result<()> {
    let c = client::GrpcClient::connect(&node.grpc).await?;
    match c.get_tx(&hash).await? {
        Some((tx, r)) => print_json(tx_result(&r, tx.as_ref())?),
        None => bail!("tx {hash} not found: not (yet) in a block indexed by the node at {}", node.grpc),
    }
    Ok(())
}

pub async fn txs(a: TxsArgs) -> Result<()> {
    if a.page == 0 {
        bail!("--page 0: pages count from 1");
    }
    let c = client::GrpcClient::connect(&a.node.grpc).await?;
    let (found, total) = c.txs_by_events(&a.query, a.page, a.limit, a.desc).await?;
    let txs = found.iter().map(|(tx, r)| tx_result(r, Some(tx))).collect::<Result<Vec<_>>>()?;
    print_json(serde_json::json!({"total_count": total.to_string(), "count": txs.len(), "page": a.page, "limit": a.limit, "txs": txs}));
    Ok(())
}

/// A block's header summary and its txs' hashes (latest by default).
pub async fn block(height: Option<u64>, node: NodeArgs) -> Result<()> {
    if height == Some(0) {
        bail!("height 0: blocks start at 1");
    }
    let c = client::GrpcClient::connect(&node.grpc).await?;
    let (id, block) = c.block(height).await?;
    let h = block.header.unwrap_or_default();
    let time = h.time.map(|t| tendermint::Time::from_unix_timestamp(t.seconds, t.nanos as u32).map(|t| t.to_rfc3339()).unwrap_or_default()).unwrap_or_default();
    let txs: Vec<String> = block.data.map(|d| d.txs).unwrap_or_default().iter().map(|t| hex::encode_upper(sha2::Sha256::digest(t))).collect();
    print_json(serde_json::json!({
        "height": h.height.to_string(),
        "hash": hex::encode_upper(id.map(|i| i.hash).unwrap_or_default()),
        "chain_id": h.chain_id,
        "time": time,
        "proposer_address": hex::encode_upper(&h.proposer_address),
        "app_hash": hex::encode_upper(&h.app_hash),
        "num_txs": txs.len(),
        "txs": txs,
    }));
    Ok(())
}
