//! Block work: record this chain's consensus state at each height, so that
//! a counterparty's client of Aegis can be checked in connection
//! handshakes, and forget the one that fell out of the window.

use ibc_proto::ibc::core::commitment::v1::MerkleRoot;
use ibc_proto::ibc::lightclients::tendermint::v1::ConsensusState as RawTmConsensusState;

use super::state::keys;
use super::IbcRead;
use crate::error::AppResult;
use crate::store::StoreWrite;

/// What the block's header says that IBC needs: header H carries the app
/// hash after H-1, H's time and the hash of the validators of H+1.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostHeader {
    pub height: u64,
    pub time_seconds: i64,
    pub time_nanos: u32,
    pub app_hash: Vec<u8>,
    pub next_validators_hash: Vec<u8>,
}

pub async fn begin_block<S: StoreWrite + Send + Sync>(state: &mut S, header: &HostHeader) -> AppResult<()> {
    let params = state.ibc_params().await?;
    let cs = RawTmConsensusState {
        timestamp: Some(ibc_proto::google::protobuf::Timestamp { seconds: header.time_seconds, nanos: header.time_nanos as i32 }),
        root: Some(MerkleRoot { hash: header.app_hash.clone() }),
        next_validators_hash: header.next_validators_hash.clone(),
    };
    state.write_bytes(keys::host_consensus_state(header.height), prost::Message::encode_to_vec(&cs))?;
    if let Some(old) = header.height.checked_sub(params.historical_entries) {
        state.delete_key(keys::host_consensus_state(old))?;
    }
    Ok(())
}
