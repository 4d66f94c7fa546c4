//! AVSs, allocations and slashing end to end through the `aegisd` CLI on a
//! real 4-validator devnet: the faucet registers an AVS and an operator set
//! it slashes for, validator 0's operator joins it and allocates half its
//! native stake, and a slash takes exactly its share of that allocation,
//! once per piece of evidence.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use aegis_node::testnet::{SELF_DELEGATION, STAKER_DELEGATION};
use common::{Devnet, AEGISD};
use serde_json::{json, Value};

const WAD: u128 = 1_000_000_000_000_000_000;

fn run(net: &Devnet, args: &[&str]) -> Output {
    Command::new(AEGISD).args(args).arg("--home").arg(&net.nodes[0].home).arg("--grpc").arg(&net.nodes[0].grpc).output().unwrap()
}

/// Run an `aegisd` client command against node 0 (whose keyring holds the
/// faucet, the stakers and val0); its JSON output.
fn aegisd(net: &Devnet, args: &[&str]) -> Value {
    let out = run(net, args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "aegisd {args:?} failed\nstdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("aegisd {args:?}: {e}: {stdout}"))
}

/// A tx through the CLI that must succeed; its result.
fn tx(net: &Devnet, args: &[&str]) -> Value {
    let r = aegisd(net, args);
    assert_eq!(r["code"], 0, "aegisd {args:?}: {r}");
    r
}

fn address_of(net: &Devnet, name: &str) -> String {
    net.accounts.iter().find(|a| a.0 == name).unwrap_or_else(|| panic!("no account {name} in endpoints.json")).1.clone()
}

fn u128_of(v: &Value) -> u128 {
    v.as_str().unwrap_or_else(|| panic!("{v} is not a decimal string")).parse().unwrap()
}

/// Unix time of block `height`'s header.
fn block_time(net: &Devnet, height: u64) -> i64 {
    let b = net.rpc_json(0, &format!("block?height={height}"));
    tendermint::Time::parse_from_rfc3339(b["block"]["header"]["time"].as_str().unwrap()).unwrap().unix_timestamp()
}

/// The operator's stake entry for `denom` from `query delegation operator`.
fn stake_of(net: &Devnet, operator: &str, denom: &str) -> Value {
    let op = aegisd(net, &["query", "delegation", "operator", operator]);
    op["operator"]["stake"].as_array().unwrap().iter().find(|s| s["denom"] == denom).unwrap_or_else(|| panic!("no {denom} stake: {op}")).clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_avs_slashes_half_of_what_validator_0_allocated_once_per_evidence() {
    let net = Devnet::start(4, 27900).await;
    let faucet = address_of(&net, "faucet");
    let val0 = address_of(&net, "val0");
    // val0's native stake: its self-delegation and staker0's.
    let val0_tokens = SELF_DELEGATION + STAKER_DELEGATION;
    let stake = stake_of(&net, &val0, "uaegis");
    assert_eq!((u128_of(&stake["tokens"]), u128_of(&stake["max_magnitude"])), (val0_tokens, WAD), "{stake}");

    let params = aegisd(&net, &["query", "avs", "params"]);
    let delay: i64 = params["params"]["default_allocation_delay_seconds"].as_str().unwrap().parse().unwrap();
    let slashing = aegisd(&net, &["query", "slashing", "params"]);
    assert!(u128_of(&slashing["params"]["max_slash_per_epoch"]) >= WAD / 4, "the per-epoch cap must allow this test's slash: {slashing}");

    // The faucet registers AVS 1 and operator set 1 over uaegis, slashed by itself, no veto committee.
    let r = tx(&net, &["tx", "avs", "register", "--metadata-uri", "https://avs.example/one.json", "--from", "faucet"]);
    assert_eq!(r["responses"][0], json!({"@type": "/aegis.avs.v1.MsgRegisterAvsResponse", "avs_id": "1"}), "{r}");
    let avs = aegisd(&net, &["query", "avs", "avs", "1"]);
    assert_eq!(
        avs["avs"],
        json!({"id": "1", "owner": faucet, "metadata_uri": "https://avs.example/one.json", "redistribution_recipient": "", "operator_set_count": 0})
    );
    tx(&net, &["tx", "avs", "create-operator-set", "1", "1", "--strategies", "uaegis", "--slasher", &faucet, "--from", "faucet"]);
    let set = aegisd(&net, &["query", "avs", "operator-set", "1", "1"]);
    assert_eq!(
        set["operator_set"],
        json!({
            "avs_id": "1", "id": 1, "strategies": ["uaegis"], "slasher": faucet, "veto_committee": [], "veto_threshold": 0,
            "veto_window_seconds": "0", "allowlist": [], "member_count": "0",
        })
    );
    assert_eq!(aegisd(&net, &["query", "avs", "avs", "1"])["avs"]["operator_set_count"], 1);

    // val0 joins the set and allocates half its uaegis.
    tx(&net, &["tx", "avs", "register-operator", "1", "1", "--from", "val0"]);
    let members = aegisd(&net, &["query", "avs", "members", "1", "1"]);
    assert_eq!(members["operators"], json!([val0]));
    assert_eq!(aegisd(&net, &["query", "avs", "operator-set", "1", "1"])["operator_set"]["member_count"], "1");
    let r = tx(&net, &["tx", "avs", "allocate", "--allocation", "1/1/uaegis=0.5", "--from", "val0"]);
    let effective_at = block_time(&net, r["height"].as_u64().unwrap()) + delay;

    let allocations = aegisd(&net, &["query", "avs", "allocations", &val0]);
    assert_eq!(allocations["allocation_delay_seconds"], delay.to_string(), "{allocations}");
    let a = &allocations["allocations"][0];
    assert_eq!(allocations["allocations"].as_array().unwrap().len(), 1, "{allocations}");
    assert_eq!((&a["avs_id"], &a["operator_set_id"], &a["strategy"]), (&json!("1"), &json!(1), &json!("uaegis")), "{allocations}");
    // Not yet in force (the devnet's delay is a few seconds; this query
    // follows the tx's block): the increase waits the delay from its block time.
    assert_eq!(
        (&a["magnitude"], &a["pending_magnitude"], &a["effective_at"], &a["allocated_tokens"]),
        (&json!("0"), &json!("500000000000000000"), &json!(effective_at.to_string()), &json!("0")),
        "{allocations}"
    );

    // After the delay the allocation counts.
    let deadline = Instant::now() + Duration::from_secs(delay as u64 + 60);
    let a = loop {
        let allocations = aegisd(&net, &["query", "avs", "allocations", &val0]);
        let a = allocations["allocations"][0].clone();
        if a["magnitude"] == "500000000000000000" {
            break a;
        }
        assert!(Instant::now() < deadline, "allocation not in force {delay} s after the tx: {allocations}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!((&a["slashable"], &a["pending_magnitude"], &a["effective_at"]), (&json!(true), &json!(""), &json!("0")), "{a}");
    assert_eq!(u128_of(&a["allocated_tokens"]), val0_tokens / 2, "{a}");

    // The slasher takes half of the allocation: a quarter of val0's uaegis.
    let evidence = "double-sign/val0/height-7";
    let slash_args =
        ["tx", "slashing", "slash", val0.as_str(), "1", "1", "--strategies", "uaegis", "--fraction", "0.5", "--description", "signed two blocks at height 7", "--evidence", evidence, "--from", "faucet"];
    let r = tx(&net, &slash_args);
    assert_eq!(
        r["responses"][0],
        json!({
            "@type": "/aegis.slashing.v1.MsgSlashOperatorResponse", "pending_slash_id": "0", "executable_at": "0",
            "slashed": [{"strategy": "uaegis", "magnitude": "250000000000000000", "tokens": (val0_tokens / 4).to_string()}],
        }),
        "{r}"
    );
    let stake = stake_of(&net, &val0, "uaegis");
    assert_eq!(stake["max_magnitude"], "750000000000000000", "{stake}");
    assert_eq!(u128_of(&stake["tokens"]), val0_tokens * 3 / 4, "{stake}");
    let risk = aegisd(&net, &["query", "avs", "operator-risk", &val0]);
    assert_eq!(risk["operator"], val0);
    assert_eq!(risk["allocations"].as_array().unwrap().len(), 1, "{risk}");
    assert_eq!(risk["allocations"][0]["magnitude"], "250000000000000000", "{risk}");
    assert_eq!(u128_of(&risk["allocations"][0]["allocated_tokens"]), val0_tokens / 4, "{risk}");
    let native = risk["strategies"].as_array().unwrap().iter().find(|s| s["strategy"] == "uaegis").unwrap_or_else(|| panic!("{risk}"));
    assert_eq!(native["max_magnitude"], "750000000000000000", "{risk}");

    // The same evidence again: refused (gas given, so the node's answer and not the simulation's is shown).
    let gas = (r["gas_used"].as_i64().unwrap() * 2).to_string();
    let mut again = slash_args.to_vec();
    again.extend(["--gas", gas.as_str()]);
    let out = run(&net, &again);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a second slash with the same evidence succeeded: {stdout}");
    let r: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr)));
    assert_ne!(r["code"], 0, "{r}");
    assert_eq!(r["codespace"], "slashing", "{r}");
    let log = r["raw_log"].as_str().unwrap();
    assert!(log.to_lowercase().contains("evidence") && log.contains(evidence), "the error should name the evidence: {log}");
    assert_eq!(stake_of(&net, &val0, "uaegis")["max_magnitude"], "750000000000000000", "nothing slashed twice");
}

/// `aegisd` with a home of its own and no node.
fn offline(home: &Path, args: &[&str]) -> Output {
    Command::new(AEGISD).args(args).arg("--home").arg(home).env_remove("AEGIS_GRPC").output().unwrap()
}

#[test]
fn every_avs_slashing_and_rewards_command_explains_itself() {
    let home = tempfile::tempdir().unwrap();
    for path in [
        "tx avs",
        "tx avs register",
        "tx avs update",
        "tx avs create-operator-set",
        "tx avs register-operator",
        "tx avs deregister-operator",
        "tx avs allocate",
        "tx avs set-allocation-delay",
        "tx slashing",
        "tx slashing slash",
        "tx slashing veto",
        "tx slashing execute",
        "tx slashing unjail",
        "tx rewards submit-avs-rewards",
        "tx rewards set-avs-commission",
        "query avs",
        "query avs params",
        "query avs avs",
        "query avs avss",
        "query avs operator-set",
        "query avs members",
        "query avs allocations",
        "query avs operator-risk",
        "query avs staker-exposure",
        "query slashing",
        "query slashing params",
        "query slashing pending-slash",
        "query slashing pending-slashes",
        "query slashing slash",
        "query slashing slashes",
        "query slashing signing-info",
        "query rewards submissions",
        "query rewards avs-commission",
    ] {
        let mut args: Vec<&str> = path.split(' ').collect();
        args.push("--help");
        let out = offline(home.path(), &args);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && help.contains("Usage:"), "{path} --help: {help}");
        // A description before the usage line.
        assert!(!help.starts_with("Usage:"), "{path} has no description:\n{help}");
    }
}

