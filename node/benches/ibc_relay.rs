//! Relayed ICS-20 transfers per second, end to end: `scripts/devnet.sh up
//! --chains 2 --validators 1` (real CometBFT, this build's `aegisd`, its
//! relayer), then N transfers sent from chain A in transactions of 50; the
//! clock runs from the first send to the moment the last voucher is on B
//! (delivered) and to the moment the last acknowledgement is back on A
//! (nothing pending). Run: `cargo bench -p aegis-node --bench ibc_relay`
//! (ports 29500-29900; `IBC_BENCH_TRANSFERS` sets N, default 500).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aegis_app::auth::params::MinGasPrice;
use aegis_app::ibc::transfer::denom_hash;
use aegis_app::signer::Signer;
use aegis_app::types::{Address, NATIVE_DENOM};
use aegis_node::client::GrpcClient;
use ibc_proto::ibc::core::channel::v1 as ch;
use serde_json::Value;

const PER_TX: usize = 50;

fn devnet(args: &[&str], dir: &Path) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let out = Command::new("bash")
        .arg(root.join("scripts/devnet.sh"))
        .args(args)
        .arg("--dir")
        .arg(dir)
        .env("AEGISD_BIN", env!("CARGO_BIN_EXE_aegisd"))
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

struct Down(std::path::PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = devnet(&["down"], &self.0);
    }
}

fn transfer(from: &Signer, to: &Address, amount: u128) -> cosmrs::Any {
    aegis_app::testkit::ibc::transfer_msg(&from.address, "channel-0", &to.to_string(), NATIVE_DENOM, amount, 10_000_000)
}

async fn pending(c: &GrpcClient) -> usize {
    let r: ch::QueryPacketCommitmentsResponse = c
        .query("/ibc.core.channel.v1.Query/PacketCommitments", &ch::QueryPacketCommitmentsRequest { port_id: "transfer".into(), channel_id: "channel-0".into(), pagination: None })
        .await
        .unwrap();
    r.commitments.len()
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("IBC_BENCH_TRANSFERS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("devnet");
    let _down = Down(dir.clone());
    let (ok, out) = devnet(&["up", "--chains", "2", "--validators", "1", "--base-port", "29500"], &dir);
    assert!(ok, "devnet failed:\n{out}");
    let e: Value = serde_json::from_slice(&std::fs::read(dir.join("endpoints.json")).unwrap()).unwrap();
    let grpc = |k: usize| e["chains"][k]["nodes"][0]["grpc"].as_str().unwrap().to_string();
    let a = GrpcClient::connect(&grpc(0)).await.unwrap();
    let b = GrpcClient::connect(&grpc(1)).await.unwrap();
    let faucet = Signer::from_mnemonic(e["chains"][0]["accounts"][0]["mnemonic"].as_str().unwrap()).unwrap();
    let bob = Signer::from_secret(&[9u8; 32]).unwrap();
    let voucher = format!("ibc/{}", denom_hash("transfer/channel-0/uaegis"));
    let price = MinGasPrice::parse("0.025uaegis").unwrap();

    // Warm up the path (client updates, first packet) outside the clock.
    let r = a.sign_and_broadcast(&faucet, vec![transfer(&faucet, &bob.address, 1)], None, &price, "", Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(r.code, 0, "{}", r.raw_log);
    while b.balance(&bob.address, &voucher).await.unwrap() < 1 || pending(&a).await > 0 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let start = Instant::now();
    let mut sent = 0;
    while sent < n {
        let k = PER_TX.min(n - sent);
        let msgs = (0..k).map(|_| transfer(&faucet, &bob.address, 1)).collect();
        let r = a.sign_and_broadcast(&faucet, msgs, None, &price, "", Some(Duration::from_secs(60))).await.unwrap();
        assert_eq!(r.code, 0, "{}", r.raw_log);
        sent += k;
    }
    let sent_at = start.elapsed();
    let target = 1 + n as u128;
    while b.balance(&bob.address, &voucher).await.unwrap() < target {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(start.elapsed() < Duration::from_secs(600), "not delivered within 10 minutes");
    }
    let delivered_at = start.elapsed();
    while pending(&a).await > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(start.elapsed() < Duration::from_secs(600), "not acknowledged within 10 minutes");
    }
    let acked_at = start.elapsed();
    assert_eq!(b.balance(&bob.address, &voucher).await.unwrap(), target, "each transfer exactly once");
    println!("relayed ICS-20 transfers, 2 local chains (1 validator each), {n} transfers in txs of {PER_TX}");
    println!("| phase | seconds since first send | transfers/s |");
    println!("|---|---|---|");
    println!("| all sent on A | {:.2} | {:.0} |", sent_at.as_secs_f64(), n as f64 / sent_at.as_secs_f64());
    println!("| all received on B | {:.2} | {:.0} |", delivered_at.as_secs_f64(), n as f64 / delivered_at.as_secs_f64());
    println!("| all acknowledged on A | {:.2} | {:.0} |", acked_at.as_secs_f64(), n as f64 / acked_at.as_secs_f64());
    if std::env::var("IBC_BENCH_LOG").is_ok() {
        let log = std::fs::read_to_string(dir.join("relayer-1.log")).unwrap_or_default();
        for line in log.lines().filter(|l| l.contains("delivered") || l.contains("acknowledged") || l.contains("WARN")) {
            println!("{line}");
        }
    }
}
