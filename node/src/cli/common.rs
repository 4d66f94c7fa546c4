//! What every module's commands share: the node and transaction flags, the
//! sign-broadcast-print path, pagination, JSON output and argument parsers.

use std::path::Path;
use std::time::Duration;

use aegis_app::auth::params::MinGasPrice;
use aegis_app::math::WAD;
use aegis_app::types::Address;
use aegis_node::{client, keys, render};
use anyhow::{anyhow, bail, Result};
use clap::Args;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};

#[derive(Args, Clone)]
pub struct NodeArgs {
    /// gRPC endpoint of a node (default: the home's client.toml `grpc`, else what `aegisd init` listens on).
    #[arg(long, env = "AEGIS_GRPC", default_value = "http://127.0.0.1:26659")]
    pub grpc: String,
}

#[derive(Args, Clone)]
pub struct TxArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Name of the signing key in the keyring.
    #[arg(long)]
    pub from: String,
    /// Gas limit; simulated (x1.3) when omitted.
    #[arg(long)]
    pub gas: Option<u64>,
    /// Price per gas; the fee is gas limit x price, rounded up.
    #[arg(long, default_value = "0.025uaegis")]
    pub gas_prices: String,
    /// Note stored in the transaction.
    #[arg(long, default_value = "")]
    pub memo: String,
    /// Return after CheckTx instead of waiting for the block.
    #[arg(long)]
    pub no_wait: bool,
}

/// "<amount><denom>" -> (amount, denom).
pub fn parse_amount_denom(s: &str) -> Result<(u128, String)> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| anyhow!("{s:?} has no denom: write <amount><denom>, e.g. 1000uaegis"))?;
    let (amount, denom) = s.split_at(split);
    let amount: u128 = amount.parse().map_err(|_| anyhow!("{s:?}: write <amount><denom>, e.g. 1000uaegis"))?;
    aegis_app::types::validate_denom(denom).map_err(|e| anyhow!("{s:?}: {e}"))?;
    Ok((amount, denom.to_string()))
}

pub fn addr(s: &str) -> Result<Address> {
    Address::parse(s).map_err(|e| anyhow!("{e}"))
}

/// Each address checked, in its canonical form.
pub fn addrs(list: &[String]) -> Result<Vec<String>> {
    list.iter().map(|a| addr(a).map(|a| a.to_string())).collect()
}

pub fn denoms(list: &[String]) -> Result<Vec<String>> {
    list.iter().map(|d| aegis_app::types::validate_denom(d).map(|_| d.clone()).map_err(|e| anyhow!("{d:?}: {e}"))).collect()
}

/// A fraction from 0 to 1 written in decimal ("0.5", "1", "0.000000000000000001")
/// as a WAD integer (10^18 = 1), exactly: at most 18 decimals, nothing above 1.
pub fn parse_wad_fraction(s: &str) -> Result<u128> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let all_digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !all_digits(int) || !all_digits(frac) || (s.contains('.') && frac.is_empty()) {
        bail!("{s:?} is not a decimal fraction: write e.g. 0.5, 0.25 or 1");
    }
    if frac.len() > 18 {
        bail!("{s:?} has {} decimals; at most 18 (the smallest step is 0.000000000000000001)", frac.len());
    }
    let above_one = || anyhow!("{s:?} is above 1: a fraction is between 0 and 1");
    let whole = match int.trim_start_matches('0') {
        "" => 0,
        "1" => 1,
        _ => return Err(above_one()),
    };
    let frac: u128 = format!("{frac:0<18}").parse().expect("18 digits fit u128");
    let wad = whole * WAD + frac;
    if wad > WAD {
        return Err(above_one());
    }
    Ok(wad)
}

/// How commands print their results (`--output`, env `AEGIS_OUTPUT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Pretty JSON, field names as in the protos (for scripts).
    #[default]
    Json,
    /// YAML-like text with raw values annotated (WAD as decimals, shares with
    /// their token value, Unix times as dates).
    Text,
}

static OUTPUT: std::sync::OnceLock<Output> = std::sync::OnceLock::new();

/// Set once, from the parsed command line, before any command prints.
pub fn set_output(o: Output) {
    let _ = OUTPUT.set(o);
}

pub fn output() -> Output {
    OUTPUT.get().copied().unwrap_or_default()
}

