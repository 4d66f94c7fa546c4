//! Account queries (the auth module).

use aegis_app::types::Address;
use aegis_node::client;
use anyhow::{anyhow, Result};

use super::common::{print_json, NodeArgs};

/// An account's number, sequence and public key.
pub async fn account(address: String, node: NodeArgs) -> Result<()> {
    let addr = Address::parse(&address).map_err(|e| anyhow!("{e}"))?;
    let c = client::GrpcClient::connect(&node.grpc).await?;
    let acc = c.account(&addr).await?.ok_or_else(|| anyhow!("account {addr} not found"))?;
    let pk = acc.pub_key.map(|k| {
        let key = <cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey as prost::Message>::decode(k.value.as_slice()).map(|p| p.key).unwrap_or_default();
        serde_json::json!({"@type": k.type_url, "key": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)})
    });
    print_json(serde_json::json!({"address": acc.address, "account_number": acc.account_number.to_string(), "sequence": acc.sequence.to_string(), "pub_key": pk}));
    Ok(())
}
