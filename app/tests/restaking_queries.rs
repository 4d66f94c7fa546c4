//! The restaking, delegation and rewards queries through ABCI `Query` at
//! their gRPC method paths (the same handlers the gRPC server runs).

use aegis_app::delegation::genesis::{DelegationGenesis, GenesisOperator};
use aegis_app::delegation::DelegationParams;
use aegis_app::query::abci_query;
use aegis_app::restaking::genesis::{GenesisStrategy, RestakingGenesis};
use aegis_app::restaking::{pool_address, RestakingParams};
use aegis_app::rewards::genesis::RewardsGenesis;
use aegis_app::rewards::RewardsParams;
use aegis_app::signer::pack;
use aegis_app::testkit::{genesis_with, test_signer, TestChain, GENESIS_TIME};
use aegis_app::types::{Coin, NATIVE_DENOM};
use aegis_proto::aegis::delegation::v1 as dpb;
use aegis_proto::aegis::restaking::v1 as rpb;
use aegis_proto::aegis::rewards::v1 as wpb;
use base64::Engine;
use cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest;
use prost::Message;
use tendermint::abci::request;

async fn ask<Req: Message, Resp: Message + Default>(chain: &TestChain, path: &str, req: Req) -> Resp {
    let r = abci_query(chain.storage(), request::Query { data: req.encode_to_vec().into(), path: path.into(), height: 0u32.into(), prove: false }).await;
    assert!(r.code.is_ok(), "{path}: {}", r.log);
    Resp::decode(r.value.as_ref()).unwrap()
}

