//! Restaking, delegation and native rewards through FinalizeBlock + Commit
//! on real RocksDB state. After every block the test kit checks supply
//! conservation, that pools cover every share holder and that operator
//! totals equal the sums over their delegators and escrowed withdrawals.

use aegis_app::delegation::genesis::{DelegationGenesis, GenesisOperator};
use aegis_app::delegation::{DelegationParams, DelegationRead, OperatorMetadata};
use aegis_app::math::WAD;
use aegis_app::restaking::genesis::{GenesisStrategy, RestakingGenesis};
use aegis_app::restaking::{pool_address, RestakingParams, RestakingRead};
use aegis_app::rewards::genesis::RewardsGenesis;
use aegis_app::rewards::{RewardsParams, RewardsRead};
use aegis_app::signer::{pack, Signer};
use aegis_app::testkit::{genesis_with, test_signer, TestChain, GENESIS_TIME};
use aegis_app::types::{Address, Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::restaking::v1 as rpb;
use aegis_proto::aegis::rewards::v1 as wpb;
use base64::Engine;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;

const FUNDS: u128 = 10_000_000_000_000; // 1e13
const LST: &str = "stuaegis";
const LST_CAP: u128 = 5_000_000;
const DELAY: u64 = 100;

fn alice() -> Signer {
    test_signer("alice")
}
fn bob() -> Signer {
    test_signer("bob")
}
fn op_a() -> Signer {
    test_signer("operator-a")
}
fn op_b() -> Signer {
    test_signer("operator-b")
}

fn consensus_key(seed: u8) -> Vec<u8> {
    ed25519_consensus::SigningKey::from([seed; 32]).verification_key().to_bytes().to_vec()
}

fn coin(denom: &str, amount: u128) -> ProtoCoin {
    ProtoCoin { denom: denom.into(), amount: amount.to_string() }
}

fn deposit(s: &Signer, denom: &str, amount: u128) -> cosmrs::Any {
    pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: s.address.to_string(), amount: Some(coin(denom, amount)) })
}

fn queue(s: &Signer, items: &[(&str, u128)]) -> cosmrs::Any {
    pack(
        "/aegis.restaking.v1.MsgQueueWithdrawal",
        &rpb::MsgQueueWithdrawal {
            staker: s.address.to_string(),
            withdrawals: items.iter().map(|(d, n)| rpb::WithdrawalRequest { denom: d.to_string(), shares: n.to_string() }).collect(),
        },
    )
}

fn complete(s: &Signer, id: u64, as_tokens: bool) -> cosmrs::Any {
    pack(
        "/aegis.restaking.v1.MsgCompleteWithdrawal",
        &rpb::MsgCompleteWithdrawal { staker: s.address.to_string(), withdrawal_id: id, receive_as_tokens: as_tokens },
    )
}

fn register(s: &Signer, rate: u32, max: u32, max_change: u32, key: Vec<u8>) -> cosmrs::Any {
    pack(
        "/aegis.delegation.v1.MsgRegisterOperator",
        &dpb::MsgRegisterOperator {
            operator: s.address.to_string(),
            metadata: Some(dpb::OperatorMetadata { moniker: "op".into(), ..Default::default() }),
            commission_rate_bps: rate,
            max_commission_rate_bps: max,
            max_commission_change_rate_bps: max_change,
            consensus_pubkey: key,
        },
    )
}

fn update_commission(s: &Signer, rate: u32) -> cosmrs::Any {
    pack(
        "/aegis.delegation.v1.MsgUpdateOperator",
        &dpb::MsgUpdateOperator { operator: s.address.to_string(), metadata: None, commission_rate_bps: Some(rate), consensus_pubkey: vec![] },
    )
}

fn delegate(s: &Signer, op: &Address) -> cosmrs::Any {
    pack("/aegis.delegation.v1.MsgDelegate", &dpb::MsgDelegate { staker: s.address.to_string(), operator: op.to_string() })
}

