//! The signature cache and parallel verification: a signature CheckTx
//! verified is not verified again in FinalizeBlock, the block's other
//! signatures are verified on every core before execution, and none of it
//! changes a result, a gas figure or an app hash.

use aegis_app::app::{execute_tx, next_block_state, BlockOutput, TxOutcome};
use aegis_app::auth::params::MinGasPrice;
use aegis_app::auth::sigcache::{SigCacheStats, SigCacheWrite};
use aegis_app::auth::SigCache;
use aegis_app::signer::{SignOptions, Signer};
use aegis_app::testkit::{genesis_with, test_signer, TestChain, CHAIN_ID};
use aegis_app::tx::ExecMode;
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use cosmos_sdk_proto::cosmos::tx::v1beta1::TxRaw;
use prost::Message;

const FUNDS: u128 = 1_000_000_000;
const FEE: u128 = 5_000; // SignOptions default

fn alice() -> Signer {
    test_signer("alice")
}
fn bob() -> Signer {
    test_signer("bob")
}

fn genesis() -> AppGenesis {
    genesis_with(&[(alice().address, vec![Coin::new(NATIVE_DENOM, FUNDS)]), (bob().address, vec![Coin::new(NATIVE_DENOM, FUNDS)])])
}

/// Alice sends `amount` to Bob, signed for `chain_id` and `account_number`.
fn transfer(chain_id: &str, account_number: u64, sequence: u64, amount: u128) -> Vec<u8> {
    let a = alice();
    a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, amount)])], &SignOptions::new(chain_id, account_number, sequence)).unwrap()
}

fn flip_signature_bit(tx: &[u8]) -> Vec<u8> {
    let mut raw = TxRaw::decode(tx).unwrap();
    raw.signatures[0][5] ^= 0x01;
    raw.encode_to_vec()
}

fn code(out: &TxOutcome) -> (&'static str, u32) {
    match &out.result {
        Ok(()) => ("", 0),
        Err(e) => (e.codespace, e.code),
    }
}

fn log(out: &TxOutcome) -> &str {
    out.result.as_ref().err().map_or("", |e| e.message.as_str())
}

/// CheckTx as the mempool connection runs it: on the next block's state,
/// with the app's cache.
async fn check_tx(chain: &TestChain, tx: &[u8]) -> TxOutcome {
    let mut state = next_block_state(chain.storage().latest_snapshot()).await.unwrap();
    state.put_sig_cache(chain.app().sig_cache().clone());
    execute_tx(&mut state, tx, ExecMode::Check, &MinGasPrice::zero()).await
}

fn stats(hits: u64, misses: u64, preverified: u64) -> SigCacheStats {
    SigCacheStats { hits, misses, preverified }
}

#[tokio::test]
async fn a_cached_signature_does_not_stand_in_for_another_signature_over_the_same_body() {
    let mut chain = TestChain::new(&genesis()).await;
    let mut reference = TestChain::new(&genesis()).await;
    let good = transfer(CHAIN_ID, 0, 0, 10);
    assert_eq!(code(&check_tx(&chain, &good).await), ("", 0));
    assert_eq!(chain.app().sig_cache().len(), 1);

    let out = chain.block(vec![flip_signature_bit(&good)]).await;
    reference.block(vec![]).await;
    let r = &out.tx_results[0];
    assert_eq!(code(r), ("sdk", 4), "{:?}", r.result);
    assert!(log(r).contains("signature verification failed"), "{}", log(r));
    assert_eq!(chain.app_hash().await, reference.app_hash().await, "state changed");
    assert_eq!(chain.account(&alice().address).await, Some((0, 0)));
    // CheckTx's verification, then the ante's own (the warm-up found nothing
    // valid to add): the failure was not cached.
    assert_eq!(chain.app().sig_cache().stats(), stats(0, 2, 0));
    assert_eq!(chain.app().sig_cache().len(), 1);
}

