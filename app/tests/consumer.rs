//! A consumer chain: started from ICS's `ConsumerGenesisState`, it creates
//! its provider's light client at genesis, starts with the provider's
//! initial validator set, and opens only the CCV channel ICS allows.

use std::time::Duration;

use aegis_app::ccv::ConsumerGenesis;
use aegis_app::consumer::{ConsumerRead, CcvChannelState};
use aegis_app::signer::{pack, Signer};
use aegis_app::testkit::ibc::{client_state_of, create_client_msg, created_client, latest_header, ok, Relayer};
use aegis_app::testkit::light::validator_key;
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use ed25519_consensus::SigningKey;
use ibc_proto::ibc::core::channel::v1 as ch;
use ibc_proto::interchain_security::ccv::v1::{ConsumerGenesisState, ConsumerParams, ProviderInfo};
use tendermint_proto::abci::ValidatorUpdate;
use tendermint_proto::crypto::{public_key::Sum, PublicKey};

const FUNDS: u128 = 1_000_000_000_000;
/// The provider's unbonding period (its default restaking withdrawal delay).
const PROVIDER_UNBONDING: Duration = Duration::from_secs(7 * 24 * 3600);
/// The consumer's unbonding period, from its CCV params.
const CONSUMER_UNBONDING: Duration = Duration::from_secs(5 * 24 * 3600);

fn relayer_p() -> Signer {
    test_signer("relayer-p")
}
fn relayer_c() -> Signer {
    test_signer("relayer-c")
}

fn consumer_keys() -> Vec<SigningKey> {
    (0..3).map(|i| validator_key(&format!("consumer/val{i}"))).collect()
}

fn pubkey(k: &SigningKey) -> [u8; 32] {
    k.verification_key().to_bytes()
}

fn update(key: [u8; 32], power: i64) -> ValidatorUpdate {
    ValidatorUpdate { pub_key: Some(PublicKey { sum: Some(Sum::Ed25519(key.to_vec())) }), power }
}

fn duration(d: Duration) -> Option<tendermint_proto::google::protobuf::Duration> {
    Some(tendermint_proto::google::protobuf::Duration { seconds: d.as_secs() as i64, nanos: 0 })
}

fn params() -> ConsumerParams {
    ConsumerParams {
        enabled: true,
        blocks_per_distribution_transmission: 1000,
        ccv_timeout_period: duration(Duration::from_secs(28 * 24 * 3600)),
        transfer_timeout_period: duration(Duration::from_secs(3600)),
        consumer_redistribution_fraction: "0.75".into(),
        historical_entries: 10_000,
        unbonding_period: duration(CONSUMER_UNBONDING),
        retry_delay_period: duration(Duration::from_secs(3600)),
        ..Default::default()
    }
}

/// ICS's consumer genesis for a consumer of `provider` (at its latest
/// header) whose validators are `validators`.
fn consumer_genesis_state(provider: &TestChain, validators: &[([u8; 32], i64)]) -> ConsumerGenesisState {
    let cs = client_state_of(provider, PROVIDER_UNBONDING, provider.height);
    let cons = ibc_client_tendermint::types::ConsensusState::from(latest_header(provider).header);
    ConsumerGenesisState {
        params: Some(params()),
        provider: Some(ProviderInfo {
            client_state: Some(cs.into()),
            consensus_state: Some(cons.into()),
            initial_val_set: validators.iter().map(|(k, p)| update(*k, *p)).collect(),
        }),
        new_chain: true,
    }
}

fn app_genesis(g: ConsumerGenesisState) -> AppGenesis {
    let mut genesis = genesis_with(&[(relayer_c().address, vec![Coin::new(NATIVE_DENOM, FUNDS)])]);
    genesis.consumer = Some(ConsumerGenesis::from_proto(g).expect("a consumer genesis"));
    genesis
}

fn initial_set() -> Vec<([u8; 32], i64)> {
    consumer_keys().iter().zip([30, 20, 10]).map(|(k, p)| (pubkey(k), p)).collect()
}