fn undelegate(s: &Signer) -> cosmrs::Any {
    pack("/aegis.delegation.v1.MsgUndelegate", &dpb::MsgUndelegate { staker: s.address.to_string() })
}

fn redelegate(s: &Signer, op: &Address) -> cosmrs::Any {
    pack("/aegis.delegation.v1.MsgRedelegate", &dpb::MsgRedelegate { staker: s.address.to_string(), new_operator: op.to_string() })
}

fn claim(s: &Signer) -> cosmrs::Any {
    pack("/aegis.rewards.v1.MsgClaimRewards", &wpb::MsgClaimRewards { claimer: s.address.to_string() })
}

/// Alice, Bob and two would-be operators funded in uaegis and the LST;
/// uaegis (no cap) and the LST (capped) accepted; no inflation.
fn genesis() -> AppGenesis {
    let funded = [alice(), bob(), op_a(), op_b()]
        .iter()
        .map(|s| (s.address, vec![Coin::new(LST, FUNDS), Coin::new(NATIVE_DENOM, FUNDS)]))
        .collect::<Vec<_>>();
    let mut g = genesis_with(&funded);
    g.restaking = RestakingGenesis {
        params: RestakingParams { withdrawal_delay_seconds: DELAY, authority: alice().address },
        strategies: vec![GenesisStrategy { denom: LST.into(), deposit_cap: Some(LST_CAP.to_string()) }],
    };
    g.delegation = DelegationGenesis { params: DelegationParams { blocks_per_epoch: 4, max_validators: 2, power_reduction: 1_000_000 }, ..Default::default() };
    g.rewards = RewardsGenesis { params: RewardsParams { inflation_rate_bps: 0, blocks_per_year: 1 } };
    g
}

fn code(out: &aegis_app::app::TxOutcome) -> (&'static str, u32) {
    match &out.result {
        Ok(()) => ("", 0),
        Err(e) => (e.codespace, e.code),
    }
}

fn ok(out: &aegis_app::app::TxOutcome) {
    assert!(out.result.is_ok(), "{:?}", out.result);
}

async fn withdrawable(chain: &TestChain, who: &Address, denom: &str) -> (u128, u128) {
    chain.storage().latest_snapshot().withdrawable(who, denom).await.unwrap()
}

async fn deposit_shares(chain: &TestChain, who: &Address, denom: &str) -> u128 {
    chain.storage().latest_snapshot().staker_deposit(who, denom).await.unwrap().deposit_shares
}

/// First deposit into an empty pool: 10^9 shares per token.
const SHARES_PER_TOKEN: u128 = 1_000_000_000;

