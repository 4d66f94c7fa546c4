//! End-to-end slashing on a real 4-validator devnet. Downtime: a validator
//! whose processes are stopped is jailed, loses 1% of its native magnitude
//! and leaves CometBFT's set in the jailing block; restarted and unjailed it
//! returns at the next epoch end. Double signing: a twin of validator 3
//! (`scripts/devnet.sh twin 3`, same consensus key) makes CometBFT report
//! duplicate votes; validator 3 loses 5%, is tombstoned and never returns,
//! and the other three keep the chain going.
//!
//! Downtime comes first: once validator 3 is gone, stopping another
//! validator would leave less than 2/3 of the power online.

mod common;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use aegis_app::auth::params::MinGasPrice;
use aegis_app::math::WAD;
use aegis_app::signer::{pack, Signer};
use aegis_node::client::GrpcClient;
use aegis_node::testnet::{
    DEVNET_BLOCKS_PER_EPOCH, DEVNET_DOWNTIME_JAIL_SECONDS, DEVNET_SLASH_FRACTION_DOUBLE_SIGN, DEVNET_SLASH_FRACTION_DOWNTIME, SELF_DELEGATION,
    STAKER_DELEGATION,
};
use aegis_proto::aegis::delegation::v1::{OperatorStake, QueryOperatorRequest};
use aegis_proto::aegis::slashing::v1::query_client::QueryClient as SlashingClient;
use aegis_proto::aegis::slashing::v1::{MsgUnjail, QuerySigningInfoRequest, SigningInfo};
use common::{repo_root, Devnet};
use tendermint_rpc::Client;

const BASE_PORT: u16 = 28100;
const POWER_REDUCTION: u128 = 1_000_000;
const UNJAIL_TYPE_URL: &str = "/aegis.slashing.v1.MsgUnjail";

/// A genesis validator: its operator (= its account) and CometBFT address.
struct Val {
    moniker: String,
    operator: String,
    /// Upper-case hex of sha256(ed25519 key)[..20], as `/validators` shows it.
    address: String,
    mnemonic: String,
}

fn validators(net: &Devnet) -> Vec<Val> {
    let genesis: serde_json::Value = serde_json::from_slice(&std::fs::read(net.nodes[0].home.join("config/genesis.json")).unwrap()).unwrap();
    let accounts: BTreeMap<&str, (&str, &str)> = net.accounts.iter().map(|(n, a, m)| (n.as_str(), (a.as_str(), m.as_str()))).collect();
    genesis["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let moniker = v["name"].as_str().unwrap().to_string();
            let (operator, mnemonic) = accounts[moniker.as_str()];
            Val { operator: operator.into(), address: v["address"].as_str().unwrap().into(), mnemonic: mnemonic.into(), moniker }
        })
        .collect()
}

/// CometBFT's validator set at `height` (or the latest): address -> power.
fn cometbft_set(net: &Devnet, height: Option<u64>) -> BTreeMap<String, i64> {
    let q = height.map(|h| format!("height={h}&")).unwrap_or_default();
    let r = net.rpc_json(0, &format!("validators?{q}per_page=100"));
    r["validators"].as_array().unwrap().iter().map(|v| (v["address"].as_str().unwrap().to_string(), v["voting_power"].as_str().unwrap().parse().unwrap())).collect()
}

/// The expected set: (validator, power) pairs.
fn set_of(entries: &[(&Val, i64)]) -> BTreeMap<String, i64> {
    entries.iter().map(|(v, p)| (v.address.clone(), *p)).collect()
}

fn at_height<T>(msg: T, height: Option<u64>) -> tonic::Request<T> {
    let mut r = tonic::Request::new(msg);
    if let Some(h) = height {
        r.metadata_mut().insert(aegis_app::query::HEIGHT_METADATA, h.to_string().parse().unwrap());
    }
    r
}

async fn signing_info(g: &GrpcClient, v: &Val, height: Option<u64>) -> SigningInfo {
    SlashingClient::new(g.channel())
        .signing_info(at_height(QuerySigningInfoRequest { operator: v.operator.clone() }, height))
        .await
        .unwrap_or_else(|s| panic!("SigningInfo of {} at {height:?}: {s}", v.moniker))
        .into_inner()
        .info
        .unwrap_or_else(|| panic!("SigningInfo of {}: empty response", v.moniker))
}

/// The operator's native (uaegis) stake: tokens and max magnitude.
async fn native_stake(g: &GrpcClient, v: &Val, height: Option<u64>) -> OperatorStake {
    let op = g
        .delegation()
        .operator(at_height(QueryOperatorRequest { operator: v.operator.clone() }, height))
        .await
        .unwrap_or_else(|s| panic!("Operator {}: {s}", v.moniker))
        .into_inner()
        .operator
        .unwrap();
    op.stake.into_iter().find(|s| s.denom == "uaegis").unwrap_or_else(|| panic!("{} has no uaegis stake", v.moniker))
}

