//! Transactions and tx queries the Cosmos SDK way, end to end through the
//! `aegisd` CLI on a real one-validator devnet: every `tx` flag (fees, gas,
//! gas adjustment, gas prices, chain id, note, timeout height, dry run,
//! generate-only / sign / broadcast, offline, sequence overrides,
//! broadcast modes), encode/decode, errors with codespace and code, and
//! `query tx`, `query txs` and `query block`.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use aegis_app::types::Address;
use common::{Devnet, AEGISD};
use serde_json::{json, Value};

fn run(net: &Devnet, args: &[&str]) -> Output {
    Command::new(AEGISD).args(args).arg("--home").arg(&net.nodes[0].home).arg("--grpc").arg(&net.nodes[0].grpc).output().unwrap()
}

/// A command that must succeed; its JSON output.
fn ok(net: &Devnet, args: &[&str]) -> Value {
    let out = run(net, args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "aegisd {args:?} failed\nstdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("aegisd {args:?}: {e}: {stdout}"))
}

/// A command that needs no node nor keyring and must succeed; its JSON output.
fn no_node(args: &[&str]) -> Value {
    let out = Command::new(AEGISD).args(args).output().unwrap();
    assert!(out.status.success(), "aegisd {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A command that must fail with exit status 1; its stderr and stdout.
fn fails(net: &Devnet, args: &[&str]) -> (String, String) {
    let out = run(net, args);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string());
    assert_eq!(out.status.code(), Some(1), "aegisd {args:?} should fail\nstdout:\n{stdout}\nstderr:\n{stderr}");
    (stderr, stdout)
}

async fn balance(net: &Devnet, addr: &str) -> u128 {
    net.grpc(0).await.balance(&Address::parse(addr).unwrap(), "uaegis").await.unwrap()
}

async fn sequence(net: &Devnet, addr: &str) -> u64 {
    net.grpc(0).await.account(&Address::parse(addr).unwrap()).await.unwrap().unwrap().sequence
}

/// The committed result of `hash`, polling `query tx` until it is found.
fn committed(net: &Devnet, hash: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = run(net, &["query", "tx", hash]);
        if out.status.success() {
            return serde_json::from_slice(&out.stdout).unwrap();
        }
        assert!(Instant::now() < deadline, "tx {hash} not committed: {}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn u64_of(v: &Value) -> u64 {
    v.as_str().unwrap_or_else(|| panic!("{v} is not a decimal string")).parse().unwrap()
}

fn event_attr<'a>(r: &'a Value, ty: &str, key: &str) -> Vec<&'a str> {
    r["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == ty)
        .flat_map(|e| e["attributes"].as_array().unwrap().iter())
        .filter(|a| a["key"] == key)
        .map(|a| a["value"].as_str().unwrap())
        .collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tx_flag_and_tx_query_works_end_to_end() {
    let net = Devnet::start(1, 30300).await;
    let faucet = net.accounts.iter().find(|a| a.0 == "faucet").unwrap().1.clone();
    let bob = aegis_app::signer::Signer::from_secret(&[42u8; 32]).unwrap().address.to_string();
    let send = |amount: &str, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["tx", "bank", "send", &bob, amount, "--from", "faucet"].iter().map(|s| s.to_string()).collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    // --fees with a fixed --gas: the balance drops by exactly amount + fee;
    // the result shows its events.
    let (f0, b0) = (balance(&net, &faucet).await, balance(&net, &bob).await);
    let r1 = ok(&net, &args(&send("1000uaegis", &["--fees", "7000uaegis", "--gas", "150000", "-y"])));
    assert_eq!((r1["code"].as_u64(), r1["gas_wanted"].as_i64()), (Some(0), Some(150_000)), "{r1}");
    assert_eq!(balance(&net, &faucet).await, f0 - 8000);
    assert_eq!(balance(&net, &bob).await, b0 + 1000);
    assert_eq!(event_attr(&r1, "tx", "fee"), vec!["7000uaegis"], "{r1}");
    assert_eq!(event_attr(&r1, "message", "sender"), vec![faucet.as_str()], "{r1}");
    let (hash1, height1) = (r1["txhash"].as_str().unwrap().to_string(), r1["height"].as_i64().unwrap());

    // --dry-run: a gas estimate (simulated x --gas-adjustment), nothing sent.
    let seq = sequence(&net, &faucet).await;
    let f1 = balance(&net, &faucet).await;
    let dry = ok(&net, &args(&send("500uaegis", &["--dry-run"])));
    let used = u64_of(&dry["gas_used"]);
    assert_eq!(u64_of(&dry["gas_estimate"]), used * 13 / 10, "{dry}");
    let dry2 = ok(&net, &args(&send("500uaegis", &["--dry-run", "--gas-adjustment", "2"])));
    assert_eq!((u64_of(&dry2["gas_used"]), u64_of(&dry2["gas_estimate"])), (used, used * 2), "{dry2}");
    assert_eq!((balance(&net, &faucet).await, sequence(&net, &faucet).await), (f1, seq));

    // --gas auto with --gas-adjustment 1.5 and the default 0.025uaegis price.
    let r2 = ok(&net, &args(&send("500uaegis", &["--gas-adjustment", "1.5"])));
    let gas_wanted = used * 3 / 2;
    assert_eq!(r2["gas_wanted"].as_i64(), Some(gas_wanted as i64), "{r2}");
    let fee = (gas_wanted as u128 * 25).div_ceil(1000);
    assert_eq!(event_attr(&r2, "tx", "fee"), vec![format!("{fee}uaegis")], "{r2}");
    assert_eq!(balance(&net, &faucet).await, f1 - 500 - fee);

    // Refusals before anything is signed: nothing changes.
    let (f2, seq2) = (balance(&net, &faucet).await, sequence(&net, &faucet).await);
    let (err, _) = fails(&net, &args(&send("1uaegis", &["--gas-prices", "0.025stuaegis"])));
    assert!(
        err.contains("--gas-prices \"0.025stuaegis\": denom \"stuaegis\" is not accepted for fees; the chain takes fees in uaegis only"),
        "{err}"
    );
    let (err, _) = fails(&net, &args(&send("1uaegis", &["--fees", "10uatom"])));
    assert!(err.contains("denom \"uatom\" is not accepted for fees; the chain takes fees in uaegis only"), "{err}");
    let (err, _) = fails(&net, &args(&send("1uaegis", &["--chain-id", "other-1"])));
    assert!(err.contains("--chain-id \"other-1\" does not match the node's chain id \"aegis-e2e\""), "{err}");
    // A timeout height already passed: CheckTx refuses it with sdk code 30.
    let (err, out) = fails(&net, &args(&send("1uaegis", &["--timeout-height", "1", "--gas", "100000"])));
    assert!(err.contains("codespace sdk code 30"), "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["code"], 30);
    // A wrong --sequence override: CheckTx refuses it with sdk code 32.
    let (err, _) = fails(&net, &args(&send("1uaegis", &["--sequence", "999", "--gas", "100000"])));
    assert!(err.contains(&format!("account sequence mismatch: expected {seq2}, got 999")) && err.contains("codespace sdk code 32"), "{err}");
    assert_eq!((balance(&net, &faucet).await, sequence(&net, &faucet).await), (f2, seq2));

    // --note is stored and shown by `query tx`, with the decoded message.
    let r3 = ok(&net, &args(&send("3uaegis", &["--note", "hello aegis", "--timeout-height", "100000"])));
    let q3 = ok(&net, &["query", "tx", r3["txhash"].as_str().unwrap()]);
    assert_eq!(q3["tx"]["body"]["memo"], "hello aegis", "{q3}");
    assert_eq!(q3["tx"]["body"]["timeout_height"], "100000", "{q3}");
    assert_eq!(
        q3["tx"]["body"]["messages"][0],
        json!({"@type": "/cosmos.bank.v1beta1.MsgSend", "from_address": faucet, "to_address": bob, "amount": [{"denom": "uaegis", "amount": "3"}]})
    );

    // `query tx`: code, height, gas and events of the first tx; an unknown hash fails.
    let q1 = ok(&net, &["query", "tx", &hash1]);
    assert_eq!((q1["code"].as_u64(), q1["height"].as_i64(), q1["gas_wanted"].as_i64()), (Some(0), Some(height1), Some(150_000)), "{q1}");
    assert_eq!(q1["events"], r1["events"]);
    let missing = "AB".repeat(32);
    let (err, _) = fails(&net, &["query", "tx", &missing]);
    assert!(err.contains(&format!("tx {missing} not found")), "{err}");

    // generate-only (from an address, no key needed) -> sign offline -> broadcast.
    let dir = tempfile::tempdir().unwrap();
    let unsigned = ok(&net, &["tx", "bank", "send", &bob, "77uaegis", "--from", &faucet, "--generate-only", "--gas", "120000", "--note", "air-gapped"]);
    assert_eq!(unsigned["signatures"], json!([]), "{unsigned}");
    assert_eq!(unsigned["auth_info"]["signer_infos"], json!([]), "{unsigned}");
    assert_eq!(unsigned["auth_info"]["fee"]["amount"], json!([{"denom": "uaegis", "amount": "3000"}]), "{unsigned}");
    assert_eq!(unsigned["auth_info"]["fee"]["gas_limit"], "120000");
    let acc = ok(&net, &["query", "account", &faucet]);
    let unsigned_file = write(dir.path(), "unsigned.json", &unsigned);
    let (number, seq4) = (acc["account_number"].as_str().unwrap(), acc["sequence"].as_str().unwrap());
    // --offline: no network at all (a dead --grpc proves it).
    let out = Command::new(AEGISD)
        .args(["tx", "sign", &unsigned_file, "--from", "faucet", "--offline", "--chain-id", "aegis-e2e", "--account-number", number, "--sequence", seq4])
        .arg("--home")
        .arg(&net.nodes[0].home)
        .args(["--grpc", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let signed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(signed["body"], unsigned["body"]);
    assert_eq!(signed["auth_info"]["signer_infos"][0]["sequence"], seq4);
    let signed_file = write(dir.path(), "signed.json", &signed);
    // encode/decode round trip.
    let enc = no_node(&["tx", "encode", &signed_file]);
    let dec = no_node(&["tx", "decode", enc["tx_bytes"].as_str().unwrap()]);
    assert_eq!(dec, signed);
    let (err, _) = fails(&net, &["tx", "sign", &unsigned_file, "--from", "faucet", "--offline", "--chain-id", "aegis-e2e"]);
    assert!(err.contains("--offline signs with no node to ask: give --account-number, --sequence"), "{err}");
    let b4 = balance(&net, &bob).await;
    let r4 = ok(&net, &["tx", "broadcast", &signed_file]);
    assert_eq!(r4["code"], 0, "{r4}");
    assert_eq!(balance(&net, &bob).await, b4 + 77);

    // A module tx with --offline prints the signed tx, which broadcasts.
    let seq5 = sequence(&net, &faucet).await.to_string();
    let out = Command::new(AEGISD)
        .args(["tx", "bank", "send", &bob, "5uaegis", "--from", "faucet", "--offline", "--gas", "100000", "--chain-id", "aegis-e2e"])
        .args(["--account-number", number, "--sequence", &seq5, "--home"])
        .arg(&net.nodes[0].home)
        .args(["--grpc", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let offline_file = write(dir.path(), "offline.json", &serde_json::from_slice(&out.stdout).unwrap());
    let r5 = ok(&net, &["tx", "broadcast", &offline_file]);
    assert_eq!(r5["code"], 0, "{r5}");

    // Two async txs and two --no-wait txs back to back, no --sequence: the
    // node's next sequence counts what its mempool holds, so all commit.
    let b6 = balance(&net, &bob).await;
    let mut hashes = vec![];
    for extra in [["--broadcast-mode", "async"], ["--broadcast-mode", "async"], ["--no-wait", "-y"], ["--no-wait", "-y"]] {
        let r = ok(&net, &args(&send("10uaegis", &extra)));
        assert_eq!(r["code"], 0, "{r}");
        hashes.push(r["txhash"].as_str().unwrap().to_string());
    }
    for h in &hashes {
        assert_eq!(committed(&net, h)["code"], 0, "{h}");
    }
    assert_eq!(balance(&net, &bob).await, b6 + 40);

    // A failing simulation names codespace and code.
    let (err, _) = fails(&net, &["tx", "rewards", "claim", "--from", "faucet"]);
    assert!(err.contains(&format!("{faucet} has no rewards to claim")) && err.contains("codespace rewards code 2"), "{err}");
    // The same tx with a fixed gas passes CheckTx and fails in the block: exit 1, codespace and code.
    let (err, out) = fails(&net, &["tx", "rewards", "claim", "--from", "faucet", "--gas", "200000"]);
    assert!(err.contains("codespace rewards code 2") && err.contains("has no rewards to claim"), "{err}");
    let failed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((failed["code"].as_u64(), failed["codespace"].as_str()), (Some(2), Some("rewards")), "{failed}");
    assert!(failed["height"].as_i64().unwrap() > 0, "{failed}");

    // `query txs`: by sender (every committed faucet send) and by height.
    let by_sender = ok(&net, &["query", "txs", "--query", &format!("message.sender='{faucet}'"), "--limit", "100"]);
    let mut want: Vec<String> = vec![hash1.clone(), r2["txhash"].as_str().unwrap().into(), r3["txhash"].as_str().unwrap().into()];
    want.extend([r4["txhash"].as_str().unwrap().to_string(), r5["txhash"].as_str().unwrap().to_string()]);
    want.extend(hashes.iter().cloned());
    let got: Vec<String> = by_sender["txs"].as_array().unwrap().iter().map(|t| t["txhash"].as_str().unwrap().to_string()).collect();
    assert_eq!(by_sender["total_count"], want.len().to_string(), "{by_sender}");
    let (mut got_sorted, mut want_sorted) = (got.clone(), want.clone());
    got_sorted.sort();
    want_sorted.sort();
    assert_eq!(got_sorted, want_sorted);
    let by_height = ok(&net, &["query", "txs", "--query", &format!("tx.height={height1}")]);
    assert_eq!((by_height["total_count"].as_str(), by_height["txs"][0]["txhash"].as_str()), (Some("1"), Some(hash1.as_str())), "{by_height}");

    // `query block`: the first tx's block, and the latest.
    let block = ok(&net, &["query", "block", &height1.to_string()]);
    assert_eq!((block["height"].as_str(), block["chain_id"].as_str()), (Some(height1.to_string().as_str()), Some("aegis-e2e")), "{block}");
    assert_eq!(block["txs"], json!([hash1]), "{block}");
    let latest = ok(&net, &["query", "block"]);
    let now = net.height(0).await;
    let latest_height = u64_of(&latest["height"]);
    assert!(latest_height >= failed["height"].as_u64().unwrap() && latest_height <= now, "{latest} (node at {now})");
}
