//! What every module's commands share: the node and transaction flags, the
//! sign-broadcast-print path, pagination, JSON output and argument parsers.

use std::path::Path;
use std::time::Duration;

use aegis_app::math::WAD;
use aegis_app::types::Address;
use aegis_node::client::FeeSpec;
use aegis_node::{client, keys, render, txdoc};
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxResponse;
use anyhow::{anyhow, bail, Result};
use clap::Args;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};

#[derive(Args, Clone)]
pub struct NodeArgs {
    /// gRPC endpoint of a node (default: the home's client.toml `grpc`, else what `aegisd init` listens on).
    #[arg(long, env = "AEGIS_GRPC", default_value = "http://127.0.0.1:26659")]
    pub grpc: String,
}

/// The flags of every `aegisd tx <module> ...` command, as the Cosmos SDK
/// names them.
#[derive(Args, Clone)]
pub struct TxArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// Signing key name in the keyring; with --generate-only also a bech32 address.
    #[arg(long)]
    pub from: String,
    /// Gas limit: "auto" simulates and multiplies by --gas-adjustment; or a number.
    #[arg(long, default_value = "auto")]
    pub gas: client::Gas,
    /// Factor applied to the simulated gas with --gas auto.
    #[arg(long, default_value = "1.3")]
    pub gas_adjustment: client::GasAdjustment,
    /// Price per gas; the fee is gas limit x price, rounded up. The chain takes fees in uaegis only.
    #[arg(long, default_value = "0.025uaegis")]
    pub gas_prices: String,
    /// Exact fee (e.g. 5000uaegis) instead of --gas-prices.
    #[arg(long, conflicts_with = "gas_prices")]
    pub fees: Option<String>,
    /// Chain id to sign for; checked against the node's (required with --offline).
    #[arg(long, env = "AEGIS_CHAIN_ID")]
    pub chain_id: Option<String>,
    /// Note stored in the transaction.
    #[arg(long, visible_alias = "note", default_value = "")]
    pub memo: String,
    /// Block height after which the tx is invalid (0: none).
    #[arg(long, default_value_t = 0)]
    pub timeout_height: u64,
    /// Print the unsigned tx as JSON (for `tx sign`); --from may be an address.
    #[arg(long, conflicts_with = "dry_run")]
    pub generate_only: bool,
    /// Use no network: needs --chain-id, --account-number, --sequence and --gas N; prints the signed tx as JSON.
    #[arg(long, conflicts_with = "dry_run")]
    pub offline: bool,
    /// Account number to sign with (default: the node's).
    #[arg(long)]
    pub account_number: Option<u64>,
    /// Sequence to sign with (default: the node's, counting the txs its mempool holds).
    #[arg(long)]
    pub sequence: Option<u64>,
    /// Simulate and print the gas estimate; broadcast nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Accepted for compatibility: aegisd never asks for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// sync: wait for CheckTx (and, unless --no-wait, the block); async: return the hash at once.
    #[arg(long, value_enum, default_value = "sync")]
    pub broadcast_mode: BroadcastModeArg,
    /// Return after CheckTx instead of waiting for the block.
    #[arg(long)]
    pub no_wait: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BroadcastModeArg {
    Sync,
    Async,
}

/// Who sends a tx: its address, and its key unless --generate-only named
/// an address with no key in the keyring.
pub struct Sender {
    pub address: Address,
    signer: Option<aegis_app::signer::Signer>,
}

impl Sender {
    fn resolve(home: &Path, from: &str, generate_only: bool) -> Result<Self> {
        if generate_only {
            if let Ok(address) = Address::parse(from) {
                return Ok(Sender { address, signer: None });
            }
        }
        let signer = keys::Keyring::open(home).signer(from)?;
        Ok(Sender { address: signer.address, signer: Some(signer) })
    }

    /// A bank `MsgSend` from this sender.
    pub fn msg_send(&self, to: &Address, coins: &[aegis_app::types::Coin]) -> cosmrs::Any {
        let msg = cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: self.address.to_string(),
            to_address: to.to_string(),
            amount: coins.iter().map(aegis_app::types::Coin::to_proto).collect(),
        };
        aegis_app::signer::pack(aegis_app::bank::msgs::MSG_SEND_URL, &msg)
    }
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

