//! jsonpb reading and Go string writing.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------
// jsonpb reading and Go string writing
// ---------------------------------------------------------------------------

pub(super) fn parse_json(data: &[u8], what: &str) -> Result<Value, String> {
    serde_json::from_slice(data).map_err(|e| format!("{what}: not JSON: {e}"))
}

/// A JSON object read the way jsonpb reads a message: each field under its
/// proto name or its camelCase name, `null` as unset, any other key an error.
pub(super) struct Obj<'a> {
    what: String,
    map: &'a Map<String, Value>,
    seen: Vec<&'a str>,
}

impl<'a> Obj<'a> {
    pub(super) fn new(v: &'a Value, what: &str) -> Result<Obj<'a>, String> {
        let map = v.as_object().ok_or_else(|| format!("{what}: expected a JSON object, got {v}"))?;
        Ok(Obj { what: what.to_owned(), map, seen: Vec::new() })
    }

    pub(super) fn get(&mut self, names: &[&str]) -> Option<&'a Value> {
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

    pub(super) fn finish(self) -> Result<(), String> {
        match self.map.keys().find(|k| !self.seen.contains(&k.as_str())) {
            Some(k) => Err(format!("{}: unknown field {k:?}", self.what)),
            None => Ok(()),
        }
    }
}

pub(super) fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array().ok_or_else(|| format!("{what}: expected an array, got {v}"))
}

pub(super) fn json_int<T: FromStr + TryFrom<i64> + TryFrom<u64>>(v: &Value, what: &str) -> Result<T, String> {
    let parsed = match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => {
            n.as_u64().and_then(|n| T::try_from(n).ok()).or_else(|| n.as_i64().and_then(|n| T::try_from(n).ok()))
        }
        _ => None,
    };
    parsed.ok_or_else(|| format!("{what}: {v} is not an integer of type {}", std::any::type_name::<T>()))
}

pub(super) fn json_b64(v: &Value, what: &str) -> Result<Vec<u8>, String> {
    let s = v.as_str().ok_or_else(|| format!("{what}: {v} is not a base64 string"))?;
    B64.decode(s).map_err(|e| format!("{what}: {s:?} is not base64: {e}"))
}

pub(super) fn json_enum(v: &Value, names: &[(&str, i32)], what: &str) -> Result<i32, String> {
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

pub(super) fn enum_name(names: &[(&str, i32)], value: i32) -> String {
    names.iter().find(|(_, i)| *i == value).map(|(n, _)| n.to_string()).unwrap_or_else(|| value.to_string())
}

/// A JSON string as Go's `encoding/json` writes it: HTML-safe (`<`, `>`, `&`
/// escaped), U+2028/U+2029 escaped, `\b` `\f` `\n` `\r` `\t` short (Go >= 1.22).
pub(super) fn go_quote(out: &mut String, s: &str) {
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

