//! The provider module on one chain, through FinalizeBlock + Commit on real
//! RocksDB: consumer registration, opt-in with consumer keys, the launch at
//! spawn time (initial set from allocations and weights, the provider's
//! client of the consumer, the consumer genesis), removal, bad inputs, and
//! slash packets' data against the per-epoch jail bound.
//! The two-chain path (CCV channel, VSC packets) is in `consumer.rs`.

use aegis_app::avs::genesis::AvsGenesis;
use aegis_app::avs::{AvsParams, AvsRead};
use aegis_app::delegation::genesis::DelegationGenesis;
use aegis_app::delegation::DelegationParams;
use aegis_app::math::WAD;
use aegis_app::provider::valset::cap_power;
use aegis_app::provider::state::{ConsumerValidator, Phase};
use aegis_app::provider::ProviderRead;
use aegis_app::restaking::genesis::{GenesisStrategy, RestakingGenesis};
use aegis_app::restaking::RestakingParams;
use aegis_app::rewards::genesis::RewardsGenesis;
use aegis_app::rewards::RewardsParams;
use aegis_app::signer::{pack, Signer};
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use aegis_proto::aegis::avs::v1 as apb;
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::provider::v1 as ppb;
use aegis_proto::aegis::restaking::v1 as rpb;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

const FUNDS: u128 = 10_000_000_000_000; // 1e13
const LST: &str = "stuaegis";
const STAKE: u128 = 1_000_000_000_000; // 1e12 per operator and denom
const ALLOCATION_DELAY: u64 = 20;
const WITHDRAWAL_DELAY: u64 = 600;
const BLOCKS_PER_EPOCH: u64 = 4;

fn owner() -> Signer {
    test_signer("consumer-owner")
}
fn op(name: &str) -> Signer {
    test_signer(&format!("operator-{name}"))
}

/// A consumer key (hex) from a seed.
fn key(seed: u8) -> String {
    hex::encode(ed25519_consensus::SigningKey::from([seed; 32]).verification_key().to_bytes())
}

fn genesis() -> AppGenesis {
    let funded = [owner(), op("a"), op("b"), op("c"), op("d")]
        .iter()
        .map(|s| (s.address, vec![Coin::new(LST, FUNDS), Coin::new(NATIVE_DENOM, FUNDS)]))
        .collect::<Vec<_>>();
    let mut g = genesis_with(&funded);
    g.restaking = RestakingGenesis {
        params: RestakingParams { withdrawal_delay_seconds: WITHDRAWAL_DELAY, authority: owner().address },
        strategies: vec![GenesisStrategy { denom: LST.into(), deposit_cap: None }],
    };
    g.delegation = DelegationGenesis { params: DelegationParams { blocks_per_epoch: BLOCKS_PER_EPOCH, max_validators: 10, power_reduction: 1_000_000 }, ..Default::default() };
    g.rewards = RewardsGenesis { params: RewardsParams { inflation_rate_bps: 0, blocks_per_year: 1 } };
    g.avs = AvsGenesis {
        params: AvsParams {
            default_allocation_delay_seconds: ALLOCATION_DELAY,
            deallocation_delay_seconds: WITHDRAWAL_DELAY,
            allocation_configuration_delay_seconds: 50,
            max_strategies_per_set: 4,
        },
    };
    g
}

fn coin(denom: &str, amount: u128) -> ProtoCoin {
    ProtoCoin { denom: denom.into(), amount: amount.to_string() }
}

fn become_operator(s: &Signer) -> Vec<cosmrs::Any> {
    vec![
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
        pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(coin(NATIVE_DENOM, STAKE)) }),
        pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(coin(LST, STAKE)) }),
    ]
}

