//! Transaction execution through FinalizeBlock + Commit on real RocksDB
//! state. The supply invariant is checked after every block by the test kit.

use aegis_app::app::execute_tx;
use aegis_app::auth::params::MinGasPrice;
use aegis_app::signer::{SignOptions, Signer};
use aegis_app::testkit::{genesis_with, test_signer, TestChain, CHAIN_ID};
use aegis_app::tx::ExecMode;
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
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

fn fee_collector() -> Address {
    Address::module("fee_collector")
}

fn send_any(from: &Address, to: &str, denom: &str, amount: &str) -> cosmrs::Any {
    let msg = MsgSend {
        from_address: from.to_string(),
        to_address: to.to_string(),
        amount: vec![ProtoCoin { denom: denom.into(), amount: amount.into() }],
    };
    cosmrs::Any { type_url: "/cosmos.bank.v1beta1.MsgSend".into(), value: msg.encode_to_vec() }
}

fn code(out: &aegis_app::app::TxOutcome) -> (&'static str, u32) {
    match &out.result {
        Ok(()) => ("", 0),
        Err(e) => (e.codespace, e.code),
    }
}

#[tokio::test]
async fn msg_send_moves_tokens_and_charges_the_fee() {
    let mut chain = TestChain::new(&genesis()).await;
    let carol = test_signer("carol").address;
    let tx = chain.send_tx(&alice(), &carol, 1234).await;
    let out = chain.block(vec![tx]).await;
    let r = &out.tx_results[0];
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert_eq!(chain.balance(&alice().address, NATIVE_DENOM).await, FUNDS - 1234 - FEE);
    assert_eq!(chain.balance(&carol, NATIVE_DENOM).await, 1234);
    assert_eq!(chain.balance(&fee_collector(), NATIVE_DENOM).await, FEE);
    assert_eq!(chain.supply(NATIVE_DENOM).await, 2 * FUNDS);
    // Alice's sequence advanced; Carol's account was created with the next number.
    assert_eq!(chain.account(&alice().address).await, Some((0, 1)));
    assert_eq!(chain.account(&carol).await, Some((2, 0)));
    assert!(r.gas_used > 0 && r.gas_used < 200_000, "gas used {}", r.gas_used);
    assert_eq!(r.gas_wanted, 200_000);
    let kinds: Vec<&str> = r.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["coin_spent", "coin_received", "tx", "tx", "tx", "coin_spent", "coin_received", "transfer", "message"]);
}

#[tokio::test]
async fn consecutive_txs_of_one_account_in_one_block_use_consecutive_sequences() {
    let mut chain = TestChain::new(&genesis()).await;
    let a = alice();
    let to = bob().address;
    let txs: Vec<Vec<u8>> = (0..3)
        .map(|seq| a.sign(vec![a.msg_send(&to, &[Coin::new(NATIVE_DENOM, 10)])], &SignOptions::new(CHAIN_ID, 0, seq)).unwrap())
        .collect();
    let out = chain.block(txs).await;
    assert!(out.tx_results.iter().all(|r| r.result.is_ok()));
    assert_eq!(chain.balance(&to, NATIVE_DENOM).await, FUNDS + 30);
    assert_eq!(chain.account(&a.address).await, Some((0, 3)));
}

#[tokio::test]
async fn failed_message_reverts_its_writes_but_keeps_fee_and_sequence() {
    let mut chain = TestChain::new(&genesis()).await;
    // Alice can pay the fee but not FUNDS on top of it.
    let tx = chain.send_tx(&alice(), &bob().address, FUNDS).await;
    let out = chain.block(vec![tx]).await;
    let r = &out.tx_results[0];
    assert_eq!(code(r), ("sdk", 5));
    let msg = &r.result.as_ref().unwrap_err().message;
    assert_eq!(
        msg,
        &format!("failed to execute message; message index: 0: insufficient funds: have {}uaegis, need {FUNDS}uaegis", FUNDS - FEE)
    );
    assert_eq!(chain.balance(&alice().address, NATIVE_DENOM).await, FUNDS - FEE);
    assert_eq!(chain.balance(&bob().address, NATIVE_DENOM).await, FUNDS);
    assert_eq!(chain.balance(&fee_collector(), NATIVE_DENOM).await, FEE);
    assert_eq!(chain.account(&alice().address).await, Some((0, 1)));
}

