//! Transactions as documents the client builds, signs, encodes and shows:
//! the Cosmos SDK's `Tx` (body, auth info, signatures) in its protobuf form
//! and in the SDK's JSON (`{"body":{"messages":[{"@type":...}]},...}`), as
//! `--generate-only` prints it and `tx sign` / `tx broadcast` read it.
//!
//! JSON <-> protobuf goes through the client's descriptor pool
//! (`crate::descriptors`: the set the node serves for reflection plus
//! ibc-proto's IBC and ICS `Msg` files) with prost-reflect's proto3 JSON
//! mapping, so every message the chain takes (Cosmos bank, IBC, ICS's
//! double-vote evidence and every Aegis module) maps both ways with no
//! per-message code.

use aegis_app::signer::Signer;
use aegis_app::types::NATIVE_DENOM;
use anyhow::{anyhow, Context, Result};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::cosmos::crypto::secp256k1::PubKey;
use cosmos_sdk_proto::cosmos::tx::signing::v1beta1::SignMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{mode_info, AuthInfo, Fee, ModeInfo, SignDoc, SignerInfo, Tx, TxBody, TxRaw};
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage, SerializeOptions};
use tendermint_proto::google::protobuf::Any;

const SECP256K1_PUBKEY_URL: &str = "/cosmos.crypto.secp256k1.PubKey";

/// An unsigned tx: `msgs`, memo and timeout height in the body; the fee
/// (`fee` uaegis, none if 0) and gas limit in the auth info; no signer
/// infos and no signatures yet (as the SDK's --generate-only leaves them).
pub fn unsigned(msgs: Vec<Any>, memo: &str, timeout_height: u64, fee: u128, gas_limit: u64) -> Tx {
    let mut tx = Tx {
        body: Some(TxBody { messages: msgs, memo: memo.to_string(), timeout_height, ..Default::default() }),
        auth_info: Some(AuthInfo::default()),
        signatures: vec![],
    };
    set_fee(&mut tx, fee, gas_limit);
    tx
}

/// Replace the tx's fee (`fee` uaegis; none if 0) and gas limit.
pub fn set_fee(tx: &mut Tx, fee: u128, gas_limit: u64) {
    set_fee_in(tx, NATIVE_DENOM, fee, gas_limit)
}

/// [`set_fee`] in another chain's fee denom (the load generator's).
pub fn set_fee_in(tx: &mut Tx, denom: &str, fee: u128, gas_limit: u64) {
    let amount = if fee == 0 { vec![] } else { vec![Coin { denom: denom.into(), amount: fee.to_string() }] };
    tx.auth_info.get_or_insert_with(Default::default).fee = Some(Fee { amount, gas_limit, payer: String::new(), granter: String::new() });
}

fn signer_info(public_key: Option<Vec<u8>>, sequence: u64) -> SignerInfo {
    SignerInfo {
        public_key: public_key.map(|key| Any { type_url: SECP256K1_PUBKEY_URL.into(), value: PubKey { key }.encode_to_vec() }),
        mode_info: Some(ModeInfo { sum: Some(mode_info::Sum::Single(mode_info::Single { mode: SignMode::Direct as i32 })) }),
        sequence,
    }
}

/// Sign `tx` (SIGN_MODE_DIRECT) as its only signer at `sequence`: replaces
/// its signer infos and signatures.
pub fn sign(mut tx: Tx, signer: &Signer, chain_id: &str, account_number: u64, sequence: u64) -> Result<Tx> {
    if chain_id.is_empty() {
        anyhow::bail!("a chain id is needed to sign");
    }
    tx.auth_info.get_or_insert_with(Default::default).signer_infos = vec![signer_info(Some(signer.public_key()), sequence)];
    let doc = SignDoc {
        body_bytes: tx.body.clone().unwrap_or_default().encode_to_vec(),
        auth_info_bytes: tx.auth_info.clone().unwrap_or_default().encode_to_vec(),
        chain_id: chain_id.to_string(),
        account_number,
    };
    tx.signatures = vec![signer.sign_bytes(&doc.encode_to_vec())];
    Ok(tx)
}

/// The `TxRaw` bytes of `tx` with an empty signature, for simulation.
pub fn simulation_bytes(tx: &Tx, public_key: Option<Vec<u8>>, sequence: u64) -> Vec<u8> {
    let mut tx = tx.clone();
    tx.auth_info.get_or_insert_with(Default::default).signer_infos = vec![signer_info(public_key, sequence)];
    tx.signatures = vec![vec![]];
    raw(&tx)
}