#[tokio::test]
async fn deposit_queue_and_complete_move_exact_tokens() {
    let mut chain = TestChain::new(&genesis()).await;
    let a = alice();
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 1_000_000)]).await);
    assert_eq!(chain.balance(&a.address, NATIVE_DENOM).await, FUNDS - 1_000_000);
    assert_eq!(chain.balance(&pool_address(NATIVE_DENOM), NATIVE_DENOM).await, 1_000_000);
    assert_eq!(deposit_shares(&chain, &a.address, NATIVE_DENOM).await, 1_000_000 * SHARES_PER_TOKEN);
    assert_eq!(withdrawable(&chain, &a.address, NATIVE_DENOM).await, (1_000_000 * SHARES_PER_TOKEN, 1_000_000));

    // Queue 40%: the shares leave the staker, the tokens stay in the pool.
    let out = chain.exec(&a, vec![queue(&a, &[(NATIVE_DENOM, 400_000 * SHARES_PER_TOKEN)])]).await;
    ok(&out);
    let queued_at = chain.time;
    assert_eq!(deposit_shares(&chain, &a.address, NATIVE_DENOM).await, 600_000 * SHARES_PER_TOKEN);
    assert_eq!(chain.balance(&pool_address(NATIVE_DENOM), NATIVE_DENOM).await, 1_000_000);
    let w = chain.storage().latest_snapshot().withdrawal(1).await.unwrap().unwrap();
    assert_eq!(w.completable_time, queued_at + DELAY as i64);
    assert_eq!(w.entries, vec![(NATIVE_DENOM.to_string(), 400_000 * SHARES_PER_TOKEN)]);

    // Too early: refused with the time left (block time advances 5 s per block).
    let out = chain.exec(&a, vec![complete(&a, 1, true)]).await;
    assert_eq!(code(&out), ("restaking", 8));
    let now = queued_at + 5;
    assert_eq!(
        out.result.unwrap_err().message,
        format!("failed to execute message; message index: 0: withdrawal 1 is still in escrow: completable at {} (block time {now}), {}s left", queued_at + 100, 95)
    );
    assert_eq!(chain.balance(&a.address, NATIVE_DENOM).await, FUNDS - 1_000_000);

    while chain.time + 5 < queued_at + DELAY as i64 {
        chain.block(vec![]).await;
    }
    let out = chain.exec(&a, vec![complete(&a, 1, true)]).await;
    ok(&out);
    assert_eq!(chain.balance(&a.address, NATIVE_DENOM).await, FUNDS - 600_000);
    assert_eq!(chain.balance(&pool_address(NATIVE_DENOM), NATIVE_DENOM).await, 600_000);
    assert!(chain.storage().latest_snapshot().withdrawal(1).await.unwrap().is_none());
    // Completing twice is refused.
    assert_eq!(code(&chain.exec(&a, vec![complete(&a, 1, true)]).await), ("restaking", 6));
}

#[tokio::test]
async fn first_depositor_inflation_attack_leaves_the_victim_whole_but_dust() {
    let mut chain = TestChain::new(&genesis()).await;
    let (attacker, victim) = (alice(), bob());
    ok(&chain.exec(&attacker, vec![deposit(&attacker, NATIVE_DENOM, 1)]).await);
    // Donate 10^12 to the pool, hoping to round the victim's shares to 0.
    let donation = 1_000_000_000_000u128;
    let tx = chain.send_tx(&attacker, &pool_address(NATIVE_DENOM), donation).await;
    ok(&chain.block(vec![tx]).await.tx_results[0]);
    let deposit_amount = 1_000_000_000u128;
    ok(&chain.exec(&victim, vec![deposit(&victim, NATIVE_DENOM, deposit_amount)]).await);
    // shares = 10^9 * (10^9 + 10^9) / (10^12 + 1 + 1), rounded down.
    assert_eq!(deposit_shares(&chain, &victim.address, NATIVE_DENOM).await, 1_999_999);
    let (shares, tokens) = withdrawable(&chain, &victim.address, NATIVE_DENOM).await;
    assert_eq!(shares, 1_999_999);
    // One share is now worth ~500 tokens, so the victim loses less than
    // one share's value (5 * 10^-7 of its deposit); the attacker forfeits
    // half its donation to the virtual shares.
    assert_eq!(tokens, 999_999_500);
    ok(&chain.exec(&victim, vec![queue(&victim, &[(NATIVE_DENOM, 1_999_999)])]).await);
    for _ in 0..(DELAY / 5) {
        chain.block(vec![]).await;
    }
    let before = chain.balance(&victim.address, NATIVE_DENOM).await;
    ok(&chain.exec(&victim, vec![complete(&victim, 1, true)]).await);
    assert_eq!(chain.balance(&victim.address, NATIVE_DENOM).await - before, 999_999_500);
    let (_, attacker_tokens) = withdrawable(&chain, &attacker.address, NATIVE_DENOM).await;
    // The attacker put in 10^12 + 1 and can take out about half.
    assert_eq!(attacker_tokens, 500_000_000_251);
}