#[tokio::test]
async fn out_of_gas_in_a_message_charges_the_fee_and_reverts_the_message() {
    let mut chain = TestChain::new(&genesis()).await;
    let a = alice();
    let sign = |gas_limit: u64| {
        let mut opts = SignOptions::new(CHAIN_ID, 0, 0);
        opts.gas_limit = gas_limit;
        a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 7)])], &opts).unwrap()
    };
    // What the ante handler alone costs (CheckTx runs only the ante)...
    let mut probe = aegis_app::app::next_block_state(chain.storage().latest_snapshot()).await.unwrap();
    let ante_gas = execute_tx(&mut probe, &sign(1_000_000), ExecMode::Check, &MinGasPrice::zero()).await.gas_used;
    // ...is enough to pay the fee, but not to run the send.
    let limit = ante_gas + 100;
    let out = chain.block(vec![sign(limit)]).await;
    let r = &out.tx_results[0];
    assert_eq!(code(r), ("sdk", 11), "{:?}", r.result);
    assert!(r.gas_used > limit);
    let msg = &r.result.as_ref().unwrap_err().message;
    assert!(msg.starts_with(&format!("failed to execute message; message index: 0: out of gas: gas limit {limit}")), "{msg}");
    assert_eq!(chain.balance(&bob().address, NATIVE_DENOM).await, FUNDS);
    assert_eq!(chain.balance(&a.address, NATIVE_DENOM).await, FUNDS - FEE);
    assert_eq!(chain.account(&a.address).await, Some((0, 1)));
}

/// Run `bad` in a block on one chain and an empty block on an identical
/// chain: the app hashes must match (the bad tx changed nothing), and the
/// result must carry `want` as (codespace, code) with a log containing `log`.
async fn assert_rejected_without_effect(bad: Vec<u8>, want: (&str, u32), log: &str) {
    let mut chain = TestChain::new(&genesis()).await;
    let mut reference = TestChain::new(&genesis()).await;
    let out = chain.block(vec![bad]).await;
    reference.block(vec![]).await;
    let r = &out.tx_results[0];
    assert_eq!(code(r), want, "result: {:?}", r.result);
    let message = &r.result.as_ref().unwrap_err().message;
    assert!(message.contains(log), "log {message:?} does not contain {log:?}");
    assert_eq!(chain.app_hash().await, reference.app_hash().await, "state changed");
}

#[tokio::test]
async fn undecodable_bytes_are_rejected() {
    assert_rejected_without_effect(vec![0xff, 0x00, 0x13], ("sdk", 2), "tx parse error").await;
}

#[tokio::test]
async fn bad_signature_is_rejected() {
    let a = alice();
    let tx = a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 1)])], &SignOptions::new(CHAIN_ID, 0, 0)).unwrap();
    let mut raw = TxRaw::decode(tx.as_slice()).unwrap();
    raw.signatures[0][5] ^= 0x01;
    assert_rejected_without_effect(raw.encode_to_vec(), ("sdk", 4), "signature verification failed").await;
}

#[tokio::test]
async fn signature_by_another_key_is_rejected() {
    // Bob signs a tx whose message names Alice as sender, carrying Bob's key.
    let (a, b) = (alice(), bob());
    let tx = b.sign(vec![send_any(&a.address, &b.address.to_string(), NATIVE_DENOM, "5")], &SignOptions::new(CHAIN_ID, 0, 0)).unwrap();
    assert_rejected_without_effect(tx, ("sdk", 8), "key does not belong to this address").await;
}