/// Poll `f` every 300 ms until it returns `Some`, for at most `timeout`.
async fn poll<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(t) = f().await {
            return t;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The first height at or before `seen` (and after `from`) whose state
/// satisfies `pred`, given that `seen`'s does: where a change happened.
async fn first_height<F, Fut>(from: u64, seen: u64, mut pred: F) -> u64
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = bool>,
{
    let mut h = seen;
    while h > from + 1 && pred(h - 1).await {
        h -= 1;
    }
    h
}

/// The newest height whose state node 0's app has surely committed: CometBFT
/// stores block `h` (and reports it as the latest) before the app commits it.
async fn committed_height(net: &Devnet) -> u64 {
    net.height(0).await.saturating_sub(1)
}

async fn latest_block_time(net: &Devnet) -> i64 {
    net.rpc(0).status().await.unwrap().sync_info.latest_block_time.unix_timestamp()
}

fn mul_wad(x: u128, wad: u128) -> u128 {
    x * wad / WAD
}

/// `scripts/devnet.sh ARGS --dir DIR`, which must succeed; its output.
fn devnet_script(args: &[&str], dir: &Path) -> String {
    let (ok, text) = common::devnet_script(args, dir);
    assert!(ok, "devnet.sh {args:?} failed:\n{text}");
    text
}

/// Stops the twin (`devnet.sh down` stops only what the script started)
/// before the devnet itself goes.
struct TwinDown(PathBuf);

impl Drop for TwinDown {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(repo_root().join("scripts/devnet.sh")).args(["down", "--dir"]).arg(&self.0).output();
    }
}

