//! The protobuf descriptors the client and the REST gateway know: the
//! node's own set (`aegis_proto::FILE_DESCRIPTOR_SET`, what reflection
//! serves), plus the files of ibc-proto's set that carry types users meet in
//! transactions and query answers but that the node's set does not describe:
//! the Tendermint light client's states, and the IBC core, ICS-20 and ICS
//! provider `Msg`s (relayer txs, `MsgTransfer`, `MsgSubmitConsumerDoubleVoting`).
//! One pool for both users, so `aegisd query tx`, `tx decode`,
//! `--generate-only` and REST render the same types the same way.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use anyhow::{anyhow, Context, Result};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, Value};
use prost_types::FileDescriptorProto;

/// Files taken from ibc-proto's descriptor set (with whatever they import
/// that the node's set lacks).
const IBC_EXTRA_FILES: &[&str] = &[
    "ibc/lightclients/tendermint/v1/tendermint.proto",
    "ibc/core/client/v1/tx.proto",
    "ibc/core/connection/v1/tx.proto",
    "ibc/core/channel/v1/tx.proto",
    "ibc/applications/transfer/v1/tx.proto",
    "interchain_security/ccv/provider/v1/tx.proto",
];

static POOL: LazyLock<DescriptorPool> = LazyLock::new(|| build().expect("the node's and ibc-proto's descriptor sets combine"));

/// The combined pool (built once per process).
pub fn pool() -> &'static DescriptorPool {
    &POOL
}

fn build() -> Result<DescriptorPool> {
    let mut pool = DescriptorPool::decode(aegis_proto::FILE_DESCRIPTOR_SET)?;
    // The REST transcoder carries `Any`s of unknown types in a StringValue.
    if pool.get_message_by_name("google.protobuf.StringValue").is_none() {
        let wrappers = DescriptorPool::global()
            .get_file_by_name("google/protobuf/wrappers.proto")
            .ok_or_else(|| anyhow!("prost-reflect lacks wrappers.proto"))?;
        pool.add_file_descriptor_proto(wrappers.file_descriptor_proto().clone())?;
    }
    let ibc = prost_types::FileDescriptorSet::decode(ibc_proto_052::FILE_DESCRIPTOR_SET)?;
    let by_name: BTreeMap<&str, &FileDescriptorProto> = ibc.file.iter().map(|f| (f.name(), f)).collect();
    for name in IBC_EXTRA_FILES {
        add_with_imports(&mut pool, &by_name, name)?;
    }
    Ok(pool)
}

/// Add `name` from ibc-proto's set after the imports the pool lacks; a file
/// the pool already has (by name) is kept as it is.
fn add_with_imports(pool: &mut DescriptorPool, ibc: &BTreeMap<&str, &FileDescriptorProto>, name: &str) -> Result<()> {
    if pool.get_file_by_name(name).is_some() {
        return Ok(());
    }
    let file = ibc.get(name).ok_or_else(|| anyhow!("ibc-proto's descriptors lack {name}"))?;
    for import in &file.dependency {
        add_with_imports(pool, ibc, import).with_context(|| format!("an import of {name}"))?;
    }
    pool.add_file_descriptor_proto((*file).clone()).with_context(|| format!("adding {name} from ibc-proto"))?;
    Ok(())
}

/// Call `f` on every message directly inside `msg`: singular, repeated and
/// map-valued message fields (what a walk over nested `Any`s recurses into).
pub fn each_child_message<E>(msg: &mut DynamicMessage, mut f: impl FnMut(&mut DynamicMessage) -> Result<(), E>) -> Result<(), E> {
    for (_, value) in msg.fields_mut() {
        match value {
            Value::Message(m) => f(m)?,
            Value::List(items) => items.iter_mut().try_for_each(|v| if let Value::Message(m) = v { f(m) } else { Ok(()) })?,
            Value::Map(entries) => entries.values_mut().try_for_each(|v| if let Value::Message(m) = v { f(m) } else { Ok(()) })?,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pool_knows_the_messages_of_every_tx_the_chain_takes() {
        let pool = super::pool();
        for name in [
            "cosmos.bank.v1beta1.MsgSend",
            "aegis.restaking.v1.MsgDeposit",
            "aegis.provider.v1.MsgOptIn",
            "ibc.applications.transfer.v1.MsgTransfer",
            "ibc.core.client.v1.MsgUpdateClient",
            "ibc.core.channel.v1.MsgRecvPacket",
            "ibc.core.channel.v1.MsgAcknowledgement",
            "ibc.core.connection.v1.MsgConnectionOpenTry",
            "ibc.lightclients.tendermint.v1.ClientState",
            "interchain_security.ccv.provider.v1.MsgSubmitConsumerDoubleVoting",
            "google.protobuf.StringValue",
        ] {
            assert!(pool.get_message_by_name(name).is_some(), "{name}");
        }
    }
}