#[test]
fn bad_fractions_are_refused_before_anything_is_signed() {
    let home = tempfile::tempdir().unwrap();
    let out = offline(home.path(), &["tx", "avs", "allocate", "--allocation", "1/1/uaegis=1.5", "--from", "nobody"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("1/1/uaegis=1.5") && err.contains("above 1"), "{err}");
    let key = offline(home.path(), &["keys", "add", "operator"]);
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let op: Value = serde_json::from_slice(&key.stdout).unwrap();
    let op = op["address"].as_str().unwrap();
    let out = offline(home.path(), &["tx", "slashing", "slash", op, "1", "1", "--strategies", "uaegis", "--fraction", "0.1234567890123456789", "--description", "d", "--evidence", "e", "--from", "nobody"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--fraction") && err.contains("at most 18"), "{err}");
}

/// A tx through the CLI that must fail; its JSON result (gas given, so the
/// node answers rather than the simulation).
fn failing_tx(net: &Devnet, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["--gas", "400000"]);
    let out = run(net, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "aegisd {args:?} succeeded: {stdout}");
    let r: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr)));
    assert_ne!(r["code"], 0, "{r}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avs_owners_veto_committees_and_reward_payers_drive_every_other_command() {
    let net = Devnet::start(2, 28000).await;
    let [faucet, val0, staker0, staker1, staker2] = ["faucet", "val0", "staker0", "staker1", "staker2"].map(|n| address_of(&net, n));
    let params = aegisd(&net, &["query", "avs", "params"])["params"].clone();

    // Register with a redistribution recipient, then hand the AVS to staker1 and burn from now on.
    let r = tx(&net, &["tx", "avs", "register", "--metadata-uri", "ipfs://one", "--redistribution-recipient", &staker2, "--from", "faucet"]);
    assert_eq!(r["responses"][0]["avs_id"], "1", "{r}");
    assert_eq!(aegisd(&net, &["query", "avs", "avs", "1"])["avs"]["redistribution_recipient"], staker2);
    tx(&net, &["tx", "avs", "update", "1", "--metadata-uri", "ipfs://two", "--redistribution-recipient", "", "--new-owner", &staker1, "--from", "faucet"]);
    let avss = aegisd(&net, &["query", "avs", "avss"]);
    assert_eq!(
        avss["avss"],
        json!([{"id": "1", "owner": staker1, "metadata_uri": "ipfs://two", "redistribution_recipient": "", "operator_set_count": 0}])
    );
    let r = run(&net, &["tx", "avs", "update", "1", "--from", "staker1"]);
    assert!(!r.status.success() && String::from_utf8_lossy(&r.stderr).contains("nothing to update"));

    // The new owner creates a set slashed by the faucet, vetoed by staker0 within 10 s, open to val0 only.
    tx(&net, &[
        "tx", "avs", "create-operator-set", "1", "1", "--strategies", "uaegis", "--slasher", &faucet, "--veto-committee", &staker0, "--veto-threshold", "1",
        "--veto-window", "10", "--allowlist", &val0, "--from", "staker1",
    ]);
    let set = aegisd(&net, &["query", "avs", "operator-set", "1", "1"]);
    assert_eq!(
        set["operator_set"],
        json!({
            "avs_id": "1", "id": 1, "strategies": ["uaegis"], "slasher": faucet, "veto_committee": [staker0], "veto_threshold": 1,
            "veto_window_seconds": "10", "allowlist": [val0], "member_count": "0",
        })
    );

    // val0 joins, asks for a longer allocation delay (in force after the configuration delay) and allocates half.
    tx(&net, &["tx", "avs", "register-operator", "1", "1", "--from", "val0"]);
    let r = tx(&net, &["tx", "avs", "set-allocation-delay", "7", "--from", "val0"]);
    let configured_at = block_time(&net, r["height"].as_u64().unwrap());
    let config_delay: i64 = params["allocation_configuration_delay_seconds"].as_str().unwrap().parse().unwrap();
    assert_eq!(r["responses"][0]["effective_at"], (configured_at + config_delay).to_string(), "{r}");
    let allocations = aegisd(&net, &["query", "avs", "allocations", &val0]);
    assert_eq!(
        (&allocations["allocation_delay_seconds"], &allocations["pending_allocation_delay_seconds"]),
        (&params["default_allocation_delay_seconds"], &json!("7")),
        "{allocations}"
    );
    tx(&net, &["tx", "avs", "allocate", "--allocation", "1/1/uaegis=0.5", "--from", "val0"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while aegisd(&net, &["query", "avs", "allocations", &val0])["allocations"][0]["magnitude"] != "500000000000000000" {
        assert!(Instant::now() < deadline, "allocation never took effect");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // staker0 delegates STAKER_DELEGATION to val0: half of it is at risk to AVS 1.
    let exposure = aegisd(&net, &["query", "avs", "staker-exposure", &staker0]);
    assert_eq!(
        exposure,
        json!({"staker": staker0, "operator": val0, "exposures": [{"avs_id": "1", "strategy": "uaegis", "magnitude": "500000000000000000", "tokens_at_risk": (STAKER_DELEGATION / 2).to_string()}]})
    );

    // With two validators val0 has staker0's and staker2's delegations.
    let val0_tokens = SELF_DELEGATION + 2 * STAKER_DELEGATION;
    assert_eq!(u128_of(&stake_of(&net, &val0, "uaegis")["tokens"]), val0_tokens);

    // A slash waits for vetoes; staker0's veto cancels it.
    let slash = |evidence: &str| {
        tx(&net, &["tx", "slashing", "slash", &val0, "1", "1", "--strategies", "uaegis", "--fraction", "0.5", "--description", "missed tasks", "--evidence", evidence, "--from", "faucet"])
    };
    let r = slash("tasks/1");
    let submitted_at = block_time(&net, r["height"].as_u64().unwrap());
    assert_eq!(
        r["responses"][0],
        json!({"@type": "/aegis.slashing.v1.MsgSlashOperatorResponse", "pending_slash_id": "1", "executable_at": (submitted_at + 10).to_string(), "slashed": []}),
        "{r}"
    );
    let pending = aegisd(&net, &["query", "slashing", "pending-slash", "1"]);
    assert_eq!(
        pending["slash"],
        json!({
            "id": "1", "operator": val0, "avs_id": "1", "operator_set_id": 1, "strategies": ["uaegis"], "wad_to_slash": "500000000000000000",
            "description": "missed tasks", "evidence_ref": "tasks/1", "submitted_at": submitted_at.to_string(),
            "executable_at": (submitted_at + 10).to_string(), "vetoes": [],
        })
    );
    assert_eq!(aegisd(&net, &["query", "avs", "operator-risk", &val0])["pending_slashes"][0]["id"], "1");
    let r = tx(&net, &["tx", "slashing", "veto", "1", "--from", "staker0"]);
    assert_eq!(r["responses"][0]["cancelled"], true, "{r}");
    assert_eq!(aegisd(&net, &["query", "slashing", "pending-slashes"])["slashes"], json!([]));
    // It stays queryable with its outcome; a second veto says what happened.
    let vetoed_at = r["height"].as_u64().unwrap();
    let vetoed = aegisd(&net, &["query", "slashing", "slash", "1"])["slash"].clone();
    assert_eq!(
        (&vetoed["status"], &vetoed["vetoes"], &vetoed["resolved_height"], &vetoed["slashed"]),
        (&json!("vetoed"), &json!([staker0]), &json!(vetoed_at.to_string()), &json!([])),
        "{vetoed}"
    );
    let again = failing_tx(&net, &["tx", "slashing", "veto", "1", "--from", "staker0"]);
    assert_eq!((&again["codespace"], &again["code"]), (&json!("slashing"), &json!(19)), "{again}");
    assert!(again.to_string().contains(&format!("slash 1 was vetoed at height {vetoed_at}")), "{again}");
    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["query", "slashing", "slashes"];
        all.extend_from_slice(args);
        aegisd(&net, &all)["slashes"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&["--status", "vetoed", "--operator", &val0, "--avs", "1"]), vec!["1"]);
    assert_eq!(ids(&["--status", "executed"]), Vec::<String>::new());

    // Another waits out the window and anyone executes it.
    let r = slash("tasks/2");
    assert_eq!(r["responses"][0]["pending_slash_id"], "2", "{r}");
    assert_eq!(aegisd(&net, &["query", "slashing", "pending-slashes"])["slashes"][0]["id"], "2");
    let early = failing_tx(&net, &["tx", "slashing", "execute", "2", "--from", "staker2"]);
    assert_eq!(early["codespace"], "slashing", "{early}");
    let executable_at = block_time(&net, r["height"].as_u64().unwrap()) + 10;
    let r = loop {
        let now = aegisd(&net, &["status"])["latest_block_height"].as_str().unwrap().parse::<u64>().unwrap();
        if block_time(&net, now) > executable_at {
            break tx(&net, &["tx", "slashing", "execute", "2", "--from", "staker2"]);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(
        r["responses"][0],
        json!({"@type": "/aegis.slashing.v1.MsgExecuteSlashResponse", "slashed": [{"strategy": "uaegis", "magnitude": "250000000000000000", "tokens": (val0_tokens / 4).to_string()}], "expired": false}),
        "{r}"
    );
    let executed = aegisd(&net, &["query", "slashing", "slash", "2"])["slash"].clone();
    assert_eq!((&executed["status"], &executed["resolved_by"], &executed["resolved_height"]), (&json!("executed"), &json!(staker2), &json!(r["height"].as_u64().unwrap().to_string())), "{executed}");
    assert_eq!(executed["slashed"], r["responses"][0]["slashed"], "{executed}");
    assert_eq!(ids(&[]), vec!["1", "2"]);
    assert_eq!(stake_of(&net, &val0, "uaegis")["max_magnitude"], "750000000000000000");

    // Liveness: val0 signs.
    let info = aegisd(&net, &["query", "slashing", "signing-info", &val0])["info"].clone();
    assert_eq!((&info["operator"], &info["jailed"], &info["tombstoned"]), (&json!(val0), &json!(false), &json!(false)), "{info}");
    let r = failing_tx(&net, &["tx", "slashing", "unjail", "--from", "val0"]);
    assert_eq!(r["codespace"], "slashing", "{r}");
    assert!(aegisd(&net, &["query", "slashing", "params"])["params"]["max_slash_per_epoch"].is_string());

    // Rewards: val0's commission on AVS 1; the owner pays the set over 4 epochs.
    tx(&net, &["tx", "rewards", "set-avs-commission", "1", "250", "--from", "val0"]);
    assert_eq!(aegisd(&net, &["query", "rewards", "avs-commission", &val0, "1"]), json!({"operator": val0, "avs_id": "1", "commission_bps": 250}));
    let r = tx(&net, &["tx", "rewards", "submit-avs-rewards", "1", "1", "1000000uaegis", "4", "--strategy", "uaegis=2", "--from", "staker1"]);
    assert_eq!(r["responses"][0], json!({"@type": "/aegis.rewards.v1.MsgSubmitAvsRewardsResponse", "submission_id": "1"}), "{r}");
    let subs = aegisd(&net, &["query", "rewards", "submissions"]);
    let s = &subs["submissions"][0];
    assert_eq!(
        (&s["id"], &s["avs_id"], &s["operator_set_id"], &s["submitter"], &s["strategies"]),
        (&json!("1"), &json!("1"), &json!(1), &json!(staker1), &json!([{"strategy": "uaegis", "multiplier": "2"}])),
        "{subs}"
    );
    assert!(s["remaining_epochs"].as_str().unwrap().parse::<u64>().unwrap() <= 4, "{subs}");

    // val0 leaves: still slashable for the deallocation delay.
    let r = tx(&net, &["tx", "avs", "deregister-operator", "1", "1", "--from", "val0"]);
    let left_at = block_time(&net, r["height"].as_u64().unwrap());
    let dealloc: i64 = params["deallocation_delay_seconds"].as_str().unwrap().parse().unwrap();
    assert_eq!(r["responses"][0]["slashable_until"], (left_at + dealloc).to_string(), "{r}");
    assert_eq!(aegisd(&net, &["query", "avs", "members", "1", "1"])["operators"], json!([]));
}