pub async fn run_tx(tx: &TxArgs, home: &Path, msgs: impl FnOnce(&Sender) -> Vec<cosmrs::Any>) -> Result<()> {
    FeeSpec::parse(tx.fees.as_deref(), &tx.gas_prices)?;
    let sender = Sender::resolve(home, &tx.from, tx.generate_only)?;
    let c = match tx.offline {
        true => None,
        false => Some(client::GrpcClient::connect(&tx.node.grpc).await?),
    };
    let msgs = msgs(&sender);
    let r = send(tx, c.as_ref(), &sender.address, sender.signer.as_ref(), msgs).await?;
    print_committed(r)
}

/// Sign, broadcast and (unless --no-wait) wait for the block; print the
/// result with the decoded message responses and events.
pub async fn submit(tx: &TxArgs, c: &client::GrpcClient, signer: &aegis_app::signer::Signer, msgs: Vec<cosmrs::Any>) -> Result<()> {
    let r = send(tx, (!tx.offline).then_some(c), &signer.address, Some(signer), msgs).await?;
    print_committed(r)
}

/// As [`submit`], for commands with their own output: the committed
/// result is returned, not printed (a failed one is an error). None when
/// the flags asked for no committed result (--generate-only, --dry-run,
/// --offline, --no-wait, async), whose output is printed as usual.
pub async fn submit_quiet(tx: &TxArgs, c: &client::GrpcClient, signer: &aegis_app::signer::Signer, msgs: Vec<cosmrs::Any>) -> Result<Option<TxResponse>> {
    match send(tx, (!tx.offline).then_some(c), &signer.address, Some(signer), msgs).await? {
        Some(r) => check_committed(&r).map(|_| Some(r)),
        None => Ok(None),
    }
}

fn print_committed(r: Option<TxResponse>) -> Result<()> {
    if let Some(r) = r {
        print_json(tx_result(&r, None)?);
        check_committed(&r)?;
    }
    Ok(())
}

fn check_committed(r: &TxResponse) -> Result<()> {
    if r.code != 0 {
        bail!("tx {} failed in block {}: {} (codespace {} code {})", r.txhash, r.height, r.raw_log, r.codespace, r.code);
    }
    Ok(())
}

/// The flags that say what a signature commits to besides the tx.
pub struct SigningFlags<'a> {
    pub chain_id: &'a Option<String>,
    pub account_number: Option<u64>,
    pub sequence: Option<u64>,
    pub grpc: &'a str,
}

/// The chain id, account number and sequence to sign with: the flags',
/// checked against the node's; the node's (its next sequence counts the
/// txs its mempool holds) where no flag is given.
pub async fn signing_account(tx: &SigningFlags<'_>, c: Option<&client::GrpcClient>, address: &Address) -> Result<(String, u64, u64)> {
    let Some(c) = c else {
        let missing: Vec<&str> = [("--chain-id", tx.chain_id.is_none()), ("--account-number", tx.account_number.is_none()), ("--sequence", tx.sequence.is_none())]
            .into_iter()
            .filter_map(|(f, m)| m.then_some(f))
            .collect();
        if !missing.is_empty() {
            bail!("--offline signs with no node to ask: give {}", missing.join(", "));
        }
        return Ok((tx.chain_id.clone().unwrap_or_default(), tx.account_number.unwrap_or_default(), tx.sequence.unwrap_or_default()));
    };
    let chain_id = c.chain_id().await?;
    if let Some(want) = &tx.chain_id {
        if *want != chain_id {
            bail!("--chain-id {want:?} does not match the node's chain id {chain_id:?} (at {})", tx.grpc);
        }
    }
    let (number, sequence) = match (tx.account_number, tx.sequence) {
        (Some(n), Some(s)) => (n, s),
        _ => c.next_sequence(address).await?.ok_or_else(|| anyhow!("account {address} does not exist on chain {chain_id} (fund it first)"))?,
    };
    Ok((chain_id, tx.account_number.unwrap_or(number), tx.sequence.unwrap_or(sequence)))
}