#[tokio::test]
async fn delegation_moves_shares_to_the_operator_and_undelegation_escrows_them() {
    let mut chain = TestChain::new(&genesis()).await;
    let (a, op) = (alice(), op_a());
    ok(&chain.exec(&op, vec![register(&op, 500, 2000, 100, consensus_key(1))]).await);
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 3_000), deposit(&a, LST, 2_000), delegate(&a, &op.address)]).await);
    let snap = chain.storage().latest_snapshot();
    assert_eq!(snap.delegated_operator(&a.address).await.unwrap(), Some(op.address));
    assert_eq!(snap.operator_stake(&op.address, NATIVE_DENOM).await.unwrap().active_shares(), 3_000 * SHARES_PER_TOKEN);
    assert_eq!(snap.operator_stake(&op.address, LST).await.unwrap().active_shares(), 2_000 * SHARES_PER_TOKEN);
    assert_eq!(snap.operator(&op.address).await.unwrap().unwrap().delegator_count, 2); // itself and alice

    // A later deposit goes to the operator too.
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 1_000)]).await);
    let snap = chain.storage().latest_snapshot();
    assert_eq!(snap.operator_stake(&op.address, NATIVE_DENOM).await.unwrap().active_shares(), 4_000 * SHARES_PER_TOKEN);

    let out = chain.exec(&a, vec![undelegate(&a)]).await;
    ok(&out);
    let snap = chain.storage().latest_snapshot();
    assert_eq!(snap.delegated_operator(&a.address).await.unwrap(), None);
    let stake = snap.operator_stake(&op.address, NATIVE_DENOM).await.unwrap();
    assert_eq!((stake.total_scaled, stake.queued_scaled), (0, 4_000 * SHARES_PER_TOKEN));
    assert_eq!(snap.staker_deposits(&a.address).await.unwrap(), vec![]);
    let w = snap.withdrawal(1).await.unwrap().unwrap();
    assert_eq!(w.operator, Some(op.address));
    // Entries in denom order.
    assert_eq!(w.entries, vec![(LST.to_string(), 2_000 * SHARES_PER_TOKEN), (NATIVE_DENOM.to_string(), 4_000 * SHARES_PER_TOKEN)]);
    for _ in 0..(DELAY / 5) {
        chain.block(vec![]).await;
    }
    ok(&chain.exec(&a, vec![complete(&a, 1, true)]).await);
    assert_eq!(chain.balance(&a.address, NATIVE_DENOM).await, FUNDS);
    assert_eq!(chain.balance(&a.address, LST).await, FUNDS);
    let stake = chain.storage().latest_snapshot().operator_stake(&op.address, NATIVE_DENOM).await.unwrap();
    assert_eq!(stake.queued_scaled, 0);
}

#[tokio::test]
async fn slash_reduces_every_delegator_and_queued_withdrawal_in_escrow() {
    let mut chain = TestChain::new(&genesis()).await;
    let (a, b, op) = (alice(), bob(), op_a());
    ok(&chain.exec(&op, vec![register(&op, 0, 0, 0, vec![])]).await);
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 1_000_000), delegate(&a, &op.address)]).await);
    ok(&chain.exec(&b, vec![delegate(&b, &op.address), deposit(&b, NATIVE_DENOM, 3_000_000)]).await);
    // Bob queues a third of his shares before the slash.
    ok(&chain.exec(&b, vec![queue(&b, &[(NATIVE_DENOM, 1_000_000 * SHARES_PER_TOKEN)])]).await);
    let supply = chain.supply(NATIVE_DENOM).await;

    // Max magnitude 1.0 -> 0.75: everyone keeps 75%.
    let burned = chain.slash(&op.address, NATIVE_DENOM, WAD / 4 * 3).await;
    assert_eq!(burned, 1_000_000); // 25% of the 4,000,000 tokens delegated or escrowed
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply - 1_000_000);
    assert_eq!(chain.balance(&pool_address(NATIVE_DENOM), NATIVE_DENOM).await, 3_000_000);
    assert_eq!(withdrawable(&chain, &a.address, NATIVE_DENOM).await, (750_000 * SHARES_PER_TOKEN, 750_000));
    assert_eq!(withdrawable(&chain, &b.address, NATIVE_DENOM).await, (1_500_000 * SHARES_PER_TOKEN, 1_500_000));
    // Deposit shares are untouched: the slash wrote one record.
    assert_eq!(deposit_shares(&chain, &a.address, NATIVE_DENOM).await, 1_000_000 * SHARES_PER_TOKEN);

    // New stake after the slash is worth what was deposited, less one
    // share of rounding (kept by the pool), which costs one token unit here.
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 300_000)]).await);
    assert_eq!(withdrawable(&chain, &a.address, NATIVE_DENOM).await, (1_050_000 * SHARES_PER_TOKEN - 1, 1_049_999));

    for _ in 0..(DELAY / 5) {
        chain.block(vec![]).await;
    }
    let before = chain.balance(&b.address, NATIVE_DENOM).await;
    ok(&chain.exec(&b, vec![complete(&b, 1, true)]).await);
    assert_eq!(chain.balance(&b.address, NATIVE_DENOM).await - before, 750_000);
}

