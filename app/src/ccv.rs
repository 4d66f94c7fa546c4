//! TEMPORARY STAND-IN for the `ccv` branch's wire codec, written against
//! its announced API so the consumer module compiles before it lands. On
//! merging `ccv`, take that branch's file wholesale.

use ibc_proto::interchain_security::ccv::v1::ConsumerGenesisState;
use prost::Message;
use serde::{Deserialize, Serialize};

pub const PROVIDER_PORT: &str = "provider";
pub const CONSUMER_PORT: &str = "consumer";
pub const VERSION: &str = "1";
pub const ACK_RESULT_V1: u8 = 1;
pub const ACK_SLASH_HANDLED: u8 = 2;
pub const ACK_SLASH_BOUNCED: u8 = 3;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorUpdate {
    pub pubkey: [u8; 32],
    pub power: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VscPacket {
    pub updates: Vec<ValidatorUpdate>,
    pub valset_update_id: u64,
    pub slash_acks: Vec<String>,
}

use base64::Engine;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

impl VscPacket {
    pub fn encode(&self) -> Vec<u8> {
        let updates: Vec<_> = self
            .updates
            .iter()
            .map(|u| serde_json::json!({"pub_key": {"ed25519": B64.encode(u.pubkey)}, "power": u.power.to_string()}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"validator_updates": updates, "valset_update_id": self.valset_update_id.to_string(), "slash_acks": self.slash_acks}))
            .expect("json")
    }

    pub fn decode(data: &[u8]) -> Result<VscPacket, String> {
        let v: serde_json::Value = serde_json::from_slice(data).map_err(|e| e.to_string())?;
        let id = v.get("valset_update_id").and_then(|x| x.as_str()).ok_or("no valset_update_id")?.parse::<u64>().map_err(|e| e.to_string())?;
        let mut updates = vec![];
        for u in v.get("validator_updates").and_then(|x| x.as_array()).ok_or("no validator_updates")? {
            let k = u.pointer("/pub_key/ed25519").and_then(|x| x.as_str()).ok_or("not ed25519")?;
            let k = B64.decode(k).map_err(|e| e.to_string())?;
            let pubkey: [u8; 32] = k.as_slice().try_into().map_err(|_| "key length")?;
            let power = u.get("power").and_then(|x| x.as_str()).ok_or("no power")?.parse::<i64>().map_err(|e| e.to_string())?;
            updates.push(ValidatorUpdate { pubkey, power });
        }
        if id == 0 {
            return Err("valset update id cannot be equal to zero".into());
        }
        Ok(VscPacket { updates, valset_update_id: id, slash_acks: vec![] })
    }
}

pub fn result_ack(r: u8) -> Vec<u8> {
    format!(r#"{{"result":"{}"}}"#, B64.encode([r])).into_bytes()
}

pub fn error_ack(msg: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "error": msg })).expect("json")
}

pub fn handshake_metadata(fee_pool_addr: &str) -> String {
    // HandshakeMetadata{provider_fee_pool_addr=1, version=2}
    let mut buf = vec![];
    prost::encoding::string::encode(1, &fee_pool_addr.to_string(), &mut buf);
    prost::encoding::string::encode(2, &VERSION.to_string(), &mut buf);
    String::from_utf8(buf).expect("utf8")
}

#[derive(Clone, PartialEq, prost::Message)]
struct HandshakeMetadata {
    #[prost(string, tag = "1")]
    provider_fee_pool_addr: String,
    #[prost(string, tag = "2")]
    version: String,
}

pub fn parse_handshake_metadata(s: &str) -> Result<String, String> {
    let md = HandshakeMetadata::decode(s.as_bytes()).map_err(|e| e.to_string())?;
    if md.version != VERSION {
        return Err(format!("invalid counterparty version: {}, expected {VERSION}", md.version));
    }
    Ok(md.provider_fee_pool_addr)
}

/// Stand-in: serialized as base64 protobuf.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsumerGenesis(ConsumerGenesisState);

impl Eq for ConsumerGenesis {}

impl ConsumerGenesis {
    pub fn to_proto(&self) -> ConsumerGenesisState {
        self.0.clone()
    }
    pub fn from_proto(p: ConsumerGenesisState) -> Result<Self, String> {
        Ok(ConsumerGenesis(p))
    }
}

impl Serialize for ConsumerGenesis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        B64.encode(self.0.encode_to_vec()).serialize(s)
    }
}

impl<'de> Deserialize<'de> for ConsumerGenesis {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let b = B64.decode(s).map_err(serde::de::Error::custom)?;
        ConsumerGenesisState::decode(b.as_slice()).map(ConsumerGenesis).map_err(serde::de::Error::custom)
    }
}
