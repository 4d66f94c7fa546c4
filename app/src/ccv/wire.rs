//! Packets, acknowledgements and the channel handshake.

#[allow(unused_imports)]
use super::*;

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
pub(super) const PACKET_TYPES: &[(&str, i32)] =
    &[("CONSUMER_PACKET_TYPE_UNSPECIFIED", 0), ("CONSUMER_PACKET_TYPE_SLASH", 1), ("CONSUMER_PACKET_TYPE_VSCM", 2)];
pub(super) const STAKING_INFRACTIONS: &[(&str, i32)] =
    &[("INFRACTION_UNSPECIFIED", 0), ("INFRACTION_DOUBLE_SIGN", 1), ("INFRACTION_DOWNTIME", 2)];
pub(super) const V1_INFRACTIONS: &[(&str, i32)] =
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

pub(super) type RawSlash = (Vec<u8>, i64, u64, i32);

/// One jsonpb decoding attempt of `ConsumerPacketData` (`infractions` =
/// the staking names) or `ConsumerPacketDataV1` (the ccv names).
pub(super) fn consumer_packet_from_json(
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

pub(super) fn write_validator_update(out: &mut String, u: &ValidatorUpdate) {
    write!(out, r#"{{"pub_key":{{"ed25519":"{}"}},"power":"{}"}}"#, B64.encode(u.pubkey), u.power).unwrap();
}

/// A `tendermint.abci.ValidatorUpdate` in jsonpb form, ed25519 only.
pub(super) fn validator_update_from_json(v: &Value, what: &str) -> Result<ValidatorUpdate, String> {
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
// Rewards
// ---------------------------------------------------------------------------

/// ICS v6's `CreateTransferMemo`: the memo of a consumer's reward transfer
/// to the provider, byte for byte (Go's `json.Marshal` of `RewardMemo`
/// inside ICS's literal template, whitespace included), so a provider can
/// tell which consumer the rewards come from.
pub fn reward_memo(consumer_id: &str, chain_id: &str) -> String {
    let mut inner = String::from(r#"{"consumerId":"#);
    go_quote(&mut inner, consumer_id);
    inner.push_str(r#","chainId":"#);
    go_quote(&mut inner, chain_id);
    inner.push_str(r#","memo":"ICS rewards"}"#);
    format!("{{\n\t\t\t\"provider\": {inner}\n\t\t}}")
}
