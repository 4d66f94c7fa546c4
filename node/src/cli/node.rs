//! Commands about a running node rather than one module's state.

use aegis_node::client;
use anyhow::Result;

use super::common::{print_json, NodeArgs};

/// The node's chain id, moniker, latest block and sync status.
pub async fn status(node: NodeArgs) -> Result<()> {
    use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::{service_client::ServiceClient, GetLatestBlockRequest, GetNodeInfoRequest, GetSyncingRequest};
    let c = client::GrpcClient::connect(&node.grpc).await?;
    let mut tm = ServiceClient::new(c.channel());
    let info = tm.get_node_info(GetNodeInfoRequest {}).await?.into_inner();
    let syncing = tm.get_syncing(GetSyncingRequest {}).await?.into_inner().syncing;
    let block = tm.get_latest_block(GetLatestBlockRequest {}).await?.into_inner();
    let header = block.block.and_then(|b| b.header);
    let n = info.default_node_info.unwrap_or_default();
    print_json(serde_json::json!({
        "chain_id": n.network, "moniker": n.moniker, "node_id": n.default_node_id,
        "latest_block_height": header.as_ref().map(|h| h.height).unwrap_or(0).to_string(),
        "latest_app_hash": header.as_ref().map(|h| hex::encode_upper(&h.app_hash)).unwrap_or_default(),
        "catching_up": syncing,
        "app_version": info.application_version.map(|v| v.version).unwrap_or_default(),
    }));
    Ok(())
}
