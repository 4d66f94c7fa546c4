//! The README's devnet command: `scripts/devnet.sh up|status|down`.

mod common;

use std::path::Path;
use std::process::Command;


use common::{devnet_script as devnet, ScriptDown as Down};

fn pids(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("pids"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect()
}

fn alive(pid: i32) -> bool {
    Command::new("kill").arg("-0").arg(pid.to_string()).status().map(|s| s.success()).unwrap_or(false)
}

#[test]
fn devnet_script_brings_a_network_up_reports_it_and_stops_only_its_processes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("devnet");
    let _down = Down(dir.clone());

    let (ok, out) = devnet(&["up", "--validators", "2", "--base-port", "27500"], &dir);
    assert!(ok, "devnet.sh up failed:\n{out}");
    assert!(out.contains("chain id aegis-devnet, 2 validators"), "{out}");
    let endpoints: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("endpoints.json")).unwrap()).unwrap();
    let chain = &endpoints["chains"][0];
    assert_eq!(chain["role"], "provider");
    assert_eq!(chain["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(chain["nodes"][0]["rpc"], "http://127.0.0.1:27557");
    assert_eq!(chain["nodes"][1]["grpc"], "http://127.0.0.1:27569");
    assert_eq!(chain["accounts"][0]["name"], "faucet");
    let started = pids(&dir);
    assert_eq!(started.len(), 4, "two aegisd and two cometbft");
    assert!(started.iter().all(|p| alive(*p)));

    let (ok, out) = devnet(&["up", "--validators", "2", "--base-port", "27500"], &dir);
    assert!(!ok && out.contains("already running"), "a second up must refuse:\n{out}");

    let (ok, out) = devnet(&["status"], &dir);
    assert!(ok, "{out}");
    for moniker in ["val0", "val1"] {
        let line = out.lines().find(|l| l.starts_with(moniker)).unwrap_or_else(|| panic!("no status line for {moniker}:\n{out}"));
        assert!(line.contains("height") && line.contains("app_hash"), "{line}");
    }

    let (ok, out) = devnet(&["down"], &dir);
    assert!(ok, "{out}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(started.iter().all(|p| !alive(*p)), "processes left running after down");
    assert!(!dir.join("pids").exists());
}

/// `--tx-index null` turns CometBFT's indexing off on every node, and
/// `aegisd loadtest` still funds its senders and counts its txs (it reads
/// blocks, not the index). A value other than kv or null is refused.
#[test]
fn devnet_script_tx_index_null_indexes_nothing_and_loadtest_still_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("devnet");
    let _down = Down(dir.clone());

    let (ok, out) = devnet(&["up", "--validators", "1", "--tx-index", "sql", "--base-port", "27600"], &dir);
    assert!(!ok && out.contains("--tx-index must be kv or null, got 'sql'"), "{out}");
    assert!(!dir.join("pids").exists());

    let (ok, out) = devnet(&["up", "--validators", "1", "--tx-index", "null", "--base-port", "27600"], &dir);
    assert!(ok, "devnet.sh up failed:\n{out}");
    assert!(out.contains("tx indexer: null on every node"), "{out}");
    let config = std::fs::read_to_string(dir.join("node0/config/config.toml")).unwrap();
    assert!(config.contains("\n[tx_index]\nindexer = \"null\"\n"), "{config}");

    let out = Command::new(common::AEGISD)
        .args(["loadtest", "--home"])
        .arg(dir.join("node0"))
        .args(["--from", "faucet", "--seed", "null-index", "--txs", "30", "--accounts", "3", "--timeout", "60", "--output", "json"])
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "loadtest failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for (k, want) in [("txs", 30), ("accepted", 30), ("committed", 30), ("succeeded", 30), ("not_committed", 0)] {
        assert_eq!(r[k].as_u64(), Some(want), "{k}: {r}");
    }

    // Nothing was indexed: CometBFT says so.
    let rpc = "http://127.0.0.1:27657";
    let search = Command::new("curl").args(["-s", &format!("{rpc}/tx_search?query=%22tx.height>0%22")]).output().unwrap();
    let search = String::from_utf8_lossy(&search.stdout);
    assert!(search.contains("transaction indexing is disabled"), "{search}");
}