#[tokio::test]
async fn signature_for_another_chain_id_is_rejected() {
    let a = alice();
    let tx = a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 1)])], &SignOptions::new("other-chain", 0, 0)).unwrap();
    assert_rejected_without_effect(tx, ("sdk", 4), "chain-id (aegis-test)").await;
}

#[tokio::test]
async fn replayed_and_future_sequences_are_rejected() {
    let mut chain = TestChain::new(&genesis()).await;
    let tx = chain.send_tx(&alice(), &bob().address, 10).await;
    let out = chain.block(vec![tx.clone()]).await;
    assert!(out.tx_results[0].result.is_ok());
    let before = (chain.balance(&alice().address, NATIVE_DENOM).await, chain.account(&alice().address).await);
    // Replay of the same bytes.
    let out = chain.block(vec![tx]).await;
    assert_eq!(code(&out.tx_results[0]), ("sdk", 32));
    assert_eq!(out.tx_results[0].result.as_ref().unwrap_err().message, "account sequence mismatch: expected 1, got 0");
    // A sequence from the future.
    let a = alice();
    let future = a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 1)])], &SignOptions::new(CHAIN_ID, 0, 5)).unwrap();
    let out = chain.block(vec![future]).await;
    assert_eq!(out.tx_results[0].result.as_ref().unwrap_err().message, "account sequence mismatch: expected 1, got 5");
    let after = (chain.balance(&alice().address, NATIVE_DENOM).await, chain.account(&alice().address).await);
    assert_eq!(before, after);
}

#[tokio::test]
async fn amount_overflow_zero_and_negative_amounts_are_rejected() {
    let a = alice();
    let opts = SignOptions::new(CHAIN_ID, 0, 0);
    let to = bob().address.to_string();
    let overflow = a.sign(vec![send_any(&a.address, &to, NATIVE_DENOM, "340282366920938463463374607431768211456")], &opts).unwrap();
    assert_rejected_without_effect(overflow, ("sdk", 10), "overflows").await;
    let zero = a.sign(vec![send_any(&a.address, &to, NATIVE_DENOM, "0")], &opts).unwrap();
    assert_rejected_without_effect(zero, ("sdk", 10), "must be positive, got 0").await;
    let negative = a.sign(vec![send_any(&a.address, &to, NATIVE_DENOM, "-5")], &opts).unwrap();
    assert_rejected_without_effect(negative, ("sdk", 10), "must be a non-negative integer").await;
}

#[tokio::test]
async fn invalid_bech32_addresses_are_rejected() {
    let a = alice();
    let opts = SignOptions::new(CHAIN_ID, 0, 0);
    let tx = a.sign(vec![send_any(&a.address, "aegis1qqqqbadchecksum", NATIVE_DENOM, "5")], &opts).unwrap();
    assert_rejected_without_effect(tx, ("sdk", 7), "invalid address \"aegis1qqqqbadchecksum\"").await;
    let cosmos = cosmrs::AccountId::new("cosmos", &[1u8; 20]).unwrap().to_string();
    let tx = a.sign(vec![send_any(&a.address, &cosmos, NATIVE_DENOM, "5")], &opts).unwrap();
    assert_rejected_without_effect(tx, ("sdk", 7), "expected prefix aegis, got cosmos").await;
}

#[tokio::test]
async fn unknown_account_cannot_sign() {
    let stranger = test_signer("stranger");
    let tx = stranger.sign(vec![stranger.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 1)])], &SignOptions::new(CHAIN_ID, 0, 0)).unwrap();
    assert_rejected_without_effect(tx, ("sdk", 9), &format!("account {} does not exist", stranger.address)).await;
}

#[tokio::test]
async fn fee_above_balance_is_rejected() {
    let a = alice();
    let mut opts = SignOptions::new(CHAIN_ID, 0, 0);
    opts.fee = FUNDS + 1;
    let tx = a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 1)])], &opts).unwrap();
    assert_rejected_without_effect(tx, ("sdk", 5), &format!("insufficient funds: have {FUNDS}uaegis, need {}uaegis", FUNDS + 1)).await;
}

