//! `aegisd loadtest` against a real one-validator devnet (ports
//! 31255-31259): 200 pre-signed transfers from 10 derived accounts, async
//! in batches of 10. Every figure of its report is checked against what
//! the chain itself says: the senders' txs found by CometBFT's tx index,
//! the blocks' header times and tx lists, the balances and sequences. A
//! second run with the same seed reuses the funded accounts (no --from)
//! in sync mode and prints the table; a third sends restaking deposits.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use aegis_app::types::Address;
use common::{Devnet, AEGISD};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn loadtest(net: &Devnet, extra: &[&str]) -> (String, String) {
    let n = &net.nodes[0];
    let out = Command::new(AEGISD)
        .args(["loadtest", "--rpc", &n.rpc, "--grpc", &n.grpc, "--accounts", "10", "--batch", "10", "--concurrency", "4", "--timeout", "60"])
        .args(extra)
        .arg("--home")
        .arg(&n.home)
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string());
    assert!(out.status.success(), "aegisd loadtest failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    (stdout, stderr)
}

fn time_ns(net: &Devnet, h: u64) -> i128 {
    let b = net.rpc_json(0, &format!("block?height={h}"));
    tendermint::Time::parse_from_rfc3339(b["block"]["header"]["time"].as_str().unwrap()).unwrap().unix_timestamp_nanos()
}

async fn account(net: &Devnet, addr: &str) -> (u128, u64, u64) {
    let c = net.grpc(0).await;
    let a = Address::parse(addr).unwrap();
    let acc = c.account(&a).await.unwrap().unwrap();
    (c.balance(&a, "uaegis").await.unwrap(), acc.account_number, acc.sequence)
}

