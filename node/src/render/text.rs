//! `--output text`: any JSON view as readable, YAML-like text. One field per
//! line, nested objects and lists indented, and raw values annotated by what
//! their field name says they are: WAD fractions as decimals, shares with
//! their token value, Unix times as RFC 3339, durations, basis points and
//! result codes. The raw value always comes first, so text stays exact.
//!
//! Fields come in serde_json's order (sorted by name, as in the JSON).
//! It works from field names alone (the table in [`kind_of`]), so every
//! command gets it through `print_json` without a text view of its own.

use serde_json::{Map, Value};

/// Fixed-point scale of WAD values: 10^18 = 1.
const WAD: u128 = 1_000_000_000_000_000_000;

/// Shares a token buys in an empty pool (`aegis_app::restaking::VIRTUAL_SHARES`).
const SHARES_PER_TOKEN_AT_DEPOSIT: &str = "10^9";

/// What a field holds, by its name.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// A WAD fraction (10^18 = 1): magnitudes, slash fractions.
    Wad,
    /// Tokens per share scaled by 10^18.
    TokensPerShareWad,
    /// Restaking shares; `tokens` names the sibling field holding their
    /// value in tokens when the view has one.
    Shares { tokens: Option<&'static str> },
    /// Unix seconds of block time.
    UnixSeconds,
    /// A duration in seconds.
    Seconds,
    /// Basis points (10000 = 100%).
    Bps,
    /// A transaction result code (0 = success).
    TxCode,
    Plain,
}

fn kind_of(field: &str) -> Kind {
    match field {
        "magnitude" | "max_magnitude" | "pending_magnitude" | "encumbered_magnitude" | "slashable_magnitude" | "wad_to_slash"
        | "slash_fraction_double_sign" | "slash_fraction_downtime" | "max_slash_per_epoch" | "min_signed_per_window"
        | "deposit_scaling_factor" | "slashing_factor" | "double_sign_fraction" | "downtime_fraction" => Kind::Wad,
        "tokens_per_share_wad" => Kind::TokensPerShareWad,
        "shares" => Kind::Shares { tokens: Some("tokens") },
        "withdrawable_shares" => Kind::Shares { tokens: Some("withdrawable_tokens") },
        "total_shares" => Kind::Shares { tokens: Some("tvl") },
        "deposit_shares" => Kind::Shares { tokens: None },
        "code" => Kind::TxCode,
        "jailed_until" | "slashable_until" | "spawn_time" | "start_time" | "completable_time" => Kind::UnixSeconds,
        f if f.ends_with("_at") => Kind::UnixSeconds,
        f if f.ends_with("_seconds") => Kind::Seconds,
        f if f.ends_with("_bps") => Kind::Bps,
        _ => Kind::Plain,
    }
}

