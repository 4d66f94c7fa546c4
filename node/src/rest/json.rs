//! Protobuf to JSON the way the Cosmos SDK's grpc-gateway writes it: proto
//! field names, defaults emitted, unset messages and empty bytes as `null`,
//! 64-bit integers as strings, bytes as base64, enums by name, `Any` with
//! `@type`, and object keys in field order.

use base64::Engine;
use prost::Message;
use prost_reflect::{DynamicMessage, Kind, MessageDescriptor, ReflectMessage, SerializeOptions, Value};

use super::error::RestError;

/// The gateway's JSON of a response message.
pub fn to_json(msg: &DynamicMessage) -> Result<serde_json::Value, RestError> {
    let opts = SerializeOptions::new().use_proto_field_name(true).skip_default_fields(false).stringify_64_bit_integers(true);
    let mut msg = msg.clone();
    prepare_anys(&mut msg).map_err(|e| RestError::internal(format!("decoding an Any in {}: {e}", msg.descriptor().full_name())))?;
    let mut json = msg
        .serialize_with_options(serde_json::value::Serializer, &opts)
        .map_err(|e| RestError::internal(format!("encoding {} as JSON: {e}", msg.descriptor().full_name())))?;
    finish(&mut json, &msg.descriptor());
    Ok(json)
}

/// prost-reflect resolves only `type.googleapis.com/` type URLs.
const GOOGLE_PREFIX: &str = "type.googleapis.com/";
/// Marks an `Any` whose type the pool lacks, carried through serialization
/// as a `StringValue` of `MARK<type url> <base64 value>`.
const UNRESOLVED_MARK: &str = "\u{0}aegis-unresolved-any:";

/// Rewrite every `Any` (nested ones too, e.g. the messages in a Tx) so
/// prost-reflect can write it: Cosmos's `/pkg.Type` URLs get Google's
/// prefix, and types the pool lacks become a marked `StringValue`.
fn prepare_anys(msg: &mut DynamicMessage) -> Result<(), String> {
    let desc = msg.descriptor();
    if desc.full_name() == "google.protobuf.Any" {
        let url = msg.get_field_by_name("type_url").and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let value = msg.get_field_by_name("value").and_then(|v| v.as_bytes().cloned()).unwrap_or_default();
        let name = url.rsplit('/').next().unwrap_or(&url);
        let pool = desc.parent_pool();
        let (new_url, new_value) = match pool.get_message_by_name(name) {
            Some(inner_desc) if !url.is_empty() => {
                let mut inner = DynamicMessage::decode(inner_desc, value.as_ref()).map_err(|e| format!("{url}: {e}"))?;
                prepare_anys(&mut inner)?;
                (format!("{GOOGLE_PREFIX}{name}"), inner.encode_to_vec())
            }
            _ => {
                let text = format!("{UNRESOLVED_MARK}{url} {}", base64::engine::general_purpose::STANDARD.encode(&value));
                let sv = pool.get_message_by_name("google.protobuf.StringValue").ok_or("google.protobuf.StringValue is not in the pool")?;
                let mut m = DynamicMessage::new(sv);
                m.set_field_by_name("value", Value::String(text));
                (format!("{GOOGLE_PREFIX}google.protobuf.StringValue"), m.encode_to_vec())
            }
        };
        msg.set_field_by_name("type_url", Value::String(new_url));
        msg.set_field_by_name("value", Value::Bytes(new_value.into()));
        return Ok(());
    }
    crate::descriptors::each_child_message(msg, prepare_anys)
}

