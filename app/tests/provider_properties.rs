//! Property: the provider recomputes a consumer's validator set only when
//! something it depends on changed, and never misses such a change. Random
//! sequences of deposits, withdrawals, allocation changes, opt-ins and
//! opt-outs, key rotations, consumer updates and epoch ends run against a
//! provider with three consumers (each launched at a different time). After
//! every block the test kit checks the provider invariants, which include:
//! a launched consumer that is not marked dirty, with no operator change
//! journaled, has exactly the validator set it was last sent. A change the
//! journal or a message failed to mark would break it at the next epoch
//! end. Supply, restaking, rewards and allocation invariants are checked
//! too. `PROPTEST_CASES` sets the number of cases (default 24).

use aegis_app::avs::genesis::AvsGenesis;
use aegis_app::avs::AvsParams;
use aegis_app::delegation::genesis::DelegationGenesis;
use aegis_app::delegation::DelegationParams;
use aegis_app::math::WAD;
use aegis_app::provider::state::Phase;
use aegis_app::provider::ProviderRead;
use aegis_app::restaking::genesis::{GenesisStrategy, RestakingGenesis};
use aegis_app::restaking::RestakingParams;
use aegis_app::rewards::genesis::RewardsGenesis;
use aegis_app::rewards::RewardsParams;
use aegis_app::signer::{pack, Signer};
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use aegis_proto::aegis::avs::v1 as apb;
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::provider::v1 as ppb;
use aegis_proto::aegis::restaking::v1 as rpb;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use proptest::prelude::*;

const FUNDS: u128 = 10_000_000_000_000;
const LST: &str = "stuaegis";
const BLOCKS_PER_EPOCH: u64 = 3;
const OPS: usize = 4;
const STAKERS: usize = 3;
const CONSUMERS: u64 = 3;

fn owner() -> Signer {
    test_signer("prop-owner")
}
fn op(i: usize) -> Signer {
    test_signer(&format!("prop-op-{i}"))
}
fn staker(i: usize) -> Signer {
    test_signer(&format!("prop-staker-{i}"))
}
fn key(seed: u8) -> String {
    hex::encode(ed25519_consensus::SigningKey::from([seed; 32]).verification_key().to_bytes())
}
fn coin(denom: &str, amount: u128) -> ProtoCoin {
    ProtoCoin { denom: denom.into(), amount: amount.to_string() }
}
fn denom(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        NATIVE_DENOM
    } else {
        LST
    }
}

fn genesis() -> AppGenesis {
    let mut funded: Vec<_> = (0..OPS).map(op).chain((0..STAKERS).map(staker)).collect();
    funded.push(owner());
    let funded = funded.iter().map(|s| (s.address, vec![Coin::new(LST, FUNDS), Coin::new(NATIVE_DENOM, FUNDS)])).collect::<Vec<_>>();
    let mut g = genesis_with(&funded);
    g.restaking = RestakingGenesis {
        params: RestakingParams { withdrawal_delay_seconds: 600, authority: owner().address },
        strategies: vec![GenesisStrategy { denom: LST.into(), deposit_cap: None }],
    };
    g.delegation = DelegationGenesis { params: DelegationParams { blocks_per_epoch: BLOCKS_PER_EPOCH, max_validators: 10, power_reduction: 1_000_000 }, ..Default::default() };
    g.rewards = RewardsGenesis { params: RewardsParams { inflation_rate_bps: 0, blocks_per_year: 1 } };
    g.avs = AvsGenesis {
        params: AvsParams { default_allocation_delay_seconds: 10, deallocation_delay_seconds: 600, allocation_configuration_delay_seconds: 50, max_strategies_per_set: 4 },
    };
    g
}

fn parameters(chain: u64, spawn_time: i64, weight_lst: u32, max_validators: u32, cap: u32) -> ppb::ConsumerParameters {
    ppb::ConsumerParameters {
        chain_id: format!("consumer-{chain}"),
        metadata: None,
        spawn_time,
        power_shaping: Some(ppb::PowerShaping { min_stake: "1000000".into(), max_validators, power_cap_percent: cap, allowlist: vec![], denylist: vec![] }),
        strategies: vec![ppb::StrategyWeight { denom: NATIVE_DENOM.into(), weight_bps: 10_000 }, ppb::StrategyWeight { denom: LST.into(), weight_bps: weight_lst }],
        reward_fraction: "0.25".into(),
        infractions: None,
        unbonding_period_seconds: 0,
        commission_bps: 0,
        proof_specs: String::new(),
        blocks_per_distribution_transmission: 0,
    }
}

