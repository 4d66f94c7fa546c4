//! Property: any sequence of transfers, valid or not, conserves supply,
//! and every balance equals what a simple model of the rules predicts:
//! a transfer that passes the ante handler pays its fee and bumps the
//! sequence; its coins move only if the sender can cover them.

use std::collections::BTreeMap;

use aegis_app::signer::{SignOptions, Signer};
use aegis_app::testkit::{genesis_with, test_signer, TestChain, CHAIN_ID};
use aegis_app::types::{Coin, NATIVE_DENOM};
use proptest::prelude::*;

const FEE: u128 = 5_000;

#[derive(Clone, Debug)]
struct Transfer {
    from: usize,
    to: usize,
    amount: u128,
    /// Sign with a stale sequence (a replay): must change nothing.
    stale: bool,
}

fn transfer() -> impl Strategy<Value = Transfer> {
    (0..4usize, 0..5usize, prop_oneof![1u128..1_000, 1_000u128..200_000, Just(10_000_000u128)], prop::bool::weighted(0.1))
        .prop_map(|(from, to, amount, stale)| Transfer { from, to, amount, stale })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn transfers_conserve_supply_and_match_the_model(blocks in prop::collection::vec(prop::collection::vec(transfer(), 0..6), 1..5)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let users: Vec<Signer> = (0..5).map(|i| test_signer(&format!("prop{i}"))).collect();
            // Only the first four are funded; the fifth only ever receives.
            let funded: Vec<_> = users[..4].iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, 300_000)])).collect();
            let mut chain = TestChain::new(&genesis_with(&funded)).await;
            let mut balance: BTreeMap<usize, u128> = (0..4).map(|i| (i, 300_000)).collect();
            balance.insert(4, 0);
            let mut seq = [0u64; 4];
            let mut fees = 0u128;
            for block in blocks {
                let mut txs = vec![];
                // Sequences as the block will see them, tx by tx.
                let mut pending = seq;
                for t in &block {
                    let s = &users[t.from];
                    let use_seq = if t.stale && pending[t.from] > 0 { pending[t.from] - 1 } else { pending[t.from] };
                    let tx = s
                        .sign(vec![s.msg_send(&users[t.to].address, &[Coin::new(NATIVE_DENOM, t.amount)])], &SignOptions::new(CHAIN_ID, t.from as u64, use_seq))
                        .unwrap();
                    txs.push(tx);
                    // Model: the ante passes iff the sequence is current and the fee is covered.
                    if use_seq == pending[t.from] && balance[&t.from] >= FEE {
                        pending[t.from] += 1;
                        *balance.get_mut(&t.from).unwrap() -= FEE;
                        fees += FEE;
                        if balance[&t.from] >= t.amount {
                            *balance.get_mut(&t.from).unwrap() -= t.amount;
                            *balance.get_mut(&t.to).unwrap() += t.amount;
                        }
                    }
                }
                seq = pending;
                chain.block(txs).await; // checks supply == sum of balances
                for (i, u) in users.iter().enumerate() {
                    assert_eq!(chain.balance(&u.address, NATIVE_DENOM).await, balance[&i], "balance of user {i}");
                }
                for (i, s) in seq.iter().enumerate() {
                    assert_eq!(chain.account(&users[i].address).await.unwrap().1, *s, "sequence of user {i}");
                }
                assert_eq!(chain.balance(&aegis_app::types::Address::module("fee_collector"), NATIVE_DENOM).await, fees);
                assert_eq!(chain.supply(NATIVE_DENOM).await, 4 * 300_000);
            }
        });
    }
}