/// Blocks between `from` and `to` (inclusive) carrying duplicate-vote evidence against `v`.
fn evidence_heights(net: &Devnet, v: &Val, from: u64, to: u64) -> Vec<u64> {
    (from..=to)
        .filter(|h| {
            let b = net.rpc_json(0, &format!("block?height={h}"));
            b["block"]["evidence"]["evidence"].as_array().is_some_and(|evs| {
                evs.iter().any(|e| e["type"] == "tendermint/DuplicateVoteEvidence" && e["value"]["vote_a"]["validator_address"] == v.address.as_str())
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downtime_jails_and_unjail_returns_at_epoch_end_then_a_double_signer_is_tombstoned() {
    let started = Instant::now();
    let mut net = Devnet::start(4, BASE_PORT).await;
    let vals = validators(&net);
    let (val0, val1, val2, val3) = (&vals[0], &vals[1], &vals[2], &vals[3]);
    assert_eq!([&val0.moniker, &val1.moniker, &val2.moniker, &val3.moniker], ["val0", "val1", "val2", "val3"]);
    // Staker i delegates to validator i in genesis; val3 has none.
    let val2_tokens = SELF_DELEGATION + STAKER_DELEGATION;
    assert_eq!(cometbft_set(&net, Some(1)), set_of(&[(val0, 110_000), (val1, 110_000), (val2, 110_000), (val3, 100_000)]));
    let g = net.grpc(0).await;
    let gas_price = MinGasPrice::parse("0.025uaegis").unwrap();

    // ---- Downtime: stop validator 2.
    net.kill_cometbft(2);
    net.kill_aegisd(2);
    let stopped_at = net.height(0).await;
    eprintln!("[{:?}] val2 stopped at height {stopped_at}", started.elapsed());
    let jailed_seen = poll("val2 to be jailed (SigningInfo.jailed)", Duration::from_secs(120), || async {
        let h = committed_height(&net).await;
        signing_info(&g, val2, Some(h)).await.jailed.then_some(h)
    })
    .await;
    let jailed_at = first_height(stopped_at, jailed_seen, |h| {
        let g = &g;
        async move { signing_info(g, val2, Some(h)).await.jailed }
    })
    .await;
    eprintln!("[{:?}] val2 jailed at height {jailed_at}", started.elapsed());
    let info = signing_info(&g, val2, Some(jailed_at)).await;
    assert!(info.jailed && !info.tombstoned, "{info:?}");
    assert_eq!(info.consensus_address.to_uppercase(), val2.address);
    assert_eq!((info.missed_blocks_counter, info.index_offset), (0, 0), "jailing resets the window: {info:?}");
    assert!(info.jailed_until > 0, "{info:?}");
    let jail_block_time = net.rpc(0).block(u32::try_from(jailed_at).unwrap()).await.unwrap().block.header.time.unix_timestamp();
    assert_eq!(info.jailed_until, jail_block_time + DEVNET_DOWNTIME_JAIL_SECONDS as i64, "jailed until the jailing block's time + 10 s");
    let not_jailed = signing_info(&g, val2, Some(jailed_at - 1)).await;
    assert!(!not_jailed.jailed, "{not_jailed:?}");

    // 1% of the native magnitude, and so of its tokens, in the jailing block.
    let stake = native_stake(&g, val2, Some(jailed_at)).await;
    assert_eq!(stake.max_magnitude, "990000000000000000");
    assert_eq!(stake.max_magnitude, (WAD - DEVNET_SLASH_FRACTION_DOWNTIME).to_string());
    assert_eq!(native_stake(&g, val2, Some(jailed_at - 1)).await.max_magnitude, WAD.to_string());
    let slashed_tokens: u128 = stake.tokens.parse().unwrap();
    assert_eq!(slashed_tokens, mul_wad(val2_tokens, WAD - DEVNET_SLASH_FRACTION_DOWNTIME), "{stake:?}");
    for v in [val0, val1, val3] {
        assert_eq!(native_stake(&g, v, Some(jailed_at)).await.max_magnitude, WAD.to_string(), "{} is untouched", v.moniker);
    }

    // Out of CometBFT's set from the jailing block's updates (height + 2), the others unchanged.
    net.wait_height(0, jailed_at + 2, Duration::from_secs(30)).await;
    assert_eq!(cometbft_set(&net, Some(jailed_at + 1)), set_of(&[(val0, 110_000), (val1, 110_000), (val2, 110_000), (val3, 100_000)]));
    let without_val2 = set_of(&[(val0, 110_000), (val1, 110_000), (val3, 100_000)]);
    assert_eq!(cometbft_set(&net, Some(jailed_at + 2)), without_val2, "val2 must leave the set two heights after its jailing block");
    assert_eq!(cometbft_set(&net, None), without_val2);

    // Unjailing before the jail time is refused.
    let val2_signer = Signer::from_mnemonic(&val2.mnemonic).unwrap();
    let unjail = || vec![pack(UNJAIL_TYPE_URL, &MsgUnjail { operator: val2.operator.clone() })];
    if latest_block_time(&net).await + 3 < info.jailed_until {
        match g.sign_and_broadcast(&val2_signer, unjail(), None, &gas_price, "", Some(Duration::from_secs(30))).await {
            Ok(r) => assert_ne!(r.code, 0, "an unjail before jailed_until must fail: {r:?}"),
            Err(e) => assert!(e.to_string().contains("jail"), "early unjail: {e:#}"),
        }
    } else {
        eprintln!("note: too close to jailed_until to try an early unjail");
    }

    // Restart val2, let it catch up, wait out the jail, unjail.
    net.start_aegisd(2);
    net.start_cometbft(2);
    let h = net.height(0).await;
    net.wait_height(2, h, Duration::from_secs(90)).await;
    eprintln!("[{:?}] val2 restarted and caught up at height {h}", started.elapsed());
    poll("block time to pass val2's jailed_until", Duration::from_secs(60), || async { (latest_block_time(&net).await >= info.jailed_until).then_some(()) }).await;
    let r = g.sign_and_broadcast(&val2_signer, unjail(), None, &gas_price, "", Some(Duration::from_secs(30))).await.expect("unjail tx");
    assert_eq!(r.code, 0, "unjail failed: {}", r.raw_log);
    let tx_height = u64::try_from(r.height).unwrap();
    let info = signing_info(&g, val2, Some(tx_height)).await;
    assert!(!info.jailed && !info.tombstoned, "{info:?}");
    eprintln!("[{:?}] val2 unjailed at height {tx_height}", started.elapsed());

    // Back at the first epoch end at or after the unjail (CometBFT: + 2), with its slashed power.
    let epoch_end = tx_height.div_ceil(DEVNET_BLOCKS_PER_EPOCH) * DEVNET_BLOCKS_PER_EPOCH;
    net.wait_height(0, epoch_end + 2, Duration::from_secs(60)).await;
    for h in tx_height..=epoch_end + 1 {
        assert_eq!(cometbft_set(&net, Some(h)), without_val2, "val2 must not be back before epoch end {epoch_end} (+2), height {h}");
    }
    let stake = native_stake(&g, val2, Some(epoch_end)).await;
    let tokens: u128 = stake.tokens.parse().unwrap();
    assert_eq!(tokens, slashed_tokens, "{stake:?}");
    let val2_power = i64::try_from(tokens / POWER_REDUCTION).unwrap();
    assert_eq!(val2_power, 108_900);
    let all_four = set_of(&[(val0, 110_000), (val1, 110_000), (val2, val2_power), (val3, 100_000)]);
    assert_eq!(cometbft_set(&net, Some(epoch_end + 2)), all_four, "val2 back at epoch end {epoch_end} (+2)");
    eprintln!("[{:?}] val2 back in the set at height {}", started.elapsed(), epoch_end + 2);

    // ---- Double signing: a twin of validator 3.
    let twin_from = net.height(0).await;
    let _twin = TwinDown(net.dir.path().to_path_buf());
    let out = devnet_script(&["twin", "3"], net.dir.path());
    assert!(out.contains("twin of val3 is up"), "{out}");
    let twin_started = Instant::now();
    eprintln!("[{:?}] twin of val3 up at height {}", started.elapsed(), net.height(0).await);
    let tombstoned_seen = poll("val3 to be tombstoned (SigningInfo.tombstoned)", Duration::from_secs(90), || async {
        let h = committed_height(&net).await;
        signing_info(&g, val3, Some(h)).await.tombstoned.then_some(h)
    })
    .await;
    let tombstoned_at = first_height(twin_from, tombstoned_seen, |h| {
        let g = &g;
        async move { signing_info(g, val3, Some(h)).await.tombstoned }
    })
    .await;
    eprintln!("[{:?}] val3 tombstoned at height {tombstoned_at}, {:?} after the twin started", started.elapsed(), twin_started.elapsed());
    let info = signing_info(&g, val3, Some(tombstoned_at)).await;
    assert!(info.tombstoned && info.jailed, "{info:?}");
    assert_eq!(info.consensus_address.to_uppercase(), val3.address);
    // The misbehavior arrives in the block that carries the evidence.
    let evidence = evidence_heights(&net, val3, twin_from, tombstoned_at);
    assert_eq!(evidence.first(), Some(&tombstoned_at), "duplicate-vote evidence against val3 in blocks {evidence:?}");

    let stake = native_stake(&g, val3, Some(tombstoned_at)).await;
    assert_eq!(stake.max_magnitude, "950000000000000000");
    assert_eq!(stake.max_magnitude, (WAD - DEVNET_SLASH_FRACTION_DOUBLE_SIGN).to_string());
    assert_eq!(stake.tokens, mul_wad(SELF_DELEGATION, WAD - DEVNET_SLASH_FRACTION_DOUBLE_SIGN).to_string());
    assert_eq!(native_stake(&g, val3, Some(tombstoned_at - 1)).await.max_magnitude, WAD.to_string());

    // Out of the set from the tombstoning block's updates on, and for good:
    // the chain goes on with three validators past the next epoch end.
    net.wait_height(0, tombstoned_at + 2, Duration::from_secs(30)).await;
    assert_eq!(cometbft_set(&net, Some(tombstoned_at + 1)), all_four);
    let three = set_of(&[(val0, 110_000), (val1, 110_000), (val2, val2_power)]);
    assert_eq!(cometbft_set(&net, Some(tombstoned_at + 2)), three, "val3 must leave the set two heights after the evidence block");
    let past_epoch = (tombstoned_at + 2).div_ceil(DEVNET_BLOCKS_PER_EPOCH) * DEVNET_BLOCKS_PER_EPOCH + 3;
    net.wait_height(0, past_epoch, Duration::from_secs(60)).await;
    for h in tombstoned_at + 2..=past_epoch {
        assert_eq!(cometbft_set(&net, Some(h)), three, "height {h}");
    }
    let commit = net.rpc_json(0, &format!("commit?height={past_epoch}"));
    let signers: Vec<&str> = commit["signed_header"]["commit"]["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["block_id_flag"] == 2)
        .map(|s| s["validator_address"].as_str().unwrap())
        .collect();
    assert!(signers.len() >= 2 && signers.iter().all(|a| three.contains_key(*a)), "commit of {past_epoch} signed by {signers:?}");
    // Later evidence against the tombstoned validator slashes nothing more.
    assert_eq!(native_stake(&g, val3, None).await.max_magnitude, "950000000000000000");
    let info = signing_info(&g, val3, None).await;
    assert!(info.tombstoned && info.jailed, "{info:?}");
    // And it cannot unjail.
    let val3_signer = Signer::from_mnemonic(&val3.mnemonic).unwrap();
    let msg = vec![pack(UNJAIL_TYPE_URL, &MsgUnjail { operator: val3.operator.clone() })];
    match g.sign_and_broadcast(&val3_signer, msg, None, &gas_price, "", Some(Duration::from_secs(30))).await {
        Ok(r) => assert_ne!(r.code, 0, "a tombstoned validator's unjail must fail: {r:?}"),
        Err(e) => assert!(e.to_string().contains("tombstoned"), "unjail of a tombstoned validator: {e:#}"),
    }
    eprintln!("[{:?}] done", started.elapsed());
}
