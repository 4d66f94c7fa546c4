//! Versioned Merkle state: cnidarium (a Jellyfish Merkle tree over RocksDB).
//!
//! Every module reads and writes through the metered helpers here, so gas
//! is charged per store access and per byte in one place. The gas meter
//! rides along in the state delta as an ephemeral object: code that runs
//! outside a transaction (genesis, block hooks, queries) has none and is not
//! metered.

pub mod gas;
pub mod readcache;
pub mod retained;

use async_trait::async_trait;
use cnidarium::{StateRead, StateWrite};
use futures::StreamExt;
use prost::Message;

use crate::error::{AppError, AppResult};
use crate::types::Amount;
pub use gas::{GasCosts, GasMeter};

/// The substores: IBC state lives in its own (`ibc`), so that its
/// commitment prefix and two-level proofs are what ibc-go chains expect.
pub const SUBSTORES: &[&str] = &[crate::ibc::state::SUBSTORE];

/// Open (or create) the chain's state at `path`, with its substores.
pub async fn open(path: std::path::PathBuf) -> anyhow::Result<cnidarium::Storage> {
    cnidarium::Storage::load(path, SUBSTORES.iter().map(|s| s.to_string()).collect()).await
}

const GAS_METER: &str = "aegis/gas_meter";
const BLOCK_CONTEXT: &str = "aegis/block_context";

/// What a block's execution knows about the block: set once per block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockContext {
    pub chain_id: String,
    pub height: u64,
    /// Block time from the header, as Unix seconds and nanoseconds.
    pub time_seconds: i64,
    pub time_nanos: u32,
}

#[async_trait]
pub trait StoreRead: StateRead {
    fn gas_meter(&self) -> Option<GasMeter> {
        self.object_get(GAS_METER)
    }

    fn consume_gas(&self, amount: u64, descriptor: &'static str) -> AppResult<()> {
        match self.gas_meter() {
            Some(m) => m.consume(amount, descriptor),
            None => Ok(()),
        }
    }

    fn block_context(&self) -> Option<BlockContext> {
        self.object_get(BLOCK_CONTEXT)
    }

    /// This block's time (Unix seconds from the header); 0 outside a block.
    fn block_time(&self) -> i64 {
        self.block_context().map(|c| c.time_seconds).unwrap_or_default()
    }

    /// This block's height; 0 outside a block.
    fn block_height(&self) -> u64 {
        self.block_context().map(|c| c.height).unwrap_or_default()
    }

    /// Read raw bytes, charging the read cost.
    async fn read_bytes(&self, key: &str) -> AppResult<Option<Vec<u8>>> {
        let value = self.get_raw(key).await.map_err(AppError::from)?;
        if let Some(m) = self.gas_meter() {
            let len = value.as_ref().map_or(0, |v| v.len()) as u64;
            m.charge_read(key.len() as u64 + len)?;
        }
        Ok(value)
    }

    async fn read_proto<M: Message + Default>(&self, key: &str) -> AppResult<Option<M>> {
        match self.read_bytes(key).await? {
            Some(bytes) => M::decode(bytes.as_slice())
                .map(Some)
                .map_err(|e| AppError::internal(format!("corrupt value at {key}: {e}"))),
            None => Ok(None),
        }
    }

    async fn read_amount(&self, key: &str) -> AppResult<Amount> {
        match self.read_bytes(key).await? {
            Some(bytes) => Amount::from_be_bytes(&bytes).map_err(AppError::from),
            None => Ok(Amount::ZERO),
        }
    }