#[tokio::test]
async fn sending_to_a_module_account_is_refused() {
    let mut chain = TestChain::new(&genesis()).await;
    let tx = chain.send_tx(&alice(), &fee_collector(), 10).await;
    let out = chain.block(vec![tx]).await;
    assert_eq!(code(&out.tx_results[0]), ("bank", 3));
    assert_eq!(chain.balance(&fee_collector(), NATIVE_DENOM).await, FEE);
}

#[tokio::test]
async fn check_tx_enforces_the_minimum_gas_price_and_tracks_sequences() {
    let chain = TestChain::new(&genesis()).await;
    let mut mempool = aegis_app::app::next_block_state(chain.storage().latest_snapshot()).await.unwrap();
    let price = MinGasPrice::parse("0.025uaegis").unwrap(); // 200_000 gas -> 5_000 uaegis
    let a = alice();
    let mut cheap = SignOptions::new(CHAIN_ID, 0, 0);
    cheap.fee = 4_999;
    let tx = a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 1)])], &cheap).unwrap();
    let out = execute_tx(&mut mempool, &tx, ExecMode::Check, &price).await;
    assert_eq!(code(&out), ("sdk", 13));
    assert_eq!(
        out.result.unwrap_err().message,
        "insufficient fee: got 4999uaegis, required 5000uaegis (200000 gas at minimum gas price 0.025uaegis)"
    );
    // The right fee is admitted, and the next tx must use the next sequence.
    let ok = a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 1)])], &SignOptions::new(CHAIN_ID, 0, 0)).unwrap();
    assert!(execute_tx(&mut mempool, &ok, ExecMode::Check, &price).await.result.is_ok());
    assert_eq!(code(&execute_tx(&mut mempool, &ok, ExecMode::Check, &price).await), ("sdk", 32));
    let next = a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 1)])], &SignOptions::new(CHAIN_ID, 0, 1)).unwrap();
    assert!(execute_tx(&mut mempool, &next, ExecMode::Check, &price).await.result.is_ok());
    // CheckTx never touches committed state.
    assert_eq!(chain.account(&a.address).await, Some((0, 0)));
}

#[tokio::test]
async fn gas_limit_above_the_maximum_is_rejected() {
    let a = alice();
    let mut opts = SignOptions::new(CHAIN_ID, 0, 0);
    opts.gas_limit = 100_000_001;
    let tx = a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 1)])], &opts).unwrap();
    assert_rejected_without_effect(tx, ("sdk", 41), "gas limit 100000001 exceeds the maximum 100000000").await;
}

#[tokio::test]
async fn simulation_reports_gas_without_changing_state() {
    let chain = TestChain::new(&genesis()).await;
    let a = alice();
    let mut opts = SignOptions::new(CHAIN_ID, 0, 0);
    opts.fee = 0;
    opts.gas_limit = 0;
    let mut raw = TxRaw::decode(a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 9)])], &opts).unwrap().as_slice()).unwrap();
    raw.signatures = vec![vec![]]; // cosmjs simulates with an empty signature
    let resp = aegis_app::query::simulate_response(chain.storage(), &raw.encode_to_vec()).await.unwrap();
    let simulated = resp.gas_info.unwrap().gas_used;
    assert_eq!(chain.account(&a.address).await, Some((0, 0)));
    assert_eq!(chain.balance(&bob().address, NATIVE_DENOM).await, FUNDS);
    assert_eq!(chain.balance(&a.address, NATIVE_DENOM).await, FUNDS);

    // The signed tx with a real fee uses what was simulated, give or take
    // the bytes its fee and gas limit add (under 1%).
    let mut chain = chain;
    let signed = a.sign(vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 9)])], &SignOptions::new(CHAIN_ID, 0, 0)).unwrap();
    let out = chain.block(vec![signed]).await;
    let actual = out.tx_results[0].gas_used;
    assert!(out.tx_results[0].result.is_ok());
    assert!(actual.abs_diff(simulated) <= simulated / 100, "simulated {simulated}, actual {actual}");
}

