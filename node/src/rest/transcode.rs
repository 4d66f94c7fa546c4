//! HTTP to protobuf, driven by descriptors: path variables, query
//! parameters and the JSON body become a request `DynamicMessage`.

use base64::Engine;
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage, Value};

use super::error::RestError;
use super::route::{percent_decode, Route};

/// The request message of `route` from its bound path variables, the raw
/// query string and the body.
pub fn build_request(route: &Route, bound: &[(String, String)], query: Option<&str>, body: &[u8]) -> Result<DynamicMessage, RestError> {
    let desc = route.method.input();
    let mut msg = DynamicMessage::new(desc.clone());
    let body_is_blank = body.iter().all(u8::is_ascii_whitespace);
    match route.body.as_str() {
        "" => {}
        "*" if !body_is_blank => msg = message_from_json(&desc, body)?,
        "*" => {}
        field if !body_is_blank => {
            let f = desc.get_field_by_name(field).ok_or_else(|| RestError::internal(format!("body field {field:?} is not in {}", desc.full_name())))?;
            // Wrap the body as `{field: body}` so the JSON mapping of the field's type applies.
            let inner: serde_json::Value = serde_json::from_slice(body).map_err(|e| RestError::invalid_argument(format!("invalid JSON body: {e}")))?;
            let wrapped = serde_json::json!({ f.name(): inner }).to_string();
            msg = message_from_json(&desc, wrapped.as_bytes())?;
        }
        _ => {}
    }
    for (path, value) in bound {
        set_path(&mut msg, path, value, "path parameter")?;
    }
    if route.body != "*" {
        for (key, value) in parse_query(query.unwrap_or(""))? {
            // Fields bound by the path or the body are not read from the query.
            let covered = |p: &str| key == p || key.starts_with(&format!("{p}."));
            if bound.iter().any(|(p, _)| covered(p)) || (!route.body.is_empty() && covered(&route.body)) {
                continue;
            }
            set_path(&mut msg, &key, &value, "query parameter")?;
        }
    }
    Ok(msg)
}

/// A message from its proto3 JSON form; unknown fields are an error.
pub fn message_from_json(desc: &MessageDescriptor, json: &[u8]) -> Result<DynamicMessage, RestError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let msg = DynamicMessage::deserialize(desc.clone(), &mut de).map_err(|e| RestError::invalid_argument(format!("invalid JSON body for {}: {e}", desc.full_name())))?;
    de.end().map_err(|e| RestError::invalid_argument(format!("invalid JSON body: {e}")))?;
    Ok(msg)
}

/// `a=1&b.c=x` into decoded pairs (`+` is a space, as in forms).
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, RestError> {
    let decode = |s: &str| percent_decode(&s.replace('+', " ")).ok_or_else(|| RestError::invalid_argument(format!("query string {query:?} is not valid percent-encoded UTF-8")));
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Set the field at dotted `path` (proto or JSON names) from its text form.
/// A repeated field gains one element per call.
pub fn set_path(msg: &mut DynamicMessage, path: &str, text: &str, what: &str) -> Result<(), RestError> {
    let mut cur = msg;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, name) in parts.iter().enumerate() {
        let desc = cur.descriptor();
        let field = desc
            .get_field_by_name(name)
            .or_else(|| desc.get_field_by_json_name(name))
            .ok_or_else(|| RestError::invalid_argument(format!("{what} {path:?}: {} has no field {name:?}", desc.full_name())))?;
        let last = i + 1 == parts.len();
        if !last {
            if field.is_list() || field.is_map() || !matches!(field.kind(), Kind::Message(_)) {
                return Err(RestError::invalid_argument(format!("{what} {path:?}: {name:?} is not a singular message field")));
            }
            cur = match cur.get_field_mut(&field) {
                Value::Message(m) => m,
                _ => unreachable!("a message field holds a message"),
            };
            continue;
        }
        if field.is_map() {
            return Err(RestError::invalid_argument(format!("{what} {path:?}: map fields cannot be set from a URL")));
        }
        let value = parse_scalar(&field, text).map_err(|why| RestError::invalid_argument(format!("{what} {path:?}: invalid value {text:?}: {why}")))?;
        if field.is_list() {
            match cur.get_field_mut(&field) {
                Value::List(l) => l.push(value),
                _ => unreachable!("a repeated field holds a list"),
            }
        } else {
            cur.set_field(&field, value);
        }
        return Ok(());
    }
    Ok(())
}

fn parse_scalar(field: &FieldDescriptor, s: &str) -> Result<Value, String> {
    let num = |e: std::num::ParseIntError| format!("not a {} ({e})", kind_name(&field.kind()));
    Ok(match field.kind() {
        Kind::String => Value::String(s.to_string()),
        Kind::Bool => Value::Bool(match s {
            "true" | "True" | "TRUE" | "t" | "T" | "1" => true,
            "false" | "False" | "FALSE" | "f" | "F" | "0" => false,
            _ => return Err("not a bool (true or false)".into()),
        }),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(s.parse().map_err(num)?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(s.parse().map_err(num)?),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(s.parse().map_err(num)?),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(s.parse().map_err(num)?),
        Kind::Float => Value::F32(s.parse().map_err(|e| format!("not a float ({e})"))?),
        Kind::Double => Value::F64(s.parse().map_err(|e| format!("not a double ({e})"))?),
        Kind::Bytes => Value::Bytes(decode_base64(s).ok_or("not base64")?.into()),
        Kind::Enum(e) => {
            let v = e.get_value_by_name(s).map(|v| v.number()).or_else(|| s.parse::<i32>().ok().filter(|n| e.get_value(*n).is_some()));
            let names: Vec<String> = e.values().map(|v| v.name().to_string()).collect();
            Value::EnumNumber(v.ok_or_else(|| format!("not a value of {} (one of {})", e.full_name(), names.join(", ")))?)
        }
        Kind::Message(m) => {
            // Well-known types with a string JSON form (Timestamp, Duration, wrappers).
            let json = serde_json::Value::String(s.to_string()).to_string();
            let msg = message_from_json(&m, json.as_bytes()).map_err(|_| format!("{} cannot be given as text", m.full_name()))?;
            Value::Message(msg)
        }
    })
}

fn kind_name(k: &Kind) -> &'static str {
    match k {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => "int32",
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => "int64",
        Kind::Uint32 | Kind::Fixed32 => "uint32",
        Kind::Uint64 | Kind::Fixed64 => "uint64",
        _ => "number",
    }
}

/// Standard or URL-safe base64, padded or not (as grpc-gateway accepts).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    // A `+` the client left unescaped arrives as a space.
    let s = s.replace(' ', "+");
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|e| e.decode(&s).ok())
}