/// Run `tx` (verified and cached by another chain's CheckTx) in a block of
/// `other`, whose app shares that cache, and an empty block on `reference`,
/// built from `other`'s genesis: the tx's outcome, once `other`'s state is
/// checked to equal `reference`'s (the tx changed nothing).
async fn run_elsewhere(other: &mut TestChain, reference: &mut TestChain, tx: Vec<u8>) -> TxOutcome {
    let out = other.block(vec![tx]).await;
    reference.block(vec![]).await;
    assert_eq!(other.app_hash().await, reference.app_hash().await, "state changed");
    out.tx_results.into_iter().next().expect("one tx result")
}

#[tokio::test]
async fn a_cached_signature_does_not_carry_over_to_another_chain_id() {
    let chain = TestChain::new(&genesis()).await;
    let mut other = TestChain::with_chain_id(&genesis(), "aegis-other").await;
    let mut reference = TestChain::with_chain_id(&genesis(), "aegis-other").await;
    // One node's cache serving both chains: the worst case for reuse.
    other.app_mut().set_sig_cache(chain.app().sig_cache().clone());
    let tx = transfer(CHAIN_ID, 0, 0, 10);
    assert_eq!(code(&check_tx(&chain, &tx).await), ("", 0));

    let r = &run_elsewhere(&mut other, &mut reference, tx).await;
    assert_eq!(code(r), ("sdk", 4), "{:?}", r.result);
    assert!(log(r).contains("chain-id (aegis-other)"), "{}", log(r));
    assert_eq!(other.balance(&alice().address, NATIVE_DENOM).await, FUNDS);
    assert_eq!(chain.app().sig_cache().stats(), stats(0, 2, 0));
}

#[tokio::test]
async fn a_cached_signature_does_not_carry_over_to_another_account_number() {
    let chain = TestChain::new(&genesis()).await;
    // Bob first: here Alice holds account number 1.
    let swapped = genesis_with(&[(bob().address, vec![Coin::new(NATIVE_DENOM, FUNDS)]), (alice().address, vec![Coin::new(NATIVE_DENOM, FUNDS)])]);
    let mut other = TestChain::new(&swapped).await;
    let mut reference = TestChain::new(&swapped).await;
    other.app_mut().set_sig_cache(chain.app().sig_cache().clone());
    assert_eq!(other.account(&alice().address).await, Some((1, 0)));
    let tx = transfer(CHAIN_ID, 0, 0, 10);
    assert_eq!(code(&check_tx(&chain, &tx).await), ("", 0));

    let r = &run_elsewhere(&mut other, &mut reference, tx).await;
    assert_eq!(code(r), ("sdk", 4), "{:?}", r.result);
    assert!(log(r).contains("account number (1)"), "{}", log(r));
    assert_eq!(chain.app().sig_cache().stats(), stats(0, 2, 0));
}

#[tokio::test]
async fn a_cached_tx_replayed_after_its_sequence_was_used_is_refused() {
    let mut chain = TestChain::new(&genesis()).await;
    let mut reference = TestChain::new(&genesis()).await;
    let tx = transfer(CHAIN_ID, 0, 0, 10);
    assert_eq!(code(&check_tx(&chain, &tx).await), ("", 0));
    let first = chain.block(vec![tx.clone()]).await;
    assert_eq!(code(&first.tx_results[0]), ("", 0));
    // FinalizeBlock found CheckTx's verification.
    assert_eq!(chain.app().sig_cache().stats(), stats(1, 1, 0));
    reference.block(vec![tx.clone()]).await;

    let replay = chain.block(vec![tx]).await;
    reference.block(vec![]).await;
    let r = &replay.tx_results[0];
    assert_eq!(code(r), ("sdk", 32), "{:?}", r.result);
    assert_eq!(log(r), "account sequence mismatch: expected 1, got 0");
    assert_eq!(chain.app_hash().await, reference.app_hash().await, "state changed");
    assert_eq!(chain.balance(&bob().address, NATIVE_DENOM).await, FUNDS + 10);
    assert_eq!(chain.balance(&alice().address, NATIVE_DENOM).await, FUNDS - 10 - FEE);
    // The sequence is checked before the cache is consulted.
    assert_eq!(chain.app().sig_cache().stats(), stats(1, 1, 0));
}