/// Print a command's result in the chosen `--output` format.
pub fn print_json(v: serde_json::Value) {
    match output() {
        Output::Json => println!("{}", serde_json::to_string_pretty(&v).expect("json")),
        Output::Text => print!("{}", render::text::to_text(&v)),
    }
}

pub async fn run_tx(tx: &TxArgs, home: &Path, msgs: impl FnOnce(&aegis_app::signer::Signer) -> Vec<cosmrs::Any>) -> Result<()> {
    let signer = keys::Keyring::open(home).signer(&tx.from)?;
    let c = client::GrpcClient::connect(&tx.node.grpc).await?;
    let msgs = msgs(&signer);
    submit(tx, &c, &signer, msgs).await
}

/// Sign, broadcast and (unless --no-wait) wait for the block; print the
/// result with the decoded message responses.
pub async fn submit(tx: &TxArgs, c: &client::GrpcClient, signer: &aegis_app::signer::Signer, msgs: Vec<cosmrs::Any>) -> Result<()> {
    let gas_price = MinGasPrice::parse(&tx.gas_prices).map_err(|e| anyhow!("--gas-prices: {e}"))?;
    let wait = (!tx.no_wait).then_some(Duration::from_secs(30));
    let r = c.sign_and_broadcast(signer, msgs, tx.gas, &gas_price, &tx.memo, wait).await?;
    if r.height == 0 {
        // CheckTx's answer: rejected, or accepted with --no-wait.
        print_json(serde_json::json!({"txhash": r.txhash, "code": r.code, "codespace": r.codespace, "raw_log": r.raw_log}));
        if r.code != 0 {
            bail!("rejected by CheckTx: {} (code {} in {})", r.raw_log, r.code, r.codespace);
        }
        return Ok(());
    }
    let responses: Vec<_> = client::msg_responses(&r)?.iter().map(render::msg_response).collect();
    print_json(serde_json::json!({
        "txhash": r.txhash, "height": r.height, "code": r.code, "codespace": r.codespace,
        "raw_log": r.raw_log, "gas_wanted": r.gas_wanted, "gas_used": r.gas_used, "responses": responses,
    }));
    if r.code != 0 {
        bail!("tx failed: {} (code {} in {})", r.raw_log, r.code, r.codespace);
    }
    Ok(())
}

/// Every item of a paginated query, fetched 100 at a time: `fetch` sends
/// one request for a page and returns its items and page response.
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>>
where
    F: FnMut(Option<PageRequest>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<PageResponse>), tonic::Status>>,
{
    let (mut all, mut key) = (vec![], vec![]);
    loop {
        let (items, page) = fetch(Some(PageRequest { key: key.clone(), limit: 100, ..Default::default() })).await?;
        all.extend(items);
        key = page.map(|p| p.next_key).unwrap_or_default();
        if key.is_empty() {
            return Ok(all);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_become_exact_wad_integers() {
        for (text, wad) in [
            ("1", WAD),
            ("1.0", WAD),
            ("01.000000000000000000", WAD),
            ("0", 0),
            ("0.0", 0),
            ("0.5", 500_000_000_000_000_000),
            ("0.25", 250_000_000_000_000_000),
            ("0.333333333333333333", 333_333_333_333_333_333),
            ("0.000000000000000001", 1),
            ("0.999999999999999999", WAD - 1),
        ] {
            assert_eq!(parse_wad_fraction(text).unwrap(), wad, "{text}");
        }
    }

    #[test]
    fn fractions_above_one_or_malformed_are_rejected_with_the_reason() {
        for (text, reason) in [
            ("1.000000000000000001", "above 1"),
            ("2", "above 1"),
            ("10", "above 1"),
            ("340282366920938463463374607431768211456", "above 1"),
            ("0.0000000000000000001", "at most 18"),
            ("0.5000000000000000000", "at most 18"),
            ("", "not a decimal fraction"),
            (".5", "not a decimal fraction"),
            ("5.", "not a decimal fraction"),
            ("-0.5", "not a decimal fraction"),
            ("+0.5", "not a decimal fraction"),
            ("0,5", "not a decimal fraction"),
            ("1e-1", "not a decimal fraction"),
            (" 0.5", "not a decimal fraction"),
            ("0.5.1", "not a decimal fraction"),
            ("50%", "not a decimal fraction"),
        ] {
            let err = parse_wad_fraction(text).unwrap_err().to_string();
            assert!(err.contains(reason), "{text:?}: {err}");
        }
    }
}
