//! Consumer state keys and typed access. The only place consumer keys are
//! spelled. All of it lives in the main store under `consumer/`; the
//! provider's light client itself is IBC state (`ibc/clients/...`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use ibc_proto::interchain_security::ccv::v1::ConsumerParams;

use crate::error::{AppError, AppResult};
use crate::store::{StoreRead, StoreWrite};

mod keys {
    pub const PARAMS: &str = "consumer/params";
    pub const PROVIDER_CLIENT: &str = "consumer/provider_client_id";
    pub const PROVIDER_CHANNEL: &str = "consumer/provider_channel_id";
    pub const CHANNEL_CLOSED: &str = "consumer/provider_channel_closed";
    pub const FEE_POOL: &str = "consumer/provider_fee_pool_addr";
    pub const VALIDATORS: &str = "consumer/validators/";
    pub const PENDING: &str = "consumer/pending_changes";
    pub const LAST_VSC_ID: &str = "consumer/last_valset_update_id";

    pub fn validator(pubkey: &[u8; 32]) -> String {
        format!("{VALIDATORS}{}", hex::encode(pubkey))
    }

    pub fn height_vsc_id(height: u64) -> String {
        format!("consumer/height_valset_update_id/{height:020}")
    }
}

/// One validator of the consumer chain: an ed25519 consensus key and its
/// power, as the provider last sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerValidator {
    pub pubkey: [u8; 32],
    pub power: i64,
}

/// Validator changes received this block, per consensus key (hex), the last
/// packet's value winning (ICS's `AccumulateChanges`). Power 0 removes.
pub type PendingChanges = BTreeMap<String, i64>;

/// The CCV channel as this chain sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CcvChannelState {
    /// No VSC packet has arrived yet (the handshake may be under way).
    None,
    Open,
    /// Timed out or closed: no validator set changes are accepted any more.
    Closed,
}

impl CcvChannelState {
    pub fn as_str(&self) -> &'static str {
        match self {
            CcvChannelState::None => "none",
            CcvChannelState::Open => "open",
            CcvChannelState::Closed => "closed",
        }
    }
}

fn corrupt(key: &str, e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("corrupt value at {key}: {e}"))
}

fn parse_key(hex_key: &str) -> AppResult<[u8; 32]> {
    let bytes = hex::decode(hex_key).map_err(|e| corrupt(hex_key, e))?;
    bytes.as_slice().try_into().map_err(|_| corrupt(hex_key, "not a 32-byte key"))
}

#[async_trait]
pub trait ConsumerRead: StoreRead {
    /// The provider's client id: present exactly on a consumer chain.
    async fn provider_client_id(&self) -> AppResult<Option<String>> {
        self.read_json(keys::PROVIDER_CLIENT).await
    }

    async fn is_consumer_chain(&self) -> AppResult<bool> {
        Ok(self.provider_client_id().await?.is_some())
    }

    async fn consumer_params(&self) -> AppResult<Option<ConsumerParams>> {
        self.read_proto(keys::PARAMS).await
    }

    /// The CCV channel, set by the first VSC packet (as ICS does).
    async fn provider_channel(&self) -> AppResult<Option<String>> {
        self.read_json(keys::PROVIDER_CHANNEL).await
    }

    async fn ccv_channel_state(&self) -> AppResult<CcvChannelState> {
        if self.read_bytes(keys::CHANNEL_CLOSED).await?.is_some() {
            return Ok(CcvChannelState::Closed);
        }
        Ok(match self.provider_channel().await? {
            Some(_) => CcvChannelState::Open,
            None => CcvChannelState::None,
        })
    }

    async fn provider_fee_pool_addr(&self) -> AppResult<Option<String>> {
        self.read_json(keys::FEE_POOL).await
    }

    /// The validator set after every change handed to CometBFT so far
    /// (what CometBFT's set will be two blocks after the last one), by key.
    async fn consumer_validators(&self) -> AppResult<Vec<ConsumerValidator>> {
        let mut out = Vec::new();
        for (k, v) in self.read_prefix(keys::VALIDATORS).await? {
            let pubkey = parse_key(&k[keys::VALIDATORS.len()..])?;
            let power: i64 = serde_json::from_slice(&v).map_err(|e| corrupt(&k, e))?;
            out.push(ConsumerValidator { pubkey, power });
        }
        Ok(out)
    }

    async fn consumer_validator_power(&self, pubkey: &[u8; 32]) -> AppResult<Option<i64>> {
        self.read_json(&keys::validator(pubkey)).await
    }

    async fn pending_changes(&self) -> AppResult<PendingChanges> {
        Ok(self.read_json(keys::PENDING).await?.unwrap_or_default())
    }

    /// The valset update id that infractions at `height` are attributed to
    /// (ICS's `HeightToValsetUpdateID`; 0 = the genesis set).
    async fn height_valset_update_id(&self, height: u64) -> AppResult<Option<u64>> {
        self.read_u64(&keys::height_vsc_id(height)).await
    }

    async fn last_valset_update_id(&self) -> AppResult<u64> {
        Ok(self.read_u64(keys::LAST_VSC_ID).await?.unwrap_or(0))
    }
}

impl<T: StoreRead + ?Sized> ConsumerRead for T {}

pub trait ConsumerWrite: StoreWrite {
    fn put_provider_client_id(&mut self, id: &str) -> AppResult<()> {
        self.write_json(keys::PROVIDER_CLIENT.into(), &id)
    }

    fn put_consumer_params(&mut self, p: &ConsumerParams) -> AppResult<()> {
        self.write_proto(keys::PARAMS.into(), p)
    }

    fn put_provider_channel(&mut self, channel: &str) -> AppResult<()> {
        self.write_json(keys::PROVIDER_CHANNEL.into(), &channel)
    }

    fn mark_ccv_channel_closed(&mut self) -> AppResult<()> {
        self.write_bytes(keys::CHANNEL_CLOSED.into(), vec![1])
    }

    fn put_provider_fee_pool_addr(&mut self, addr: &str) -> AppResult<()> {
        self.write_json(keys::FEE_POOL.into(), &addr)
    }

    /// Set a validator's power; 0 removes it.
    fn put_consumer_validator(&mut self, pubkey: &[u8; 32], power: i64) -> AppResult<()> {
        if power == 0 {
            self.delete_key(keys::validator(pubkey))
        } else {
            self.write_json(keys::validator(pubkey), &power)
        }
    }

    fn put_pending_changes(&mut self, changes: &PendingChanges) -> AppResult<()> {
        if changes.is_empty() {
            self.delete_key(keys::PENDING.into())
        } else {
            self.write_json(keys::PENDING.into(), changes)
        }
    }

    fn put_height_valset_update_id(&mut self, height: u64, id: u64) -> AppResult<()> {
        self.write_u64(keys::height_vsc_id(height), id)
    }

    fn put_last_valset_update_id(&mut self, id: u64) -> AppResult<()> {
        self.write_u64(keys::LAST_VSC_ID.into(), id)
    }
}

impl<T: StoreWrite + ?Sized> ConsumerWrite for T {}

/// Parse a pending-change key back into its bytes.
pub fn pending_key(hex_key: &str) -> AppResult<[u8; 32]> {
    parse_key(hex_key)
}