#[derive(Clone, Debug)]
enum Step {
    Deposit { staker: usize, denom: usize, amount: u128 },
    QueueWithdrawal { staker: usize, denom: usize, shares: u128 },
    Allocate { op: usize, consumer: u64, denom: usize, tenths: u128 },
    OptIn { op: usize, consumer: u64, key: Option<u8> },
    OptOut { op: usize, consumer: u64 },
    AssignKey { op: usize, consumer: u64, key: u8 },
    Update { consumer: u64, weight_lst: u32, max_validators: u32, cap: u32 },
    SkipTime(i64),
    Epoch,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..STAKERS, 0..2usize, 1u128..5_000_000_000_000).prop_map(|(staker, denom, amount)| Step::Deposit { staker, denom, amount }),
        (0..STAKERS, 0..2usize, 1u128..3_000_000_000_000_000_000).prop_map(|(staker, denom, shares)| Step::QueueWithdrawal { staker, denom, shares }),
        (0..OPS, 1..=CONSUMERS, 0..2usize, 0u128..6).prop_map(|(op, consumer, denom, tenths)| Step::Allocate { op, consumer, denom, tenths }),
        (0..OPS, 1..=CONSUMERS, prop::option::of(1u8..12)).prop_map(|(op, consumer, key)| Step::OptIn { op, consumer, key }),
        (0..OPS, 1..=CONSUMERS).prop_map(|(op, consumer)| Step::OptOut { op, consumer }),
        (0..OPS, 1..=CONSUMERS, 1u8..12).prop_map(|(op, consumer, key)| Step::AssignKey { op, consumer, key }),
        (1..=CONSUMERS, prop_oneof![Just(5_000u32), Just(10_000), Just(30_000)], 0u32..4, prop_oneof![Just(0u32), Just(40), Just(60)])
            .prop_map(|(consumer, weight_lst, max_validators, cap)| Step::Update { consumer, weight_lst, max_validators, cap }),
        (1i64..30).prop_map(Step::SkipTime),
        Just(Step::Epoch),
        Just(Step::Epoch),
    ]
}

struct World {
    chain: TestChain,
}