async fn provider() -> TestChain {
    let mut p = TestChain::with_chain_id(&genesis_with(&[(relayer_p().address, vec![Coin::new(NATIVE_DENOM, FUNDS)])]), "aegis-p").await;
    p.block(vec![]).await;
    p
}

async fn consumer_of(p: &TestChain) -> TestChain {
    let g = app_genesis(consumer_genesis_state(p, &initial_set()));
    TestChain::consumer_at(&g, "aegis-c", consumer_keys(), p.time).await.expect("consumer genesis")
}

#[tokio::test]
async fn init_chain_validators_are_the_initial_set() {
    let p = provider().await;
    let c = consumer_of(&p).await;
    let got: Vec<([u8; 32], i64)> = c
        .app()
        .genesis_validators()
        .await
        .unwrap()
        .iter()
        .map(|u| (u.pub_key.to_bytes().try_into().unwrap(), u.power.value() as i64))
        .collect();
    let mut want = initial_set();
    want.sort();
    assert_eq!(got, want, "InitChain's validators, ordered by key");
    let snap = c.storage().latest_snapshot();
    assert_eq!(snap.provider_client_id().await.unwrap().as_deref(), Some("07-tendermint-0"));
    assert_eq!(snap.ccv_channel_state().await.unwrap(), CcvChannelState::None);
    assert_eq!(snap.last_valset_update_id().await.unwrap(), 0);
    assert_eq!(snap.height_valset_update_id(0).await.unwrap(), Some(0));
    // The delegation module's provider set stays empty: no operators here.
    assert!(aegis_app::delegation::DelegationRead::validator_set(&snap).await.unwrap().validators.is_empty());
}

#[tokio::test]
async fn blocks_without_vsc_packets_change_no_validators() {
    let p = provider().await;
    let mut c = consumer_of(&p).await;
    // Past a delegation epoch end: a consumer has no operators, so nothing.
    for _ in 0..12 {
        let out = c.block(vec![]).await;
        assert!(out.validator_updates.is_empty(), "no updates at height {}", c.height);
    }
    assert_eq!(c.light.validators_at(c.height + 1).validators().len(), 3);
}

#[tokio::test]
async fn the_provider_client_is_stored_as_create_client_stores_it() {
    let p = provider().await;
    let c = consumer_of(&p).await;
    let g = consumer_genesis_state(&p, &initial_set());
    let provider_info = g.provider.unwrap();
    let snap = c.storage().latest_snapshot();
    let entries = aegis_app::ibc::state::scan_raw(&snap, "ibc/").await.unwrap();
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).filter(|k| !k.starts_with("hostConsensusStates/")).collect();
    let h = p.height;
    let want = vec![
        format!("clients/07-tendermint-0/clientState"),
        format!("clients/07-tendermint-0/consensusHeights/{:020}-{h:020}", 0),
        format!("clients/07-tendermint-0/consensusStates/0-{h}"),
        format!("clients/07-tendermint-0/consensusStates/0-{h}/processedHeight"),
        format!("clients/07-tendermint-0/consensusStates/0-{h}/processedTime"),
        "nextChannelSequence".to_string(),
        "nextClientSequence".to_string(),
        "nextConnectionSequence".to_string(),
        "params".to_string(),
    ];
    assert_eq!(keys, want.iter().map(String::as_str).collect::<Vec<_>>());
    let value = |k: &str| entries.iter().find(|(key, _)| key == k).unwrap().1.clone();
    use prost::Message;
    let any = tendermint_proto::google::protobuf::Any::decode(value("clients/07-tendermint-0/clientState").as_slice()).unwrap();
    assert_eq!(any.type_url, "/ibc.lightclients.tendermint.v1.ClientState");
    assert_eq!(ibc_proto::ibc::lightclients::tendermint::v1::ClientState::decode(any.value.as_slice()).unwrap(), provider_info.client_state.unwrap());
    let any = tendermint_proto::google::protobuf::Any::decode(value(&format!("clients/07-tendermint-0/consensusStates/0-{h}")).as_slice()).unwrap();
    assert_eq!(any.type_url, "/ibc.lightclients.tendermint.v1.ConsensusState");
    assert_eq!(ibc_proto::ibc::lightclients::tendermint::v1::ConsensusState::decode(any.value.as_slice()).unwrap(), provider_info.consensus_state.unwrap());
    assert_eq!(value("nextClientSequence"), 1u64.to_be_bytes().to_vec());
    // Processed at the first block's height and the genesis time.
    assert_eq!(value(&format!("clients/07-tendermint-0/consensusStates/0-{h}/processedTime")), (p.time as u64 * 1_000_000_000).to_be_bytes().to_vec());
    let processed = ibc_proto::ibc::core::client::v1::Height::decode(value(&format!("clients/07-tendermint-0/consensusStates/0-{h}/processedHeight")).as_slice()).unwrap();
    assert_eq!((processed.revision_number, processed.revision_height), (0, 1));
}

