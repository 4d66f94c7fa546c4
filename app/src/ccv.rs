//! ICS (Interchain Security) cross-chain validation: the CCV wire protocol
//! that the `provider` and `consumer` modules speak, byte for byte as ICS
//! (cosmos/interchain-security v7, `x/ccv/types`) writes and reads it.
//!
//! ICS sends packet data as JSON written by the Cosmos SDK's
//! `ProtoCodec.MarshalJSON`: gogoproto jsonpb with `OrigName` (the proto
//! field names, which are snake_case except the oneof members
//! `slashPacketData`/`vscMaturedPacketData`, camelCase in the .proto itself),
//! `EmitDefaults`, 64-bit integers as strings, enums by name, bytes as padded
//! standard base64 and strings escaped as Go's `encoding/json` escapes them
//! (`<`, `>`, `&`, U+2028, U+2029 as `\u....`). It reads them back with
//! jsonpb's unmarshaler, which refuses unknown fields, takes `null` as
//! "unset", and accepts integers quoted or not, enums by name or number and
//! field names in either spelling; the decoders here do the same and then
//! apply ICS's `Validate`.
//!
//! Acknowledgements are ibc-go's `channeltypes.Acknowledgement` JSON. The
//! channel handshake's version is a protobuf `HandshakeMetadata` carried in a
//! string. The consumer genesis (`ConsumerGenesis`) is ICS's
//! `ConsumerGenesisState` in the JSON form `query provider consumer-genesis`
//! prints and an ICS consumer's `app_state.ccvconsumer` holds.

use std::fmt::Write as _;
use std::marker::PhantomData;
use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ibc_proto::ibc::core::client::v1::Height as RawHeight;
use ibc_proto::ibc::core::commitment::v1::MerkleRoot as RawMerkleRoot;
use ibc_proto::ibc::lightclients::tendermint::v1::{
    ClientState as RawTmClientState, ConsensusState as RawTmConsensusState, Fraction as RawFraction,
};
use ibc_proto::ics23::{HashOp, InnerSpec, LeafOp, LengthOp, ProofSpec};
use ibc_proto::interchain_security::ccv::v1 as raw;
use prost::Message as _;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use tendermint_proto::google::protobuf::{Duration as RawDuration, Timestamp as RawTimestamp};

pub const PROVIDER_PORT: &str = "provider";
pub const CONSUMER_PORT: &str = "consumer";
pub const VERSION: &str = "1";

// ---------------------------------------------------------------------------
// Packets
// ---------------------------------------------------------------------------

/// An ed25519 validator power change (power 0 removes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorUpdate {
    pub pubkey: [u8; 32],
    pub power: i64,
}

/// Provider -> consumer: ICS `ValidatorSetChangePacketData`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VscPacket {
    pub updates: Vec<ValidatorUpdate>,
    pub valset_update_id: u64,
    /// Bech32 consensus addresses of consumer validators the provider slashed.
    pub slash_acks: Vec<String>,
}

impl VscPacket {
    /// ICS `ValidatorSetChangePacketData.GetBytes`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::from(r#"{"validator_updates":["#);
        for (i, u) in self.updates.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_validator_update(&mut out, u);
        }
        write!(out, r#"],"valset_update_id":"{}","slash_acks":["#, self.valset_update_id).unwrap();
        for (i, ack) in self.slash_acks.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            go_quote(&mut out, ack);
        }
        out.push_str("]}");
        out.into_bytes()
    }

    /// What an ICS consumer accepts: jsonpb decoding of
    /// `ValidatorSetChangePacketData`, then its `Validate` (updates present,
    /// possibly empty; `valset_update_id > 0`), plus what CometBFT would
    /// refuse later (non-ed25519 keys, negative power).
    pub fn decode(data: &[u8]) -> Result<VscPacket, String> {
        let v = parse_json(data, "VSC packet")?;
        let mut o = Obj::new(&v, "VSC packet")?;
        let updates = match o.get(&["validator_updates", "validatorUpdates"]) {
            None => return Err("VSC packet: validator updates cannot be nil".into()),
            Some(u) => array(u, "VSC packet validator_updates")?
                .iter()
                .enumerate()
                .map(|(i, u)| validator_update_from_json(u, &format!("VSC packet validator_updates[{i}]")))
                .collect::<Result<Vec<_>, _>>()?,
        };
        let valset_update_id = match o.get(&["valset_update_id", "valsetUpdateId"]) {
            None => 0,
            Some(x) => json_int::<u64>(x, "VSC packet valset_update_id")?,
        };
        let slash_acks = match o.get(&["slash_acks", "slashAcks"]) {
            None => Vec::new(),
            Some(a) => array(a, "VSC packet slash_acks")?
                .iter()
                .map(|s| {
                    s.as_str().map(str::to_owned).ok_or_else(|| format!("VSC packet slash_acks: {s} is not a string"))
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        o.finish()?;
        if valset_update_id == 0 {
            return Err("VSC packet: valset update id cannot be equal to zero".into());
        }
        Ok(VscPacket { updates, valset_update_id, slash_acks })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Infraction {
    Downtime,
    DoubleSign,
}

/// ICS `SlashPacketData`: `validator_address` is the validator's consensus
/// address (the first 20 bytes of sha256 of its ed25519 key) and `power` its
/// power on the consumer when it misbehaved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlashPacket {
    pub validator_address: [u8; 20],
    pub power: i64,
    pub valset_update_id: u64,
    pub infraction: Infraction,
}

/// Consumer -> provider: ICS `ConsumerPacketData`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerPacket {
    Slash(SlashPacket),
    VscMatured { valset_update_id: u64 },
}

// Enum names as jsonpb writes them. The current SlashPacketData's infraction
// is cosmos.staking.v1beta1.Infraction; the V1 form's is ccv's own
// InfractionType, whose names differ but whose numbers are the same.
const PACKET_TYPES: &[(&str, i32)] =
    &[("CONSUMER_PACKET_TYPE_UNSPECIFIED", 0), ("CONSUMER_PACKET_TYPE_SLASH", 1), ("CONSUMER_PACKET_TYPE_VSCM", 2)];
const STAKING_INFRACTIONS: &[(&str, i32)] =
    &[("INFRACTION_UNSPECIFIED", 0), ("INFRACTION_DOUBLE_SIGN", 1), ("INFRACTION_DOWNTIME", 2)];
const V1_INFRACTIONS: &[(&str, i32)] =
    &[("INFRACTION_TYPE_UNSPECIFIED", 0), ("INFRACTION_TYPE_DOUBLE_SIGN", 1), ("INFRACTION_TYPE_DOWNTIME", 2)];

impl ConsumerPacket {
    /// ICS `ConsumerPacketData.GetBytes`, which writes slash packets in the
    /// V1 form (ICS v1/v2's `InfractionType` names) so old providers read them.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        match self {
            ConsumerPacket::Slash(s) => {
                let infraction = match s.infraction {
                    Infraction::DoubleSign => "INFRACTION_TYPE_DOUBLE_SIGN",
                    Infraction::Downtime => "INFRACTION_TYPE_DOWNTIME",
                };
                write!(
                    out,
                    r#"{{"type":"CONSUMER_PACKET_TYPE_SLASH","slashPacketData":{{"validator":{{"address":"{}","power":"{}"}},"valset_update_id":"{}","infraction":"{}"}}}}"#,
                    B64.encode(s.validator_address),
                    s.power,
                    s.valset_update_id,
                    infraction
                )
                .unwrap();
            }
            ConsumerPacket::VscMatured { valset_update_id } => {
                write!(
                    out,
                    r#"{{"type":"CONSUMER_PACKET_TYPE_VSCM","vscMaturedPacketData":{{"valset_update_id":"{valset_update_id}"}}}}"#
                )
                .unwrap();
            }
        }
        out.into_bytes()
    }

    /// ICS provider's `UnmarshalConsumerPacketData` (the current form first,
    /// then the V1 form, which may not carry a VSC-matured packet) followed
    /// by `ConsumerPacketData.Validate`. Stricter than ICS in one place: the
    /// address must be 20 bytes (ICS takes 1..=255), the only length an
    /// ed25519 consensus address has.
    pub fn decode(data: &[u8]) -> Result<ConsumerPacket, String> {
        let v = parse_json(data, "consumer packet")?;
        let (ty, slash, matured) = match consumer_packet_from_json(&v, STAKING_INFRACTIONS) {
            Ok(p) => p,
            Err(current) => match consumer_packet_from_json(&v, V1_INFRACTIONS) {
                Ok((2, _, _)) => {
                    return Err("consumer packet: VSC matured packets should be correctly unmarshaled".into())
                }
                Ok(p) => p,
                // The current form's error says most (e.g. the unknown field).
                Err(_) => return Err(current),
            },
        };
        match ty {
            1 => {
                let (address, power, valset_update_id, infraction) =
                    slash.ok_or("consumer packet: SlashPacketData data cannot be empty")?;
                let validator_address: [u8; 20] = address.as_slice().try_into().map_err(|_| {
                    format!("slash packet: invalid validator address: {} bytes, want 20", address.len())
                })?;
                if power == 0 {
                    return Err("slash packet: validator power cannot be zero".into());
                }
                let infraction = match infraction {
                    1 => Infraction::DoubleSign,
                    2 => Infraction::Downtime,
                    n => {
                        return Err(format!(
                            "slash packet: invalid infraction type: {}",
                            enum_name(STAKING_INFRACTIONS, n)
                        ))
                    }
                };
                Ok(ConsumerPacket::Slash(SlashPacket { validator_address, power, valset_update_id, infraction }))
            }
            2 => {
                let valset_update_id = matured.ok_or("consumer packet: VscMaturePacketData data cannot be empty")?;
                if valset_update_id == 0 {
                    return Err("VSC matured packet: vscId cannot be equal to zero".into());
                }
                Ok(ConsumerPacket::VscMatured { valset_update_id })
            }
            n => Err(format!("invalid consumer packet type: {:?}", enum_name(PACKET_TYPES, n))),
        }
    }
}