#[tokio::test(flavor = "multi_thread")]
async fn loadtest_reports_exactly_what_the_blocks_hold() {
    let net = Devnet::start(1, 31200).await;
    let (stdout, stderr) = loadtest(&net, &["--seed", "e2e", "--from", "faucet", "--txs", "200", "--mode", "async", "--output", "json"]);
    let r: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(stderr.contains("loadtest: funding 10 accounts with 2000400uaegis from"), "{stderr}");
    assert!(stderr.contains("loadtest: signed 200 txs in"), "{stderr}");

    // Every tx accepted, committed, code 0.
    for (k, want) in [("txs", 200), ("accepted", 200), ("committed", 200), ("succeeded", 200), ("not_committed", 0)] {
        assert_eq!(r[k], want, "{k}: {r}");
    }
    assert_eq!((r["refused"].clone(), r["failed_by_code"].clone(), r["timed_out"].clone()), (serde_json::json!({}), serde_json::json!({}), Value::Bool(false)));
    assert_eq!((r["chain_id"].as_str(), r["mode"].as_str(), r["msg"].as_str(), r["concurrency"].as_u64()), (Some("aegis-e2e"), Some("async"), Some("send"), Some(4)));

    // The chain's own index: each sender's txs by message.sender, with height and code.
    let senders = r["senders"].as_array().unwrap();
    assert_eq!(senders.len(), 10);
    let mut per_height: BTreeMap<u64, u64> = BTreeMap::new();
    for s in senders {
        let addr = s["address"].as_str().unwrap();
        let found = net.rpc_json(0, &format!("tx_search?query=%22message.sender%3D%27{addr}%27%22&per_page=100"));
        assert_eq!(found["total_count"], "20", "{addr}");
        for tx in found["txs"].as_array().unwrap() {
            assert_eq!(tx["tx_result"]["code"], 0, "{tx}");
            *per_height.entry(tx["height"].as_str().unwrap().parse().unwrap()).or_default() += 1;
        }
    }
    let (first, last) = (*per_height.keys().next().unwrap(), *per_height.keys().last().unwrap());
    assert_eq!((r["first_height"].as_u64(), r["last_height"].as_u64(), r["blocks"].as_u64()), (Some(first), Some(last), Some(last - first + 1)));
    let reported: Vec<(u64, u64, u64)> = r["per_block"].as_array().unwrap().iter().map(|b| (b["height"].as_u64().unwrap(), b["load_txs"].as_u64().unwrap(), b["txs"].as_u64().unwrap())).collect();
    let mut on_chain = vec![];
    for h in first..=last {
        let block = net.rpc_json(0, &format!("block?height={h}"));
        let txs = block["block"]["data"]["txs"].as_array().map(|a| a.len() as u64).unwrap_or(0);
        let results = net.rpc_json(0, &format!("block_results?height={h}"));
        assert_eq!(results["txs_results"].as_array().map(|a| a.len() as u64).unwrap_or(0), txs);
        on_chain.push((h, per_height.get(&h).copied().unwrap_or(0), txs));
    }
    assert_eq!(reported, on_chain);
    let counts: Vec<u64> = on_chain.iter().map(|b| b.1).collect();
    assert_eq!(r["txs_per_block"]["min"].as_u64(), counts.iter().min().copied());
    assert_eq!(r["txs_per_block"]["max"].as_u64(), counts.iter().max().copied());
    assert!((r["txs_per_block"]["avg"].as_f64().unwrap() - 200.0 / counts.len() as f64).abs() < 1e-9, "{}", r["txs_per_block"]);

    // Throughput over header times: the block before the first to the last.
    let window = (time_ns(&net, last) - time_ns(&net, first - 1)) as f64 / 1e9;
    // (serde_json's default float parsing may be one ulp off what was printed.)
    let close = |a: f64, b: f64| (a - b).abs() <= b.abs() * 1e-12;
    assert!(close(r["window_seconds"].as_f64().unwrap(), window), "{} vs {window}", r["window_seconds"]);
    assert!(close(r["committed_tx_per_s"].as_f64().unwrap(), 200.0 / window), "{} vs {}", r["committed_tx_per_s"], 200.0 / window);
    let l = &r["latency_ms"];
    let (p50, p90, p99) = (l["p50"].as_f64().unwrap(), l["p90"].as_f64().unwrap(), l["p99"].as_f64().unwrap());
    assert!(0.0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= l["max"].as_f64().unwrap(), "{l}");

    // Balances and sequences: fresh accounts funded with 20 x (1 + 5000) x 2,
    // each sent 20 x 1 to the next and paid 20 x 5000 in fees.
    let mut numbers = vec![];
    for s in senders {
        assert_eq!((s["txs"].as_u64(), s["start_sequence"].as_u64(), s["balance_before"].as_str()), (Some(20), Some(0), Some("200040")), "{s}");
        let (balance, number, sequence) = account(&net, s["address"].as_str().unwrap()).await;
        assert_eq!((balance, number, sequence), (200_040 - 20 * 5000, s["account_number"].as_u64().unwrap(), 20));
        numbers.push(number);
    }
    numbers.dedup();
    assert_eq!(numbers.len(), 10);
    // The senders are the seed's: sha256("aegis-loadtest/e2e/<i>") as secp256k1 secrets.
    let derived = aegis_app::signer::Signer::from_secret(&Sha256::digest(b"aegis-loadtest/e2e/3")).unwrap();
    assert_eq!(senders[3]["address"].as_str().unwrap(), derived.address.to_string());

    // Again with the same seed: already funded (100,040 left, 10 x 5001 x 2
    // needed), so no --from; sync mode; the table.
    let (table, stderr) = loadtest(&net, &["--seed", "e2e", "--txs", "100", "--mode", "sync", "--output", "text"]);
    assert!(!stderr.contains("funding"), "{stderr}");
    assert!(table.contains("committed                    100 (100 ok, 0 not committed)"), "{table}");
    assert!(table.contains("accepted by the node         100\n"), "{table}");
    assert!(table.contains("COMMITTED TX/S"), "{table}");
    for s in senders {
        let (balance, _, sequence) = account(&net, s["address"].as_str().unwrap()).await;
        assert_eq!((balance, sequence), (100_040 - 10 * 5000, 30));
    }

    // Restaking deposits instead of sends: 2 per account, 1 uaegis each
    // into the uaegis strategy, from accounts funded with 2 x 5001 x 2.
    let (stdout, _) = loadtest(&net, &["--from", "faucet", "--seed", "e2e-deposit", "--msg", "deposit", "--txs", "20", "--output", "json"]);
    let r: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((r["msg"].as_str(), r["committed"].as_u64(), r["succeeded"].as_u64()), (Some("deposit"), Some(20), Some(20)), "{r}");
    for s in r["senders"].as_array().unwrap() {
        assert_eq!(s["balance_before"], "20004");
        let (balance, _, sequence) = account(&net, s["address"].as_str().unwrap()).await;
        assert_eq!((balance, sequence), (20_004 - 2 * 5001, 2));
    }
}