#[tokio::test]
async fn redelegation_escrows_with_the_old_operator_and_completes_as_shares_to_the_new() {
    let mut chain = TestChain::new(&genesis()).await;
    let (a, x, y) = (alice(), op_a(), op_b());
    ok(&chain.exec(&x, vec![register(&x, 0, 0, 0, vec![])]).await);
    ok(&chain.exec(&y, vec![register(&y, 0, 0, 0, vec![])]).await);
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 2_000), delegate(&a, &x.address)]).await);
    ok(&chain.exec(&a, vec![redelegate(&a, &y.address)]).await);
    assert_eq!(chain.storage().latest_snapshot().delegated_operator(&a.address).await.unwrap(), Some(y.address));
    // Still slashable by the old operator while in escrow.
    chain.slash(&x.address, NATIVE_DENOM, WAD / 2).await;
    for _ in 0..(DELAY / 5) {
        chain.block(vec![]).await;
    }
    ok(&chain.exec(&a, vec![complete(&a, 1, false)]).await);
    assert_eq!(withdrawable(&chain, &a.address, NATIVE_DENOM).await, (1_000 * SHARES_PER_TOKEN, 1_000));
    let snap = chain.storage().latest_snapshot();
    assert_eq!(snap.operator_stake(&y.address, NATIVE_DENOM).await.unwrap().active_shares(), 1_000 * SHARES_PER_TOKEN);
    assert_eq!(snap.operator_stake(&x.address, NATIVE_DENOM).await.unwrap().queued_scaled, 0);
}

/// (name, signer, message, expected (codespace, code), expected message).
type BadCase = (&'static str, Signer, cosmrs::Any, (&'static str, u32), String);