/// After serialization: `@type` back to Cosmos's `/pkg.Type`, unresolved
/// `Any`s as `{"@type", "value": base64}`, and unset singular message
/// fields and empty bytes as `null` (grpc-gateway's EmitDefaults writes
/// Go's nil so; prost-reflect leaves messages out and bytes as "").
fn finish(json: &mut serde_json::Value, desc: &MessageDescriptor) {
    let Some(obj) = json.as_object_mut() else { return };
    if desc.full_name() == "google.protobuf.Any" {
        let Some(url) = obj.get("@type").and_then(|t| t.as_str()).map(str::to_string) else { return };
        let name = url.strip_prefix(GOOGLE_PREFIX).unwrap_or(&url).to_string();
        if name == "google.protobuf.StringValue" {
            if let Some(rest) = obj.get("value").and_then(|v| v.as_str()).and_then(|v| v.strip_prefix(UNRESOLVED_MARK)) {
                let (u, b64) = rest.split_once(' ').unwrap_or((rest, ""));
                *json = serde_json::json!({ "@type": u, "value": b64 });
                return;
            }
        }
        obj.insert("@type".into(), serde_json::Value::String(format!("/{name}")));
        if let Some(inner) = desc.parent_pool().get_message_by_name(&name) {
            if !is_well_known(&inner) {
                finish(json, &inner);
            }
        }
        return;
    }
    if is_well_known(desc) {
        return;
    }
    for field in desc.fields() {
        // Go decodes empty bytes as nil, which the gateway writes as null.
        if field.kind() == Kind::Bytes && !field.is_list() && obj.get(field.name()).is_some_and(|v| v == "") {
            obj.insert(field.name().to_string(), serde_json::Value::Null);
        }
        let Kind::Message(m) = field.kind() else { continue };
        if field.is_map() {
            if let Some(serde_json::Value::Object(entries)) = obj.get_mut(field.name()) {
                if let Kind::Message(v) = field.kind().as_message().and_then(|e| e.get_field_by_name("value")).map(|f| f.kind()).unwrap_or(Kind::Bool) {
                    entries.values_mut().for_each(|e| finish(e, &v));
                }
            }
            continue;
        }
        match obj.get_mut(field.name()) {
            None if !field.is_list() && field.containing_oneof().is_none() => {
                obj.insert(field.name().to_string(), serde_json::Value::Null);
            }
            None => {}
            Some(serde_json::Value::Array(items)) => items.iter_mut().for_each(|v| finish(v, &m)),
            Some(v) => finish(v, &m),
        }
    }
}

fn is_well_known(desc: &MessageDescriptor) -> bool {
    desc.package_name() == "google.protobuf" && desc.full_name() != "google.protobuf.Any"
}

/// [`to_json`] as text, each message's keys in declaration order (`@type`
/// first), as the gateway writes them; serde_json's map would sort them.
pub fn to_json_text(msg: &DynamicMessage) -> Result<String, RestError> {
    let json = to_json(msg)?;
    let mut out = String::new();
    write_ordered(&json, Some(&msg.descriptor()), &mut out);
    Ok(out)
}

fn write_ordered(v: &serde_json::Value, desc: Option<&MessageDescriptor>, out: &mut String) {
    let (serde_json::Value::Object(map), Some(desc)) = (v, desc) else {
        match v {
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_ordered(item, desc, out);
                }
                out.push(']');
            }
            _ => out.push_str(&v.to_string()),
        }
        return;
    };
    // An Any's fields are its packed message's.
    let desc = if desc.full_name() == "google.protobuf.Any" {
        match map.get("@type").and_then(|t| t.as_str()).and_then(|t| desc.parent_pool().get_message_by_name(t.trim_start_matches('/'))) {
            Some(inner) if !is_well_known(&inner) => inner,
            _ => return out.push_str(&v.to_string()),
        }
    } else if is_well_known(desc) {
        return out.push_str(&v.to_string());
    } else {
        desc.clone()
    };
    let mut keys: Vec<(&str, Option<MessageDescriptor>)> = Vec::with_capacity(map.len());
    if map.contains_key("@type") {
        keys.push(("@type", None));
    }
    for f in desc.fields() {
        if let Some((key, _)) = map.get_key_value(f.name()) {
            let sub = match f.kind() {
                Kind::Message(m) if f.is_map() => m.get_field_by_name("value").and_then(|v| v.kind().as_message().cloned()),
                Kind::Message(m) => Some(m),
                _ => None,
            };
            keys.push((key.as_str(), sub));
        }
    }
    for k in map.keys() {
        if !keys.iter().any(|(n, _)| n == k) {
            keys.push((k.as_str(), None));
        }
    }
    out.push('{');
    for (i, (k, sub)) in keys.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::String(k.to_string()).to_string());
        out.push(':');
        let value = &map[*k];
        match (value, sub) {
            // A map's values are the entry's value type, keyed by text.
            (serde_json::Value::Object(entries), Some(m)) if desc.get_field_by_name(k).is_some_and(|f| f.is_map()) => {
                out.push('{');
                for (j, (ek, ev)) in entries.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(ek.clone()).to_string());
                    out.push(':');
                    write_ordered(ev, Some(m), out);
                }
                out.push('}');
            }
            _ => write_ordered(value, sub.as_ref(), out),
        }
    }
    out.push('}');
}