type RawSlash = (Vec<u8>, i64, u64, i32);

/// One jsonpb decoding attempt of `ConsumerPacketData` (`infractions` =
/// the staking names) or `ConsumerPacketDataV1` (the ccv names).
fn consumer_packet_from_json(
    v: &Value,
    infractions: &[(&str, i32)],
) -> Result<(i32, Option<RawSlash>, Option<u64>), String> {
    let mut o = Obj::new(v, "consumer packet")?;
    let ty = match o.get(&["type"]) {
        None => 0,
        Some(t) => json_enum(t, PACKET_TYPES, "consumer packet type")?,
    };
    let slash = o.get(&["slashPacketData"]);
    let matured = o.get(&["vscMaturedPacketData"]);
    if slash.is_some() && matured.is_some() {
        return Err("consumer packet: both slashPacketData and vscMaturedPacketData are set (a oneof)".into());
    }
    let slash = match slash {
        None => None,
        Some(s) => {
            let mut so = Obj::new(s, "slash packet")?;
            let (address, power) = match so.get(&["validator"]) {
                None => (Vec::new(), 0),
                Some(val) => {
                    let mut vo = Obj::new(val, "slash packet validator")?;
                    let address = match vo.get(&["address"]) {
                        None => Vec::new(),
                        Some(a) => json_b64(a, "slash packet validator address")?,
                    };
                    let power = match vo.get(&["power"]) {
                        None => 0,
                        Some(p) => json_int::<i64>(p, "slash packet validator power")?,
                    };
                    vo.finish()?;
                    (address, power)
                }
            };
            let valset_update_id = match so.get(&["valset_update_id", "valsetUpdateId"]) {
                None => 0,
                Some(x) => json_int::<u64>(x, "slash packet valset_update_id")?,
            };
            let infraction = match so.get(&["infraction"]) {
                None => 0,
                Some(i) => json_enum(i, infractions, "slash packet infraction")?,
            };
            so.finish()?;
            Some((address, power, valset_update_id, infraction))
        }
    };
    let matured = match matured {
        None => None,
        Some(m) => {
            let mut mo = Obj::new(m, "VSC matured packet")?;
            let id = match mo.get(&["valset_update_id", "valsetUpdateId"]) {
                None => 0,
                Some(x) => json_int::<u64>(x, "VSC matured packet valset_update_id")?,
            };
            mo.finish()?;
            Some(id)
        }
    };
    o.finish()?;
    Ok((ty, slash, matured))
}

fn write_validator_update(out: &mut String, u: &ValidatorUpdate) {
    write!(out, r#"{{"pub_key":{{"ed25519":"{}"}},"power":"{}"}}"#, B64.encode(u.pubkey), u.power).unwrap();
}

/// A `tendermint.abci.ValidatorUpdate` in jsonpb form, ed25519 only.
fn validator_update_from_json(v: &Value, what: &str) -> Result<ValidatorUpdate, String> {
    let mut o = Obj::new(v, what)?;
    let key = o.get(&["pub_key", "pubKey"]).ok_or_else(|| format!("{what}: pub_key missing"))?;
    let mut ko = Obj::new(key, what)?;
    let ed = ko.get(&["ed25519"]);
    if ko.get(&["secp256k1"]).is_some() {
        return Err(format!("{what}: pub_key is secp256k1; only ed25519 keys are supported"));
    }
    ko.finish()?;
    let ed = ed.ok_or_else(|| format!("{what}: pub_key has no ed25519 key"))?;
    let bytes = json_b64(ed, &format!("{what} ed25519 pub_key"))?;
    let pubkey: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| format!("{what}: ed25519 pub_key is {} bytes, want 32", bytes.len()))?;
    let power = match o.get(&["power"]) {
        None => 0,
        Some(p) => json_int::<i64>(p, &format!("{what} power"))?,
    };
    o.finish()?;
    if power < 0 {
        return Err(format!("{what}: negative power {power}"));
    }
    Ok(ValidatorUpdate { pubkey, power })
}

// ---------------------------------------------------------------------------
// Acknowledgements
// ---------------------------------------------------------------------------

/// VSC received / generic success (ICS `V1Result`).
pub const ACK_RESULT_V1: u8 = 1;
/// A throttling provider handled the slash packet.
pub const ACK_SLASH_HANDLED: u8 = 2;
/// A throttling provider bounced the slash packet; the consumer retries it.
pub const ACK_SLASH_BOUNCED: u8 = 3;