/// The `TxRaw` bytes of `tx`: what is broadcast and hashed.
pub fn raw(tx: &Tx) -> Vec<u8> {
    TxRaw {
        body_bytes: tx.body.clone().unwrap_or_default().encode_to_vec(),
        auth_info_bytes: tx.auth_info.clone().unwrap_or_default().encode_to_vec(),
        signatures: tx.signatures.clone(),
    }
    .encode_to_vec()
}

/// The `Tx` of `TxRaw` bytes.
pub fn from_raw(bytes: &[u8]) -> Result<Tx> {
    let raw = TxRaw::decode(bytes).context("the bytes are not a TxRaw")?;
    Ok(Tx {
        body: Some(TxBody::decode(raw.body_bytes.as_slice()).context("the TxRaw's body_bytes are not a TxBody")?),
        auth_info: Some(AuthInfo::decode(raw.auth_info_bytes.as_slice()).context("the TxRaw's auth_info_bytes are not an AuthInfo")?),
        signatures: raw.signatures,
    })
}


fn descriptor(name: &str) -> MessageDescriptor {
    crate::descriptors::pool().get_message_by_name(name).unwrap_or_else(|| panic!("{name} is in the node's descriptor set"))
}

/// Any protobuf message of the descriptor set as proto3 JSON (proto field
/// names, every field shown, 64-bit integers as strings, `Any` as `@type`).
pub fn message_json(full_name: &str, bytes: &[u8]) -> Result<serde_json::Value> {
    let desc = crate::descriptors::pool().get_message_by_name(full_name).ok_or_else(|| anyhow!("message type {full_name} is unknown to this client"))?;
    let mut msg = DynamicMessage::decode(desc, bytes).with_context(|| format!("decoding a {full_name}"))?;
    // prost-reflect writes the JSON of an `Any` only under the
    // type.googleapis.com/ prefix; Cosmos type URLs are "/<name>".
    google_type_urls(&mut msg)?;
    let opts = SerializeOptions::new().use_proto_field_name(true).skip_default_fields(false).stringify_64_bit_integers(true);
    let mut json = msg.serialize_with_options(serde_json::value::Serializer, &opts).map_err(|e| anyhow!("{full_name} as JSON: {e}"))?;
    cosmos_type_urls(&mut json);
    Ok(json)
}

const GOOGLE_PREFIX: &str = "type.googleapis.com/";

/// Every `Any` in `msg`, however deep, under the type.googleapis.com/ prefix.
fn google_type_urls(msg: &mut DynamicMessage) -> Result<()> {
    use prost_reflect::Value;
    if msg.descriptor().full_name() == "google.protobuf.Any" {
        let url = msg.get_field_by_name("type_url").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let value = msg.get_field_by_name("value").and_then(|v| v.as_bytes().cloned()).unwrap_or_default();
        let name = url.rsplit_once('/').map(|(_, n)| n).unwrap_or(&url).to_string();
        let desc = crate::descriptors::pool().get_message_by_name(&name).ok_or_else(|| anyhow!("message type {url:?} is unknown to this client"))?;
        let mut inner = DynamicMessage::decode(desc, value.as_ref()).with_context(|| format!("decoding a {name}"))?;
        google_type_urls(&mut inner)?;
        msg.set_field_by_name("type_url", Value::String(format!("{GOOGLE_PREFIX}{name}")));
        msg.set_field_by_name("value", Value::Bytes(inner.encode_to_vec().into()));
        return Ok(());
    }
    crate::descriptors::each_child_message(msg, google_type_urls)
}

