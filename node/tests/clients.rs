//! Stock Cosmos clients against a real devnet, with no Aegis-specific code:
//! cosmjs's SigningStargateClient over the CometBFT RPC, and grpcurl with
//! server reflection only (see tests/clients/README.md).

mod common;

use std::process::Command;

use common::{repo_root, Devnet};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{cmd:?} failed\nstdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosmjs_and_grpcurl_query_simulate_sign_broadcast_and_find_a_msgsend() {
    let cosmjs = repo_root().join("node/tests/clients/cosmjs");
    assert!(
        cosmjs.join("node_modules/@cosmjs/stargate").exists(),
        "cosmjs is not installed: run `npm ci` in {} (scripts/test.sh does)",
        cosmjs.display()
    );
    let net = Devnet::start(2, 27300).await;
    let endpoints = net.dir.path().join("endpoints.json");

    // cosmjs: balance, account, simulate, signAndBroadcast with "auto" fee, getTx.
    let out = run(Command::new("node").arg("check.mjs").arg(&endpoints).current_dir(&cosmjs));
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["recipient_balance_after"], "123456");
    assert_eq!(summary["sequence_after"].as_u64().unwrap(), summary["sequence_before"].as_u64().unwrap() + 1);

    // grpcurl via reflection: list, describe, Balance, Account, blocks, node
    // info, then Simulate, BroadcastTx and GetTx of a tx cosmjs signed.
    let signed = net.dir.path().join("signed-tx.b64");
    run(Command::new("node").arg("sign.mjs").arg(&endpoints).arg(&signed).current_dir(&cosmjs));
    let grpc = net.nodes[0].grpc.trim_start_matches("http://").to_string();
    let out = run(Command::new("bash").arg(repo_root().join("node/tests/clients/grpcurl.sh")).arg(&grpc).arg(&net.accounts[0].1).arg(&signed));
    assert!(out.contains("PASS: grpcurl queries, Simulate, BroadcastTx, GetTx and GetTxsEvent"), "{out}");
}