impl World {
    async fn new() -> World {
        let mut chain = TestChain::new(&genesis()).await;
        for i in 0..OPS {
            let s = op(i);
            let msgs = vec![
                pack(
                    "/aegis.delegation.v1.MsgRegisterOperator",
                    &dpb::MsgRegisterOperator {
                        operator: s.address.to_string(),
                        metadata: None,
                        commission_rate_bps: 500,
                        max_commission_rate_bps: 5_000,
                        max_commission_change_rate_bps: 100,
                        consensus_pubkey: vec![],
                    },
                ),
                pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(coin(NATIVE_DENOM, 1_000_000_000_000)) }),
                pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(coin(LST, 1_000_000_000_000)) }),
            ];
            assert!(chain.exec(&s, msgs).await.result.is_ok());
        }
        for i in 0..STAKERS {
            let s = staker(i);
            assert!(chain.exec(&s, vec![pack("/aegis.delegation.v1.MsgDelegate", &dpb::MsgDelegate { staker: s.address.to_string(), operator: op(i % OPS).address.to_string() })]).await.result.is_ok());
        }
        // Consumer k launches about k epochs apart; operator k-1 starts in it.
        for k in 1..=CONSUMERS {
            let spawn = chain.time + 15 * k as i64;
            let create = pack("/aegis.provider.v1.MsgCreateConsumer", &ppb::MsgCreateConsumer { owner: owner().address.to_string(), parameters: Some(parameters(k, spawn, 10_000, 0, 0)) });
            assert!(chain.exec(&owner(), vec![create]).await.result.is_ok());
            let o = op((k - 1) as usize);
            let join = vec![
                pack("/aegis.provider.v1.MsgOptIn", &ppb::MsgOptIn { operator: o.address.to_string(), consumer_id: k, consumer_key: key(100 + k as u8) }),
                allocate(&o, k, NATIVE_DENOM, WAD / 4),
            ];
            assert!(chain.exec(&o, join).await.result.is_ok());
        }
        World { chain }
    }

    async fn run(&mut self, s: Step) {
        let c = &mut self.chain;
        match s {
            Step::Deposit { staker: i, denom: d, amount } => {
                let s = staker(i);
                c.exec(&s, vec![pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(coin(denom(d), amount)) })]).await;
            }
            Step::QueueWithdrawal { staker: i, denom: d, shares } => {
                let s = staker(i);
                let msg = rpb::MsgQueueWithdrawal { staker: s.address.to_string(), withdrawals: vec![rpb::WithdrawalRequest { denom: denom(d).into(), shares: shares.to_string() }] };
                c.exec(&s, vec![pack("/aegis.restaking.v1.MsgQueueWithdrawal", &msg)]).await;
            }
            Step::Allocate { op: i, consumer, denom: d, tenths } => {
                let o = op(i);
                c.exec(&o, vec![allocate(&o, consumer, denom(d), WAD / 10 * tenths)]).await;
            }
            Step::OptIn { op: i, consumer, key: k } => {
                let o = op(i);
                let consumer_key = k.map(key).unwrap_or_default();
                c.exec(&o, vec![pack("/aegis.provider.v1.MsgOptIn", &ppb::MsgOptIn { operator: o.address.to_string(), consumer_id: consumer, consumer_key })]).await;
            }
            Step::OptOut { op: i, consumer } => {
                let o = op(i);
                c.exec(&o, vec![pack("/aegis.provider.v1.MsgOptOut", &ppb::MsgOptOut { operator: o.address.to_string(), consumer_id: consumer })]).await;
            }
            Step::AssignKey { op: i, consumer, key: k } => {
                let o = op(i);
                let msg = ppb::MsgAssignConsumerKey { operator: o.address.to_string(), consumer_id: consumer, consumer_key: key(k) };
                c.exec(&o, vec![pack("/aegis.provider.v1.MsgAssignConsumerKey", &msg)]).await;
            }
            Step::Update { consumer, weight_lst, max_validators, cap } => {
                let Some(current) = c.storage().latest_snapshot().consumer(consumer).await.unwrap() else { return };
                let msg = ppb::MsgUpdateConsumer {
                    owner: owner().address.to_string(),
                    consumer_id: consumer,
                    parameters: Some(parameters(consumer, current.params.spawn_time, weight_lst, max_validators, cap)),
                    new_owner: String::new(),
                };
                c.exec(&owner(), vec![pack("/aegis.provider.v1.MsgUpdateConsumer", &msg)]).await;
            }
            Step::SkipTime(secs) => c.skip_time(secs),
            Step::Epoch => loop {
                c.block(vec![]).await;
                if c.height.is_multiple_of(BLOCKS_PER_EPOCH) {
                    break;
                }
            },
        }
    }
}

fn allocate(s: &Signer, avs_id: u64, denom: &str, magnitude: u128) -> cosmrs::Any {
    pack(
        "/aegis.avs.v1.MsgModifyAllocations",
        &apb::MsgModifyAllocations {
            operator: s.address.to_string(),
            allocations: vec![apb::AllocateParams { avs_id, operator_set_id: 0, strategy: denom.into(), magnitude: magnitude.to_string() }],
        },
    )
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), .. ProptestConfig::default() })]

    #[test]
    fn consumer_sets_are_recomputed_exactly_when_something_they_depend_on_changed(steps in prop::collection::vec(step(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let mut w = World::new().await;
            for s in steps {
                w.run(s).await;
            }
            // Run out the epochs so every consumer has had its chance to launch.
            w.chain.skip_time(60);
            for _ in 0..3 {
                w.run(Step::Epoch).await;
            }
            let s = w.chain.storage().latest_snapshot();
            for id in 1..=CONSUMERS {
                let c = s.consumer(id).await.unwrap().unwrap();
                assert!(matches!(c.phase, Phase::Registered | Phase::Launched), "consumer {id} is {:?}", c.phase);
            }
        });
    }
}