fn params(chain_id: &str, spawn_time: i64) -> ppb::ConsumerParameters {
    ppb::ConsumerParameters {
        chain_id: chain_id.into(),
        metadata: Some(ppb::ConsumerMetadata { name: "Consumer One".into(), description: "a test consumer".into(), metadata: String::new() }),
        spawn_time,
        power_shaping: Some(ppb::PowerShaping { min_stake: "1000000".into(), max_validators: 0, power_cap_percent: 0, allowlist: vec![], denylist: vec![op("d").address.to_string()] }),
        strategies: vec![ppb::StrategyWeight { denom: NATIVE_DENOM.into(), weight_bps: 10_000 }, ppb::StrategyWeight { denom: LST.into(), weight_bps: 20_000 }],
        reward_fraction: "0.25".into(),
        infractions: Some(ppb::InfractionParameters { double_sign_fraction: (WAD / 20).to_string(), downtime_fraction: "0".into(), downtime_jail_seconds: 600 }),
        unbonding_period_seconds: 0,
        commission_bps: 1_000,
        proof_specs: String::new(),
        blocks_per_distribution_transmission: 0,
    }
}

fn create(p: ppb::ConsumerParameters) -> cosmrs::Any {
    pack("/aegis.provider.v1.MsgCreateConsumer", &ppb::MsgCreateConsumer { owner: owner().address.to_string(), parameters: Some(p) })
}

fn opt_in(s: &Signer, id: u64, key: &str) -> cosmrs::Any {
    pack("/aegis.provider.v1.MsgOptIn", &ppb::MsgOptIn { operator: s.address.to_string(), consumer_id: id, consumer_key: key.into() })
}

fn opt_out(s: &Signer, id: u64) -> cosmrs::Any {
    pack("/aegis.provider.v1.MsgOptOut", &ppb::MsgOptOut { operator: s.address.to_string(), consumer_id: id })
}

fn assign(s: &Signer, id: u64, key: &str) -> cosmrs::Any {
    pack("/aegis.provider.v1.MsgAssignConsumerKey", &ppb::MsgAssignConsumerKey { operator: s.address.to_string(), consumer_id: id, consumer_key: key.into() })
}