/// Build, sign and send as the flags say. Returns the committed result
/// (unprinted, code unchecked) when there is one; what the flags ask for
/// instead (a gas estimate, a JSON tx, CheckTx's answer) is printed here.
async fn send(
    tx: &TxArgs,
    c: Option<&client::GrpcClient>,
    address: &Address,
    signer: Option<&aegis_app::signer::Signer>,
    msgs: Vec<cosmrs::Any>,
) -> Result<Option<TxResponse>> {
    let fee = FeeSpec::parse(tx.fees.as_deref(), &tx.gas_prices)?;
    if tx.offline && tx.gas == client::Gas::Auto {
        bail!("--offline cannot simulate the gas: give --gas N");
    }
    let flags = SigningFlags { chain_id: &tx.chain_id, account_number: tx.account_number, sequence: tx.sequence, grpc: &tx.node.grpc };
    let (chain_id, account_number, sequence) = match (tx.generate_only, c) {
        // An unsigned tx offline commits to no account yet (`tx sign` does).
        (true, None) => (String::new(), 0, 0),
        _ => signing_account(&flags, c, address).await?,
    };
    let mut doc = txdoc::unsigned(msgs, &tx.memo, tx.timeout_height, 0, 0);
    let gas_limit = match (tx.gas, c) {
        (client::Gas::Limit(n), _) if !tx.dry_run => n,
        (_, Some(c)) => {
            // Simulate with the fee that will be paid when it is fixed; else
            // with none (the ante charges what moving the fee costs).
            txdoc::set_fee(&mut doc, if let FeeSpec::Fixed(a) = fee { a } else { 0 }, 0);
            let used = c.simulate(txdoc::simulation_bytes(&doc, signer.map(|s| s.public_key()), sequence)).await?;
            let limit = tx.gas_adjustment.apply(used);
            if tx.dry_run {
                print_json(serde_json::json!({"gas_used": used.to_string(), "gas_estimate": limit.to_string()}));
                return Ok(None);
            }
            limit
        }
        (_, None) => unreachable!("--offline conflicts with --dry-run and needs --gas N"),
    };
    txdoc::set_fee(&mut doc, fee.amount(gas_limit), gas_limit);
    if tx.generate_only {
        print_json(txdoc::to_json(&doc)?);
        return Ok(None);
    }
    let signer = signer.ok_or_else(|| anyhow!("--from {} is an address: only --generate-only works without a key", tx.from))?;
    let signed = txdoc::sign(doc, signer, &chain_id, account_number, sequence)?;
    match c {
        None => {
            print_json(txdoc::to_json(&signed)?);
            Ok(None)
        }
        Some(c) => broadcast_raw(c, txdoc::raw(&signed), tx.broadcast_mode, !tx.no_wait).await,
    }
}

/// Broadcast signed `TxRaw` bytes and print what is known: the hash
/// (async), CheckTx's answer (sync with `wait` false or a refusal), or the
/// committed result. A non-zero code is an error naming codespace and code.
pub async fn broadcast(c: &client::GrpcClient, bytes: Vec<u8>, mode: BroadcastModeArg, wait: bool) -> Result<()> {
    let r = broadcast_raw(c, bytes, mode, wait).await?;
    print_committed(r)
}

/// Broadcast; print and return None unless there is a committed result to return.
async fn broadcast_raw(c: &client::GrpcClient, bytes: Vec<u8>, mode: BroadcastModeArg, wait: bool) -> Result<Option<TxResponse>> {
    let mode_pb = match mode {
        BroadcastModeArg::Sync => client::BroadcastMode::Sync,
        BroadcastModeArg::Async => client::BroadcastMode::Async,
    };
    let r = c.broadcast_mode(bytes, mode_pb).await?;
    if mode == BroadcastModeArg::Async || r.code != 0 || !wait {
        print_json(serde_json::json!({"txhash": r.txhash, "code": r.code, "codespace": r.codespace, "raw_log": r.raw_log}));
        if r.code != 0 {
            bail!("rejected by CheckTx: {} (codespace {} code {})", r.raw_log, r.codespace, r.code);
        }
        return Ok(None);
    }
    Ok(Some(c.wait_for_tx(&r.txhash, Duration::from_secs(30)).await?))
}