/// Gas of a transfer's ante (CheckTx) and of the whole transfer (FinalizeBlock).
const ANTE_GAS: u64 = 23_694;
const TRANSFER_GAS: u64 = 36_582;

#[tokio::test]
async fn gas_used_is_the_same_with_a_cache_hit_and_a_miss() {
    let tx = transfer(CHAIN_ID, 0, 0, 10);
    // Miss everywhere: a cache that keeps nothing.
    let mut cold = TestChain::new(&genesis()).await;
    cold.app_mut().set_sig_cache(SigCache::new(0));
    cold.app_mut().set_verify_threads(2);
    let check_miss = check_tx(&cold, &tx).await;
    let miss = cold.block(vec![tx.clone()]).await;
    // (The warm-up verified it too, but had nowhere to keep it.)
    assert_eq!(cold.app().sig_cache().stats(), stats(0, 2, 1));

    let mut warm = TestChain::new(&genesis()).await;
    assert_eq!(code(&check_tx(&warm, &tx).await), ("", 0));
    let check_hit = check_tx(&warm, &tx).await;
    let hit = warm.block(vec![tx]).await;
    assert_eq!(warm.app().sig_cache().stats(), stats(2, 1, 0));

    assert_eq!((code(&check_miss), check_miss.gas_used), (("", 0), ANTE_GAS));
    assert_eq!((code(&check_hit), check_hit.gas_used), (("", 0), ANTE_GAS));
    assert_eq!((code(&miss.tx_results[0]), miss.tx_results[0].gas_used), (("", 0), TRANSFER_GAS));
    assert_eq!((code(&hit.tx_results[0]), hit.tx_results[0].gas_used), (("", 0), TRANSFER_GAS));
    assert_eq!(miss.tx_results[0].events, hit.tx_results[0].events);
    assert_eq!(miss.app_hash, hit.app_hash);
}