#[tokio::test]
async fn bad_input_is_refused_with_a_clear_error_and_changes_nothing() {
    let mut chain = TestChain::new(&genesis()).await;
    let (a, b, op) = (alice(), bob(), op_a());
    ok(&chain.exec(&op, vec![register(&op, 500, 1000, 100, vec![])]).await);
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 5_000), delegate(&a, &op.address)]).await);
    ok(&chain.exec(&a, vec![queue(&a, &[(NATIVE_DENOM, 1_000 * SHARES_PER_TOKEN)])]).await);

    let cases: Vec<BadCase> = vec![
        ("unaccepted denom", alice(), deposit(&a, "ufoo", 10), ("restaking", 2), "no strategy accepts denom ufoo".into()),
        (
            "above the cap",
            alice(),
            deposit(&a, LST, LST_CAP + 1),
            ("restaking", 3),
            format!("deposit of {}{LST} exceeds the strategy's cap: pool holds 0, cap {LST_CAP}", LST_CAP + 1),
        ),
        (
            "more than the balance",
            bob(),
            deposit(&b, NATIVE_DENOM, FUNDS + 1),
            ("sdk", 5),
            format!("insufficient funds: have {FUNDS}uaegis, need {}uaegis", FUNDS + 1),
        ),
        ("delegate to a non-operator", bob(), delegate(&b, &a.address), ("delegation", 2), format!("{} is not a registered operator", a.address)),
        (
            "second delegation",
            alice(),
            delegate(&a, &op.address),
            ("delegation", 4),
            format!("{} is already delegated to {}; undelegate or redelegate first", a.address, op.address),
        ),
        (
            "more shares than held",
            alice(),
            queue(&a, &[(NATIVE_DENOM, 4_000 * SHARES_PER_TOKEN + 1)]),
            ("restaking", 5),
            format!("insufficient shares of uaegis: have {}, want {}", 4_000 * SHARES_PER_TOKEN, 4_000 * SHARES_PER_TOKEN + 1),
        ),
        (
            "someone else's withdrawal",
            bob(),
            complete(&b, 1, true),
            ("restaking", 7),
            format!("withdrawal 1 belongs to {}, not {}", a.address, b.address),
        ),
        ("commission above max", op_a(), update_commission(&op, 1100), ("delegation", 7), "commission rate 1100bps exceeds the maximum 1000bps".into()),
        (
            "commission change too large",
            op_a(),
            update_commission(&op, 700),
            ("delegation", 8),
            "commission change of 200bps exceeds the maximum daily change 100bps".into(),
        ),
        (
            "commission changed too soon",
            op_a(),
            update_commission(&op, 600),
            ("delegation", 9),
            format!("commission was changed at {}; the next change is allowed at {} (block time {})", GENESIS_TIME + 5, GENESIS_TIME + 5 + 86_400, GENESIS_TIME + 5 * 13),
        ),
        (
            "register twice",
            op_a(),
            register(&op, 0, 0, 0, vec![]),
            ("delegation", 3),
            format!("{} is already a registered operator", op.address),
        ),
        (
            "operator undelegating itself",
            op_a(),
            undelegate(&op),
            ("delegation", 6),
            format!("operator {} cannot undelegate from itself", op.address),
        ),
        ("undelegate when not delegated", bob(), undelegate(&b), ("delegation", 5), format!("{} is not delegated", b.address)),
        ("claim with nothing owed", bob(), claim(&b), ("rewards", 2), format!("{} has no rewards to claim", b.address)),
    ];
    for (name, signer, msg, want_code, want_msg) in cases {
        let snap = chain.storage().latest_snapshot();
        let a_dep = snap.staker_deposit(&a.address, NATIVE_DENOM).await.unwrap();
        let stake = snap.operator_stake(&op.address, NATIVE_DENOM).await.unwrap();
        let operator = snap.operator(&op.address).await.unwrap();
        let balances = (chain.balance(&a.address, NATIVE_DENOM).await, chain.balance(&b.address, NATIVE_DENOM).await);
        let out = chain.exec(&signer, vec![msg]).await;
        assert_eq!(code(&out), want_code, "{name}: {:?}", out.result);
        assert_eq!(out.result.unwrap_err().message, format!("failed to execute message; message index: 0: {want_msg}"), "{name}");
        let snap = chain.storage().latest_snapshot();
        assert_eq!(snap.staker_deposit(&a.address, NATIVE_DENOM).await.unwrap(), a_dep, "{name}");
        assert_eq!(snap.operator_stake(&op.address, NATIVE_DENOM).await.unwrap(), stake, "{name}");
        assert_eq!(snap.operator(&op.address).await.unwrap(), operator, "{name}");
        assert_eq!((chain.balance(&a.address, NATIVE_DENOM).await, chain.balance(&b.address, NATIVE_DENOM).await), balances, "{name}");
    }
}

