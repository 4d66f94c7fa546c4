//! The ABCI services as CometBFT drives them (through tower, in order).

use aegis_app::abci::services;
use aegis_app::auth::params::MinGasPrice;
use aegis_app::signer::SignOptions;
use aegis_app::testkit::{genesis_with, test_signer, CHAIN_ID};
use aegis_app::types::{Coin, NATIVE_DENOM};
use aegis_app::App;
use bytes::Bytes;
use tendermint::abci::request;
use tendermint::abci::response::ProcessProposal;
use tendermint::v0_38::abci::{ConsensusRequest, ConsensusResponse, InfoRequest, InfoResponse, MempoolRequest, MempoolResponse};
use tower::ServiceExt;

fn time(secs: i64) -> tendermint::Time {
    tendermint::Time::from_unix_timestamp(secs, 0).unwrap()
}

fn init_chain(app_state: &[u8]) -> ConsensusRequest {
    ConsensusRequest::InitChain(request::InitChain {
        time: time(1_700_000_000),
        chain_id: CHAIN_ID.into(),
        consensus_params: serde_json::from_str(
            r#"{"block":{"max_bytes":"22020096","max_gas":"-1"},"evidence":{"max_age_num_blocks":"100000","max_age_duration":"172800000000000","max_bytes":"1048576"},"validator":{"pub_key_types":["ed25519"]},"version":{"app":"0"},"abci":{"vote_extensions_enable_height":"0"}}"#,
        )
        .unwrap(),
        validators: vec![],
        app_state_bytes: Bytes::copy_from_slice(app_state),
        initial_height: 1u32.into(),
    })
}

fn block(height: u32, txs: Vec<Bytes>) -> ConsensusRequest {
    ConsensusRequest::FinalizeBlock(request::FinalizeBlock {
        txs,
        decided_last_commit: tendermint::abci::types::CommitInfo { round: 0u16.into(), votes: vec![] },
        misbehavior: vec![],
        hash: tendermint::Hash::None,
        height: height.into(),
        time: time(1_700_000_000 + 5 * height as i64),
        next_validators_hash: tendermint::Hash::None,
        proposer_address: tendermint::account::Id::new([0; 20]),
    })
}

#[tokio::test]
async fn proposals_handshake_and_genesis_replay_through_the_abci_services() {
    let dir = tempfile::tempdir().unwrap();
    let alice = test_signer("alice");
    let genesis = serde_json::to_vec(&genesis_with(&[(alice.address, vec![Coin::new(NATIVE_DENOM, 1_000_000)])])).unwrap();
    let storage = aegis_app::store::open(dir.path().join("db")).await.unwrap();
    let (consensus, mempool, info, _) = services(App::new(storage.clone()), MinGasPrice::parse("0.025uaegis").unwrap());

    // Before genesis, Info reports height 0 and no app hash.
    let InfoResponse::Info(i) = info.clone().oneshot(InfoRequest::Info(request::Info { version: "0.38.26".into(), block_version: 11, p2p_version: 8, abci_version: "2.0.0".into() })).await.unwrap() else { panic!() };
    assert_eq!((i.last_block_height.value(), i.last_block_app_hash.as_bytes().len()), (0, 0));

    let ConsensusResponse::InitChain(init) = consensus.clone().oneshot(init_chain(&genesis)).await.unwrap() else { panic!() };
    let genesis_hash = init.app_hash.as_bytes().to_vec();
    assert_eq!(genesis_hash.len(), 32);
    // InitChain again (a crash before block 1): same hash, nothing re-applied.
    let ConsensusResponse::InitChain(again) = consensus.clone().oneshot(init_chain(&genesis)).await.unwrap() else { panic!() };
    assert_eq!(again.app_hash.as_bytes(), genesis_hash.as_slice());

    let good = Bytes::from(alice.sign(vec![alice.msg_send(&test_signer("bob").address, &[Coin::new(NATIVE_DENOM, 5)])], &SignOptions::new(CHAIN_ID, 0, 0)).unwrap());
    let garbage = Bytes::from_static(b"\x0a\x03not a tx");

    // CheckTx admits the good tx and refuses garbage with code 2.
    let MempoolResponse::CheckTx(c) = mempool.clone().oneshot(MempoolRequest::CheckTx(request::CheckTx { tx: good.clone(), kind: request::CheckTxKind::New })).await.unwrap();
    assert_eq!(c.code.value(), 0, "{}", c.log);
    assert_eq!(c.gas_wanted, 200_000);
    let MempoolResponse::CheckTx(c) = mempool.clone().oneshot(MempoolRequest::CheckTx(request::CheckTx { tx: garbage.clone(), kind: request::CheckTxKind::New })).await.unwrap();
    assert_eq!((c.code.value(), c.codespace.as_str()), (2, "sdk"));

    // PrepareProposal drops what cannot decode; ProcessProposal rejects a proposal holding it.
    let prepare = ConsensusRequest::PrepareProposal(request::PrepareProposal {
        max_tx_bytes: 1 << 20,
        txs: vec![garbage.clone(), good.clone()],
        local_last_commit: None,
        misbehavior: vec![],
        height: 1u32.into(),
        time: time(1_700_000_005),
        next_validators_hash: tendermint::Hash::None,
        proposer_address: tendermint::account::Id::new([0; 20]),
    });
    let ConsensusResponse::PrepareProposal(p) = consensus.clone().oneshot(prepare).await.unwrap() else { panic!() };
    assert_eq!(p.txs, vec![good.clone()]);
    let process = |txs: Vec<Bytes>| {
        ConsensusRequest::ProcessProposal(request::ProcessProposal {
            txs,
            proposed_last_commit: None,
            misbehavior: vec![],
            hash: tendermint::Hash::None,
            height: 1u32.into(),
            time: time(1_700_000_005),
            next_validators_hash: tendermint::Hash::None,
            proposer_address: tendermint::account::Id::new([0; 20]),
        })
    };
    let ConsensusResponse::ProcessProposal(r) = consensus.clone().oneshot(process(vec![good.clone(), garbage])).await.unwrap() else { panic!() };
    assert_eq!(r, ProcessProposal::Reject);
    let ConsensusResponse::ProcessProposal(r) = consensus.clone().oneshot(process(vec![good.clone()])).await.unwrap() else { panic!() };
    assert_eq!(r, ProcessProposal::Accept);

    // FinalizeBlock returns the tx result and the new app hash; Commit persists it.
    let ConsensusResponse::FinalizeBlock(f) = consensus.clone().oneshot(block(1, vec![good.clone()])).await.unwrap() else { panic!() };
    assert_eq!(f.tx_results.len(), 1);
    assert_eq!(f.tx_results[0].code.value(), 0, "{}", f.tx_results[0].log);
    assert_ne!(f.app_hash.as_bytes(), genesis_hash.as_slice());
    // Before Commit, Info still reports genesis.
    let InfoResponse::Info(i) = info.clone().oneshot(InfoRequest::Info(request::Info { version: String::new(), block_version: 11, p2p_version: 8, abci_version: String::new() })).await.unwrap() else { panic!() };
    assert_eq!(i.last_block_height.value(), 0);
    let ConsensusResponse::Commit(_) = consensus.clone().oneshot(ConsensusRequest::Commit).await.unwrap() else { panic!() };
    let InfoResponse::Info(i) = info.clone().oneshot(InfoRequest::Info(request::Info { version: String::new(), block_version: 11, p2p_version: 8, abci_version: String::new() })).await.unwrap() else { panic!() };
    assert_eq!(i.last_block_height.value(), 1);
    assert_eq!(i.last_block_app_hash.as_bytes(), f.app_hash.as_bytes());

    // The mempool now sees the committed sequence: the same tx is stale.
    let MempoolResponse::CheckTx(c) = mempool.clone().oneshot(MempoolRequest::CheckTx(request::CheckTx { tx: good, kind: request::CheckTxKind::Recheck })).await.unwrap();
    assert_eq!((c.code.value(), c.log.as_str()), (32, "account sequence mismatch: expected 1, got 0"));

    // A FinalizeBlock for the wrong height is refused.
    assert!(consensus.clone().oneshot(block(5, vec![])).await.is_err());
}