/// Code, log, gas wanted, gas used, data and event count of one tx.
type TxSummary = ((&'static str, u32), String, u64, u64, Vec<u8>, usize);

/// What a block's results must agree on across nodes (events too, below).
fn results(out: &BlockOutput) -> Vec<TxSummary> {
    out.tx_results.iter().map(|r| (code(r), log(r).to_string(), r.gas_wanted, r.gas_used, r.data.clone(), r.events.len())).collect()
}

/// Blocks of transfers among five users that also hold: two txs of one
/// account, a bad signature, a replayed sequence, a failing message, and an
/// account created mid-block that sends in the same block (its account
/// number and key appear only then, so only the ante can check it).
async fn scripted_blocks(genesis: &AppGenesis, users: &[Signer]) -> Vec<Vec<Vec<u8>>> {
    let newbie = test_signer("newbie");
    // The newbie's account number, learned on a scratch chain.
    let mut scratch = TestChain::new(genesis).await;
    let fund = scratch.send_tx(&users[0], &newbie.address, 1_000_000).await;
    scratch.block(vec![fund]).await;
    let (newbie_number, _) = scratch.account(&newbie.address).await.unwrap();

    let mut chain = TestChain::new(genesis).await;
    let mut blocks: Vec<Vec<Vec<u8>>> = vec![];
    for h in 0..4u64 {
        // (account number, next sequence) of each user, as the block goes.
        let mut next = vec![];
        for u in users {
            next.push(chain.account(&u.address).await.unwrap());
        }
        let send = |next: &mut Vec<(u64, u64)>, i: usize, to: Address, amount: u128| {
            let (number, sequence) = next[i];
            next[i].1 += 1;
            users[i].sign(vec![users[i].msg_send(&to, &[Coin::new(NATIVE_DENOM, amount)])], &SignOptions::new(CHAIN_ID, number, sequence)).unwrap()
        };
        let mut txs = vec![];
        for i in 0..users.len() {
            txs.push(send(&mut next, i, users[(i + h as usize + 1) % users.len()].address, 100 + h as u128 * 7 + i as u128));
        }
        txs.push(send(&mut next, 1, users[2].address, 3));
        // Refused in the ante, so its sequence stays unused.
        let bad = flip_signature_bit(&send(&mut next, 3, users[4].address, 1));
        next[3].1 -= 1;
        txs.push(bad);
        txs.push(send(&mut next, 2, users[0].address, FUNDS * 10));
        if h == 1 {
            txs.push(send(&mut next, 4, newbie.address, 1_000_000));
            let to = users[0].address;
            txs.push(newbie.sign(vec![newbie.msg_send(&to, &[Coin::new(NATIVE_DENOM, 11)])], &SignOptions::new(CHAIN_ID, newbie_number, 0)).unwrap());
        }
        if h == 2 {
            // Block 1's first tx again: its sequence is spent.
            txs.push(blocks[1][0].clone());
        }
        chain.block(txs.clone()).await;
        blocks.push(txs);
    }
    blocks
}

/// Run `blocks` on a fresh chain with `threads` verification threads and
/// `cache`; with `warm`, CheckTx sees every tx of a block first (one
/// mempool state per block, as CometBFT's mempool would).
async fn run(genesis: &AppGenesis, blocks: &[Vec<Vec<u8>>], threads: usize, cache: SigCache, warm: bool) -> (Vec<BlockOutput>, SigCacheStats) {
    let mut chain = TestChain::new(genesis).await;
    chain.app_mut().set_verify_threads(threads);
    chain.app_mut().set_sig_cache(cache.clone());
    let mut outs = vec![];
    for txs in blocks {
        if warm {
            let mut state = next_block_state(chain.storage().latest_snapshot()).await.unwrap();
            state.put_sig_cache(cache.clone());
            for tx in txs {
                execute_tx(&mut state, tx, ExecMode::Check, &MinGasPrice::zero()).await;
            }
        }
        outs.push(chain.block(txs.clone()).await);
    }
    (outs, cache.stats())
}

#[tokio::test]
async fn one_thread_or_many_cold_or_warm_cache_give_the_same_blocks() {
    let users: Vec<Signer> = (0..5).map(|i| test_signer(&format!("user{i}"))).collect();
    let funded: Vec<(Address, Vec<Coin>)> = users.iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, FUNDS)])).collect();
    let genesis = genesis_with(&funded);
    let blocks = scripted_blocks(&genesis, &users).await;

    let (reference, cold1) = run(&genesis, &blocks, 1, SigCache::default(), false).await;
    let expected: Vec<_> = reference.iter().map(results).collect();
    // Every block holds one bad signature and one failing transfer; block 1
    // the newbie's first tx, block 2 a replay.
    let codes: Vec<Vec<(&str, u32)>> = expected.iter().map(|b| b.iter().map(|r| r.0).collect()).collect();
    let ok = ("", 0);
    let (bad_sig, no_funds, replay) = (("sdk", 4), ("sdk", 5), ("sdk", 32));
    assert_eq!(codes[0], vec![ok, ok, ok, ok, ok, ok, bad_sig, no_funds]);
    assert_eq!(codes[1], vec![ok, ok, ok, ok, ok, ok, bad_sig, no_funds, ok, ok]);
    assert_eq!(codes[2], vec![ok, ok, ok, ok, ok, ok, bad_sig, no_funds, replay]);
    assert_eq!(codes[3], vec![ok, ok, ok, ok, ok, ok, bad_sig, no_funds]);
    // One thread, cold: no warm-up, the ante verifies each signature it
    // reaches (30 valid, 4 bad; the replay fails on its sequence first).
    assert_eq!(cold1, stats(0, 34, 0));

    for (threads, cache, warm, want) in [
        // The warm-up verified every valid signature of an account that
        // existed at block start (7, 8, 7 and 7: block 2's replay was
        // already cached by block 1); the ante found those it reached and
        // verified the newbie's and the four bad ones itself.
        (2, SigCache::default(), false, Some(stats(29, 5, 29))),
        (8, SigCache::default(), false, Some(stats(29, 5, 29))),
        // CheckTx verified 33 signatures (8, 9, 8, 8: not the newbie's,
        // whose account does not exist yet in the mempool's state), cached
        // the 29 valid ones, and FinalizeBlock found them.
        (1, SigCache::default(), true, Some(stats(29, 38, 0))),
        (2, SigCache::default(), true, Some(stats(29, 38, 0))),
        // A one-entry cache: which entry survives depends on the threads'
        // timing, the results must not.
        (2, SigCache::new(1), true, None),
    ] {
        let capacity = cache.capacity();
        let (outs, got) = run(&genesis, &blocks, threads, cache, warm).await;
        if let Some(want) = want {
            assert_eq!(got, want, "{threads} threads");
        }
        for (h, (out, want)) in outs.iter().zip(&reference).enumerate() {
            let label = format!("block {h}, {threads} threads, capacity {capacity}, warm {warm}");
            assert_eq!(out.app_hash, want.app_hash, "{label}");
            assert_eq!(results(out), expected[h], "{label}");
            for (a, b) in out.tx_results.iter().zip(&want.tx_results) {
                assert_eq!(a.events, b.events, "{label}");
            }
        }
    }
}