#[tokio::test]
async fn the_status_query_reports_the_genesis_state() {
    use aegis_proto::aegis::consumer::v1::{QueryStatusRequest, QueryStatusResponse};
    use prost::Message;
    let p = provider().await;
    let c = consumer_of(&p).await;
    let req = tendermint::abci::request::Query {
        data: QueryStatusRequest {}.encode_to_vec().into(),
        path: "/aegis.consumer.v1.Query/Status".into(),
        height: 0u32.into(),
        prove: false,
    };
    let res = aegis_app::query::abci_query(c.storage(), req).await;
    assert!(res.code.is_ok(), "{}", res.log);
    let status = QueryStatusResponse::decode(res.value.as_ref()).unwrap();
    assert_eq!(status.provider_client_id, "07-tendermint-0");
    assert_eq!((status.ccv_channel_id.as_str(), status.ccv_channel_state.as_str(), status.provider_fee_pool_addr.as_str()), ("", "none", ""));
    let mut want = initial_set();
    want.sort();
    assert_eq!(status.validators.iter().map(|v| (v.pubkey.clone(), v.power)).collect::<Vec<_>>(), want.iter().map(|(k, p)| (hex::encode(k), *p)).collect::<Vec<_>>());
    assert_eq!(status.total_power, 60);
    assert_eq!(status.last_valset_update_id, 0);
    let params = status.params.unwrap();
    assert!(params.enabled);
    assert_eq!(params.unbonding_period_seconds, CONSUMER_UNBONDING.as_secs() as i64);

    // Not a consumer chain: NOT_FOUND.
    let req = tendermint::abci::request::Query {
        data: QueryStatusRequest {}.encode_to_vec().into(),
        path: "/aegis.consumer.v1.Query/Status".into(),
        height: 0u32.into(),
        prove: false,
    };
    let res = aegis_app::query::abci_query(p.storage(), req).await;
    assert!(res.code.is_err());
    assert!(res.log.contains("not a consumer chain"), "{}", res.log);
}