/// ibc-go's `NewResultAcknowledgement([]byte{result}).Acknowledgement()`.
pub fn result_ack(result: u8) -> Vec<u8> {
    format!(r#"{{"result":"{}"}}"#, B64.encode([result])).into_bytes()
}

/// An ibc-go error acknowledgement carrying `message` verbatim, escaped as
/// Go's `encoding/json` does. Note ibc-go's own `NewErrorAcknowledgement`
/// does not put the error's text in the ack (it would break determinism
/// across versions) but `"ABCI code: <code>: error handling packet: see
/// events for details"`; callers wanting that exact text pass it here.
pub fn error_ack(message: &str) -> Vec<u8> {
    let mut out = String::from(r#"{"error":"#);
    go_quote(&mut out, message);
    out.push('}');
    out.into_bytes()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ack {
    Result(Vec<u8>),
    Error(String),
}

/// Decodes an ibc-go `Acknowledgement` and applies its `ValidateBasic`
/// (a result must be non-empty, an error non-blank).
pub fn decode_ack(bytes: &[u8]) -> Result<Ack, String> {
    let v = parse_json(bytes, "acknowledgement")?;
    let mut o = Obj::new(&v, "acknowledgement")?;
    let result = o.get(&["result"]);
    let error = o.get(&["error"]);
    o.finish()?;
    match (result, error) {
        (Some(_), Some(_)) => Err("acknowledgement: both result and error are set (a oneof)".into()),
        (Some(r), None) => {
            let r = json_b64(r, "acknowledgement result")?;
            if r.is_empty() {
                return Err("acknowledgement result cannot be empty".into());
            }
            Ok(Ack::Result(r))
        }
        (None, Some(e)) => {
            let e = e.as_str().ok_or_else(|| format!("acknowledgement error: {e} is not a string"))?;
            if e.trim().is_empty() {
                return Err("acknowledgement error cannot be empty".into());
            }
            Ok(Ack::Error(e.to_owned()))
        }
        (None, None) => Err("acknowledgement: neither result nor error is set".into()),
    }
}

// ---------------------------------------------------------------------------
// Channel handshake
// ---------------------------------------------------------------------------

/// The version the provider answers ChanOpenTry with: the protobuf encoding
/// of `HandshakeMetadata{provider_fee_pool_addr, version: "1"}`, as a
/// string (ICS returns `string(mdBz)`).
///
/// Both fields are short ASCII, so every byte (tags 0x0a/0x12, one-byte
/// lengths, the text) is below 0x80 and the bytes are valid UTF-8. An
/// address of 128 bytes or more would need a two-byte length varint whose
/// first byte (>= 0x80) followed by a byte < 0x80 is never valid UTF-8, and
/// ibc-rs's channel `Version` is a Rust `String`, so that is an error here
/// (ICS fee pool addresses are 45-65 characters).
pub fn handshake_metadata(provider_fee_pool_addr: &str) -> Result<String, String> {
    let md =
        raw::HandshakeMetadata { provider_fee_pool_addr: provider_fee_pool_addr.to_owned(), version: VERSION.into() };
    String::from_utf8(md.encode_to_vec()).map_err(|_| {
        format!(
            "handshake metadata: a provider fee pool address of {} bytes does not fit a UTF-8 channel version (at most 127)",
            provider_fee_pool_addr.len()
        )
    })
}

/// The consumer's OnChanOpenAck: decode the provider's `HandshakeMetadata`,
/// insist on version "1", return the provider fee pool address.
pub fn parse_handshake_metadata(version: &str) -> Result<String, String> {
    let md = raw::HandshakeMetadata::decode(version.as_bytes())
        .map_err(|e| format!("error unmarshalling ibc-ack metadata: {e}; metadata: {version:?}"))?;
    if md.version != VERSION {
        return Err(format!("invalid counterparty version: {:?}, expected {VERSION:?}", md.version));
    }
    Ok(md.provider_fee_pool_addr)
}

// ---------------------------------------------------------------------------
// Consumer genesis
// ---------------------------------------------------------------------------

/// ICS `ConsumerGenesisState`: what a consumer chain starts from.
///
/// `pre_ccv` (JSON `preCCV`), `connection_id` and `params.consumer_id` exist
/// from ICS v6.2 on. ICS decodes genesis strictly, so a consumer older than
/// v6.2 refuses them and a newer one needs `consumer_id`: `None` leaves a
/// field out of the JSON. They have no place in ibc-proto's (v6.1-shaped)
/// prost types, so `to_proto` drops them and `from_proto` gives `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerGenesis {
    pub params: ConsumerParams,
    pub provider: ProviderInfo,
    /// True for a new chain (ICS always sets it), false for a restart.
    #[serde(alias = "newChain")]
    pub new_chain: bool,
    #[serde(rename = "preCCV", default, skip_serializing_if = "Option::is_none")]
    pub pre_ccv: Option<bool>,
    #[serde(alias = "connectionId", default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
}

/// What the consumer needs from the provider: a light client of it and the
/// validator set to start with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderInfo {
    /// The provider's 07-tendermint client state (`null` on a restart).
    #[serde(alias = "clientState", with = "tm_client_state_json")]
    pub client_state: Option<RawTmClientState>,
    /// The provider's consensus state at the client's latest height.
    #[serde(alias = "consensusState", with = "tm_consensus_state_json")]
    pub consensus_state: Option<RawTmConsensusState>,
    #[serde(alias = "initialValSet")]
    pub initial_val_set: Vec<ValidatorUpdate>,
}

// The prost types derive only PartialEq; their contents have no floats.
impl Eq for ProviderInfo {}

/// ICS `ConsumerParams`. Durations are whole `std::time::Duration`s (ICS's
/// are Go `time.Duration`s, which it validates positive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerParams {
    /// Whether the consumer module runs (ICS: an integration-test switch;
    /// a real consumer genesis has it true).
    pub enabled: bool,
    /// Blocks between reward transfers to the provider.
    #[serde(alias = "blocksPerDistributionTransmission", with = "json_str_int")]
    pub blocks_per_distribution_transmission: i64,
    /// The transfer channel rewards go over; "" = the consumer opens one.
    #[serde(alias = "distributionTransmissionChannel")]
    pub distribution_transmission_channel: String,
    /// The provider address rewards go to; set by the handshake.
    #[serde(alias = "providerFeePoolAddrStr")]
    pub provider_fee_pool_addr_str: String,
    /// Timeout of CCV packets.
    #[serde(alias = "ccvTimeoutPeriod", with = "json_std_duration")]
    pub ccv_timeout_period: Duration,
    /// Timeout of reward transfer packets.
    #[serde(alias = "transferTimeoutPeriod", with = "json_std_duration")]
    pub transfer_timeout_period: Duration,
    /// Share of rewards the consumer keeps, a decimal in [0, 1] ("0.75").
    #[serde(alias = "consumerRedistributionFraction", deserialize_with = "de_fraction")]
    pub consumer_redistribution_fraction: String,
    /// Historical info entries the consumer keeps (staking's parameter).
    #[serde(alias = "historicalEntries", with = "json_str_int")]
    pub historical_entries: i64,
    /// The consumer's unbonding period, shorter than the provider's.
    #[serde(alias = "unbondingPeriod", with = "json_std_duration")]
    pub unbonding_period: Duration,
    /// Deprecated (partial set security replaced it); ICS writes "0".
    #[serde(alias = "softOptOutThreshold")]
    pub soft_opt_out_threshold: String,
    /// Consumer denoms that may be sent to the provider as rewards.
    #[serde(alias = "rewardDenoms", deserialize_with = "de_vec_or_null")]
    pub reward_denoms: Vec<String>,
    /// Provider denoms that may be used as rewards.
    #[serde(alias = "providerRewardDenoms", deserialize_with = "de_vec_or_null")]
    pub provider_reward_denoms: Vec<String>,
    /// After this long a consumer retries a bounced (throttled) slash packet.
    #[serde(alias = "retryDelayPeriod", with = "json_std_duration")]
    pub retry_delay_period: Duration,
    /// The consumer's id on the provider, a decimal u64 (ICS >= v6.2).
    #[serde(alias = "consumerId", default, skip_serializing_if = "Option::is_none")]
    pub consumer_id: Option<String>,
}

impl Default for ConsumerParams {
    /// ICS's `DefaultParams()`, except `consumer_id`: ICS v7 writes "0",
    /// which consumers before v6.2 refuse as an unknown field; `None` here.
    fn default() -> Self {
        const HOUR: u64 = 3600;
        const DAY: u64 = 24 * HOUR;
        ConsumerParams {
            enabled: false,
            blocks_per_distribution_transmission: 1000,
            distribution_transmission_channel: String::new(),
            provider_fee_pool_addr_str: String::new(),
            ccv_timeout_period: Duration::from_secs(28 * DAY),
            transfer_timeout_period: Duration::from_secs(HOUR),
            consumer_redistribution_fraction: "0.75".into(),
            historical_entries: 10_000,
            // The SDK's default unbonding time (21 days) less one day.
            unbonding_period: Duration::from_secs(20 * DAY),
            soft_opt_out_threshold: "0".into(),
            reward_denoms: Vec::new(),
            provider_reward_denoms: Vec::new(),
            retry_delay_period: Duration::from_secs(HOUR),
            consumer_id: None,
        }
    }
}

impl ConsumerGenesis {
    pub fn to_proto(&self) -> raw::ConsumerGenesisState {
        let p = &self.params;
        #[allow(deprecated)]
        let params = raw::ConsumerParams {
            enabled: p.enabled,
            blocks_per_distribution_transmission: p.blocks_per_distribution_transmission,
            distribution_transmission_channel: p.distribution_transmission_channel.clone(),
            provider_fee_pool_addr_str: p.provider_fee_pool_addr_str.clone(),
            ccv_timeout_period: Some(std_to_raw_duration(p.ccv_timeout_period)),
            transfer_timeout_period: Some(std_to_raw_duration(p.transfer_timeout_period)),
            consumer_redistribution_fraction: p.consumer_redistribution_fraction.clone(),
            historical_entries: p.historical_entries,
            unbonding_period: Some(std_to_raw_duration(p.unbonding_period)),
            soft_opt_out_threshold: p.soft_opt_out_threshold.clone(),
            reward_denoms: p.reward_denoms.clone(),
            provider_reward_denoms: p.provider_reward_denoms.clone(),
            retry_delay_period: Some(std_to_raw_duration(p.retry_delay_period)),
        };
        let provider = raw::ProviderInfo {
            client_state: self.provider.client_state.clone(),
            consensus_state: self.provider.consensus_state.clone(),
            initial_val_set: self
                .provider
                .initial_val_set
                .iter()
                .map(|u| tendermint_proto::abci::ValidatorUpdate {
                    pub_key: Some(tendermint_proto::crypto::PublicKey {
                        sum: Some(tendermint_proto::crypto::public_key::Sum::Ed25519(u.pubkey.to_vec())),
                    }),
                    power: u.power,
                })
                .collect(),
        };
        raw::ConsumerGenesisState { params: Some(params), provider: Some(provider), new_chain: self.new_chain }
    }

    /// Refuses what the JSON decoding refuses: missing params or provider,
    /// negative durations, non-ed25519 keys, negative powers.
    pub fn from_proto(proto: raw::ConsumerGenesisState) -> Result<ConsumerGenesis, String> {
        let p = proto.params.ok_or("consumer genesis: params missing")?;
        let provider = proto.provider.ok_or("consumer genesis: provider missing")?;
        let dur = |d: Option<RawDuration>, what: &str| -> Result<Duration, String> {
            raw_to_std_duration(d.unwrap_or_default()).map_err(|e| format!("consumer params {what}: {e}"))
        };
        check_fraction(&p.consumer_redistribution_fraction)
            .map_err(|e| format!("consumer params consumer_redistribution_fraction: {e}"))?;
        #[allow(deprecated)]
        let params = ConsumerParams {
            enabled: p.enabled,
            blocks_per_distribution_transmission: p.blocks_per_distribution_transmission,
            distribution_transmission_channel: p.distribution_transmission_channel,
            provider_fee_pool_addr_str: p.provider_fee_pool_addr_str,
            ccv_timeout_period: dur(p.ccv_timeout_period, "ccv_timeout_period")?,
            transfer_timeout_period: dur(p.transfer_timeout_period, "transfer_timeout_period")?,
            consumer_redistribution_fraction: p.consumer_redistribution_fraction,
            historical_entries: p.historical_entries,
            unbonding_period: dur(p.unbonding_period, "unbonding_period")?,
            soft_opt_out_threshold: p.soft_opt_out_threshold,
            reward_denoms: p.reward_denoms,
            provider_reward_denoms: p.provider_reward_denoms,
            retry_delay_period: dur(p.retry_delay_period, "retry_delay_period")?,
            consumer_id: None,
        };
        let initial_val_set = provider
            .initial_val_set
            .into_iter()
            .enumerate()
            .map(|(i, u)| {
                let what = format!("consumer genesis initial_val_set[{i}]");
                let pubkey = match u.pub_key.and_then(|k| k.sum) {
                    Some(tendermint_proto::crypto::public_key::Sum::Ed25519(k)) => {
                        <[u8; 32]>::try_from(k.as_slice())
                            .map_err(|_| format!("{what}: ed25519 pub_key is {} bytes, want 32", k.len()))?
                    }
                    Some(_) => return Err(format!("{what}: pub_key is secp256k1; only ed25519 keys are supported")),
                    None => return Err(format!("{what}: pub_key missing")),
                };
                if u.power < 0 {
                    return Err(format!("{what}: negative power {}", u.power));
                }
                Ok(ValidatorUpdate { pubkey, power: u.power })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ConsumerGenesis {
            params,
            provider: ProviderInfo {
                client_state: provider.client_state,
                consensus_state: provider.consensus_state,
                initial_val_set,
            },
            new_chain: proto.new_chain,
            pre_ccv: None,
            connection_id: None,
        })
    }
}

impl Serialize for ValidatorUpdate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Key {
            ed25519: String,
        }
        #[derive(Serialize)]
        struct Update {
            pub_key: Key,
            power: String,
        }
        Update { pub_key: Key { ed25519: B64.encode(self.pubkey) }, power: self.power.to_string() }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ValidatorUpdate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        validator_update_from_json(&v, "validator update").map_err(de::Error::custom)
    }
}

