//! Consumer state keys and typed access. The only place consumer keys are
//! spelled. All of it lives in the main store under `consumer/`; the
//! provider's light client itself is IBC state (`ibc/clients/...`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use ibc_proto::interchain_security::ccv::v1::ConsumerParams;
use serde::{Deserialize, Serialize};

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
    pub const HEIGHT_VSC_IDS: &str = "consumer/height_valset_update_id/";
    pub const CONSUMER_ID: &str = "consumer/consumer_id";
    pub const PENDING_PACKETS: &str = "consumer/pending_packets/";
    pub const NEXT_PENDING_PACKET: &str = "consumer/next_pending_packet";
    pub const SLASH_RECORD: &str = "consumer/slash_record";
    pub const LAST_TRANSMISSION: &str = "consumer/last_transmission_height";

    pub fn validator(pubkey: &[u8; 32]) -> String {
        format!("{VALIDATORS}{}", hex::encode(pubkey))
    }

    pub fn height_vsc_id(height: u64) -> String {
        format!("{HEIGHT_VSC_IDS}{height:020}")
    }

    pub fn pending_packet(index: u64) -> String {
        format!("{PENDING_PACKETS}{index:020}")
    }

    pub fn outstanding_downtime(cons_addr: &str) -> String {
        format!("consumer/outstanding_downtime/{cons_addr}")
    }
}

/// How many blocks back infractions can be attributed to a valset update
/// id: the mapping keeps every height in this window plus the newest one
/// before it (downtime is reported two blocks after its height).
pub const VSC_ID_WINDOW: u64 = 16;

/// ICS's `SlashRecord`: the slash packet at the head of the queue was sent
/// at `send_time`; while `waiting_on_reply` nothing else is sent, and after
/// a bounce it is sent again once the retry delay has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlashRecord {
    pub waiting_on_reply: bool,
    pub send_time: i64,
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

    /// The valset update id of the set that was active at `height`: the
    /// newest mapping at or below it (ICS maps every height; Aegis maps the
    /// heights where a VSC packet's set starts and reads the floor). Exact
    /// for the last [`VSC_ID_WINDOW`] heights; 0 (the genesis set) below
    /// everything kept.
    async fn valset_update_id_at(&self, height: u64) -> AppResult<u64> {
        let prefix = keys::HEIGHT_VSC_IDS;
        let above = |k: &str| k.get(prefix.len()..).and_then(|h| h.parse::<u64>().ok()).is_none_or(|h| h > height);
        let entries = self.read_prefix_until(prefix, usize::MAX, &mut |k| above(k)).await?;
        let mut id = 0;
        for (k, v) in entries {
            if above(&k) {
                break;
            }
            id = u64::from_be_bytes(v.as_slice().try_into().map_err(|_| corrupt(&k, "not an 8-byte integer"))?);
        }
        Ok(id)
    }

    /// The consumer's id on its provider (ICS v6.2's `params.consumer_id`),
    /// "" if the genesis had none.
    async fn ccv_consumer_id(&self) -> AppResult<String> {
        Ok(self.read_json(keys::CONSUMER_ID).await?.unwrap_or_default())
    }

    /// Packets waiting to be sent to the provider, oldest first: (index,
    /// packet data as ICS encodes `ConsumerPacketData`).
    async fn pending_packets(&self) -> AppResult<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        for (k, v) in self.read_prefix(keys::PENDING_PACKETS).await? {
            let index = k[keys::PENDING_PACKETS.len()..].parse().map_err(|e| corrupt(&k, e))?;
            out.push((index, v));
        }
        Ok(out)
    }

    /// The oldest pending packet, reading nothing past it.
    async fn head_pending_packet(&self) -> AppResult<Option<(u64, Vec<u8>)>> {
        let entries = self.read_prefix_until(keys::PENDING_PACKETS, 1, &mut |_| true).await?;
        match entries.into_iter().next() {
            None => Ok(None),
            Some((k, v)) => Ok(Some((k[keys::PENDING_PACKETS.len()..].parse().map_err(|e| corrupt(&k, e))?, v))),
        }
    }

    async fn next_pending_packet_index(&self) -> AppResult<u64> {
        Ok(self.read_u64(keys::NEXT_PENDING_PACKET).await?.unwrap_or(0))
    }

    async fn slash_record(&self) -> AppResult<Option<SlashRecord>> {
        self.read_json(keys::SLASH_RECORD).await
    }

    /// Whether a downtime slash packet for this consensus address (hex,
    /// upper case) is queued or awaiting the provider's answer.
    async fn outstanding_downtime(&self, cons_addr: &str) -> AppResult<bool> {
        Ok(self.read_bytes(&keys::outstanding_downtime(cons_addr)).await?.is_some())
    }

    async fn last_transmission_height(&self) -> AppResult<u64> {
        Ok(self.read_u64(keys::LAST_TRANSMISSION).await?.unwrap_or(0))
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

    fn put_ccv_consumer_id(&mut self, id: &str) -> AppResult<()> {
        self.write_json(keys::CONSUMER_ID.into(), &id)
    }

    fn put_pending_packet(&mut self, index: u64, data: Vec<u8>) -> AppResult<()> {
        self.write_bytes(keys::pending_packet(index), data)
    }

    fn delete_pending_packet(&mut self, index: u64) -> AppResult<()> {
        self.delete_key(keys::pending_packet(index))
    }

    fn put_next_pending_packet_index(&mut self, index: u64) -> AppResult<()> {
        self.write_u64(keys::NEXT_PENDING_PACKET.into(), index)
    }

    fn put_slash_record(&mut self, record: Option<&SlashRecord>) -> AppResult<()> {
        match record {
            Some(r) => self.write_json(keys::SLASH_RECORD.into(), r),
            None => self.delete_key(keys::SLASH_RECORD.into()),
        }
    }

    fn put_outstanding_downtime(&mut self, cons_addr: &str, outstanding: bool) -> AppResult<()> {
        if outstanding {
            self.write_bytes(keys::outstanding_downtime(cons_addr), vec![1])
        } else {
            self.delete_key(keys::outstanding_downtime(cons_addr))
        }
    }

    fn put_last_transmission_height(&mut self, height: u64) -> AppResult<()> {
        self.write_u64(keys::LAST_TRANSMISSION.into(), height)
    }
}

/// Forget height -> valset update id mappings older than the window below
/// `height`, keeping the newest of them (it still answers for the heights
/// up to the next mapping). Reads what it deletes plus two entries.
pub async fn prune_valset_update_ids<S: StoreWrite + Send + Sync + ?Sized>(state: &mut S, height: u64) -> AppResult<()> {
    let cutoff = height.saturating_sub(VSC_ID_WINDOW);
    let prefix = keys::HEIGHT_VSC_IDS;
    let at = |k: &str| k.get(prefix.len()..).and_then(|h| h.parse::<u64>().ok());
    let entries = state.read_prefix_until(prefix, usize::MAX, &mut |k| at(k).is_none_or(|h| h >= cutoff)).await?;
    let below: Vec<String> = entries.into_iter().map(|(k, _)| k).filter(|k| at(k).is_some_and(|h| h < cutoff)).collect();
    if let Some((_, older)) = below.split_last() {
        for k in older {
            state.delete_key(k.clone())?;
        }
    }
    Ok(())
}

impl<T: StoreWrite + ?Sized> ConsumerWrite for T {}

/// Parse a pending-change key back into its bytes.
pub fn pending_key(hex_key: &str) -> AppResult<[u8; 32]> {
    parse_key(hex_key)
}
