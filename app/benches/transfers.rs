//! Throughput of signed MsgSend transactions through FinalizeBlock + Commit
//! on real RocksDB state (the node's own path, in-process).
//!
//! `cargo bench -p aegis-app --bench transfers`. Each block holds N
//! transfers from N distinct funded accounts; signatures are made before
//! timing starts (that is the client's work), and verified inside
//! FinalizeBlock (the node's work). Each size runs with signature
//! verification on 1 thread and on every core, with the signature cache
//! cold (what a validator sees for txs its own mempool never checked) and
//! warm (CheckTx ran first, timed separately: mempool work done as txs
//! arrive).

use std::time::Instant;

use aegis_app::app::{execute_tx, next_block_state};
use aegis_app::auth::params::MinGasPrice;
use aegis_app::auth::sigcache::SigCacheWrite;
use aegis_app::signer::{SignOptions, Signer};
use aegis_app::testkit::{genesis_with, test_signer, TestChain, CHAIN_ID};
use aegis_app::tx::ExecMode;
use aegis_app::types::{Coin, NATIVE_DENOM};

const BLOCKS: usize = 3;

fn blocks(signers: &[Signer]) -> Vec<Vec<Vec<u8>>> {
    let n = signers.len();
    (0..BLOCKS)
        .map(|b| {
            signers
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let to = signers[(i + 1) % n].address;
                    s.sign(vec![s.msg_send(&to, &[Coin::new(NATIVE_DENOM, 1 + b as u128)])], &SignOptions::new(CHAIN_ID, i as u64, b as u64)).unwrap()
                })
                .collect()
        })
        .collect()
}

async fn run(signers: &[Signer], blocks: &[Vec<Vec<u8>>], threads: usize, warm: bool) -> (f64, Vec<u8>) {
    let n = signers.len();
    let genesis = genesis_with(&signers.iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, 1_000_000_000)])).collect::<Vec<_>>());
    let mut chain = TestChain::new(&genesis).await;
    chain.app_mut().set_verify_threads(threads);
    let (mut exec_total, mut commit_total, mut check_total) = (0f64, 0f64, 0f64);
    // The VM is shared and noisy: noise only adds time, so the fastest
    // block is the steadiest figure.
    let mut best = f64::MAX;
    let mut app_hash = vec![];
    for txs in blocks {
        if warm {
            let t = Instant::now();
            let mut state = next_block_state(chain.app().read_cache().wrap(chain.storage().latest_snapshot())).await.unwrap();
            state.put_sig_cache(chain.app().sig_cache().clone());
            for tx in txs {
                assert!(execute_tx(&mut state, tx, ExecMode::Check, &MinGasPrice::zero()).await.result.is_ok());
            }
            check_total += t.elapsed().as_secs_f64();
        }
        let t0 = Instant::now();
        let out = chain.finalize(txs.clone()).await;
        let t1 = Instant::now();
        chain.app_mut().commit().await.unwrap();
        let t2 = Instant::now();
        let failed = out.tx_results.iter().filter(|r| r.result.is_err()).count();
        assert_eq!(failed, 0, "{failed} transfers failed");
        best = best.min((t2 - t0).as_secs_f64());
        exec_total += (t1 - t0).as_secs_f64();
        commit_total += (t2 - t1).as_secs_f64();
        app_hash = out.app_hash;
    }
    chain.check_invariants().await;
    let tps = (n * BLOCKS) as f64 / (exec_total + commit_total);
    let stats = chain.app().sig_cache().stats();
    let reads = chain.app().read_cache().stats();
    println!(
        "{n} txs/block, {threads} thread(s), cache {}: {tps:.0} tx/s over {BLOCKS} blocks, best block {:.0} tx/s; FinalizeBlock {:.1} ms/block, Commit {:.1} ms/block{}; signature cache hits {}, misses {}, pre-verified {}; read cache hits {}, misses {}",
        if warm { "warm" } else { "cold" },
        n as f64 / best,
        exec_total * 1e3 / BLOCKS as f64,
        commit_total * 1e3 / BLOCKS as f64,
        if warm { format!(" (CheckTx before: {:.0} tx/s)", (n * BLOCKS) as f64 / check_total) } else { String::new() },
        stats.hits,
        stats.misses,
        stats.preverified,
        reads.hits,
        reads.misses,
    );
    (tps, app_hash)
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
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for n in [1_000, 10_000] {
        let signers: Vec<_> = (0..n).map(|i| test_signer(&format!("bench{i}"))).collect();
        let blocks = blocks(&signers);
        let mut hashes = vec![];
        for (threads, warm) in [(1, false), (cores, false), (1, true), (cores, true)] {
            hashes.push(rt.block_on(run(&signers, &blocks, threads, warm)).1);
        }
        assert!(hashes.windows(2).all(|w| w[0] == w[1]), "app hashes differ across thread counts and cache states");
    }
}
