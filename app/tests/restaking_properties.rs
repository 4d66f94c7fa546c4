//! Property: under any sequence of deposits, donations, delegations,
//! withdrawals (queued and completed) and slashes, valid or not, after
//! every block
//! - every pool's tokens cover the value of all its shares, and the shares
//!   owed to stakers and escrowed withdrawals never exceed the total
//!   (checked by the test kit, with operator totals equal to the sums over
//!   their delegators and escrow);
//! - supply is conserved except for exactly what slashes burned;
//! - completing every withdrawal pays out no more than the pool holds.

use aegis_app::restaking::genesis::RestakingGenesis;
use aegis_app::restaking::{pool_address, RestakingParams, RestakingRead};
use aegis_app::signer::{pack, Signer};
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Coin, NATIVE_DENOM};
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::restaking::v1 as rpb;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use proptest::prelude::*;

const FUNDS: u128 = 1_000_000_000_000;
const DELAY: u64 = 10;
/// Shares a single step may leave behind as rounding dust.
const DUST_PER_STEP: u128 = 64;

#[derive(Clone, Debug)]
enum Step {
    Deposit { who: usize, amount: u128 },
    Donate { who: usize, amount: u128 },
    Delegate { who: usize, op: usize },
    Undelegate { who: usize },
    /// Queue `percent` of the staker's deposit shares.
    Queue { who: usize, percent: u128 },
    /// Complete the staker's oldest withdrawal (may be too early).
    Complete { who: usize, as_tokens: bool },
    /// Multiply an operator's magnitude by percent / 100.
    Slash { op: usize, percent: u128 },
    Wait,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..4usize, prop_oneof![1u128..1_000, 1_000u128..10_000_000_000]).prop_map(|(who, amount)| Step::Deposit { who, amount }),
        1 => (0..4usize, 1u128..1_000_000_000).prop_map(|(who, amount)| Step::Donate { who, amount }),
        2 => (2..4usize, 0..2usize).prop_map(|(who, op)| Step::Delegate { who, op }),
        1 => (2..4usize).prop_map(|who| Step::Undelegate { who }),
        3 => (0..4usize, 1u128..=100).prop_map(|(who, percent)| Step::Queue { who, percent }),
        3 => (0..4usize, any::<bool>()).prop_map(|(who, as_tokens)| Step::Complete { who, as_tokens }),
        2 => (0..2usize, 0u128..100).prop_map(|(op, percent)| Step::Slash { op, percent }),
        1 => Just(Step::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn pools_cover_shares_and_supply_is_conserved_minus_burns(steps in prop::collection::vec(step(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            // Users 0 and 1 are operators (no consensus key); 2 and 3 stakers.
            let users: Vec<Signer> = (0..4).map(|i| test_signer(&format!("restake{i}"))).collect();
            let funded: Vec<_> = users.iter().map(|s| (s.address, vec![Coin::new(NATIVE_DENOM, FUNDS)])).collect();
            let mut g = genesis_with(&funded);
            g.restaking = RestakingGenesis { params: RestakingParams { withdrawal_delay_seconds: DELAY, authority: users[0].address }, strategies: vec![] };
            let mut chain = TestChain::new(&g).await;
            for op in &users[..2] {
                let msg = pack("/aegis.delegation.v1.MsgRegisterOperator", &dpb::MsgRegisterOperator { operator: op.address.to_string(), ..Default::default() });
                assert!(chain.exec(op, vec![msg]).await.result.is_ok());
            }
            let n_steps = steps.len();
            let mut burned = 0u128;
            let supply0 = chain.supply(NATIVE_DENOM).await;
            for s in steps {
                match s {
                    Step::Deposit { who, amount } => {
                        let u = &users[who];
                        let m = pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: u.address.to_string(), amount: Some(ProtoCoin { denom: NATIVE_DENOM.into(), amount: amount.to_string() }) });
                        chain.exec(u, vec![m]).await;
                    }
                    Step::Donate { who, amount } => {
                        let tx = chain.send_tx(&users[who], &pool_address(NATIVE_DENOM), amount).await;
                        chain.block(vec![tx]).await;
                    }
                    Step::Delegate { who, op } => {
                        let u = &users[who];
                        let m = pack("/aegis.delegation.v1.MsgDelegate", &dpb::MsgDelegate { staker: u.address.to_string(), operator: users[op].address.to_string() });
                        chain.exec(u, vec![m]).await;
                    }
                    Step::Undelegate { who } => {
                        let u = &users[who];
                        chain.exec(u, vec![pack("/aegis.delegation.v1.MsgUndelegate", &dpb::MsgUndelegate { staker: u.address.to_string() })]).await;
                    }
                    Step::Queue { who, percent } => {
                        let u = &users[who];
                        let have = chain.storage().latest_snapshot().staker_deposit(&u.address, NATIVE_DENOM).await.unwrap().deposit_shares;
                        let shares = have * percent / 100;
                        let m = pack("/aegis.restaking.v1.MsgQueueWithdrawal", &rpb::MsgQueueWithdrawal { staker: u.address.to_string(), withdrawals: vec![rpb::WithdrawalRequest { denom: NATIVE_DENOM.into(), shares: shares.to_string() }] });
                        chain.exec(u, vec![m]).await;
                    }
                    Step::Complete { who, as_tokens } => {
                        let u = &users[who];
                        let ids = chain.storage().latest_snapshot().staker_withdrawal_ids(&u.address).await.unwrap();
                        if let Some(id) = ids.first() {
                            let m = pack("/aegis.restaking.v1.MsgCompleteWithdrawal", &rpb::MsgCompleteWithdrawal { staker: u.address.to_string(), withdrawal_id: *id, receive_as_tokens: as_tokens });
                            chain.exec(u, vec![m]).await;
                        }
                    }
                    Step::Slash { op, percent } => {
                        let snap = chain.storage().latest_snapshot();
                        use aegis_app::delegation::DelegationRead;
                        let m = snap.operator_stake(&users[op].address, NATIVE_DENOM).await.unwrap().max_magnitude;
                        burned += chain.slash(&users[op].address, NATIVE_DENOM, m / 100 * percent).await;
                    }
                    Step::Wait => {
                        chain.block(vec![]).await;
                        chain.block(vec![]).await;
                    }
                }
                // Fees go to the fee collector (no validators, no rewards).
                assert_eq!(chain.supply(NATIVE_DENOM).await, supply0 - burned);
            }
            // Drain: everyone queues everything and completes after the delay.
            for u in &users[2..] {
                use aegis_app::delegation::DelegationRead;
                if chain.storage().latest_snapshot().delegated_operator(&u.address).await.unwrap().is_some() {
                    let m = pack("/aegis.delegation.v1.MsgUndelegate", &dpb::MsgUndelegate { staker: u.address.to_string() });
                    assert!(chain.exec(u, vec![m]).await.result.is_ok());
                }
            }
            for u in &users {
                let have = chain.storage().latest_snapshot().staker_deposit(&u.address, NATIVE_DENOM).await.unwrap().deposit_shares;
                if have > 0 {
                    let m = pack("/aegis.restaking.v1.MsgQueueWithdrawal", &rpb::MsgQueueWithdrawal { staker: u.address.to_string(), withdrawals: vec![rpb::WithdrawalRequest { denom: NATIVE_DENOM.into(), shares: have.to_string() }] });
                    assert!(chain.exec(u, vec![m]).await.result.is_ok());
                }
            }
            for _ in 0..3 {
                chain.block(vec![]).await;
            }
            for u in &users {
                for id in chain.storage().latest_snapshot().staker_withdrawal_ids(&u.address).await.unwrap() {
                    let m = pack("/aegis.restaking.v1.MsgCompleteWithdrawal", &rpb::MsgCompleteWithdrawal { staker: u.address.to_string(), withdrawal_id: id, receive_as_tokens: true });
                    let out = chain.exec(u, vec![m]).await;
                    assert!(out.result.is_ok(), "{:?}", out.result);
                }
            }
            let snap = chain.storage().latest_snapshot();
            let strategy = snap.strategy(NATIVE_DENOM).await.unwrap().unwrap();
            // Everything owed was paid out: no deposits remain, and the
            // shares left in the pool's total are rounding dust kept by the
            // pool (at most a few shares per step; 10^9 shares = 1 token).
            for u in &users {
                assert_eq!(snap.staker_deposits(&u.address).await.unwrap(), vec![]);
            }
            assert!(strategy.total_shares <= DUST_PER_STEP * (n_steps as u128 + 10), "left {} shares after {n_steps} steps", strategy.total_shares);
        });
    }
}