#[tokio::test]
async fn restaking_queries_report_strategies_deposits_operators_withdrawals_and_rewards() {
    let (alice, bob, op) = (test_signer("alice"), test_signer("bob"), test_signer("operator"));
    let funds = vec![Coin::new("stuaegis", 1_000_000_000), Coin::new(NATIVE_DENOM, 1_000_000_000)];
    let mut g = genesis_with(&[(alice.address, funds.clone()), (bob.address, funds.clone()), (op.address, funds)]);
    g.restaking = RestakingGenesis {
        params: RestakingParams { withdrawal_delay_seconds: 60, authority: alice.address },
        strategies: vec![GenesisStrategy { denom: "stuaegis".into(), deposit_cap: Some("5000000".into()) }],
    };
    let key = ed25519_consensus::SigningKey::from([9u8; 32]).verification_key().to_bytes();
    g.delegation = DelegationGenesis {
        params: DelegationParams { blocks_per_epoch: 10, max_validators: 5, power_reduction: 1_000 },
        operators: vec![GenesisOperator {
            address: op.address.to_string(),
            commission_rate_bps: 1000,
            max_commission_rate_bps: 2000,
            max_commission_change_rate_bps: 100,
            consensus_pubkey: base64::engine::general_purpose::STANDARD.encode(key),
            self_delegation: "2000000uaegis".into(),
            ..Default::default()
        }],
        delegations: vec![],
    };
    g.rewards = RewardsGenesis { params: RewardsParams { inflation_rate_bps: 0, blocks_per_year: 1 } };
    let mut chain = TestChain::new(&g).await;
    for who in [&alice, &bob] {
        let msgs = vec![
            pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: who.address.to_string(), amount: Some(Coin::new(NATIVE_DENOM, 1_000_000).to_proto()) }),
            pack("/aegis.restaking.v1.MsgDeposit", &rpb::MsgDeposit { staker: who.address.to_string(), amount: Some(Coin::new("stuaegis", 2_000).to_proto()) }),
            pack("/aegis.delegation.v1.MsgDelegate", &dpb::MsgDelegate { staker: who.address.to_string(), operator: op.address.to_string() }),
        ];
        assert!(chain.exec(who, msgs).await.result.is_ok());
    }
    let queue = pack(
        "/aegis.restaking.v1.MsgQueueWithdrawal",
        &rpb::MsgQueueWithdrawal { staker: alice.address.to_string(), withdrawals: vec![rpb::WithdrawalRequest { denom: NATIVE_DENOM.into(), shares: "250000000000000".into() }] },
    );
    assert!(chain.exec(&alice, vec![queue]).await.result.is_ok()); // height 3, time +15

    let params: rpb::QueryParamsResponse = ask(&chain, "/aegis.restaking.v1.Query/Params", rpb::QueryParamsRequest {}).await;
    assert_eq!(params.params.unwrap(), rpb::Params { withdrawal_delay_seconds: 60, authority: alice.address.to_string() });

    let s: rpb::QueryStrategiesResponse = ask(&chain, "/aegis.restaking.v1.Query/Strategies", rpb::QueryStrategiesRequest {}).await;
    assert_eq!(s.strategies, vec![
        rpb::Strategy {
            denom: "stuaegis".into(),
            pool_address: pool_address("stuaegis").to_string(),
            total_shares: "4000000000000".into(),
            tvl: "4000".into(),
            tokens_per_share_wad: "1000000000".into(), // 10^-9 token per share
            deposit_cap: "5000000".into(),
        },
        rpb::Strategy {
            denom: NATIVE_DENOM.into(),
            pool_address: pool_address(NATIVE_DENOM).to_string(),
            total_shares: "4000000000000000".into(),
            tvl: "4000000".into(),
            tokens_per_share_wad: "1000000000".into(),
            deposit_cap: String::new(),
        },
    ]);

    let d: rpb::QueryStakerDepositsResponse = ask(&chain, "/aegis.restaking.v1.Query/StakerDeposits", rpb::QueryStakerDepositsRequest { staker: alice.address.to_string() }).await;
    assert_eq!(d.operator, op.address.to_string());
    assert_eq!(d.deposits[1], rpb::StakerDeposit {
        denom: NATIVE_DENOM.into(),
        deposit_shares: "750000000000000".into(),
        deposit_scaling_factor: "1000000000000000000".into(),
        slashing_factor: "1000000000000000000".into(),
        withdrawable_shares: "750000000000000".into(),
        withdrawable_tokens: "750000".into(),
    });

    let w: rpb::QueryQueuedWithdrawalsResponse = ask(&chain, "/aegis.restaking.v1.Query/QueuedWithdrawals", rpb::QueryQueuedWithdrawalsRequest { staker: alice.address.to_string(), pagination: None }).await;
    assert_eq!(w.withdrawals, vec![rpb::Withdrawal {
        id: 1,
        staker: alice.address.to_string(),
        operator: op.address.to_string(),
        start_time: GENESIS_TIME + 15,
        completable_time: GENESIS_TIME + 75,
        entries: vec![rpb::WithdrawalEntry {
            denom: NATIVE_DENOM.into(),
            scaled_shares: "250000000000000".into(),
            withdrawable_shares: "250000000000000".into(),
            withdrawable_tokens: "250000".into(),
        }],
    }]);

    let o: dpb::QueryOperatorResponse = ask(&chain, "/aegis.delegation.v1.Query/Operator", dpb::QueryOperatorRequest { operator: op.address.to_string() }).await;
    let o = o.operator.unwrap();
    assert_eq!((o.commission_rate_bps, o.delegator_count, o.voting_power, o.is_validator), (1000, 3, 2000, true));
    assert_eq!(o.consensus_pubkey, hex::encode_upper(key));
    assert_eq!(o.stake.iter().map(|s| (s.denom.as_str(), s.tokens.as_str(), s.queued_scaled_shares.as_str())).collect::<Vec<_>>(), vec![
        ("stuaegis", "4000", "0"),
        (NATIVE_DENOM, "3750000", "250000000000000"),
    ]);

    // Delegators, one per page: the operator itself, alice and bob in key order.
    let mut all = Vec::new();
    let mut next = vec![];
    loop {
        let page: dpb::QueryOperatorDelegatorsResponse = ask(
            &chain,
            "/aegis.delegation.v1.Query/OperatorDelegators",
            dpb::QueryOperatorDelegatorsRequest { operator: op.address.to_string(), pagination: Some(PageRequest { key: next.clone(), limit: 1, ..Default::default() }) },
        )
        .await;
        assert_eq!(page.delegators.len(), 1);
        all.extend(page.delegators);
        next = page.pagination.unwrap().next_key;
        if next.is_empty() {
            break;
        }
    }
    let mut want = [alice.address, bob.address, op.address];
    want.sort_by_key(|a| a.to_hex());
    assert_eq!(all, want.iter().map(|a| a.to_string()).collect::<Vec<_>>());

    let v: dpb::QueryValidatorSetResponse = ask(&chain, "/aegis.delegation.v1.Query/ValidatorSet", dpb::QueryValidatorSetRequest {}).await;
    assert_eq!(v.epoch_height, 0);
    assert_eq!(v.validators, vec![dpb::Validator { operator: op.address.to_string(), consensus_pubkey: hex::encode_upper(key), power: 2000, tokens: "2000000".into() }]);

    let dp: dpb::QueryParamsResponse = ask(&chain, "/aegis.delegation.v1.Query/Params", dpb::QueryParamsRequest {}).await;
    assert_eq!(dp.params.unwrap(), dpb::Params { blocks_per_epoch: 10, max_validators: 5, power_reduction: "1000".into() });

    // The test kit's txs pay no fee and inflation is zero: nothing pending.
    let r: wpb::QueryPendingRewardsResponse = ask(&chain, "/aegis.rewards.v1.Query/PendingRewards", wpb::QueryPendingRewardsRequest { address: alice.address.to_string() }).await;
    assert_eq!((r.rewards, r.commission), (vec![], vec![]));
    let rp: wpb::QueryParamsResponse = ask(&chain, "/aegis.rewards.v1.Query/Params", wpb::QueryParamsRequest {}).await;
    assert_eq!(rp.params.unwrap(), wpb::Params { inflation_rate_bps: 0, blocks_per_year: 1 });

    // Unknown strategy: not found, with the denom named.
    let r = abci_query(chain.storage(), request::Query { data: rpb::QueryStrategyRequest { denom: "ufoo".into() }.encode_to_vec().into(), path: "/aegis.restaking.v1.Query/Strategy".into(), height: 0u32.into(), prove: false }).await;
    assert_eq!((r.code.value(), r.codespace.as_str()), (22, "sdk"));
    assert!(r.log.ends_with("desc = no strategy accepts denom ufoo"), "{}", r.log);
}