fn std_to_raw_duration(d: Duration) -> RawDuration {
    // Seconds beyond i64 cannot come from JSON or proto; saturate anyway.
    RawDuration { seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX), nanos: d.subsec_nanos() as i32 }
}

fn raw_to_std_duration(d: RawDuration) -> Result<Duration, String> {
    if d.seconds < 0 || d.nanos < 0 || d.nanos >= 1_000_000_000 {
        return Err(format!("duration {}s {}ns is negative or malformed", d.seconds, d.nanos));
    }
    Ok(Duration::new(d.seconds as u64, d.nanos as u32))
}

/// Go's `LegacyDec` string form, checked as ICS's `ValidateStringFraction`
/// would: digits, optionally a point and 1..=18 digits, between 0 and 1.
fn check_fraction(s: &str) -> Result<(), String> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (s.contains('.') && (!digits(frac) || frac.len() > 18)) {
        return Err(format!("{s:?} is not a decimal such as \"0.75\""));
    }
    let int_val = int.trim_start_matches('0');
    let over_one = match int_val {
        "" => false,
        "1" => frac.bytes().any(|b| b != b'0'),
        _ => true,
    };
    if over_one {
        return Err(format!("{s:?} is greater than 1"));
    }
    Ok(())
}

fn de_fraction<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    check_fraction(&s).map_err(de::Error::custom)?;
    Ok(s)
}

fn de_vec_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// jsonpb's 64-bit integers: written as strings, read as strings or numbers.
mod json_str_int {
    use super::*;

    pub fn serialize<T: std::fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr + TryFrom<i64> + TryFrom<u64>,
        D: Deserializer<'de>,
    {
        d.deserialize_any(IntVisitor::<T>(PhantomData))
    }
}

/// proto3 JSON's 32-bit integers: written as numbers, read either way.
mod json_num_int {
    use super::*;

    pub fn serialize<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr + TryFrom<i64> + TryFrom<u64>,
        D: Deserializer<'de>,
    {
        d.deserialize_any(IntVisitor::<T>(PhantomData))
    }
}

struct IntVisitor<T>(PhantomData<T>);

impl<T: FromStr + TryFrom<i64> + TryFrom<u64>> Visitor<'_> for IntVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an integer ({}), as a string or a number", std::any::type_name::<T>())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(|_| E::custom(format!("{v:?} is not an integer of type {}", std::any::type_name::<T>())))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range for {}", std::any::type_name::<T>())))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range for {}", std::any::type_name::<T>())))
    }
}

/// Params durations: "1728000s" (proto3 JSON, as Go's jsonpb writes it).
mod json_std_duration {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(std_to_raw_duration(*v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s).and_then(raw_to_std_duration).map_err(de::Error::custom)
    }
}

/// jsonpb's Duration: seconds with 0, 3, 6 or 9 fractional digits, then "s".
fn format_duration(d: RawDuration) -> String {
    let sign = if d.seconds < 0 || d.nanos < 0 { "-" } else { "" };
    let x = format!("{sign}{}.{:09}", d.seconds.unsigned_abs(), d.nanos.unsigned_abs());
    format!("{}s", trim_fraction(&x))
}

fn trim_fraction(x: &str) -> &str {
    let x = x.strip_suffix("000").unwrap_or(x);
    let x = x.strip_suffix("000").unwrap_or(x);
    x.strip_suffix(".000").unwrap_or(x)
}

fn parse_duration(s: &str) -> Result<RawDuration, String> {
    let bad = || format!("{s:?} is not a duration such as \"1728000s\"");
    let body = s.strip_suffix('s').ok_or_else(bad)?;
    let (neg, body) = match body.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, body),
    };
    let (secs, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(secs) || (body.contains('.') && (!digits(frac) || frac.len() > 9)) {
        return Err(bad());
    }
    let seconds: i64 = secs.parse().map_err(|_| bad())?;
    let nanos: i32 = if frac.is_empty() { 0 } else { format!("{frac:0<9}").parse().map_err(|_| bad())? };
    // Go's jsonpb bound: 10,000 years.
    if seconds > 315_576_000_000 {
        return Err(bad());
    }
    Ok(if neg { RawDuration { seconds: -seconds, nanos: -nanos } } else { RawDuration { seconds, nanos } })
}

/// jsonpb's Timestamp: RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits.
fn format_timestamp(t: &RawTimestamp) -> Result<String, String> {
    if !(0..1_000_000_000).contains(&t.nanos) {
        return Err(format!("timestamp nanos {} out of range", t.nanos));
    }
    let days = t.seconds.div_euclid(86_400);
    let rem = t.seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return Err(format!("timestamp {}s is outside years 0-9999", t.seconds));
    }
    let x = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}", rem / 3600, rem % 3600 / 60, rem % 60, t.nanos);
    Ok(format!("{}Z", trim_fraction(&x)))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parse_timestamp(s: &str) -> Result<RawTimestamp, String> {
    let t = tendermint::Time::parse_from_rfc3339(s).map_err(|e| format!("{s:?} is not an RFC 3339 timestamp: {e}"))?;
    Ok(t.into())
}