#[tokio::test]
async fn malformed_consumer_genesis_is_refused_with_a_clear_error() {
    let p = provider().await;
    let good = consumer_genesis_state(&p, &initial_set());
    let k0 = pubkey(&consumer_keys()[0]);
    type Edit = Box<dyn Fn(&mut ConsumerGenesisState)>;
    let cases: Vec<(&str, Edit, String)> = vec![
        ("no validators", Box::new(|g| g.provider.as_mut().unwrap().initial_val_set.clear()), "initial validator set is empty".into()),
        (
            "zero power",
            Box::new(move |g| g.provider.as_mut().unwrap().initial_val_set[0].power = 0),
            format!("initial validator 0 ({}): power 0 must be positive", hex::encode(k0)),
        ),
        (
            "duplicate key",
            Box::new(move |g| g.provider.as_mut().unwrap().initial_val_set[1] = update(k0, 10)),
            format!("initial validator 1: key {} appears twice", hex::encode(k0)),
        ),
        (
            "total power above CometBFT's bound",
            Box::new(|g| {
                for v in g.provider.as_mut().unwrap().initial_val_set.iter_mut() {
                    v.power = i64::MAX / 16;
                }
            }),
            format!("initial validator set's total power {} exceeds CometBFT's maximum {}", 3 * (i64::MAX as i128 / 16), i64::MAX / 8),
        ),
        ("changeover", Box::new(|g| g.new_chain = false), "new_chain is false: starting as a consumer from an existing chain (a changeover) is not supported yet".into()),
        ("disabled", Box::new(|g| g.params.as_mut().unwrap().enabled = false), "params.enabled is false: a consumer genesis must enable CCV".into()),
        ("no unbonding period", Box::new(|g| g.params.as_mut().unwrap().unbonding_period = None), "params.unbonding_period must be positive".into()),
        ("no client state", Box::new(|g| g.provider.as_mut().unwrap().client_state = None), "provider client state is missing".into()),
        ("no consensus state", Box::new(|g| g.provider.as_mut().unwrap().consensus_state = None), "provider consensus state is missing".into()),
        (
            "client of no chain",
            Box::new(|g| g.provider.as_mut().unwrap().client_state.as_mut().unwrap().chain_id = String::new()),
            "provider client state has an empty chain id".into(),
        ),
    ];
    for (name, edit, want) in cases {
        let mut g = good.clone();
        edit(&mut g);
        let err = match TestChain::consumer_at(&app_genesis(g), "aegis-c", consumer_keys(), p.time).await {
            Ok(_) => panic!("{name}: genesis accepted"),
            Err(e) => e,
        };
        assert_eq!((err.codespace, err.code), ("consumer", 2), "{name}: {}", err.message);
        assert_eq!(err.message, format!("invalid consumer genesis: {want}"), "{name}");
    }

    // A provider consensus state older than the client's trusting period
    // at the consumer's genesis time: ibc-rs refuses to create the client.
    let late = p.time + PROVIDER_UNBONDING.as_secs() as i64;
    let err = match TestChain::consumer_at(&app_genesis(good.clone()), "aegis-c", consumer_keys(), late).await {
        Ok(_) => panic!("an expired provider consensus state was accepted"),
        Err(e) => e,
    };
    assert_eq!((err.codespace, err.code), ("consumer", 2));
    assert!(err.message.starts_with("invalid consumer genesis: provider client: "), "{}", err.message);

    // Nothing was committed by a refused genesis.
    let dir = tempfile::tempdir().unwrap();
    let storage = aegis_app::store::open(dir.path().join("db")).await.unwrap();
    let mut app = aegis_app::App::new(storage);
    let mut g = good.clone();
    g.new_chain = false;
    assert!(app.init_chain("aegis-c", &serde_json::to_vec(&app_genesis(g)).unwrap(), (p.time, 0)).await.is_err());
    assert_eq!(app.last_committed().await.unwrap(), (0, vec![]));
}

/// What ICS's JSON decoding refuses (`crate::ccv`) never reaches the
/// consumer module: InitChain fails to decode `app_state`.
#[tokio::test]
async fn undecodable_consumer_genesis_fails_init_chain() {
    let p = provider().await;
    let good = serde_json::to_value(app_genesis(consumer_genesis_state(&p, &initial_set()))).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("negative power", Box::new(|g| g["consumer"]["provider"]["initial_val_set"][0]["power"] = "-5".into()), "validator update: negative power -5"),
        (
            "secp256k1 key",
            Box::new(|g| g["consumer"]["provider"]["initial_val_set"][1]["pub_key"] = serde_json::json!({"secp256k1": "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC"})),
            "validator update: pub_key is secp256k1; only ed25519 keys are supported",
        ),
        (
            "short key",
            Box::new(|g| g["consumer"]["provider"]["initial_val_set"][1]["pub_key"] = serde_json::json!({"ed25519": "AQEBAQ=="})),
            "validator update: ed25519 pub_key is 4 bytes, want 32",
        ),
        ("no params", Box::new(|g| g["consumer"].as_object_mut().unwrap().retain(|k, _| k != "params")), "missing field `params`"),
    ];
    for (name, edit, want) in cases {
        let mut g = good.clone();
        edit(&mut g);
        let dir = tempfile::tempdir().unwrap();
        let mut app = aegis_app::App::new(aegis_app::store::open(dir.path().join("db")).await.unwrap());
        let err = app.init_chain("aegis-c", &serde_json::to_vec(&g).unwrap(), (p.time, 0)).await.expect_err(name);
        assert_eq!((err.codespace, err.code), ("sdk", 18), "{name}: {}", err.message);
        assert!(err.message.starts_with(&format!("invalid request: genesis app_state: {want} at line 1 column ")), "{name}: {}", err.message);
        assert_eq!(app.last_committed().await.unwrap(), (0, vec![]), "{name}: nothing committed");
    }
}