    async fn read_u64(&self, key: &str) -> AppResult<Option<u64>> {
        match self.read_bytes(key).await? {
            Some(bytes) => {
                let arr: [u8; 8] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| AppError::internal(format!("corrupt u64 at {key}")))?;
                Ok(Some(u64::from_be_bytes(arr)))
            }
            None => Ok(None),
        }
    }

    async fn read_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> AppResult<Option<T>> {
        match self.read_bytes(key).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| AppError::internal(format!("corrupt value at {key}: {e}"))),
            None => Ok(None),
        }
    }

    /// Every JSON record under a prefix, in key order, with the key's
    /// suffix after the prefix.
    async fn read_prefix_json<T: serde::de::DeserializeOwned + Send>(&self, prefix: &str) -> AppResult<Vec<(String, T)>> {
        let mut out = Vec::new();
        for (key, value) in self.read_prefix(prefix).await? {
            let v = serde_json::from_slice(&value).map_err(|e| AppError::internal(format!("corrupt value at {key}: {e}")))?;
            out.push((key[prefix.len()..].to_string(), v));
        }
        Ok(out)
    }

    /// Every key under a prefix, in key order, charging one read per entry.
    async fn read_prefix(&self, prefix: &str) -> AppResult<Vec<(String, Vec<u8>)>> {
        self.read_prefix_until(prefix, usize::MAX, &mut |_| false).await
    }

    /// The entries under a prefix, in key order, up to and including the
    /// first whose key `stop` accepts (or `limit` of them), charging one
    /// read per entry: reading stops there, so the cost is what was read,
    /// not what exists.
    async fn read_prefix_until(
        &self,
        prefix: &str,
        limit: usize,
        stop: &mut (dyn for<'k> FnMut(&'k str) -> bool + Send),
    ) -> AppResult<Vec<(String, Vec<u8>)>> {
        let mut stream = Box::pin(self.prefix_raw(prefix));
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(item) = stream.next().await else { break };
            let (k, v) = item.map_err(AppError::from)?;
            if let Some(m) = self.gas_meter() {
                m.charge_iter((k.len() + v.len()) as u64)?;
            }
            let done = stop(&k);
            out.push((k, v));
            if done {
                break;
            }
        }
        Ok(out)
    }
}

impl<T: StateRead + ?Sized> StoreRead for T {}

#[async_trait]
pub trait StoreWrite: StateWrite + StoreRead {
    fn put_gas_meter(&mut self, meter: GasMeter) {
        self.object_put(GAS_METER, meter);
    }

    /// Remove the transaction's meter so block-level work is not metered.
    fn clear_gas_meter(&mut self) {
        self.object_delete(GAS_METER);
    }

    fn put_block_context(&mut self, ctx: BlockContext) {
        self.object_put(BLOCK_CONTEXT, ctx);
    }

    fn write_bytes(&mut self, key: String, value: Vec<u8>) -> AppResult<()> {
        if let Some(m) = self.gas_meter() {
            m.charge_write((key.len() + value.len()) as u64)?;
        }
        self.put_raw(key, value);
        Ok(())
    }

    fn write_proto<M: Message>(&mut self, key: String, value: &M) -> AppResult<()> {
        self.write_bytes(key, value.encode_to_vec())
    }

    /// Zero amounts are deleted so that state holds no empty balances.
    fn write_amount(&mut self, key: String, amount: Amount) -> AppResult<()> {
        if amount == Amount::ZERO {
            self.delete_key(key)
        } else {
            self.write_bytes(key, amount.to_be_bytes().to_vec())
        }
    }

    fn write_u64(&mut self, key: String, value: u64) -> AppResult<()> {
        self.write_bytes(key, value.to_be_bytes().to_vec())
    }

    fn write_json<T: serde::Serialize + Sync>(&mut self, key: String, value: &T) -> AppResult<()> {
        let bytes = serde_json::to_vec(value).map_err(|e| AppError::internal(e.to_string()))?;
        self.write_bytes(key, bytes)
    }

    fn delete_key(&mut self, key: String) -> AppResult<()> {
        if let Some(m) = self.gas_meter() {
            m.charge_delete()?;
        }
        self.delete(key);
        Ok(())
    }
}

impl<T: StateWrite + ?Sized> StoreWrite for T {}

/// ABCI `ProofOps` for a key query: cnidarium returns one ICS23 existence or
/// non-existence proof per (sub)store, leaf first; each becomes one op whose
/// data is the protobuf `cosmos.ics23.v1.CommitmentProof`.
/// Keep a fork's writes and hand its events on to the state it forked
/// (a fork's events otherwise stay with it): how block hooks and module
/// callbacks finish work they run in a fork so that a failure (dropping the
/// fork) changes nothing.
pub fn keep_fork<S: StateWrite>(fork: cnidarium::StateDelta<&mut S>) {
    let (state, events) = fork.apply();
    for e in events {
        state.record(e);
    }
}

pub fn proof_ops(proofs: &[ics23::CommitmentProof], key: &[u8]) -> tendermint::merkle::proof::ProofOps {
    use tendermint::merkle::proof::{ProofOp, ProofOps};
    ProofOps {
        ops: proofs
            .iter()
            .map(|p| ProofOp { field_type: "ics23:jmt".to_string(), key: key.to_vec(), data: p.encode_to_vec() })
            .collect(),
    }
}