// The 07-tendermint client and consensus states in the form ICS prints
// them (gogoproto jsonpb, snake_case): 64-bit integers as strings, 32-bit as
// numbers, enums by name, a nil `empty_child` as null and the consensus
// state's `next_validators_hash` as upper-case hex (it is a CometBFT
// `HexBytes`, whose MarshalJSON jsonpb defers to). Input may also be
// proto3 JSON (camelCase names, defaults omitted, the hash in base64).

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct TmClientStateJson {
    #[serde(alias = "chainId")]
    chain_id: String,
    #[serde(alias = "trustLevel")]
    trust_level: FractionJson,
    #[serde(alias = "trustingPeriod", with = "json_raw_duration")]
    trusting_period: RawDuration,
    #[serde(alias = "unbondingPeriod", with = "json_raw_duration")]
    unbonding_period: RawDuration,
    #[serde(alias = "maxClockDrift", with = "json_raw_duration")]
    max_clock_drift: RawDuration,
    #[serde(alias = "frozenHeight")]
    frozen_height: HeightJson,
    #[serde(alias = "latestHeight")]
    latest_height: HeightJson,
    #[serde(alias = "proofSpecs", deserialize_with = "de_null_default")]
    proof_specs: Vec<ProofSpecJson>,
    #[serde(alias = "upgradePath", deserialize_with = "de_null_default")]
    upgrade_path: Vec<String>,
    #[serde(alias = "allowUpdateAfterExpiry")]
    allow_update_after_expiry: bool,
    #[serde(alias = "allowUpdateAfterMisbehaviour")]
    allow_update_after_misbehaviour: bool,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct FractionJson {
    #[serde(with = "json_str_int")]
    numerator: u64,
    #[serde(with = "json_str_int")]
    denominator: u64,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct HeightJson {
    #[serde(alias = "revisionNumber", with = "json_str_int")]
    revision_number: u64,
    #[serde(alias = "revisionHeight", with = "json_str_int")]
    revision_height: u64,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct ProofSpecJson {
    #[serde(alias = "leafSpec", deserialize_with = "de_null_default")]
    leaf_spec: LeafOpJson,
    #[serde(alias = "innerSpec", deserialize_with = "de_null_default")]
    inner_spec: InnerSpecJson,
    #[serde(alias = "maxDepth", with = "json_num_int")]
    max_depth: i32,
    #[serde(alias = "minDepth", with = "json_num_int")]
    min_depth: i32,
    #[serde(alias = "prehashKeyBeforeComparison")]
    prehash_key_before_comparison: bool,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct LeafOpJson {
    #[serde(with = "json_hash_op")]
    hash: i32,
    #[serde(alias = "prehashKey", with = "json_hash_op")]
    prehash_key: i32,
    #[serde(alias = "prehashValue", with = "json_hash_op")]
    prehash_value: i32,
    #[serde(with = "json_length_op")]
    length: i32,
    #[serde(with = "json_b64_bytes")]
    prefix: Vec<u8>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct InnerSpecJson {
    #[serde(alias = "childOrder", deserialize_with = "de_i32_vec")]
    child_order: Vec<i32>,
    #[serde(alias = "childSize", with = "json_num_int")]
    child_size: i32,
    #[serde(alias = "minPrefixLength", with = "json_num_int")]
    min_prefix_length: i32,
    #[serde(alias = "maxPrefixLength", with = "json_num_int")]
    max_prefix_length: i32,
    #[serde(alias = "emptyChild", with = "json_b64_bytes")]
    empty_child: Vec<u8>,
    #[serde(with = "json_hash_op")]
    hash: i32,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct TmConsensusStateJson {
    #[serde(with = "json_timestamp")]
    timestamp: RawTimestamp,
    root: MerkleRootJson,
    #[serde(alias = "nextValidatorsHash", with = "json_hex_bytes")]
    next_validators_hash: Vec<u8>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct MerkleRootJson {
    #[serde(with = "json_b64_bytes")]
    hash: Vec<u8>,
}

fn de_null_default<'de, T: Deserialize<'de> + Default, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn de_i32_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i32>, D::Error> {
    #[derive(Deserialize)]
    struct I(#[serde(with = "json_num_int")] i32);
    Ok(Option::<Vec<I>>::deserialize(d)?.unwrap_or_default().into_iter().map(|I(i)| i).collect())
}

mod json_raw_duration {
    use super::*;

    pub fn serialize<S: Serializer>(v: &RawDuration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<RawDuration, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(RawDuration::default()),
            Some(s) => parse_duration(&s).map_err(de::Error::custom),
        }
    }
}

mod json_timestamp {
    use super::*;

    pub fn serialize<S: Serializer>(v: &RawTimestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_timestamp(v).map_err(serde::ser::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<RawTimestamp, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(RawTimestamp::default()),
            Some(s) => parse_timestamp(&s).map_err(de::Error::custom),
        }
    }
}

/// Bytes as jsonpb writes a Go `[]byte`: base64, and an empty (nil) one as null.
mod json_b64_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        if v.is_empty() {
            s.serialize_none()
        } else {
            s.serialize_str(&B64.encode(v))
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(Vec::new()),
            Some(s) => B64.decode(&s).map_err(|e| de::Error::custom(format!("{s:?} is not base64: {e}"))),
        }
    }
}

/// CometBFT `HexBytes`: upper-case hex out; hex (either case) or, from
/// proto3 JSON, base64 in.
mod json_hex_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = Option::<String>::deserialize(d)?.unwrap_or_default();
        hex::decode(&s)
            .or_else(|_| B64.decode(&s))
            .map_err(|_| de::Error::custom(format!("{s:?} is neither hex nor base64")))
    }
}

macro_rules! proto_enum_json {
    ($module:ident, $enum:ty, $what:literal) => {
        mod $module {
            use super::*;

            pub fn serialize<S: Serializer>(v: &i32, s: S) -> Result<S::Ok, S::Error> {
                // jsonpb writes an unknown value as its bare number.
                match <$enum>::try_from(*v) {
                    Ok(e) => s.serialize_str(e.as_str_name()),
                    Err(_) => s.serialize_i32(*v),
                }
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
                match Option::<Value>::deserialize(d)? {
                    None => Ok(0),
                    Some(Value::String(name)) => <$enum>::from_str_name(&name)
                        .map(|e| e as i32)
                        .ok_or_else(|| de::Error::custom(format!("unknown {} {name:?}", $what))),
                    Some(Value::Number(n)) => n
                        .as_i64()
                        .and_then(|n| i32::try_from(n).ok())
                        .ok_or_else(|| de::Error::custom(format!("{} {n} out of range", $what))),
                    Some(other) => Err(de::Error::custom(format!("{} must be a name or number, not {other}", $what))),
                }
            }
        }
    };
}

proto_enum_json!(json_hash_op, HashOp, "ics23 hash op");
proto_enum_json!(json_length_op, LengthOp, "ics23 length op");

mod tm_client_state_json {
    use super::*;

    #[allow(deprecated)] // ibc-go still writes the two allow_update_* flags
    pub fn serialize<S: Serializer>(v: &Option<RawTmClientState>, s: S) -> Result<S::Ok, S::Error> {
        let Some(cs) = v else {
            return s.serialize_none();
        };
        let dur = |d: &Option<RawDuration>| d.unwrap_or_default();
        let height = |h: &Option<RawHeight>| {
            let h = h.unwrap_or_default();
            HeightJson { revision_number: h.revision_number, revision_height: h.revision_height }
        };
        let trust = cs.trust_level.unwrap_or_default();
        TmClientStateJson {
            chain_id: cs.chain_id.clone(),
            trust_level: FractionJson { numerator: trust.numerator, denominator: trust.denominator },
            trusting_period: dur(&cs.trusting_period),
            unbonding_period: dur(&cs.unbonding_period),
            max_clock_drift: dur(&cs.max_clock_drift),
            frozen_height: height(&cs.frozen_height),
            latest_height: height(&cs.latest_height),
            proof_specs: cs
                .proof_specs
                .iter()
                .map(|p| {
                    let leaf = p.leaf_spec.clone().unwrap_or_default();
                    let inner = p.inner_spec.clone().unwrap_or_default();
                    ProofSpecJson {
                        leaf_spec: LeafOpJson {
                            hash: leaf.hash,
                            prehash_key: leaf.prehash_key,
                            prehash_value: leaf.prehash_value,
                            length: leaf.length,
                            prefix: leaf.prefix,
                        },
                        inner_spec: InnerSpecJson {
                            child_order: inner.child_order,
                            child_size: inner.child_size,
                            min_prefix_length: inner.min_prefix_length,
                            max_prefix_length: inner.max_prefix_length,
                            empty_child: inner.empty_child,
                            hash: inner.hash,
                        },
                        max_depth: p.max_depth,
                        min_depth: p.min_depth,
                        prehash_key_before_comparison: p.prehash_key_before_comparison,
                    }
                })
                .collect(),
            upgrade_path: cs.upgrade_path.clone(),
            allow_update_after_expiry: cs.allow_update_after_expiry,
            allow_update_after_misbehaviour: cs.allow_update_after_misbehaviour,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RawTmClientState>, D::Error> {
        let Some(j) = Option::<TmClientStateJson>::deserialize(d)? else {
            return Ok(None);
        };
        let height =
            |h: HeightJson| RawHeight { revision_number: h.revision_number, revision_height: h.revision_height };
        #[allow(deprecated)]
        let cs = RawTmClientState {
            chain_id: j.chain_id,
            trust_level: Some(RawFraction {
                numerator: j.trust_level.numerator,
                denominator: j.trust_level.denominator,
            }),
            trusting_period: Some(j.trusting_period),
            unbonding_period: Some(j.unbonding_period),
            max_clock_drift: Some(j.max_clock_drift),
            frozen_height: Some(height(j.frozen_height)),
            latest_height: Some(height(j.latest_height)),
            proof_specs: j
                .proof_specs
                .into_iter()
                .map(|p| ProofSpec {
                    leaf_spec: Some(LeafOp {
                        hash: p.leaf_spec.hash,
                        prehash_key: p.leaf_spec.prehash_key,
                        prehash_value: p.leaf_spec.prehash_value,
                        length: p.leaf_spec.length,
                        prefix: p.leaf_spec.prefix,
                    }),
                    inner_spec: Some(InnerSpec {
                        child_order: p.inner_spec.child_order,
                        child_size: p.inner_spec.child_size,
                        min_prefix_length: p.inner_spec.min_prefix_length,
                        max_prefix_length: p.inner_spec.max_prefix_length,
                        empty_child: p.inner_spec.empty_child,
                        hash: p.inner_spec.hash,
                    }),
                    max_depth: p.max_depth,
                    min_depth: p.min_depth,
                    prehash_key_before_comparison: p.prehash_key_before_comparison,
                })
                .collect(),
            upgrade_path: j.upgrade_path,
            allow_update_after_expiry: j.allow_update_after_expiry,
            allow_update_after_misbehaviour: j.allow_update_after_misbehaviour,
        };
        Ok(Some(cs))
    }
}

mod tm_consensus_state_json {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<RawTmConsensusState>, s: S) -> Result<S::Ok, S::Error> {
        let Some(cs) = v else {
            return s.serialize_none();
        };
        TmConsensusStateJson {
            timestamp: cs.timestamp.unwrap_or_default(),
            root: MerkleRootJson { hash: cs.root.clone().unwrap_or_default().hash },
            next_validators_hash: cs.next_validators_hash.clone(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RawTmConsensusState>, D::Error> {
        let Some(j) = Option::<TmConsensusStateJson>::deserialize(d)? else {
            return Ok(None);
        };
        Ok(Some(RawTmConsensusState {
            timestamp: Some(j.timestamp),
            root: Some(RawMerkleRoot { hash: j.root.hash }),
            next_validators_hash: j.next_validators_hash,
        }))
    }
}

// ---------------------------------------------------------------------------
// jsonpb reading and Go string writing
// ---------------------------------------------------------------------------

fn parse_json(data: &[u8], what: &str) -> Result<Value, String> {
    serde_json::from_slice(data).map_err(|e| format!("{what}: not JSON: {e}"))
}

/// A JSON object read the way jsonpb reads a message: each field under its
/// proto name or its camelCase name, `null` as unset, any other key an error.
struct Obj<'a> {
    what: String,
    map: &'a Map<String, Value>,
    seen: Vec<&'a str>,
}

impl<'a> Obj<'a> {
    fn new(v: &'a Value, what: &str) -> Result<Obj<'a>, String> {
        let map = v.as_object().ok_or_else(|| format!("{what}: expected a JSON object, got {v}"))?;
        Ok(Obj { what: what.to_owned(), map, seen: Vec::new() })
    }

    fn get(&mut self, names: &[&str]) -> Option<&'a Value> {
        let mut found = None;
        for (k, v) in self.map.iter() {
            if names.contains(&k.as_str()) {
                self.seen.push(k);
                if !v.is_null() {
                    found = Some(v);
                }
            }
        }
        found
    }

    fn finish(self) -> Result<(), String> {
        match self.map.keys().find(|k| !self.seen.contains(&k.as_str())) {
            Some(k) => Err(format!("{}: unknown field {k:?}", self.what)),
            None => Ok(()),
        }
    }
}

fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array().ok_or_else(|| format!("{what}: expected an array, got {v}"))
}

fn json_int<T: FromStr + TryFrom<i64> + TryFrom<u64>>(v: &Value, what: &str) -> Result<T, String> {
    let parsed = match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => {
            n.as_u64().and_then(|n| T::try_from(n).ok()).or_else(|| n.as_i64().and_then(|n| T::try_from(n).ok()))
        }
        _ => None,
    };
    parsed.ok_or_else(|| format!("{what}: {v} is not an integer of type {}", std::any::type_name::<T>()))
}

fn json_b64(v: &Value, what: &str) -> Result<Vec<u8>, String> {
    let s = v.as_str().ok_or_else(|| format!("{what}: {v} is not a base64 string"))?;
    B64.decode(s).map_err(|e| format!("{what}: {s:?} is not base64: {e}"))
}

fn json_enum(v: &Value, names: &[(&str, i32)], what: &str) -> Result<i32, String> {
    match v {
        Value::String(s) => {
            names.iter().find(|(n, _)| n == s).map(|(_, i)| *i).ok_or_else(|| format!("{what}: unknown value {s:?}"))
        }
        Value::Number(n) => {
            n.as_i64().and_then(|n| i32::try_from(n).ok()).ok_or_else(|| format!("{what}: {n} is out of range"))
        }
        _ => Err(format!("{what}: {v} is neither a name nor a number")),
    }
}

fn enum_name(names: &[(&str, i32)], value: i32) -> String {
    names.iter().find(|(_, i)| *i == value).map(|(n, _)| n.to_string()).unwrap_or_else(|| value.to_string())
}

/// A JSON string as Go's `encoding/json` writes it: HTML-safe (`<`, `>`, `&`
/// escaped), U+2028/U+2029 escaped, `\b` `\f` `\n` `\r` `\t` short (Go >= 1.22).
fn go_quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64<const N: usize>(s: &str) -> [u8; N] {
        B64.decode(s).unwrap().try_into().unwrap()
    }

    /// The Go tests' golden strings, whitespace removed as they remove it.
    fn compact(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn golden_vsc() -> VscPacket {
        VscPacket {
            updates: vec![
                ValidatorUpdate { pubkey: b64("SMxP2pXAuxQC7FmBn4dh4Kt5eYdQFWC/wN7oWobZKds="), power: 30 },
                ValidatorUpdate { pubkey: b64("J/nGy0vCXhgVbr8S71B4ZgHi4fsMqtDxDlERZ+gG238="), power: 20 },
            ],
            valset_update_id: 73,
            slash_acks: vec!["slash".into(), "acks".into(), "example".into()],
        }
    }

    fn golden_slash() -> ConsumerPacket {
        ConsumerPacket::Slash(SlashPacket {
            validator_address: b64("BP9q4oXCgubvoujOKyxIxd+3IwM="),
            power: 4328,
            valset_update_id: 894732,
            infraction: Infraction::DoubleSign,
        })
    }

    // ICS x/ccv/types/wire_test.go TestVSCPacketDataWireBytes.
    const VSC_GOLDEN: &str = r#"{
        "validator_updates": [
            {"pub_key": {"ed25519": "SMxP2pXAuxQC7FmBn4dh4Kt5eYdQFWC/wN7oWobZKds="}, "power": "30"},
            {"pub_key": {"ed25519": "J/nGy0vCXhgVbr8S71B4ZgHi4fsMqtDxDlERZ+gG238="}, "power": "20"}
        ],
        "valset_update_id": "73",
        "slash_acks": ["slash", "acks", "example"]
    }"#;

    // TestSlashPacketDataWireBytes: the V1 form, ccv's InfractionType names.
    const SLASH_GOLDEN: &str = r#"{
        "type": "CONSUMER_PACKET_TYPE_SLASH",
        "slashPacketData": {
            "validator": {"address": "BP9q4oXCgubvoujOKyxIxd+3IwM=", "power": "4328"},
            "valset_update_id": "894732",
            "infraction": "INFRACTION_TYPE_DOUBLE_SIGN"
        }
    }"#;

    // TestVSCMaturedPacketDataWireBytes.
    const VSCM_GOLDEN: &str = r#"{
        "type": "CONSUMER_PACKET_TYPE_VSCM",
        "vscMaturedPacketData": {"valset_update_id": "84923"}
    }"#;

    #[test]
    fn vsc_packet_encodes_to_ics_golden_bytes_and_back() {
        let bytes = golden_vsc().encode();
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), compact(VSC_GOLDEN));
        assert_eq!(VscPacket::decode(&bytes).unwrap(), golden_vsc());
        // Indented input decodes the same.
        assert_eq!(VscPacket::decode(VSC_GOLDEN.as_bytes()).unwrap(), golden_vsc());
    }

    #[test]
    fn slash_packet_encodes_to_ics_v1_golden_bytes_and_back() {
        let bytes = golden_slash().encode();
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), compact(SLASH_GOLDEN));
        assert_eq!(ConsumerPacket::decode(&bytes).unwrap(), golden_slash());
    }

    #[test]
    fn vsc_matured_packet_encodes_to_ics_golden_bytes_and_back() {
        let p = ConsumerPacket::VscMatured { valset_update_id: 84923 };
        let bytes = p.encode();
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), compact(VSCM_GOLDEN));
        assert_eq!(ConsumerPacket::decode(&bytes).unwrap(), p);
    }

    #[test]
    fn slash_packet_in_current_form_decodes_with_staking_infraction_names() {
        let current = SLASH_GOLDEN.replace("INFRACTION_TYPE_DOUBLE_SIGN", "INFRACTION_DOUBLE_SIGN");
        assert_eq!(ConsumerPacket::decode(current.as_bytes()).unwrap(), golden_slash());
        let downtime = SLASH_GOLDEN.replace("\"INFRACTION_TYPE_DOUBLE_SIGN\"", "\"INFRACTION_DOWNTIME\"");
        let ConsumerPacket::Slash(s) = ConsumerPacket::decode(downtime.as_bytes()).unwrap() else { panic!() };
        assert_eq!(s.infraction, Infraction::Downtime);
        // jsonpb also takes enums as numbers and integers unquoted.
        let numeric = r#"{"type":1,"slashPacketData":{"validator":{"address":"BP9q4oXCgubvoujOKyxIxd+3IwM=","power":4328},"valsetUpdateId":894732,"infraction":1}}"#;
        assert_eq!(ConsumerPacket::decode(numeric.as_bytes()).unwrap(), golden_slash());
    }

    #[track_caller]
    fn assert_err_mentions<T: std::fmt::Debug>(r: Result<T, String>, words: &[&str]) {
        let e = r.unwrap_err();
        for w in words {
            assert!(e.contains(w), "error {e:?} should mention {w:?}");
        }
    }

    #[test]
    fn malformed_consumer_packets_are_refused_naming_the_problem() {
        assert_err_mentions(ConsumerPacket::decode(b"not json"), &["not JSON"]);
        assert_err_mentions(ConsumerPacket::decode(b"[1]"), &["expected a JSON object"]);
        let wrong_type = VSCM_GOLDEN.replace("CONSUMER_PACKET_TYPE_VSCM", "CONSUMER_PACKET_TYPE_VSC");
        assert_err_mentions(ConsumerPacket::decode(wrong_type.as_bytes()), &["type", "CONSUMER_PACKET_TYPE_VSC"]);
        let unspecified = VSCM_GOLDEN.replace("CONSUMER_PACKET_TYPE_VSCM", "CONSUMER_PACKET_TYPE_UNSPECIFIED");
        assert_err_mentions(ConsumerPacket::decode(unspecified.as_bytes()), &["invalid consumer packet type"]);
        let short = SLASH_GOLDEN.replace("BP9q4oXCgubvoujOKyxIxd+3IwM=", &B64.encode([4u8; 19]));
        assert_err_mentions(ConsumerPacket::decode(short.as_bytes()), &["address", "19 bytes"]);
        let zero_power = SLASH_GOLDEN.replace("\"4328\"", "\"0\"");
        assert_err_mentions(ConsumerPacket::decode(zero_power.as_bytes()), &["power cannot be zero"]);
        let unspecified = SLASH_GOLDEN.replace("INFRACTION_TYPE_DOUBLE_SIGN", "INFRACTION_TYPE_UNSPECIFIED");
        assert_err_mentions(ConsumerPacket::decode(unspecified.as_bytes()), &["infraction", "INFRACTION_UNSPECIFIED"]);
        let unknown_infraction = SLASH_GOLDEN.replace("INFRACTION_TYPE_DOUBLE_SIGN", "INFRACTION_EQUIVOCATION");
        assert_err_mentions(
            ConsumerPacket::decode(unknown_infraction.as_bytes()),
            &["infraction", "INFRACTION_EQUIVOCATION"],
        );
        let bad_b64 = SLASH_GOLDEN.replace("BP9q4oXCgubvoujOKyxIxd+3IwM=", "BP9q4oXCgubvoujOKyxIxd+3IwM");
        assert_err_mentions(ConsumerPacket::decode(bad_b64.as_bytes()), &["address", "base64"]);
        let unknown_field = VSCM_GOLDEN.replace("\"valset_update_id\"", "\"vsc_id\"");
        assert_err_mentions(ConsumerPacket::decode(unknown_field.as_bytes()), &["unknown field", "vsc_id"]);
        let zero_id = VSCM_GOLDEN.replace("84923", "0");
        assert_err_mentions(ConsumerPacket::decode(zero_id.as_bytes()), &["vscId cannot be equal to zero"]);
        let missing = r#"{"type":"CONSUMER_PACKET_TYPE_SLASH"}"#;
        assert_err_mentions(ConsumerPacket::decode(missing.as_bytes()), &["SlashPacketData data cannot be empty"]);
        let mismatched = VSCM_GOLDEN.replace("CONSUMER_PACKET_TYPE_VSCM", "CONSUMER_PACKET_TYPE_SLASH");
        assert_err_mentions(ConsumerPacket::decode(mismatched.as_bytes()), &["SlashPacketData data cannot be empty"]);
    }

    #[test]
    fn malformed_vsc_packets_are_refused_naming_the_problem() {
        assert_err_mentions(VscPacket::decode(b"{\"validator_updates\":"), &["not JSON"]);
        let zero_id = compact(VSC_GOLDEN).replace("\"73\"", "\"0\"");
        assert_err_mentions(VscPacket::decode(zero_id.as_bytes()), &["valset update id cannot be equal to zero"]);
        // A real compressed secp256k1 key (33 bytes).
        let secp = compact(VSC_GOLDEN).replace(
            "\"ed25519\":\"SMxP2pXAuxQC7FmBn4dh4Kt5eYdQFWC/wN7oWobZKds=\"",
            "\"secp256k1\":\"A+4Ru5vWR/xRFsDPG0+nvWx7yUgsZvvmvpvd1Cqp8d8l\"",
        );
        assert_err_mentions(VscPacket::decode(secp.as_bytes()), &["validator_updates[0]", "secp256k1"]);
        let short_key = compact(VSC_GOLDEN).replace("SMxP2pXAuxQC7FmBn4dh4Kt5eYdQFWC/wN7oWobZKds=", "SMxP2pXA");
        assert_err_mentions(VscPacket::decode(short_key.as_bytes()), &["validator_updates[0]", "6 bytes, want 32"]);
        let bad_b64 = compact(VSC_GOLDEN).replace("SMxP2pXAuxQC7FmBn4dh4Kt5eYdQFWC/wN7oWobZKds=", "SMxP2pXA!");
        assert_err_mentions(VscPacket::decode(bad_b64.as_bytes()), &["base64"]);
        let negative = compact(VSC_GOLDEN).replace("\"30\"", "\"-30\"");
        assert_err_mentions(VscPacket::decode(negative.as_bytes()), &["negative power -30"]);
        let no_updates = r#"{"valset_update_id":"73","slash_acks":[]}"#;
        assert_err_mentions(VscPacket::decode(no_updates.as_bytes()), &["validator updates cannot be nil"]);
        let unknown = compact(VSC_GOLDEN).replace("\"slash_acks\"", "\"slashes\"");
        assert_err_mentions(VscPacket::decode(unknown.as_bytes()), &["unknown field", "slashes"]);
        let not_int = compact(VSC_GOLDEN).replace("\"73\"", "\"7x3\"");
        assert_err_mentions(VscPacket::decode(not_int.as_bytes()), &["valset_update_id", "7x3"]);
    }

    #[test]
    fn empty_vsc_packet_writes_empty_arrays_as_emit_defaults_does() {
        let p = VscPacket { updates: vec![], valset_update_id: 1, slash_acks: vec![] };
        assert_eq!(p.encode(), br#"{"validator_updates":[],"valset_update_id":"1","slash_acks":[]}"#);
        assert_eq!(VscPacket::decode(&p.encode()).unwrap(), p);
    }

    #[test]
    fn acks_are_ibc_go_acknowledgement_json() {
        assert_eq!(result_ack(ACK_RESULT_V1), br#"{"result":"AQ=="}"#);
        assert_eq!(result_ack(ACK_SLASH_HANDLED), br#"{"result":"Ag=="}"#);
        assert_eq!(result_ack(ACK_SLASH_BOUNCED), br#"{"result":"Aw=="}"#);
        assert_eq!(decode_ack(&result_ack(ACK_SLASH_BOUNCED)).unwrap(), Ack::Result(vec![3]));

        let message = "bad \"packet\"\nsee <events> & logs\u{2028}\\";
        let ack = error_ack(message);
        assert_eq!(
            String::from_utf8(ack.clone()).unwrap(),
            r#"{"error":"bad \"packet\"\nsee \u003cevents\u003e \u0026 logs\u2028\\"}"#
        );
        assert_eq!(decode_ack(&ack).unwrap(), Ack::Error(message.into()));

        assert_err_mentions(decode_ack(br#"{"result":""}"#), &["result cannot be empty"]);
        assert_err_mentions(decode_ack(br#"{"error":"  "}"#), &["error cannot be empty"]);
        assert_err_mentions(decode_ack(br#"{"result":"AQ==","error":"x"}"#), &["both"]);
        assert_err_mentions(decode_ack(br#"{"status":"ok"}"#), &["unknown field", "status"]);
        assert_err_mentions(decode_ack(b"AQ=="), &["not JSON"]);
    }

    #[test]
    fn handshake_metadata_is_the_protobuf_encoding_and_parses_back() {
        let addr = "cosmos1ap0mh6xzfn8943urr84q6ae7zfnar48am2erhd"; // 45 chars
        let md = handshake_metadata(addr).unwrap();
        let mut want = vec![0x0a, addr.len() as u8];
        want.extend_from_slice(addr.as_bytes());
        want.extend_from_slice(&[0x12, 0x01, b'1']);
        assert_eq!(md.as_bytes(), want.as_slice());
        assert_eq!(
            md.as_bytes(),
            raw::HandshakeMetadata { provider_fee_pool_addr: addr.into(), version: "1".into() }.encode_to_vec()
        );
        assert_eq!(parse_handshake_metadata(&md).unwrap(), addr);
    }

    #[test]
    fn handshake_metadata_with_another_version_or_garbage_is_refused() {
        let v2 = raw::HandshakeMetadata { provider_fee_pool_addr: "addr".into(), version: "2".into() }.encode_to_vec();
        assert_err_mentions(parse_handshake_metadata(std::str::from_utf8(&v2).unwrap()), &["version", "\"2\""]);
        // A consumer's own version string is not metadata.
        assert_err_mentions(parse_handshake_metadata("1"), &["unmarshalling"]);
        // No version field at all is version "".
        assert_err_mentions(parse_handshake_metadata(""), &["version", "\"\""]);
    }

    #[test]
    fn handshake_metadata_refuses_addresses_too_long_for_a_utf8_version() {
        assert!(handshake_metadata(&"a".repeat(127)).is_ok());
        assert_err_mentions(handshake_metadata(&"a".repeat(128)), &["128 bytes"]);
    }

    /// The v6.3.x provider's `query provider consumer-genesis` output in
    /// ICS's app/consumer/genesis_test.go (real values from a test chain).
    fn genesis_json() -> String {
        r#"{
          "params": {
            "enabled": true,
            "blocks_per_distribution_transmission": "1000",
            "distribution_transmission_channel": "",
            "provider_fee_pool_addr_str": "",
            "ccv_timeout_period": "2419200s",
            "transfer_timeout_period": "3600s",
            "consumer_redistribution_fraction": "0.75",
            "historical_entries": "10000",
            "unbonding_period": "1209600s",
            "soft_opt_out_threshold": "0",
            "reward_denoms": [],
            "provider_reward_denoms": [],
            "retry_delay_period": "3600s",
            "consumer_id": "1"
          },
          "provider": {
            "client_state": {
              "chain_id": "provi",
              "trust_level": {"numerator": "1", "denominator": "3"},
              "trusting_period": "1197504s",
              "unbonding_period": "1814400s",
              "max_clock_drift": "10s",
              "frozen_height": {"revision_number": "0", "revision_height": "0"},
              "latest_height": {"revision_number": "0", "revision_height": "24"},
              "proof_specs": [
                {
                  "leaf_spec": {"hash": "SHA256", "prehash_key": "NO_HASH", "prehash_value": "SHA256", "length": "VAR_PROTO", "prefix": "AA=="},
                  "inner_spec": {"child_order": [0, 1], "child_size": 33, "min_prefix_length": 4, "max_prefix_length": 12, "empty_child": null, "hash": "SHA256"},
                  "max_depth": 0,
                  "min_depth": 0,
                  "prehash_key_before_comparison": false
                },
                {
                  "leaf_spec": {"hash": "SHA256", "prehash_key": "NO_HASH", "prehash_value": "SHA256", "length": "VAR_PROTO", "prefix": "AA=="},
                  "inner_spec": {"child_order": [0, 1], "child_size": 32, "min_prefix_length": 1, "max_prefix_length": 1, "empty_child": null, "hash": "SHA256"},
                  "max_depth": 0,
                  "min_depth": 0,
                  "prehash_key_before_comparison": false
                }
              ],
              "upgrade_path": ["upgrade", "upgradedIBCState"],
              "allow_update_after_expiry": false,
              "allow_update_after_misbehaviour": false
            },
            "consensus_state": {
              "timestamp": "2024-10-17T07:47:33.124389629Z",
              "root": {"hash": "cgIJagBEc/5lDkWS12NG5i7SSZ5hNFlDrlparFaWytc="},
              "next_validators_hash": "632730A03DEF630F77B61DF4092629007AE020B789713158FABCB104962FA54F"
            },
            "initial_val_set": [
              {"pub_key": {"ed25519": "RrclQz9bIhkIy/gfL485g3PYMeiIku4qeo495787X10="}, "power": "500"},
              {"pub_key": {"ed25519": "Ui5Gf1+mtWUdH8u3xlmzdKID+F3PK0sfXZ73GZ6q6is="}, "power": "500"},
              {"pub_key": {"ed25519": "mAN6RXYxSM4MNGSIriYiS7pHuwAcOHDQAy9/wnlSzOI="}, "power": "500"}
            ]
          },
          "new_chain": true
        }"#
        .into()
    }

    #[test]
    fn consumer_genesis_json_survives_the_proto_round_trip_unchanged() {
        // Without consumer_id: the v4..v6.1 shape, which ibc-proto's type holds whole.
        let json = compact(&genesis_json()).replace(r#","consumer_id":"1""#, "");
        let genesis: ConsumerGenesis = serde_json::from_str(&json).unwrap();
        let cs = genesis.provider.client_state.as_ref().unwrap();
        assert_eq!(cs.chain_id, "provi");
        assert_eq!(cs.trusting_period, Some(RawDuration { seconds: 1_197_504, nanos: 0 }));
        assert_eq!(cs.proof_specs[0].leaf_spec.as_ref().unwrap().prefix, vec![0]);
        let cons = genesis.provider.consensus_state.as_ref().unwrap();
        assert_eq!(cons.timestamp, Some(RawTimestamp { seconds: 1_729_151_253, nanos: 124_389_629 }));
        assert_eq!(cons.next_validators_hash[..2], [0x63, 0x27]);
        assert_eq!(genesis.provider.initial_val_set.len(), 3);
        assert_eq!(genesis.params.unbonding_period, Duration::from_secs(14 * 24 * 3600));

        let proto = genesis.to_proto();
        let decoded = raw::ConsumerGenesisState::decode(proto.encode_to_vec().as_slice()).unwrap();
        let back = ConsumerGenesis::from_proto(decoded).unwrap();
        assert_eq!(back, genesis);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }

    #[test]
    fn consumer_genesis_json_keeps_the_v6_2_fields() {
        let json = compact(&genesis_json())
            .replace(r#""new_chain":true"#, r#""new_chain":true,"preCCV":false,"connection_id":"""#);
        let genesis: ConsumerGenesis = serde_json::from_str(&json).unwrap();
        assert_eq!(genesis.params.consumer_id.as_deref(), Some("1"));
        assert_eq!(genesis.pre_ccv, Some(false));
        assert_eq!(genesis.connection_id.as_deref(), Some(""));
        assert_eq!(serde_json::to_string(&genesis).unwrap(), json);
        // ibc-proto's type has no place for them.
        let back = ConsumerGenesis::from_proto(genesis.to_proto()).unwrap();
        assert_eq!((back.params.consumer_id, back.pre_ccv, back.connection_id), (None, None, None));
    }

    #[test]
    fn consumer_genesis_accepts_proto3_json_client_states() {
        // camelCase names, defaults omitted, the hash in base64: pbjson's form.
        let json = genesis_json()
            .replace("\"chain_id\"", "\"chainId\"")
            .replace("\"trusting_period\"", "\"trustingPeriod\"")
            .replace("\"latest_height\"", "\"latestHeight\"")
            .replace("\"revision_height\"", "\"revisionHeight\"")
            .replace("\"proof_specs\"", "\"proofSpecs\"")
            .replace("\"leaf_spec\"", "\"leafSpec\"")
            .replace("\"child_order\"", "\"childOrder\"")
            .replace(r#""allow_update_after_expiry": false,"#, "")
            .replace(
                "\"next_validators_hash\": \"632730A03DEF630F77B61DF4092629007AE020B789713158FABCB104962FA54F\"",
                "\"nextValidatorsHash\": \"YycwoD3vYw93th30CSYpAHrgILeJcTFY+ryxBJYvpU8=\"",
            );
        let from_camel: ConsumerGenesis = serde_json::from_str(&json).unwrap();
        let from_snake: ConsumerGenesis = serde_json::from_str(&genesis_json()).unwrap();
        assert_eq!(from_camel, from_snake);
    }

    #[test]
    fn consumer_genesis_refuses_unknown_and_malformed_input() {
        let cases: &[(&str, &str, &str)] = &[
            (r#""new_chain": true"#, r#""new_chain": true, "pre_ccv": true"#, "unknown field `pre_ccv`"),
            (r#""chain_id": "provi""#, r#""chain_id": "provi", "trust": 1"#, "unknown field `trust`"),
            ("\"2419200s\"", "\"4w\"", "not a duration"),
            ("\"2419200s\"", "\"-1s\"", "negative"),
            ("\"0.75\"", "\"1.5\"", "greater than 1"),
            ("\"0.75\"", "\"75%\"", "not a decimal"),
            ("\"historical_entries\": \"10000\"", "\"historical_entries\": \"ten\"", "not an integer"),
            ("\"VAR_PROTO\"", "\"VARINT\"", "unknown ics23 length op"),
            ("\"2024-10-17T07:47:33.124389629Z\"", "\"yesterday\"", "not an RFC 3339 timestamp"),
            ("RrclQz9bIhkIy/gfL485g3PYMeiIku4qeo495787X10=", "RrclQz9b", "want 32"),
            ("\"ed25519\": \"RrclQz9b", "\"secp256k1\": \"RrclQz9b", "secp256k1"),
            (r#""new_chain": true"#, r#""new_chain": "yes""#, "expected a boolean"),
        ];
        for (from, to, want) in cases {
            let json = genesis_json().replacen(from, to, 1);
            assert_ne!(json, genesis_json(), "{from} not in the example");
            let err = serde_json::from_str::<ConsumerGenesis>(&json).unwrap_err().to_string();
            assert!(err.contains(want), "{to}: error {err:?} should mention {want:?}");
        }
        let err = serde_json::from_str::<ConsumerGenesis>(r#"{"params":{}}"#).unwrap_err().to_string();
        assert!(err.contains("missing field"), "{err}");
    }

    #[test]
    fn default_params_are_ics_defaults() {
        let json = serde_json::to_string(&ConsumerParams::default()).unwrap();
        assert_eq!(
            json,
            compact(
                r#"{"enabled":false,"blocks_per_distribution_transmission":"1000",
                "distribution_transmission_channel":"","provider_fee_pool_addr_str":"",
                "ccv_timeout_period":"2419200s","transfer_timeout_period":"3600s",
                "consumer_redistribution_fraction":"0.75","historical_entries":"10000",
                "unbonding_period":"1728000s","soft_opt_out_threshold":"0",
                "reward_denoms":[],"provider_reward_denoms":[],"retry_delay_period":"3600s"}"#
            )
        );
        assert_eq!(serde_json::from_str::<ConsumerParams>(&json).unwrap(), ConsumerParams::default());
    }

    #[test]
    fn durations_and_timestamps_use_jsonpb_fraction_digits() {
        let d = |seconds, nanos| format_duration(RawDuration { seconds, nanos });
        assert_eq!(d(1_728_000, 0), "1728000s");
        assert_eq!(d(1, 500_000_000), "1.500s");
        assert_eq!(d(0, 1_000), "0.000001s");
        assert_eq!(d(0, -5), "-0.000000005s");
        for s in ["1728000s", "1.500s", "0.000001s", "-0.000000005s", "-3s"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
        let t = |seconds, nanos| format_timestamp(&RawTimestamp { seconds, nanos }).unwrap();
        assert_eq!(t(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(t(951_782_400, 120_000_000), "2000-02-29T00:00:00.120Z");
        assert_eq!(t(-1, 0), "1969-12-31T23:59:59Z");
        assert_eq!(
            parse_timestamp("2000-02-29T00:00:00.120Z").unwrap(),
            RawTimestamp { seconds: 951_782_400, nanos: 120_000_000 }
        );
    }
}