#[tokio::test]
async fn the_mempool_view_counts_admitted_txs_in_sequences_and_simulation() {
    let dir = tempfile::tempdir().unwrap();
    let alice = test_signer("alice");
    let bob = test_signer("bob").address;
    let genesis = serde_json::to_vec(&genesis_with(&[(alice.address, vec![Coin::new(NATIVE_DENOM, 1_000_000)])])).unwrap();
    let storage = aegis_app::store::open(dir.path().join("db")).await.unwrap();
    let (consensus, mempool, _, _, view) = aegis_app::abci::services_with_mempool_view(App::new(storage.clone()), MinGasPrice::parse("0.025uaegis").unwrap());
    consensus.clone().oneshot(init_chain(&genesis)).await.unwrap();
    let send = |seq: u64| alice.sign(vec![alice.msg_send(&bob, &[Coin::new(NATIVE_DENOM, 5)])], &SignOptions::new(CHAIN_ID, 0, seq)).unwrap();

    // Before any CheckTx the view knows nothing; after one, the next sequence.
    assert_eq!(view.sequence(alice.address).await, None);
    let MempoolResponse::CheckTx(c) = mempool.clone().oneshot(MempoolRequest::CheckTx(request::CheckTx { tx: send(0).into(), kind: request::CheckTxKind::New })).await.unwrap();
    assert_eq!(c.code.value(), 0, "{}", c.log);
    assert_eq!(view.sequence(alice.address).await, Some(1));

    // Simulation runs on top of the admitted tx: sequence 1 is next, 0 a replay.
    let next = view.simulate(send(1)).await.unwrap();
    assert_eq!(next.result, Ok(()));
    let replay = view.simulate(send(0)).await.unwrap().result.unwrap_err();
    assert_eq!((replay.codespace, replay.code, replay.message.as_str()), ("sdk", 32, "account sequence mismatch: expected 1, got 0"));
    // Simulating changed nothing: the view still expects 1, and CheckTx admits it.
    assert_eq!(view.sequence(alice.address).await, Some(1));
    let MempoolResponse::CheckTx(c) = mempool.clone().oneshot(MempoolRequest::CheckTx(request::CheckTx { tx: send(1).into(), kind: request::CheckTxKind::New })).await.unwrap();
    assert_eq!(c.code.value(), 0, "{}", c.log);
    assert_eq!(view.sequence(alice.address).await, Some(2));
}
