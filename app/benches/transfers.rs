//! Throughput of signed MsgSend transactions through FinalizeBlock + Commit
//! on real RocksDB state (the node's own path, in-process).
//!
//! `cargo bench -p aegis-app --bench transfers` (pin to one core with
//! `taskset -c 0`). Each block holds N transfers from N distinct funded
//! accounts; signatures are made before timing starts (that is the
//! client's work), and verified inside FinalizeBlock (the node's work).

use std::time::Instant;

use aegis_app::signer::SignOptions;
use aegis_app::testkit::{genesis_with, test_signer, TestChain, CHAIN_ID};
use aegis_app::types::{Coin, NATIVE_DENOM};

const BLOCKS: usize = 3;

async fn run(n: usize) {
    let signers: Vec<_> = (0..n).map(|i| test_signer(&format!("bench{i}"))).collect();
    let genesis = genesis_with(&signers.iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, 1_000_000_000)])).collect::<Vec<_>>());
    let mut chain = TestChain::new(&genesis).await;
    let mut exec_total = 0f64;
    let mut commit_total = 0f64;
    for b in 0..BLOCKS {
        let txs: Vec<Vec<u8>> = signers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let to = signers[(i + 1) % n].address;
                s.sign(vec![s.msg_send(&to, &[Coin::new(NATIVE_DENOM, 1 + b as u128)])], &SignOptions::new(CHAIN_ID, i as u64, b as u64)).unwrap()
            })
            .collect();
        let t0 = Instant::now();
        let out = chain.finalize(txs).await;
        let t1 = Instant::now();
        chain.app_mut().commit().await.unwrap();
        let t2 = Instant::now();
        let failed = out.tx_results.iter().filter(|r| r.result.is_err()).count();
        assert_eq!(failed, 0, "{failed} transfers failed");
        let (exec, commit) = ((t1 - t0).as_secs_f64(), (t2 - t1).as_secs_f64());
        println!(
            "  block {b}: {n} txs, FinalizeBlock {:.1} ms (incl. Merkle root), Commit {:.1} ms, {:.0} tx/s",
            exec * 1e3,
            commit * 1e3,
            n as f64 / (exec + commit)
        );
        exec_total += exec;
        commit_total += commit;
    }
    chain.check_invariants().await;
    println!(
        "{n} txs/block: {:.0} tx/s over {BLOCKS} blocks; FinalizeBlock {:.1} ms/block, Commit {:.1} ms/block",
        (n * BLOCKS) as f64 / (exec_total + commit_total),
        exec_total * 1e3 / BLOCKS as f64,
        commit_total * 1e3 / BLOCKS as f64
    );
}

/// Where a transfer's time goes: stateless decoding and signature
/// verification of 1,000 signed transfers, outside any state.
fn breakdown() {
    use aegis_app::auth::msgs::verify_secp256k1;
    use cosmos_sdk_proto::cosmos::tx::v1beta1::SignDoc;
    use prost::Message;
    let n = 1_000;
    let s = test_signer("breakdown");
    let to = test_signer("to").address;
    let txs: Vec<Vec<u8>> =
        (0..n).map(|i| s.sign(vec![s.msg_send(&to, &[Coin::new(NATIVE_DENOM, 1)])], &SignOptions::new(CHAIN_ID, 0, i)).unwrap()).collect();
    let t = Instant::now();
    let parsed: Vec<_> = txs.iter().map(|t| aegis_app::tx::decode_tx(t, false).unwrap()).collect();
    let decode = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    let docs: Vec<Vec<u8>> = parsed
        .iter()
        .map(|p| SignDoc { body_bytes: p.body_bytes.clone(), auth_info_bytes: p.auth_info_bytes.clone(), chain_id: CHAIN_ID.into(), account_number: 0 }.encode_to_vec())
        .collect();
    let pk = s.public_key();
    let t = Instant::now();
    for (doc, p) in docs.iter().zip(&parsed) {
        verify_secp256k1(&pk, doc, &p.signatures[0]).unwrap();
    }
    let verify = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("per transfer, outside state: decode {decode:.1} us, secp256k1 verification {verify:.1} us");
}

fn main() {
    breakdown();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for n in [1_000, 10_000] {
        rt.block_on(run(n));
    }
}