fn remove(s: &Signer, id: u64) -> cosmrs::Any {
    pack("/aegis.provider.v1.MsgRemoveConsumer", &ppb::MsgRemoveConsumer { owner: s.address.to_string(), consumer_id: id })
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

fn ok(out: &aegis_app::app::TxOutcome) {
    assert!(out.result.is_ok(), "{:?}", out.result);
}

fn failed(out: &aegis_app::app::TxOutcome, want: (&str, u32), msg: &str) {
    let e = out.result.as_ref().expect_err("the transaction should fail");
    assert_eq!((e.codespace, e.code), want, "{}", e.message);
    assert_eq!(e.message, format!("failed to execute message; message index: 0: {msg}"));
}

/// Run blocks until the next epoch end has been executed; returns its output.
async fn to_epoch_end(chain: &mut TestChain) -> aegis_app::app::BlockOutput {
    loop {
        let out = chain.block(vec![]).await;
        if chain.height.is_multiple_of(BLOCKS_PER_EPOCH) {
            return out;
        }
    }
}

async fn consumer(chain: &TestChain, id: u64) -> aegis_app::provider::Consumer {
    chain.storage().latest_snapshot().consumer(id).await.unwrap().unwrap()
}

/// Operators a, b, c (with 10^12 uaegis and 10^12 stuaegis each, self-delegated)
/// and d (denied), and consumer 1 registered with spawn time 30 s ahead.
async fn setup() -> TestChain {
    let mut chain = TestChain::new(&genesis()).await;
    for name in ["a", "b", "c", "d"] {
        ok(&chain.exec(&op(name), become_operator(&op(name))).await);
    }
    let spawn = chain.time + 30;
    let out = chain.exec(&owner(), vec![create(params("consumer-1", spawn))]).await;
    ok(&out);
    chain
}

#[tokio::test]
async fn consumer_launches_at_spawn_time_with_powers_from_allocations_and_weights() {
    let mut chain = setup().await;
    let c = consumer(&chain, 1).await;
    assert_eq!(c.phase, Phase::Registered);
    assert_eq!(c.params.unbonding_period_seconds, WITHDRAWAL_DELAY, "0 means the provider's unbonding period");
    assert_eq!(c.params.reward_fraction, WAD / 4);
    let snapshot = chain.storage().latest_snapshot();
    let avs = snapshot.avs(1).await.unwrap().unwrap();
    assert_eq!(avs.owner, Address::module("provider"), "the consumer's AVS belongs to the provider module");
    let set = snapshot.operator_set(1, 0).await.unwrap().unwrap();
    assert_eq!(set.slasher, Address::module("provider"));
    assert_eq!(set.strategies, vec![NATIVE_DENOM.to_string(), LST.to_string()]);

    // Past the spawn time with nobody opted in: it waits.
    chain.skip_time(40);
    to_epoch_end(&mut chain).await;
    assert_eq!(consumer(&chain, 1).await.phase, Phase::Registered);

    // a: half its uaegis (weight 1); b: a quarter of its uaegis and all its
    // stuaegis (weight 2); c: opted in with a key but nothing allocated.
    ok(&chain.exec(&op("a"), vec![opt_in(&op("a"), 1, &key(1)), allocate(&op("a"), 1, NATIVE_DENOM, WAD / 2)]).await);
    ok(&chain.exec(&op("b"), vec![opt_in(&op("b"), 1, &key(2)), allocate(&op("b"), 1, NATIVE_DENOM, WAD / 4), allocate(&op("b"), 1, LST, WAD)]).await);
    ok(&chain.exec(&op("c"), vec![opt_in(&op("c"), 1, &key(3))]).await);
    // Allocations count after the allocation delay; until then, no launch.
    to_epoch_end(&mut chain).await;
    assert_eq!(consumer(&chain, 1).await.phase, Phase::Registered);
    chain.skip_time(ALLOCATION_DELAY as i64);
    let out = to_epoch_end(&mut chain).await;

    let c = consumer(&chain, 1).await;
    assert_eq!(c.phase, Phase::Launched);
    // The launch's events (its own and the client's) reach the block's.
    let kinds: Vec<&str> = out.events.iter().map(|e| e.kind.as_str()).collect();
    assert!(kinds.contains(&"consumer_launched") && kinds.contains(&"create_client"), "{kinds:?}");
    assert_eq!(c.client_id.as_deref(), Some("07-tendermint-0"));
    let snapshot = chain.storage().latest_snapshot();
    let validators = snapshot.consumer_validators(1).await.unwrap();
    // b: 2.5e11 + 2 x 1e12 = 2.25e12 -> 2,250,000; a: 5e11 -> 500,000.
    assert_eq!(
        validators,
        vec![
            ConsumerValidator { operator: op("b").address, key: key(2), power: 2_250_000 },
            ConsumerValidator { operator: op("a").address, key: key(1), power: 500_000 },
        ]
    );
    let genesis = snapshot.consumer_genesis(1).await.unwrap().unwrap();
    assert!(genesis.new_chain);
    assert_eq!(genesis.params.consumer_id.as_deref(), Some("1"));
    assert_eq!(genesis.params.consumer_redistribution_fraction, "0.750000000000000000");
    assert_eq!(genesis.params.unbonding_period.as_secs(), WITHDRAWAL_DELAY);
    assert_eq!(genesis.params.provider_fee_pool_addr_str, Address::module("provider").to_string());
    assert_eq!(genesis.params.blocks_per_distribution_transmission, 1000, "not set: ICS's default");
    let initial: Vec<(String, i64)> = genesis.provider.initial_val_set.iter().map(|u| (hex::encode(u.pubkey), u.power)).collect();
    // Ordered by key, as the updates of a diff are.
    let mut want = vec![(key(1), 500_000), (key(2), 2_250_000)];
    want.sort();
    assert_eq!(initial, want);
    let cs = genesis.provider.client_state.clone().unwrap();
    assert_eq!(cs.chain_id, "aegis-test");
    assert_eq!(cs.latest_height.unwrap().revision_height, c.launch_height);
    assert_eq!(cs.unbonding_period.unwrap().seconds, WITHDRAWAL_DELAY as i64);
    assert_eq!(cs.trusting_period.unwrap().seconds, (WITHDRAWAL_DELAY * 2 / 3) as i64);

    // The provider's client of the consumer trusts exactly that initial set.
    let raw = aegis_app::ibc::state::read_raw(&snapshot, "ibc/clients/07-tendermint-0/clientState").await.unwrap().unwrap();
    let any = <ibc_proto::google::protobuf::Any as prost::Message>::decode(raw.as_slice()).unwrap();
    let client = <ibc_proto::ibc::lightclients::tendermint::v1::ClientState as prost::Message>::decode(any.value.as_slice()).unwrap();
    assert_eq!(client.chain_id, "consumer-1");
    assert_eq!(client.latest_height.unwrap().revision_height, 1);
    assert_eq!(client.unbonding_period.unwrap().seconds, WITHDRAWAL_DELAY as i64);
}

#[tokio::test]
async fn removing_a_registered_consumer_frees_its_chain_id_and_a_launched_one_stops_first() {
    let mut chain = setup().await;
    ok(&chain.exec(&owner(), vec![remove(&owner(), 1)]).await);
    assert_eq!(consumer(&chain, 1).await.phase, Phase::Removed);
    assert_eq!(chain.storage().latest_snapshot().consumer_by_chain_id("consumer-1").await.unwrap(), None);
    // The chain id can be registered again (as consumer 2).
    let spawn = chain.time;
    // Its owner asks for rewards every 7 blocks: the genesis carries it.
    ok(&chain.exec(&owner(), vec![create(ppb::ConsumerParameters { blocks_per_distribution_transmission: 7, ..params("consumer-1", spawn) })]).await);
    ok(&chain.exec(&op("a"), vec![opt_in(&op("a"), 2, &key(1)), allocate(&op("a"), 2, NATIVE_DENOM, WAD / 2)]).await);
    chain.skip_time(ALLOCATION_DELAY as i64);
    to_epoch_end(&mut chain).await;
    assert_eq!(consumer(&chain, 2).await.phase, Phase::Launched);
    let genesis = chain.storage().latest_snapshot().consumer_genesis(2).await.unwrap().unwrap();
    assert_eq!(genesis.params.blocks_per_distribution_transmission, 7);

    let out = chain.exec(&owner(), vec![remove(&owner(), 2)]).await;
    ok(&out);
    let c = consumer(&chain, 2).await;
    assert_eq!((c.phase, c.stopped_at), (Phase::Stopped, chain.time));
    // A stopped consumer takes no new operators.
    let out = chain.exec(&op("b"), vec![opt_in(&op("b"), 2, &key(2))]).await;
    failed(&out, ("provider", 6), "consumer 2 is stopped: opting in needs it registered or launched");
    // Removed once its unbonding period has passed, at an epoch end.
    chain.skip_time(WITHDRAWAL_DELAY as i64);
    to_epoch_end(&mut chain).await;
    let c = consumer(&chain, 2).await;
    assert_eq!(c.phase, Phase::Removed);
    let snapshot = chain.storage().latest_snapshot();
    assert!(!snapshot.registration(&op("a").address, 2, 0).await.unwrap().registered, "its operators are deregistered");
    assert_eq!(snapshot.consumer_validators(2).await.unwrap(), vec![]);
}

#[tokio::test]
async fn bad_provider_inputs_are_refused_with_codes_and_change_nothing() {
    let mut chain = setup().await;
    ok(&chain.exec(&op("a"), vec![opt_in(&op("a"), 1, &key(1))]).await);
    let before = consumer(&chain, 1).await;
    let members = |c: &TestChain| {
        let s = c.storage().latest_snapshot();
        async move { s.set_members(1, 0).await.unwrap() }
    };
    let members_before = members(&chain).await;

    let mut bad = params("consumer-1", chain.time);
    bad.power_shaping.as_mut().unwrap().power_cap_percent = 101;
    let cases: Vec<(Signer, cosmrs::Any, (&str, u32), String)> = vec![
        (op("b"), remove(&op("b"), 1), ("provider", 3), format!("{} is not the owner of consumer 1 (owner {})", op("b").address, owner().address)),
        (op("b"), opt_in(&op("b"), 9, ""), ("provider", 2), "consumer 9 does not exist".into()),
        (op("a"), opt_in(&op("a"), 1, ""), ("provider", 10), format!("operator {} has already opted in to consumer 1", op("a").address)),
        (op("d"), opt_in(&op("d"), 1, ""), ("provider", 7), format!("operator {} is on the deny list of consumer 1", op("d").address)),
        (
            op("b"),
            assign(&op("b"), 1, &key(1)),
            ("provider", 12),
            format!("consumer key {} is already used on consumer 1 by operator {}", aegis_app::delegation::state::consensus_address_of(&key(1)).unwrap(), op("a").address),
        ),
        (owner(), create(params("consumer-1", chain.time)), ("provider", 5), "chain id consumer-1 is already used by consumer 1".into()),
        (owner(), create(params("aegis-test", chain.time)), ("provider", 4), "invalid consumer parameters: chain_id aegis-test is the provider's own".into()),
    ];
    for (signer, msg, want, text) in cases {
        let out = chain.exec(&signer, vec![msg]).await;
        failed(&out, want, &text);
    }
    // Stateless refusals (CheckTx would reject them before any state).
    let tx = chain.sign(&owner(), vec![create(bad)]).await;
    let out = chain.block(vec![tx]).await.tx_results.remove(0);
    let e = out.result.unwrap_err();
    assert_eq!((e.codespace, e.code, e.message.as_str()), ("provider", 4, "invalid consumer parameters: power_cap_percent 101 exceeds 100"));
    let tx = chain.sign(&op("b"), vec![assign(&op("b"), 1, "abcd")]).await;
    let e = chain.block(vec![tx]).await.tx_results.remove(0).result.unwrap_err();
    assert_eq!((e.codespace, e.code, e.message.as_str()), ("provider", 11, "invalid consumer key \"abcd\": 3 bytes, an ed25519 key has 32"));

    assert_eq!(consumer(&chain, 1).await, before);
    assert_eq!(members(&chain).await, members_before);
    assert_eq!(chain.storage().latest_snapshot().consumer(2).await.unwrap(), None, "no consumer was created");
}

#[tokio::test]
async fn opting_out_and_key_rotation_are_recorded() {
    let mut chain = setup().await;
    ok(&chain.exec(&op("a"), vec![opt_in(&op("a"), 1, &key(1))]).await);
    ok(&chain.exec(&op("a"), vec![assign(&op("a"), 1, &key(5))]).await);
    let s = chain.storage().latest_snapshot();
    let addr = |k: &str| aegis_app::delegation::state::consensus_address_of(k).unwrap();
    let old = s.key_owner(1, &addr(&key(1))).await.unwrap().unwrap();
    assert_eq!((old.operator, old.retired_at), (op("a").address, Some(chain.time)), "the replaced key stays attributed to a");
    assert_eq!(s.assigned_key(1, &op("a").address).await.unwrap(), Some(key(5)));
    // Nobody else may take the retired key.
    let out = chain.exec(&op("b"), vec![opt_in(&op("b"), 1, &key(1))]).await;
    failed(&out, ("provider", 12), &format!("consumer key {} is already used on consumer 1 by operator {}", addr(&key(1)), op("a").address));
    ok(&chain.exec(&op("a"), vec![opt_out(&op("a"), 1)]).await);
    let s = chain.storage().latest_snapshot();
    assert!(!s.registration(&op("a").address, 1, 0).await.unwrap().registered);
    let out = chain.exec(&op("a"), vec![opt_out(&op("a"), 1)]).await;
    failed(&out, ("provider", 9), &format!("operator {} has not opted in to consumer 1", op("a").address));
}

#[test]
fn power_cap_spreads_the_excess_like_ics() {
    let v = |power| ConsumerValidator { operator: Address([0; 20]), key: String::new(), power };
    let mut set = vec![v(559), v(138), v(60)];
    cap_power(&mut set, 35);
    assert_eq!(set.iter().map(|v| v.power).collect::<Vec<_>>(), vec![264, 264, 229]);
    // Too few validators for the cap: everyone ends at it.
    let mut set = vec![v(100), v(50)];
    cap_power(&mut set, 30);
    assert_eq!(set.iter().map(|v| v.power).collect::<Vec<_>>(), vec![45, 45]);
}

/// A precommit for `block` at `height` by the key from `seed`, signed for
/// `chain_id` with CometBFT's canonical vote bytes.
fn vote(seed: u8, chain_id: &str, height: i64, block: u8) -> tendermint_proto::types::Vote {
    use tendermint_proto::types as t;
    let sk = ed25519_consensus::SigningKey::from([seed; 32]);
    let addr = {
        use sha2::{Digest, Sha256};
        Sha256::digest(sk.verification_key().to_bytes())[..20].to_vec()
    };
    let mut v = t::Vote {
        r#type: t::SignedMsgType::Precommit as i32,
        height,
        round: 0,
        block_id: Some(t::BlockId { hash: vec![block; 32], part_set_header: Some(t::PartSetHeader { total: 1, hash: vec![block; 32] }) }),
        timestamp: Some(tendermint_proto::google::protobuf::Timestamp { seconds: 1_700_000_100, nanos: 0 }),
        validator_address: addr,
        validator_index: 0,
        signature: vec![],
        extension: vec![],
        extension_signature: vec![],
    };
    let bytes = tendermint::Vote::try_from(v.clone()).unwrap().into_signable_vec(chain_id.parse().unwrap());
    v.signature = sk.sign(&bytes).to_bytes().to_vec();
    v
}

fn double_voting(submitter: &Signer, consumer_id: u64, a: tendermint_proto::types::Vote, b: tendermint_proto::types::Vote) -> cosmrs::Any {
    use ibc_proto::interchain_security::ccv::provider::v1::MsgSubmitConsumerDoubleVoting;
    pack(
        "/interchain_security.ccv.provider.v1.MsgSubmitConsumerDoubleVoting",
        &MsgSubmitConsumerDoubleVoting {
            submitter: submitter.address.to_string(),
            duplicate_vote_evidence: Some(tendermint_proto::types::DuplicateVoteEvidence {
                vote_a: Some(a),
                vote_b: Some(b),
                total_voting_power: 0,
                validator_power: 0,
                timestamp: None,
            }),
            infraction_block_header: None,
            consumer_id: consumer_id.to_string(),
        },
    )
}

#[tokio::test]
async fn a_double_vote_on_a_consumer_slashes_only_the_allocation_to_it_and_tombstones_there() {
    use aegis_app::delegation::DelegationRead;
    let mut chain = setup().await;
    ok(&chain.exec(&op("a"), vec![opt_in(&op("a"), 1, &key(1)), allocate(&op("a"), 1, NATIVE_DENOM, WAD / 2)]).await);
    ok(&chain.exec(&op("b"), vec![opt_in(&op("b"), 1, &key(2)), allocate(&op("b"), 1, NATIVE_DENOM, WAD / 2)]).await);
    chain.skip_time(40);
    to_epoch_end(&mut chain).await;
    assert_eq!(consumer(&chain, 1).await.phase, Phase::Launched);
    let supply = chain.supply(NATIVE_DENOM).await;

    // Bad evidence first: each refused with its reason, nothing changes.
    let mut forged = vote(1, "consumer-1", 7, 2);
    forged.signature[0] ^= 1;
    let cases = vec![
        (double_voting(&owner(), 1, vote(1, "consumer-1", 7, 1), forged), format!("invalid double-vote evidence: vote_b: the signature does not verify for key {} on consumer-1", key(1))),
        (double_voting(&owner(), 1, vote(9, "consumer-1", 7, 1), vote(9, "consumer-1", 7, 2)), {
            let k9 = key(9);
            format!("invalid double-vote evidence: {} is no operator's key on consumer 1", aegis_app::delegation::state::consensus_address_of(&k9).unwrap())
        }),
        (double_voting(&owner(), 1, vote(1, "consumer-1", 7, 1), vote(1, "consumer-1", 7, 1)), "invalid double-vote evidence: the votes are for the same block".into()),
        (double_voting(&owner(), 1, vote(1, "consumer-1", 7, 1), vote(1, "consumer-1", 8, 2)), "invalid double-vote evidence: the votes are for different steps: 7/0/2 and 8/0/2".into()),
        // Signed for another chain: does not verify for this consumer.
        (double_voting(&owner(), 1, vote(1, "other-1", 7, 1), vote(1, "other-1", 7, 2)), format!("invalid double-vote evidence: vote_a: the signature does not verify for key {} on consumer-1", key(1))),
    ];
    for (msg, text) in cases {
        let out = chain.exec(&owner(), vec![msg]).await;
        failed(&out, ("provider", 18), &text);
    }
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply);

    let out = chain.exec(&owner(), vec![double_voting(&owner(), 1, vote(1, "consumer-1", 7, 1), vote(1, "consumer-1", 7, 2))]).await;
    ok(&out);
    let s = chain.storage().latest_snapshot();
    // 5% of a's allocation (0.5 of 10^12 uaegis): magnitude 0.025 and
    // 2.5 x 10^10 tokens burned; its stuaegis and b are untouched.
    assert_eq!(s.operator_stake(&op("a").address, NATIVE_DENOM).await.unwrap().max_magnitude, WAD - WAD / 40);
    assert_eq!(s.allocation(&op("a").address, NATIVE_DENOM, 1, 0).await.unwrap().magnitude, WAD / 2 - WAD / 40);
    assert_eq!(s.operator_stake(&op("a").address, LST).await.unwrap().max_magnitude, WAD);
    assert_eq!(s.operator_stake(&op("b").address, NATIVE_DENOM).await.unwrap().max_magnitude, WAD);
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply - 25_000_000_000);
    assert!(s.consumer_jail(1, &op("a").address).await.unwrap().tombstoned);
    {
        use aegis_proto::aegis::provider::v1::{query_server::Query, QueryOperatorConsumersRequest};
        let q = aegis_app::provider::query::ProviderQuery::new(chain.storage().clone());
        let r = q.operator_consumers(tonic::Request::new(QueryOperatorConsumersRequest { operator: op("a").address.to_string() })).await.unwrap().into_inner();
        assert_eq!((r.opt_ins[0].consumer_id, r.opt_ins[0].jailed_until, r.opt_ins[0].tombstoned), (1, 0, true), "the opt-in query shows the tombstone");
    }
    assert!(!s.operator(&op("a").address).await.unwrap().unwrap().tombstoned, "tombstoned on the consumer only, not on the provider");
    // Replayed or new evidence against a tombstoned operator is refused.
    let out = chain.exec(&owner(), vec![double_voting(&owner(), 1, vote(1, "consumer-1", 9, 1), vote(1, "consumer-1", 9, 2))]).await;
    failed(&out, ("provider", 19), &format!("operator {} is already tombstoned on consumer 1", op("a").address));
    // It leaves the consumer's set at the next epoch end (its channel is
    // not open here, so the change waits; the computed set already omits it).
    let c = consumer(&chain, 1).await;
    let set = aegis_app::provider::valset::compute_validator_set(&aegis_app::app::next_block_state(chain.storage().latest_snapshot()).await.unwrap(), &c).await.unwrap();
    assert_eq!(set.iter().map(|v| v.operator).collect::<Vec<_>>(), vec![op("b").address]);
}