/// Provider, consumer, the clients each way and an open connection
/// (consumer = A, provider = B). The provider here is a plain chain: it
/// has no `provider` port, so channels can only be tried, not opened.
async fn connected() -> (TestChain, TestChain, Relayer) {
    let mut p = provider().await;
    let mut c = consumer_of(&p).await;
    c.block(vec![]).await;
    let trusted_on_c = p.height;
    p.time = p.time.max(c.time);
    let out = p.exec(&relayer_p(), vec![create_client_msg(&c, CONSUMER_UNBONDING, &relayer_p())]).await;
    ok(&out, "provider's client of the consumer");
    let client_on_p = created_client(&out);
    let mut r = Relayer::with_clients(relayer_c(), relayer_p(), PROVIDER_UNBONDING, ("07-tendermint-0", trusted_on_c), (&client_on_p, c.height));
    r.connect(&mut c, &mut p).await;
    (c, p, r)
}

fn err_of(o: &aegis_app::app::TxOutcome) -> (String, u32, String) {
    let e = o.result.clone().expect_err("the message must be rejected");
    (e.codespace.to_string(), e.code, e.message)
}

async fn ibc_and_consumer_state(c: &TestChain) -> Vec<(String, Vec<u8>)> {
    let snap = c.storage().latest_snapshot();
    let mut all = aegis_app::ibc::state::scan_raw(&snap, "ibc/").await.unwrap();
    all.retain(|(k, _)| !k.starts_with("hostConsensusStates/"));
    all.extend(aegis_app::ibc::state::scan_raw(&snap, "consumer/").await.unwrap());
    all
}