/// A committed tx as JSON: hash, height, code, gas, events (type and
/// attributes), decoded message responses and, when given, the tx itself.
pub fn tx_result(r: &TxResponse, tx: Option<&cosmos_sdk_proto::cosmos::tx::v1beta1::Tx>) -> Result<serde_json::Value> {
    let responses: Vec<_> = client::msg_responses(r)?.iter().map(render::msg_response).collect();
    let events: Vec<_> = r
        .events
        .iter()
        .map(|e| {
            let attributes: Vec<_> = e.attributes.iter().map(|a| serde_json::json!({"key": a.key, "value": a.value})).collect();
            serde_json::json!({"type": e.r#type, "attributes": attributes})
        })
        .collect();
    let mut v = serde_json::json!({
        "txhash": r.txhash, "height": r.height, "code": r.code, "codespace": r.codespace,
        "raw_log": r.raw_log, "gas_wanted": r.gas_wanted, "gas_used": r.gas_used, "timestamp": r.timestamp,
        "responses": responses, "events": events,
    });
    if let Some(tx) = tx {
        v["tx"] = txdoc::to_json(tx)?;
    }
    Ok(v)
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
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        tx: TxArgs,
    }

    fn parse(args: &[&str]) -> Result<TxArgs, clap::Error> {
        Cmd::try_parse_from(std::iter::once("aegisd").chain(args.iter().copied())).map(|c| c.tx)
    }

    fn refused(args: &[&str]) -> clap::Error {
        parse(args).err().unwrap_or_else(|| panic!("{args:?} should be refused"))
    }

    #[test]
    fn tx_flags_parse_under_the_cosmos_sdk_names() {
        let t = parse(&["--from", "k", "--note", "hi", "--gas", "150000", "--gas-adjustment", "1.5", "--fees", "10uaegis", "-y"]).unwrap();
        assert_eq!((t.memo.as_str(), t.gas, t.fees.as_deref(), t.yes), ("hi", client::Gas::Limit(150_000), Some("10uaegis"), true));
        assert_eq!(t.gas_adjustment.apply(1000), 1500);
        let t = parse(&["--from", "k", "--broadcast-mode", "async", "--timeout-height", "90", "--sequence", "4", "--account-number", "2"]).unwrap();
        assert_eq!((t.broadcast_mode, t.timeout_height, t.sequence, t.account_number), (BroadcastModeArg::Async, 90, Some(4), Some(2)));
        let d = parse(&["--from", "k"]).unwrap();
        assert_eq!((d.gas, d.gas_adjustment.apply(1000), d.gas_prices.as_str(), d.memo.as_str()), (client::Gas::Auto, 1300, "0.025uaegis", ""));
        assert_eq!((d.broadcast_mode, d.no_wait, d.generate_only, d.offline, d.dry_run), (BroadcastModeArg::Sync, false, false, false, false));
    }

    #[test]
    fn conflicting_or_malformed_tx_flags_are_refused() {
        let e = refused(&["--from", "k", "--fees", "1uaegis", "--gas-prices", "0.1uaegis"]);
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        let e = refused(&["--from", "k", "--generate-only", "--dry-run"]);
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        let e = refused(&["--from", "k", "--gas", "lots"]).to_string();
        assert!(e.contains("\"lots\" is neither \"auto\" nor a gas limit"), "{e}");
        let e = refused(&["--from", "k", "--gas-adjustment", "0"]).to_string();
        assert!(e.contains("gas adjustment \"0\" must be above 0"), "{e}");
        let e = refused(&["--from", "k", "--broadcast-mode", "block"]);
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
    }

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