#[tokio::test]
async fn stateless_checks_reject_malformed_messages() {
    let mut chain = TestChain::new(&genesis()).await;
    let a = alice();
    let bad_key = register(&a, 0, 0, 0, vec![7; 31]);
    let out = chain.exec(&a, vec![bad_key]).await;
    assert_eq!(code(&out), ("delegation", 11));
    let zero = deposit(&a, NATIVE_DENOM, 0);
    assert_eq!(code(&chain.exec(&a, vec![zero]).await), ("sdk", 10));
    let overflow = pack(
        "/aegis.restaking.v1.MsgQueueWithdrawal",
        &rpb::MsgQueueWithdrawal { staker: a.address.to_string(), withdrawals: vec![rpb::WithdrawalRequest { denom: NATIVE_DENOM.into(), shares: "340282366920938463463374607431768211456".into() }] },
    );
    assert_eq!(code(&chain.exec(&a, vec![overflow]).await), ("restaking", 14));
    let above_max = register(&a, 3000, 2000, 100, vec![]);
    assert_eq!(code(&chain.exec(&a, vec![above_max]).await), ("delegation", 7));
    // Only the authority creates strategies.
    let create = |s: &Signer| {
        pack("/aegis.restaking.v1.MsgCreateStrategy", &rpb::MsgCreateStrategy { authority: s.address.to_string(), denom: "uqaegis".into(), deposit_cap: String::new() })
    };
    assert_eq!(code(&chain.exec(&bob(), vec![create(&bob())]).await), ("restaking", 10));
    ok(&chain.exec(&a, vec![create(&a)]).await);
    assert!(chain.storage().latest_snapshot().strategy("uqaegis").await.unwrap().is_some());
}

/// Two operators with consensus keys; validator set at each epoch end
/// (every 4 blocks), top 2 by native stake.
#[tokio::test]
async fn epoch_end_picks_the_top_operators_by_native_stake() {
    let mut g = genesis();
    let b64 = |k: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(k);
    g.delegation.operators = vec![
        GenesisOperator {
            address: op_a().address.to_string(),
            metadata: OperatorMetadata { moniker: "a".into(), ..Default::default() },
            commission_rate_bps: 1000,
            max_commission_rate_bps: 2000,
            max_commission_change_rate_bps: 100,
            consensus_pubkey: b64(consensus_key(1)),
            self_delegation: "5000000uaegis".into(),
        },
        GenesisOperator {
            address: op_b().address.to_string(),
            consensus_pubkey: b64(consensus_key(2)),
            self_delegation: "3000000uaegis".into(),
            ..Default::default()
        },
    ];
    let mut chain = TestChain::new(&g).await;
    let genesis_set = chain.app().genesis_validators().await.unwrap();
    assert_eq!(genesis_set.iter().map(|u| u.power.value()).collect::<Vec<_>>(), vec![5, 3]);

    // Alice delegates 4 tokens' worth... of 10^6 units: B overtakes A.
    let a = alice();
    let out = chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 2_500_000), delegate(&a, &op_b().address)]).await; // height 1
    ok(&out);
    chain.block(vec![]).await; // 2
    chain.block(vec![]).await; // 3
    let out = chain.block(vec![]).await; // 4: epoch end
    let key_b = tendermint::PublicKey::from_raw_ed25519(&consensus_key(2)).unwrap();
    assert_eq!(out.validator_updates.len(), 1);
    assert_eq!(out.validator_updates[0].pub_key, key_b);
    assert_eq!(out.validator_updates[0].power.value(), 5);
    let set = chain.storage().latest_snapshot().validator_set().await.unwrap();
    assert_eq!(set.epoch_height, 4);
    assert_eq!(set.validators.iter().map(|v| (v.operator, v.power, v.tokens)).collect::<Vec<_>>(), vec![
        (op_b().address, 5, 5_500_000),
        (op_a().address, 5, 5_000_000),
    ]);
    // A third operator with more stake pushes the smallest out (max 2).
    let c = bob();
    ok(&chain.exec(&c, vec![register(&c, 0, 0, 0, consensus_key(3)), deposit(&c, NATIVE_DENOM, 9_000_000)]).await); // 5
    chain.block(vec![]).await; // 6
    chain.block(vec![]).await; // 7
    let out = chain.block(vec![]).await; // 8
    let key_a = tendermint::PublicKey::from_raw_ed25519(&consensus_key(1)).unwrap();
    let key_c = tendermint::PublicKey::from_raw_ed25519(&consensus_key(3)).unwrap();
    let mut got: Vec<_> = out.validator_updates.iter().map(|u| (u.pub_key, u.power.value())).collect();
    got.sort_by_key(|(k, _)| k.to_hex());
    let mut want = vec![(key_a, 0), (key_c, 9)];
    want.sort_by_key(|(k, _)| k.to_hex());
    assert_eq!(got, want);
}