#[tokio::test]
async fn the_same_blocks_replayed_into_a_fresh_app_give_the_same_hashes() {
    let signers: Vec<Signer> = (0..5).map(|i| test_signer(&format!("user{i}"))).collect();
    let genesis = genesis_with(&signers.iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, FUNDS)])).collect::<Vec<_>>());
    let mut a = TestChain::new(&genesis).await;
    let mut blocks = vec![];
    let mut hashes = vec![];
    for h in 0..8u64 {
        let mut txs = vec![];
        for (i, s) in signers.iter().enumerate() {
            if !(h + i as u64).is_multiple_of(3) {
                let to = signers[(i + h as usize + 1) % signers.len()].address;
                txs.push(a.send_tx(s, &to, 100 + h as u128 * 7 + i as u128).await);
            }
        }
        // One failing tx per block exercises the revert path too.
        txs.push(a.send_tx(&signers[0], &signers[1].address, FUNDS * 10).await);
        hashes.push(a.block(txs.clone()).await.app_hash);
        blocks.push(txs);
    }
    let mut b = TestChain::new(&genesis).await;
    for (txs, want) in blocks.into_iter().zip(hashes) {
        assert_eq!(b.block(txs).await.app_hash, want);
    }
}

#[tokio::test]
async fn a_crash_before_commit_keeps_the_last_committed_height() {
    let mut chain = TestChain::new(&genesis()).await;
    let tx = chain.send_tx(&alice(), &bob().address, 10).await;
    chain.block(vec![tx]).await;
    let committed = chain.app_hash().await;
    let tx = chain.send_tx(&alice(), &bob().address, 20).await;
    let staged = chain.finalize(vec![tx.clone()]).await;
    chain.restart().await;
    assert_eq!(chain.height, 1);
    assert_eq!(chain.app_hash().await, committed);
    assert_eq!(chain.balance(&bob().address, NATIVE_DENOM).await, FUNDS + 10);
    // Replaying the lost block gives the same app hash it had.
    chain.time -= 5;
    assert_eq!(chain.block(vec![tx]).await.app_hash, staged.app_hash);
    assert_eq!(chain.balance(&bob().address, NATIVE_DENOM).await, FUNDS + 30);
}

#[tokio::test]
async fn memo_too_long_and_expired_timeout_height_are_rejected() {
    let a = alice();
    let send = || vec![a.msg_send(&bob().address, &[Coin::new(NATIVE_DENOM, 1)])];
    let mut opts = SignOptions::new(CHAIN_ID, 0, 0);
    opts.memo = "m".repeat(257);
    assert_rejected_without_effect(a.sign(send(), &opts).unwrap(), ("sdk", 12), "memo too large: 257 bytes, max 256").await;

    // A timeout height of 0 means none; at height 2 a tx that timed out at 1 is refused.
    let mut chain = TestChain::new(&genesis()).await;
    chain.block(vec![]).await;
    let mut opts = SignOptions::new(CHAIN_ID, 0, 0);
    opts.timeout_height = 1;
    let out = chain.block(vec![a.sign(send(), &opts).unwrap()]).await;
    assert_eq!(code(&out.tx_results[0]), ("sdk", 30));
    assert_eq!(out.tx_results[0].result.as_ref().unwrap_err().message, "tx timeout height 1 is lower than block height 2");
    assert_eq!(chain.account(&a.address).await, Some((0, 0)));
    // Still valid at its timeout height itself.
    opts.timeout_height = 3;
    let out = chain.block(vec![a.sign(send(), &opts).unwrap()]).await;
    assert!(out.tx_results[0].result.is_ok(), "{:?}", out.tx_results[0].result);
}
