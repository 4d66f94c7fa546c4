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