/// Every "@type" back to the Cosmos form "/<name>".
fn cosmos_type_urls(json: &mut serde_json::Value) {
    match json {
        serde_json::Value::Object(fields) => {
            for (k, v) in fields.iter_mut() {
                match v {
                    serde_json::Value::String(url) if k == "@type" => {
                        if let Some(name) = url.strip_prefix(GOOGLE_PREFIX) {
                            *url = format!("/{name}");
                        }
                    }
                    other => cosmos_type_urls(other),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(cosmos_type_urls),
        _ => {}
    }
}

/// `tx` in the SDK's JSON.
pub fn to_json(tx: &Tx) -> Result<serde_json::Value> {
    message_json("cosmos.tx.v1beta1.Tx", &tx.encode_to_vec())
}

/// A `Tx` from the SDK's JSON; every message's `@type` must be one the
/// chain knows.
pub fn from_json(text: &str) -> Result<Tx> {
    let mut de = serde_json::Deserializer::from_str(text);
    let msg = DynamicMessage::deserialize(descriptor("cosmos.tx.v1beta1.Tx"), &mut de).map_err(|e| anyhow!("not a Cosmos Tx in JSON: {e}"))?;
    de.end().map_err(|e| anyhow!("not a Cosmos Tx in JSON: {e}"))?;
    Ok(Tx::decode(msg.encode_to_vec().as_slice())?)
}

/// The JSON of a message packed in an `Any` (with its `@type`), or the
/// type URL and base64 value when this client does not know the type.
pub fn any_json(any: &Any) -> serde_json::Value {
    let name = any.type_url.trim_start_matches('/');
    match message_json(name, &any.value) {
        Ok(serde_json::Value::Object(fields)) => {
            let mut out = serde_json::Map::new();
            out.insert("@type".into(), any.type_url.clone().into());
            out.extend(fields);
            out.into()
        }
        _ => {
            use base64::Engine;
            serde_json::json!({"@type": any.type_url, "value": base64::engine::general_purpose::STANDARD.encode(&any.value)})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_signer() -> Signer {
        Signer::from_secret(&[7u8; 32]).unwrap()
    }

    #[test]
    fn a_signed_tx_round_trips_through_json_and_raw_bytes_unchanged() {
        let s = test_signer();
        let to = aegis_app::types::Address([9u8; 20]);
        let send = s.msg_send(&to, &[aegis_app::types::Coin::new("uaegis", 1234)]);
        let tx = unsigned(vec![send], "hello", 42, 5000, 200_000);
        let tx = sign(tx, &s, "aegis-test", 3, 7).unwrap();
        let json = to_json(&tx).unwrap();
        assert_eq!(json["body"]["messages"][0]["@type"], "/cosmos.bank.v1beta1.MsgSend");
        assert_eq!(json["body"]["messages"][0]["to_address"], to.to_string());
        assert_eq!(json["body"]["messages"][0]["amount"], serde_json::json!([{"denom": "uaegis", "amount": "1234"}]));
        assert_eq!(json["body"]["memo"], "hello");
        assert_eq!(json["body"]["timeout_height"], "42");
        assert_eq!(json["auth_info"]["fee"]["amount"], serde_json::json!([{"denom": "uaegis", "amount": "5000"}]));
        assert_eq!(json["auth_info"]["fee"]["gas_limit"], "200000");
        assert_eq!(json["auth_info"]["signer_infos"][0]["sequence"], "7");
        let back = from_json(&json.to_string()).unwrap();
        assert_eq!(raw(&back), raw(&tx));
        assert_eq!(from_raw(&raw(&tx)).unwrap(), tx);
    }

    #[test]
    fn ibc_messages_round_trip_through_json_too() {
        use ibc_proto_052::ibc::applications::transfer::v1::MsgTransfer;
        use ibc_proto_052::ibc::core::client::v1::Height;
        let s = test_signer();
        let transfer = MsgTransfer {
            source_port: "transfer".into(),
            source_channel: "channel-0".into(),
            token: Some(ibc_proto_052::cosmos::base::v1beta1::Coin { denom: "uaegis".into(), amount: "1000".into() }),
            sender: s.address.to_string(),
            receiver: "cosmos1receiver".into(),
            timeout_height: Some(Height { revision_number: 1, revision_height: 500 }),
            timeout_timestamp: 0,
            memo: "hi".into(),
        };
        let any = Any { type_url: "/ibc.applications.transfer.v1.MsgTransfer".into(), value: transfer.encode_to_vec() };
        let tx = sign(unsigned(vec![any], "", 0, 5000, 200_000), &s, "aegis-test", 3, 7).unwrap();
        let json = to_json(&tx).unwrap();
        let msg = &json["body"]["messages"][0];
        assert_eq!(msg["@type"], "/ibc.applications.transfer.v1.MsgTransfer");
        assert_eq!(msg["source_channel"], "channel-0");
        assert_eq!(msg["token"], serde_json::json!({"denom": "uaegis", "amount": "1000"}));
        assert_eq!(msg["timeout_height"], serde_json::json!({"revision_number": "1", "revision_height": "500"}));
        assert_eq!(raw(&from_json(&json.to_string()).unwrap()), raw(&tx));
    }

    #[test]
    fn unknown_message_types_and_malformed_json_are_refused_by_name() {
        let text = r#"{"body":{"messages":[{"@type":"/foo.v1.MsgNothing","x":"1"}]},"auth_info":{},"signatures":[]}"#;
        let err = from_json(text).unwrap_err().to_string();
        assert!(err.contains("foo.v1.MsgNothing"), "{err}");
        let err = from_json(r#"{"body": 5}"#).unwrap_err().to_string();
        assert!(err.starts_with("not a Cosmos Tx in JSON"), "{err}");
    }
}