/// Provision and fees go to validators by power; the operator takes its
/// commission; its stakers share the rest by scaled native shares.
#[tokio::test]
async fn native_rewards_split_by_power_commission_and_stake() {
    let mut g = genesis();
    let b64 = |k: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(k);
    g.delegation.operators = vec![GenesisOperator {
        address: op_a().address.to_string(),
        commission_rate_bps: 1000,
        max_commission_rate_bps: 1000,
        consensus_pubkey: b64(consensus_key(1)),
        self_delegation: "1000000uaegis".into(),
        ..Default::default()
    }];
    // 4 * 10^13 * 4 accounts... supply is 4 * FUNDS uaegis; 1 bps per
    // "year" of 4 blocks: provision = supply * 1 / (10_000 * 4) per block.
    g.rewards.params = RewardsParams { inflation_rate_bps: 1, blocks_per_year: 4 };
    let mut chain = TestChain::new(&g).await;
    let a = alice();
    // Height 1: the provision of block 1 goes to the operator alone
    // (alice's delegation lands after the distribution).
    ok(&chain.exec(&a, vec![deposit(&a, NATIVE_DENOM, 3_000_000), delegate(&a, &op_a().address)]).await);
    let supply0 = 4 * FUNDS;
    let p1 = supply0 / 40_000;
    assert_eq!(chain.supply(NATIVE_DENOM).await, supply0 + p1);
    let snap = chain.storage().latest_snapshot();
    // 10% commission; the 90% goes to the only staker then (the operator itself).
    assert_eq!(snap.commission(&op_a().address).await.unwrap(), p1 / 10);
    assert_eq!(snap.pending_rewards(&op_a().address).await.unwrap(), p1 - p1 / 10);
    // Height 2: alice holds 3/4 of the stake.
    chain.block(vec![]).await;
    let p2 = (supply0 + p1) / 40_000;
    let snap = chain.storage().latest_snapshot();
    let stakers2 = p2 - p2 / 10;
    assert_eq!(snap.commission(&op_a().address).await.unwrap(), p1 / 10 + p2 / 10);
    assert_eq!(snap.pending_rewards(&a.address).await.unwrap(), stakers2 * 3 / 4);
    assert_eq!(snap.pending_rewards(&op_a().address).await.unwrap(), p1 - p1 / 10 + stakers2 / 4);
    // Claim at height 3 pays what was pending after block 3's distribution.
    let before = chain.balance(&a.address, NATIVE_DENOM).await;
    let p3 = (supply0 + p1 + p2) / 40_000;
    let stakers3 = p3 - p3 / 10;
    ok(&chain.exec(&a, vec![claim(&a)]).await);
    assert_eq!(chain.balance(&a.address, NATIVE_DENOM).await - before, stakers2 * 3 / 4 + stakers3 * 3 / 4);
    assert_eq!(chain.storage().latest_snapshot().pending_rewards(&a.address).await.unwrap(), 0);
}