#[tokio::test]
async fn channel_open_init_accepts_only_the_ccv_channel() {
    let (mut c, mut p, r) = connected().await;
    assert_eq!(r.ids.conn_on_a, "connection-0");
    let before = ibc_and_consumer_state(&c).await;
    let cases: Vec<(&str, cosmrs::Any, u32, &str)> = vec![
        (
            "unordered",
            r.channel_open_init_msg("consumer", "provider", "1", ch::Order::Unordered),
            3,
            "invalid channel ordering: expected ORDERED channel, got ORDER_UNORDERED",
        ),
        ("wrong version", r.channel_open_init_msg("consumer", "provider", "2", ch::Order::Ordered), 6, r#"invalid CCV channel version: got "2", expected "1""#),
        (
            "wrong counterparty port",
            r.channel_open_init_msg("consumer", "transfer", "1", ch::Order::Ordered),
            5,
            "invalid counterparty port: transfer, expected provider",
        ),
    ];
    for (name, msg, code, want) in cases {
        let out = c.exec(&relayer_c(), vec![msg]).await;
        let (space, got_code, message) = err_of(&out);
        assert_eq!((space.as_str(), got_code), ("consumer", code), "{name}: {message}");
        assert_eq!(message, format!("failed to execute message; message index: 0: {want}"), "{name}");
        assert_eq!(ibc_and_consumer_state(&c).await, before, "{name} changed state");
    }

    // A connection over another client of the provider.
    p.block(vec![]).await;
    c.time = c.time.max(p.time);
    let out = c.exec(&relayer_c(), vec![create_client_msg(&p, PROVIDER_UNBONDING, &relayer_c())]).await;
    ok(&out, "second client of the provider");
    assert_eq!(created_client(&out), "07-tendermint-1");
    let init = ibc_proto::ibc::core::connection::v1::MsgConnectionOpenInit {
        client_id: "07-tendermint-1".into(),
        counterparty: Some(ibc_proto::ibc::core::connection::v1::Counterparty {
            client_id: r.ids.client_on_b.clone(),
            connection_id: String::new(),
            prefix: Some(ibc_proto::ibc::core::commitment::v1::MerklePrefix { key_prefix: b"ibc".to_vec() }),
        }),
        version: Some(ibc_proto::ibc::core::connection::v1::Version { identifier: "1".into(), features: vec!["ORDER_ORDERED".into(), "ORDER_UNORDERED".into()] }),
        delay_period: 0,
        signer: relayer_c().address.to_string(),
    };
    ok(&c.exec(&relayer_c(), vec![pack("/ibc.core.connection.v1.MsgConnectionOpenInit", &init)]).await, "connection over the second client");
    let mut other = Relayer::with_clients(relayer_c(), relayer_p(), PROVIDER_UNBONDING, ("07-tendermint-1", 0), (&r.ids.client_on_b, 0));
    other.ids.conn_on_a = "connection-1".into();
    let before = ibc_and_consumer_state(&c).await;
    let out = c.exec(&relayer_c(), vec![other.channel_open_init_msg("consumer", "provider", "1", ch::Order::Ordered)]).await;
    let (space, code, message) = err_of(&out);
    assert_eq!((space.as_str(), code), ("consumer", 8), "{message}");
    assert_eq!(message, "failed to execute message; message index: 0: invalid client: 07-tendermint-1, channel must be built on top of client: 07-tendermint-0");
    assert_eq!(ibc_and_consumer_state(&c).await, before);

    // The CCV channel itself: INIT, with version "1" (an empty version
    // gets the default too).
    let out = c.exec(&relayer_c(), vec![r.channel_open_init_msg("consumer", "provider", "", ch::Order::Ordered)]).await;
    ok(&out, "CCV channel open init");
    let chan = aegis_app::testkit::ibc::attr(&out.events, "channel_open_init", "channel_id");
    assert_eq!(chan, "channel-0");
    assert_eq!(aegis_app::testkit::ibc::attr(&out.events, "channel_open_init", "version"), "1");
}

/// Write raw IBC values on `chain` as a committed version of their own:
/// the provider's side of the CCV channel, as its module would leave it,
/// so the consumer's side is exercised with real proofs without a
/// launched consumer on the provider.
async fn write_ibc(chain: &mut TestChain, values: Vec<(String, Vec<u8>)>) {
    use cnidarium::StateWrite;
    let mut delta = cnidarium::StateDelta::new(chain.storage().latest_snapshot());
    for (k, v) in values {
        delta.put_raw(format!("ibc/{k}"), v);
    }
    chain.storage().commit(delta).await.unwrap();
    chain.height += 1;
}

fn provider_channel_end(state: ch::State, conn: &str, fee_pool: &str) -> Vec<u8> {
    use prost::Message;
    ch::Channel {
        state: state as i32,
        ordering: ch::Order::Ordered as i32,
        counterparty: Some(ch::Counterparty { port_id: "consumer".into(), channel_id: "channel-0".into() }),
        connection_hops: vec![conn.into()],
        version: aegis_app::ccv::handshake_metadata(fee_pool).unwrap(),
        upgrade_sequence: 0,
    }
    .encode_to_vec()
}

const FEE_POOL: &str = "cosmos1provider";

/// The CCV channel open on the consumer (channel-0) against a provider
/// channel end written as the provider module leaves it (OPEN, ready to
/// send).
async fn ccv_channel() -> (TestChain, TestChain, Relayer) {
    use aegis_app::testkit::ibc::{prove, raw_height, Side};
    let (mut c, mut p, mut r) = connected().await;
    ok(&c.exec(&relayer_c(), vec![r.channel_open_init_msg("consumer", "provider", "1", ch::Order::Ordered)]).await, "open init");
    let conn_p = r.ids.conn_on_b.clone();
    let path = "channelEnds/ports/provider/channels/channel-0".to_string();
    write_ibc(
        &mut p,
        vec![
            (path.clone(), provider_channel_end(ch::State::Tryopen, &conn_p, FEE_POOL)),
            ("nextSequenceSend/ports/provider/channels/channel-0".into(), 1u64.to_be_bytes().to_vec()),
            ("nextSequenceRecv/ports/provider/channels/channel-0".into(), 1u64.to_be_bytes().to_vec()),
            ("nextSequenceAck/ports/provider/channels/channel-0".into(), 1u64.to_be_bytes().to_vec()),
        ],
    )
    .await;
    let (v, h, update) = r.prepare_update(&mut p, &mut c, &Side::B).await;
    let (_, proof_try) = prove(&p, &path, v).await;
    let ack = ch::MsgChannelOpenAck {
        port_id: "consumer".into(),
        channel_id: "channel-0".into(),
        counterparty_channel_id: "channel-0".into(),
        counterparty_version: aegis_app::ccv::handshake_metadata(FEE_POOL).unwrap(),
        proof_try,
        proof_height: Some(raw_height(&p.chain_id, h)),
        signer: relayer_c().address.to_string(),
    };
    ok(&c.exec(&relayer_c(), vec![update, pack("/ibc.core.channel.v1.MsgChannelOpenAck", &ack)]).await, "open ack");
    write_ibc(&mut p, vec![(path, provider_channel_end(ch::State::Open, &conn_p, FEE_POOL))]).await;
    r.ids.chan_on_a = "channel-0".into();
    r.ids.chan_on_b = "channel-0".into();
    (c, p, r)
}

/// Send `vsc` from the provider's channel end and deliver it to the
/// consumer (a client update and the receive in one transaction); the
/// consumer's block output and the acknowledgement it wrote.
async fn deliver(c: &mut TestChain, p: &mut TestChain, r: &mut Relayer, data: Vec<u8>) -> (aegis_app::app::BlockOutput, Vec<u8>) {
    use aegis_app::testkit::ibc::{send_raw_packet, written_acks, Side};
    let packet = send_raw_packet(p, "provider", "channel-0", data, 100_000).await.expect("provider sends");
    let msgs = r.recv_batch(p, c, Side::B, &[packet]).await;
    let tx = c.sign(&relayer_c(), msgs).await;
    let out = c.block(vec![tx]).await;
    ok(&out.tx_results[0], "receive on the consumer");
    let acks = written_acks(&out.tx_results[0].events);
    assert_eq!(acks.len(), 1);
    (out, acks[0].1.clone())
}

fn vsc(updates: &[([u8; 32], i64)], id: u64) -> Vec<u8> {
    aegis_app::ccv::VscPacket {
        updates: updates.iter().map(|(k, p)| aegis_app::ccv::ValidatorUpdate { pubkey: *k, power: *p }).collect(),
        valset_update_id: id,
        slash_acks: vec![],
    }
    .encode()
}

#[tokio::test]
async fn a_vsc_packet_changes_the_consumer_set_at_the_end_of_its_block() {
    let (mut c, mut p, mut r) = ccv_channel().await;
    let snap = c.storage().latest_snapshot();
    assert_eq!(snap.provider_fee_pool_addr().await.unwrap().as_deref(), Some(FEE_POOL), "from the handshake metadata");
    assert_eq!(snap.ccv_channel_state().await.unwrap(), CcvChannelState::None, "established by the first VSC packet");

    let keys = consumer_keys();
    let newcomer = validator_key("consumer/val3");
    let mut all_keys = keys.clone();
    all_keys.push(newcomer.clone());
    c.light.keys = all_keys;
    // val1 goes from 20 to 25, val2 leaves, val3 joins with 15; a removal
    // of a key that is no validator is dropped.
    let stranger = [9u8; 32];
    let data = vsc(&[(pubkey(&keys[1]), 25), (pubkey(&keys[2]), 0), (pubkey(&newcomer), 15), (stranger, 0)], 1);
    let (out, ack) = deliver(&mut c, &mut p, &mut r, data).await;
    assert_eq!(ack, br#"{"result":"AQ=="}"#.to_vec());
    let h = c.height;
    let mut want = vec![(pubkey(&keys[1]), 25i64), (pubkey(&keys[2]), 0), (pubkey(&newcomer), 15)];
    want.sort();
    let got: Vec<([u8; 32], i64)> = out.validator_updates.iter().map(|u| (u.pub_key.to_bytes().try_into().unwrap(), u.power.value() as i64)).collect();
    assert_eq!(got, want, "the block's validator updates, by key");

    let snap = c.storage().latest_snapshot();
    assert_eq!(snap.ccv_channel_state().await.unwrap(), CcvChannelState::Open);
    assert_eq!(snap.provider_channel().await.unwrap().as_deref(), Some("channel-0"));
    assert_eq!(snap.last_valset_update_id().await.unwrap(), 1);
    assert_eq!(snap.height_valset_update_id(h + 1).await.unwrap(), Some(1));
    let mut set: Vec<([u8; 32], i64)> = snap.consumer_validators().await.unwrap().into_iter().map(|v| (v.pubkey, v.power)).collect();
    set.sort();
    let mut want_set = vec![(pubkey(&keys[0]), 30), (pubkey(&keys[1]), 25), (pubkey(&newcomer), 15)];
    want_set.sort();
    assert_eq!(set, want_set);

    // CometBFT's timing: the set of h + 1 is the old one, h + 2 the new.
    let total = |s: &tendermint::validator::Set| s.validators().iter().map(|v| v.power.value()).sum::<u64>();
    assert_eq!(total(&c.light.validators_at(h + 1)), 60);
    assert_eq!(total(&c.light.validators_at(h + 2)), 70);
    c.block(vec![]).await;
    c.block(vec![]).await;
    let header = &c.light.headers[&(h + 2)];
    assert_eq!(header.header.validators_hash, c.light.validators_at(h + 2).hash());
    assert_eq!(header.header.validators_hash, aegis_app::testkit::light::set_of(&want_set).hash());

    // The provider's client of the consumer follows the new set.
    let (_, _, update) = r.prepare_update(&mut c, &mut p, &aegis_app::testkit::ibc::Side::A).await;
    ok(&p.exec(&relayer_p(), vec![update]).await, "client update across the set change");
}

#[tokio::test]
async fn vsc_packets_the_consumer_cannot_apply_get_error_acks_and_change_nothing() {
    let (mut c, mut p, mut r) = ccv_channel().await;
    let keys = consumer_keys();
    let before = ibc_and_consumer_state(&c).await;
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        ("not JSON", b"garbage".to_vec(), "invalid VSC packet: cannot unmarshal VSCPacket data: ".into()),
        (
            "empties the set",
            vsc(&[(pubkey(&keys[0]), 0), (pubkey(&keys[1]), 0), (pubkey(&keys[2]), 0)], 1),
            "invalid VSC packet: valset update 1 refused: the validator set would be empty".into(),
        ),
        (
            "above CometBFT's total power",
            vsc(&[(pubkey(&keys[0]), i64::MAX / 8)], 1),
            format!("invalid VSC packet: valset update 1 refused: total voting power {} would exceed CometBFT's maximum {}", i64::MAX as i128 / 8 + 30, i64::MAX / 8),
        ),
        (
            "negative power",
            vsc(&[(pubkey(&keys[0]), -1)], 1),
            "invalid VSC packet: cannot unmarshal VSCPacket data: VSC packet validator_updates[0]: negative power -1".into(),
        ),
    ];
    for (name, data, want) in cases {
        let (out, ack) = deliver(&mut c, &mut p, &mut r, data).await;
        let ack: serde_json::Value = serde_json::from_slice(&ack).unwrap_or_else(|e| panic!("{name}: ack is not JSON: {e}"));
        let err = ack["error"].as_str().unwrap_or_else(|| panic!("{name}: not an error ack: {ack}"));
        assert!(err.contains(&want), "{name}: {err}");
        assert!(out.validator_updates.is_empty(), "{name}");
        // Only IBC's own bookkeeping of the receive changed.
        let now = ibc_and_consumer_state(&c).await;
        let unchanged = |s: &[(String, Vec<u8>)]| {
            let bookkeeping = ["clients/", "acks/", "nextSequenceRecv/"];
            s.iter().filter(|(k, _)| !bookkeeping.iter().any(|b| k.starts_with(b))).cloned().collect::<Vec<_>>()
        };
        assert_eq!(unchanged(&now), unchanged(&before), "{name} changed state");
    }
    let snap = c.storage().latest_snapshot();
    assert_eq!(snap.ccv_channel_state().await.unwrap(), CcvChannelState::None, "no packet was applied");
}