/// `v` as text, ending with a newline.
pub fn to_text(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => object(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => array(&mut out, a, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn object(out: &mut String, m: &Map<String, Value>, indent: usize) {
    for (k, v) in m {
        pad(out, indent);
        out.push_str(k);
        out.push(':');
        value_after_key(out, v, indent, |s| annotate(k, s, m));
    }
}

fn array(out: &mut String, a: &[Value], indent: usize) {
    for v in a {
        pad(out, indent);
        out.push('-');
        match v {
            // The first field goes on the dash's line, the rest below it.
            Value::Object(m) if !m.is_empty() => {
                let mut inner = String::new();
                object(&mut inner, m, indent + 2);
                out.push(' ');
                out.push_str(&inner[indent + 2..]);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                array(out, a, indent + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

/// What follows `key:` — a scalar on the same line, or a nested block.
fn value_after_key(out: &mut String, v: &Value, indent: usize, note: impl Fn(&str) -> Option<String>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            object(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            array(out, a, indent + 2);
        }
        other => {
            let s = scalar(other);
            out.push(' ');
            out.push_str(&s);
            if let Some(n) = note(&s) {
                out.push(' ');
                out.push_str(&n);
            }
            out.push('\n');
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// The note after field `field`'s raw value `raw`, given its siblings.
fn annotate(field: &str, raw: &str, siblings: &Map<String, Value>) -> Option<String> {
    let kind = kind_of(field);
    if kind == Kind::Plain {
        return None;
    }
    let n: i128 = raw.parse().ok()?;
    match kind {
        Kind::Wad => Some(format!("({})", wad_decimal(n.unsigned_abs()))),
        Kind::TokensPerShareWad => Some(format!("({} tokens per share)", wad_decimal(n.unsigned_abs()))),
        Kind::Shares { tokens } => {
            let denom = ["denom", "strategy"].iter().find_map(|k| siblings.get(*k).and_then(Value::as_str)).unwrap_or("tokens");
            match tokens.and_then(|t| siblings.get(t)).map(scalar).filter(|t| t.parse::<u128>().is_ok()) {
                Some(t) => Some(format!("shares (= {t} {denom} at the current rate)")),
                None => Some(format!("shares ({SHARES_PER_TOKEN_AT_DEPOSIT} shares per token at deposit)")),
            }
        }
        Kind::UnixSeconds if n == 0 => Some("(not set)".into()),
        Kind::UnixSeconds => rfc3339(n).map(|t| format!("({t})")),
        Kind::Seconds => Some(format!("({})", duration(n.unsigned_abs()))),
        Kind::Bps => Some(format!("({}%)", bps_percent(n.unsigned_abs()))),
        Kind::TxCode if n == 0 => Some("(ok)".into()),
        Kind::TxCode => {
            let space = siblings.get("codespace").and_then(Value::as_str).unwrap_or_default();
            Some(if space.is_empty() { "(failed)".into() } else { format!("(failed: code {n} of codespace {space})") })
        }
        Kind::Plain => None,
    }
}

/// `wad` / 10^18 in decimal, exactly, without trailing zeros.
pub fn wad_decimal(wad: u128) -> String {
    let (int, frac) = (wad / WAD, wad % WAD);
    if frac == 0 {
        return int.to_string();
    }
    let frac = format!("{frac:018}");
    format!("{int}.{}", frac.trim_end_matches('0'))
}

fn bps_percent(bps: u128) -> String {
    let (int, frac) = (bps / 100, bps % 100);
    match frac {
        0 => int.to_string(),
        f if f % 10 == 0 => format!("{int}.{}", f / 10),
        f => format!("{int}.{f:02}"),
    }
}

/// Unix seconds as RFC 3339 UTC, e.g. `2025-11-30T00:00:00Z`.
pub fn rfc3339(secs: i128) -> Option<String> {
    let secs = i64::try_from(secs).ok()?;
    let t = tendermint::Time::from_unix_timestamp(secs, 0).ok()?;
    Some(t.to_rfc3339())
}

/// Seconds as `1d 2h 3m 4s`, zero parts left out.
fn duration(secs: u128) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let parts = [(secs / 86400, "d"), (secs % 86400 / 3600, "h"), (secs % 3600 / 60, "m"), (secs % 60, "s")];
    parts.iter().filter(|(n, _)| *n > 0).map(|(n, u)| format!("{n}{u}")).collect::<Vec<_>>().join(" ")
}

/// An error message with its raw numbers explained in place: a Unix time
/// after "at", "until" or "time" gets its date, and a WAD integer (13 to 19
/// digits, at most 10^18) in a message about magnitudes, fractions or slashes
/// gets its decimal. The numbers themselves stay, so nothing is lost.
pub fn annotate_message(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len() + 32);
    let mut prev = "";
    let lower = msg.to_ascii_lowercase();
    let about_wad = ["magnitude", "fraction", "wad", "slash"].iter().any(|k| lower.contains(k));
    for (i, word) in msg.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = word.trim_start_matches('(');
        let digits_end = core.find(|c: char| !c.is_ascii_digit()).unwrap_or(core.len());
        let (number, rest) = core.split_at(digits_end);
        let lead = &word[..word.len() - core.len()];
        let note = match number.parse::<u128>() {
            Ok(n) if number.len() == 10 && matches!(prev, "at" | "until" | "time") => rfc3339(n as i128),
            Ok(n) if about_wad && (13..=19).contains(&number.len()) && n <= WAD => Some(wad_decimal(n)),
            _ => None,
        };
        match note {
            Some(note) if !number.is_empty() => out.push_str(&format!("{lead}{number} ({note}){rest}")),
            _ => out.push_str(word),
        }
        prev = word;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_views_are_one_field_per_line_with_annotations() {
        let v = json!({
            "operator": "aegis1op",
            "stake": [
                {"denom": "uaegis", "shares": "5000000000", "tokens": "5", "max_magnitude": "950000000000000000", "queued_scaled_shares": "0"},
                {"denom": "stuaegis", "shares": "0", "tokens": "0", "max_magnitude": "1000000000000000000", "queued_scaled_shares": "0"},
            ],
            "metadata": {"moniker": "val0", "website": ""},
            "commission_rate_bps": 500,
            "commission_updated_at": "1764460800",
            "is_validator": true,
            "consensus_pubkey": null,
            "allowlist": [],
        });
        assert_eq!(
            to_text(&v),
            "allowlist: []
commission_rate_bps: 500 (5%)
commission_updated_at: 1764460800 (2025-11-30T00:00:00Z)
consensus_pubkey: null
is_validator: true
metadata:
  moniker: val0
  website: \"\"
operator: aegis1op
stake:
  - denom: uaegis
    max_magnitude: 950000000000000000 (0.95)
    queued_scaled_shares: 0
    shares: 5000000000 shares (= 5 uaegis at the current rate)
    tokens: 5
  - denom: stuaegis
    max_magnitude: 1000000000000000000 (1)
    queued_scaled_shares: 0
    shares: 0 shares (= 0 stuaegis at the current rate)
    tokens: 0
"
        );
    }

    #[test]
    fn shares_without_a_token_value_say_the_deposit_rate() {
        let v = json!({"@type": "/aegis.restaking.v1.MsgDepositResponse", "shares": "5000000000"});
        assert_eq!(to_text(&v), "@type: /aegis.restaking.v1.MsgDepositResponse\nshares: 5000000000 shares (10^9 shares per token at deposit)\n");
        let s = json!({"denom": "uaegis", "total_shares": "2000000000000", "tvl": "2000", "tokens_per_share_wad": "1000000000"});
        assert_eq!(
            to_text(&s),
            "denom: uaegis\ntokens_per_share_wad: 1000000000 (0.000000001 tokens per share)\ntotal_shares: 2000000000000 shares (= 2000 uaegis at the current rate)\ntvl: 2000\n"
        );
    }

    #[test]
    fn times_durations_and_codes_read_as_words() {
        let v = json!({
            "withdrawal_delay_seconds": "93784", "veto_window_seconds": "0", "jailed_until": 0,
            "executable_at": "1764460805", "code": 0, "codespace": "",
        });
        assert_eq!(
            to_text(&v),
            "code: 0 (ok)\ncodespace: \"\"\nexecutable_at: 1764460805 (2025-11-30T00:00:05Z)\njailed_until: 0 (not set)\nveto_window_seconds: 0 (0s)\nwithdrawal_delay_seconds: 93784 (1d 2h 3m 4s)\n"
        );
        let failed = json!({"code": 5, "codespace": "sdk", "raw_log": "insufficient funds"});
        assert_eq!(to_text(&failed), "code: 5 (failed: code 5 of codespace sdk)\ncodespace: sdk\nraw_log: insufficient funds\n");
    }

    #[test]
    fn top_level_lists_and_scalars() {
        let keys = json!([{"name": "alice", "address": "aegis1a"}, {"name": "bob", "address": "aegis1b"}]);
        assert_eq!(to_text(&keys), "- address: aegis1a\n  name: alice\n- address: aegis1b\n  name: bob\n");
        assert_eq!(to_text(&json!([])), "[]\n");
        assert_eq!(to_text(&json!({"sequences": [1, 2]})), "sequences:\n  - 1\n  - 2\n");
    }

    #[test]
    fn values_that_are_not_integers_stay_unannotated() {
        let v = json!({"magnitude": "0.5", "reward_fraction": "0.75", "inflation_rate_bps": "lots", "wad_to_slash": "1"});
        assert_eq!(to_text(&v), "inflation_rate_bps: lots\nmagnitude: 0.5\nreward_fraction: 0.75\nwad_to_slash: 1 (0.000000000000000001)\n");
    }

    #[test]
    fn decimal_helpers_are_exact() {
        assert_eq!(wad_decimal(0), "0");
        assert_eq!(wad_decimal(WAD), "1");
        assert_eq!(wad_decimal(950_000_000_000_000_000), "0.95");
        assert_eq!(wad_decimal(2 * WAD + 1), "2.000000000000000001");
        assert_eq!(bps_percent(1), "0.01");
        assert_eq!(bps_percent(250), "2.5");
        assert_eq!(bps_percent(10000), "100");
        assert_eq!(rfc3339(0).unwrap(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn error_messages_explain_times_and_wad_fractions() {
        assert_eq!(
            annotate_message("withdrawal 3 is still in escrow: completable at 1764460820 (block time 1764460800), 20s left"),
            "withdrawal 3 is still in escrow: completable at 1764460820 (2025-11-30T00:00:20Z) (block time 1764460800 (2025-11-30T00:00:00Z)), 20s left"
        );
        assert_eq!(
            annotate_message("operator aegis1x has 50000000000000000 uaegis magnitude unallocated (max 1000000000000000000, encumbered 950000000000000000); the allocation needs 60000000000000000"),
            "operator aegis1x has 50000000000000000 (0.05) uaegis magnitude unallocated (max 1000000000000000000 (1), encumbered 950000000000000000 (0.95)); the allocation needs 60000000000000000 (0.06)"
        );
        assert_eq!(annotate_message("insufficient shares of uaegis: have 10, want 25"), "insufficient shares of uaegis: have 10, want 25");
        assert_eq!(annotate_message("slash of 2000000000000000000 exceeds the allocation"), "slash of 2000000000000000000 exceeds the allocation");
    }
}