#[tokio::test]
async fn slash_packets_jail_within_the_epoch_bound_and_bounce_beyond_it() {
    use aegis_app::ccv::{self, Infraction, SlashPacket};
    use aegis_app::provider::infractions::on_slash_packet;
    use aegis_app::provider::ProviderWrite;
    use aegis_app::store::{BlockContext, StoreWrite};

    let mut chain = setup().await;
    ok(&chain.exec(&op("a"), vec![opt_in(&op("a"), 1, &key(1)), allocate(&op("a"), 1, NATIVE_DENOM, WAD / 2)]).await);
    ok(&chain.exec(&op("b"), vec![opt_in(&op("b"), 1, &key(2)), allocate(&op("b"), 1, NATIVE_DENOM, WAD / 4), allocate(&op("b"), 1, LST, WAD)]).await);
    ok(&chain.exec(&op("c"), vec![opt_in(&op("c"), 1, &key(3))]).await);
    chain.skip_time(40 + ALLOCATION_DELAY as i64);
    to_epoch_end(&mut chain).await;
    assert_eq!(consumer(&chain, 1).await.phase, Phase::Launched);
    let snap = chain.storage().latest_snapshot();
    let powers: Vec<(Address, i64)> = snap.consumer_validators(1).await.unwrap().iter().map(|v| (v.operator, v.power)).collect();
    assert_eq!(powers, vec![(op("b").address, 2_250_000), (op("a").address, 500_000)], "c allocated nothing");

    let mut state = cnidarium::StateDelta::new(snap);
    state.put_block_context(BlockContext { chain_id: "aegis-test".into(), height: chain.height + 1, time_seconds: chain.time, time_nanos: 0 });
    // What ChanOpenConfirm records; handling a slash packet's data needs no more of IBC.
    state.put_channel("channel-0", 1).unwrap();
    let packet = |seed: u8| SlashPacket {
        validator_address: hex::decode(aegis_app::delegation::state::consensus_address_of(&key(seed)).unwrap()).unwrap().try_into().unwrap(),
        power: 1,
        valset_update_id: 0,
        infraction: Infraction::Downtime,
    };
    let (handled, bounced) = (ccv::result_ack(ccv::ACK_SLASH_HANDLED), ccv::result_ack(ccv::ACK_SLASH_BOUNCED));
    // a (500,000 of 2,750,000) is jailed: nothing was jailed yet this epoch,
    // below the bound of 10% (275,000).
    assert_eq!(on_slash_packet(&mut state, "channel-0", 1, &packet(1)).await.unwrap(), handled);
    assert!(state.consumer_jail(1, &op("a").address).await.unwrap().excluded());
    // b bounces: the 500,000 jailed this epoch are beyond the bound.
    assert_eq!(on_slash_packet(&mut state, "channel-0", 2, &packet(2)).await.unwrap(), bounced);
    assert!(!state.consumer_jail(1, &op("b").address).await.unwrap().excluded());
    // c is not in the set: answered handled, nothing changes.
    assert_eq!(on_slash_packet(&mut state, "channel-0", 3, &packet(3)).await.unwrap(), handled);
    assert!(!state.consumer_jail(1, &op("c").address).await.unwrap().excluded());
}