#[tokio::test]
async fn checktx_through_the_mempool_connection_warms_finalizeblock_on_the_consensus_connection() {
    use tendermint::abci::request;
    use tendermint::v0_38::abci::{ConsensusRequest, ConsensusResponse, MempoolRequest, MempoolResponse};
    use tower::ServiceExt;

    let dir = tempfile::tempdir().unwrap();
    let storage = aegis_app::store::open(dir.path().join("db")).await.unwrap();
    let mut app = aegis_app::App::new(storage);
    app.init_chain(CHAIN_ID, &serde_json::to_vec(&genesis()).unwrap(), (1_700_000_000, 0)).await.unwrap();
    let cache = app.sig_cache().clone();
    let (consensus, mempool, _, _) = aegis_app::abci::services(app, MinGasPrice::zero());

    let tx = bytes::Bytes::from(transfer(CHAIN_ID, 0, 0, 10));
    let MempoolResponse::CheckTx(c) = mempool.oneshot(MempoolRequest::CheckTx(request::CheckTx { tx: tx.clone(), kind: request::CheckTxKind::New })).await.unwrap();
    assert_eq!(c.code.value(), 0, "{}", c.log);
    assert_eq!(cache.stats(), stats(0, 1, 0));

    let time = tendermint::Time::from_unix_timestamp(1_700_000_005, 0).unwrap();
    let finalize = ConsensusRequest::FinalizeBlock(request::FinalizeBlock {
        txs: vec![tx],
        decided_last_commit: tendermint::abci::types::CommitInfo { round: 0u16.into(), votes: vec![] },
        misbehavior: vec![],
        hash: tendermint::Hash::None,
        height: 1u32.into(),
        time,
        next_validators_hash: tendermint::Hash::None,
        proposer_address: tendermint::account::Id::new([0; 20]),
    });
    let ConsensusResponse::FinalizeBlock(f) = consensus.oneshot(finalize).await.unwrap() else { panic!("not a FinalizeBlock response") };
    assert_eq!(f.tx_results[0].code.value(), 0, "{}", f.tx_results[0].log);
    assert_eq!(cache.stats(), stats(1, 1, 0));
}
