//! The IBC queries relayers read, through ABCI `Query` at their gRPC
//! method paths, over state holding exactly what ibc-go would store:
//! values are written at their ICS-24 paths in ibc-go's encodings (as a
//! committed block would leave them), then read back and decoded. Also
//! `store/ibc/key`, whose two ICS23 proofs are checked the way a
//! counterparty's light client checks them, and the queries over a real
//! handshake between two in-process chains.

use std::time::Duration;

use aegis_app::ibc::state::{keys, path_key};
use aegis_app::ibc::transfer::{denom_hash, escrow_address};
use aegis_app::query::abci_query;
use aegis_app::testkit::ibc::Relayer;
use aegis_app::testkit::{genesis_with, test_signer, TestChain, GENESIS_TIME};
use aegis_app::types::{Coin, NATIVE_DENOM};
use cnidarium::StateWrite;
use ibc_core::host::types::identifiers::{ChannelId, ClientId, ConnectionId, PortId, Sequence};
use ibc_core::host::types::path::{
    AckPath, ChannelEndPath, ClientConnectionPath, ClientConsensusStatePath, ClientStatePath, CommitmentPath, ConnectionPath, ReceiptPath, SeqRecvPath,
    SeqSendPath,
};
use ibc_proto_052::google::protobuf::{Any, Duration as PbDuration, Timestamp};
use ibc_proto_052::ibc::applications::transfer::v1 as tr;
use ibc_proto_052::ibc::core::channel::v1 as ch;
use ibc_proto_052::ibc::core::client::v1 as cl;
use ibc_proto_052::ibc::core::commitment::v1::{MerklePrefix, MerkleRoot};
use ibc_proto_052::ibc::core::connection::v1 as co;
use ibc_proto_052::ibc::lightclients::tendermint::v1 as tm;
use prost::{Message, Name};
use tendermint::abci::{request, response};

/// Revision 7, so that heights visibly carry the chain id's revision.
const CHAIN_ID: &str = "aegis-7";

async fn abci(chain: &TestChain, path: &str, data: Vec<u8>) -> response::Query {
    abci_query(chain.storage(), request::Query { data: data.into(), path: path.into(), height: 0u32.into(), prove: false }).await
}

async fn q<Resp: Message + Default>(chain: &TestChain, path: &str, req: impl Message) -> Resp {
    let r = abci(chain, path, req.encode_to_vec()).await;
    assert!(r.code.is_ok(), "{path}: {}", r.log);
    Resp::decode(r.value.as_ref()).unwrap()
}

/// (code, log) of a query that must fail.
async fn q_err(chain: &TestChain, path: &str, req: impl Message) -> (u32, String) {
    let r = abci(chain, path, req.encode_to_vec()).await;
    assert!(r.code.is_err(), "{path} succeeded");
    (r.code.value(), r.log)
}

/// Commit `values` as the next version, as a block would.
async fn commit(chain: &TestChain, values: Vec<(String, Vec<u8>)>) {
    let storage = chain.storage();
    let mut delta = cnidarium::StateDelta::new(storage.latest_snapshot());
    for (key, value) in values {
        delta.put_raw(key, value);
    }
    storage.commit(delta).await.unwrap();
}

fn client(id: &str) -> ClientId {
    id.parse().unwrap()
}

fn chan(port: &str, channel: &str) -> (PortId, ChannelId) {
    (port.parse().unwrap(), channel.parse().unwrap())
}

fn height(revision_number: u64, revision_height: u64) -> cl::Height {
    cl::Height { revision_number, revision_height }
}

fn tm_client_state(chain_id: &str, trusting_secs: i64, latest: cl::Height, frozen: Option<cl::Height>) -> Any {
    let cs = tm::ClientState {
        chain_id: chain_id.into(),
        trust_level: Some(tm::Fraction { numerator: 1, denominator: 3 }),
        trusting_period: Some(PbDuration { seconds: trusting_secs, nanos: 0 }),
        unbonding_period: Some(PbDuration { seconds: 3 * trusting_secs, nanos: 0 }),
        max_clock_drift: Some(PbDuration { seconds: 10, nanos: 0 }),
        frozen_height: frozen,
        latest_height: Some(latest),
        proof_specs: vec![],
        upgrade_path: vec!["upgrade".into(), "upgradedIBCState".into()],
        ..Default::default()
    };
    Any { type_url: tm::ClientState::type_url(), value: cs.encode_to_vec() }
}

fn tm_consensus_state(unix_secs: i64, root: u8) -> Any {
    let cs = tm::ConsensusState {
        timestamp: Some(Timestamp { seconds: unix_secs, nanos: 0 }),
        root: Some(MerkleRoot { hash: vec![root; 32] }),
        next_validators_hash: vec![0xAB; 32],
    };
    Any { type_url: tm::ConsensusState::type_url(), value: cs.encode_to_vec() }
}

fn consensus_entries(client_id: &str, h: &cl::Height, state: &Any) -> Vec<(String, Vec<u8>)> {
    vec![
        (path_key(ClientConsensusStatePath::new(client(client_id), h.revision_number, h.revision_height)), state.encode_to_vec()),
        (keys::consensus_height(client_id, h.revision_number, h.revision_height), vec![]),
    ]
}

fn channel_end(state: ch::State, ordering: ch::Order, counterparty_port: &str, counterparty_channel: &str, version: &str) -> ch::Channel {
    ch::Channel {
        state: state as i32,
        ordering: ordering as i32,
        counterparty: Some(ch::Counterparty { port_id: counterparty_port.into(), channel_id: counterparty_channel.into() }),
        connection_hops: vec!["connection-0".into()],
        version: version.into(),
        upgrade_sequence: 0,
    }
}

fn per_packet(path: impl std::fmt::Display, value: Vec<u8>) -> (String, Vec<u8>) {
    (path_key(path), value)
}

struct World {
    chain: TestChain,
    client_state: Any,
    consensus_10: Any,
    consensus_20: Any,
    connection: co::ConnectionEnd,
    transfer_channel: ch::Channel,
    oracle_channel: ch::Channel,
}

/// A chain after one block, then a commit of: three clients of chain
/// `counterparty-1` (active with consensus states at 1-10 and 1-20, expired,
/// frozen), connection-0 on the active one, an unordered `transfer`
/// channel-0 and an ordered `oracle` channel-1 on it, packet state on both,
/// and an ICS-20 denom trace. The two channels' escrow accounts hold
/// uaegis from genesis.
async fn world() -> World {
    let escrow_0 = escrow_address("transfer", "channel-0");
    let escrow_1 = escrow_address("oracle", "channel-1");
    let genesis = genesis_with(&[(escrow_0, vec![Coin::new(NATIVE_DENOM, 500)]), (escrow_1, vec![Coin::new(NATIVE_DENOM, 70)])]);
    let mut chain = TestChain::with_chain_id(&genesis, CHAIN_ID).await;
    chain.block(vec![]).await;

    let client_state = tm_client_state("counterparty-1", 1000, height(1, 20), None);
    let consensus_10 = tm_consensus_state(GENESIS_TIME - 50, 10);
    let consensus_20 = tm_consensus_state(GENESIS_TIME, 20);
    let connection = co::ConnectionEnd {
        client_id: "07-tendermint-0".into(),
        versions: vec![co::Version { identifier: "1".into(), features: vec!["ORDER_ORDERED".into(), "ORDER_UNORDERED".into()] }],
        state: co::State::Open as i32,
        counterparty: Some(co::Counterparty {
            client_id: "07-tendermint-5".into(),
            connection_id: "connection-9".into(),
            prefix: Some(MerklePrefix { key_prefix: b"ibc".to_vec() }),
        }),
        delay_period: 0,
    };
    let transfer_channel = channel_end(ch::State::Open, ch::Order::Unordered, "transfer", "channel-4", "ics20-1");
    let oracle_channel = channel_end(ch::State::Open, ch::Order::Ordered, "oracle", "channel-2", "oracle-1");

    let (tp, tc) = chan("transfer", "channel-0");
    let (op, oc) = chan("oracle", "channel-1");
    let mut values = vec![
        (path_key(ClientStatePath::new(client("07-tendermint-0"))), client_state.encode_to_vec()),
        // Expired: its only consensus state is 100 s old with a 100 s trusting period.
        (path_key(ClientStatePath::new(client("07-tendermint-1"))), tm_client_state("counterparty-1", 100, height(1, 5), None).encode_to_vec()),
        (path_key(ClientStatePath::new(client("07-tendermint-2"))), tm_client_state("counterparty-1", 1000, height(1, 5), Some(height(1, 3))).encode_to_vec()),
        (path_key(ClientConnectionPath::new(client("07-tendermint-0"))), co::ClientPaths { paths: vec!["connection-0".into()] }.encode_to_vec()),
        (path_key(ConnectionPath::new(&"connection-0".parse::<ConnectionId>().unwrap())), connection.encode_to_vec()),
        (path_key(ChannelEndPath::new(&tp, &tc)), transfer_channel.encode_to_vec()),
        (path_key(ChannelEndPath::new(&op, &oc)), oracle_channel.encode_to_vec()),
        (path_key(SeqSendPath::new(&tp, &tc)), 11u64.to_be_bytes().to_vec()),
        (path_key(SeqRecvPath::new(&tp, &tc)), 1u64.to_be_bytes().to_vec()),
        (path_key(SeqRecvPath::new(&op, &oc)), 4u64.to_be_bytes().to_vec()),
        per_packet(ReceiptPath::new(&tp, &tc, Sequence::from(2)), vec![1]),
        per_packet(AckPath::new(&tp, &tc, Sequence::from(3)), vec![3; 32]),
        per_packet(AckPath::new(&tp, &tc, Sequence::from(5)), vec![5; 32]),
        (keys::denom_trace(&denom_hash("transfer/channel-0/uatom")), tr::DenomTrace { path: "transfer/channel-0".into(), base_denom: "uatom".into() }.encode_to_vec()),
    ];
    // Written out of order: the store orders these keys 1, 10, 2.
    for s in [10u64, 2, 1] {
        values.push(per_packet(CommitmentPath::new(&tp, &tc, Sequence::from(s)), vec![s as u8; 32]));
    }
    values.extend(consensus_entries("07-tendermint-0", &height(1, 20), &consensus_20));
    values.extend(consensus_entries("07-tendermint-0", &height(1, 10), &consensus_10));
    values.extend(consensus_entries("07-tendermint-1", &height(1, 5), &tm_consensus_state(GENESIS_TIME - 100, 5)));
    values.extend(consensus_entries("07-tendermint-2", &height(1, 5), &tm_consensus_state(GENESIS_TIME, 5)));
    commit(&chain, values).await;
    World { chain, client_state, consensus_10, consensus_20, connection, transfer_channel, oracle_channel }
}

fn this_height(chain: &TestChain) -> Option<cl::Height> {
    Some(height(7, chain.storage().latest_version()))
}

#[tokio::test]
async fn client_queries_list_states_in_height_order_and_judge_status() {
    let w = world().await;
    let c = &w.chain;
    let at = this_height(c);
    assert_eq!(at, Some(height(7, 2)), "genesis, one block, then the IBC values");

    let r: cl::QueryClientStateResponse = q(c, "/ibc.core.client.v1.Query/ClientState", cl::QueryClientStateRequest { client_id: "07-tendermint-0".into() }).await;
    assert_eq!((r.client_state, r.proof_height), (Some(w.client_state.clone()), at));

    let r: cl::QueryClientStatesResponse = q(c, "/ibc.core.client.v1.Query/ClientStates", cl::QueryClientStatesRequest { pagination: None }).await;
    let ids: Vec<_> = r.client_states.iter().map(|s| s.client_id.as_str()).collect();
    assert_eq!(ids, ["07-tendermint-0", "07-tendermint-1", "07-tendermint-2"]);
    assert_eq!(r.client_states[0].client_state, Some(w.client_state.clone()));
    assert_eq!(r.pagination.unwrap().total, 3);

    let at_10 = cl::QueryConsensusStateRequest { client_id: "07-tendermint-0".into(), revision_number: 1, revision_height: 10, latest_height: false };
    let r: cl::QueryConsensusStateResponse = q(c, "/ibc.core.client.v1.Query/ConsensusState", at_10).await;
    assert_eq!((r.consensus_state, r.proof_height), (Some(w.consensus_10.clone()), at));
    let latest = cl::QueryConsensusStateRequest { client_id: "07-tendermint-0".into(), latest_height: true, ..Default::default() };
    let r: cl::QueryConsensusStateResponse = q(c, "/ibc.core.client.v1.Query/ConsensusState", latest).await;
    assert_eq!(r.consensus_state, Some(w.consensus_20.clone()));

    let r: cl::QueryConsensusStatesResponse =
        q(c, "/ibc.core.client.v1.Query/ConsensusStates", cl::QueryConsensusStatesRequest { client_id: "07-tendermint-0".into(), pagination: None }).await;
    let got: Vec<_> = r.consensus_states.into_iter().map(|s| (s.height.unwrap(), s.consensus_state.unwrap())).collect();
    assert_eq!(got, [(height(1, 10), w.consensus_10.clone()), (height(1, 20), w.consensus_20.clone())]);
    let r: cl::QueryConsensusStateHeightsResponse = q(
        c,
        "/ibc.core.client.v1.Query/ConsensusStateHeights",
        cl::QueryConsensusStateHeightsRequest { client_id: "07-tendermint-0".into(), pagination: None },
    )
    .await;
    assert_eq!(r.consensus_state_heights, [height(1, 10), height(1, 20)]);

    for (id, want) in [("07-tendermint-0", "Active"), ("07-tendermint-1", "Expired"), ("07-tendermint-2", "Frozen")] {
        let r: cl::QueryClientStatusResponse = q(c, "/ibc.core.client.v1.Query/ClientStatus", cl::QueryClientStatusRequest { client_id: id.into() }).await;
        assert_eq!(r.status, want, "{id}");
    }
    let r: cl::QueryClientParamsResponse = q(c, "/ibc.core.client.v1.Query/ClientParams", cl::QueryClientParamsRequest {}).await;
    assert_eq!(r.params.unwrap().allowed_clients, ["07-tendermint"]);

    // Missing, malformed and unserved.
    let (code, log) = q_err(c, "/ibc.core.client.v1.Query/ClientState", cl::QueryClientStateRequest { client_id: "07-tendermint-9".into() }).await;
    assert_eq!((code, log.as_str()), (22, "rpc error: code = NotFound desc = client 07-tendermint-9 not found"));
    let at_11 = cl::QueryConsensusStateRequest { client_id: "07-tendermint-0".into(), revision_number: 1, revision_height: 11, latest_height: false };
    let (code, log) = q_err(c, "/ibc.core.client.v1.Query/ConsensusState", at_11).await;
    assert_eq!((code, log.as_str()), (22, "rpc error: code = NotFound desc = client 07-tendermint-0 has no consensus state at height 1-11"));
    let (code, _) = q_err(c, "/ibc.core.client.v1.Query/ClientState", cl::QueryClientStateRequest { client_id: "not a client".into() }).await;
    assert_eq!(code, 18);
    let (code, log) = q_err(c, "/ibc.core.client.v1.Query/UpgradedClientState", cl::QueryUpgradedClientStateRequest {}).await;
    assert_eq!(code, 6);
    assert!(log.starts_with("rpc error: code = Unimplemented desc = Aegis has no upgrade module"), "{log}");
}

#[tokio::test]
async fn connection_and_channel_queries_follow_the_path_to_the_client() {
    let w = world().await;
    let c = &w.chain;
    let at = this_height(c);

    let r: co::QueryConnectionResponse = q(c, "/ibc.core.connection.v1.Query/Connection", co::QueryConnectionRequest { connection_id: "connection-0".into() }).await;
    assert_eq!((r.connection, r.proof_height), (Some(w.connection.clone()), at));
    let r: co::QueryConnectionsResponse = q(c, "/ibc.core.connection.v1.Query/Connections", co::QueryConnectionsRequest { pagination: None }).await;
    let conn = &r.connections[..];
    assert_eq!(conn.len(), 1);
    assert_eq!((conn[0].id.as_str(), conn[0].client_id.as_str(), conn[0].counterparty.clone()), ("connection-0", "07-tendermint-0", w.connection.counterparty.clone()));
    assert_eq!(r.height, at);
    let r: co::QueryClientConnectionsResponse =
        q(c, "/ibc.core.connection.v1.Query/ClientConnections", co::QueryClientConnectionsRequest { client_id: "07-tendermint-0".into() }).await;
    assert_eq!(r.connection_paths, ["connection-0"]);
    let r: co::QueryConnectionClientStateResponse =
        q(c, "/ibc.core.connection.v1.Query/ConnectionClientState", co::QueryConnectionClientStateRequest { connection_id: "connection-0".into() }).await;
    let ics = r.identified_client_state.unwrap();
    assert_eq!((ics.client_id.as_str(), ics.client_state), ("07-tendermint-0", Some(w.client_state.clone())));
    let req = co::QueryConnectionConsensusStateRequest { connection_id: "connection-0".into(), revision_number: 1, revision_height: 20 };
    let r: co::QueryConnectionConsensusStateResponse = q(c, "/ibc.core.connection.v1.Query/ConnectionConsensusState", req).await;
    assert_eq!((r.client_id.as_str(), r.consensus_state), ("07-tendermint-0", Some(w.consensus_20.clone())));
    let r: co::QueryConnectionParamsResponse = q(c, "/ibc.core.connection.v1.Query/ConnectionParams", co::QueryConnectionParamsRequest {}).await;
    assert_eq!(r.params.unwrap().max_expected_time_per_block, 30_000_000_000);

    let req = ch::QueryChannelRequest { port_id: "transfer".into(), channel_id: "channel-0".into() };
    let r: ch::QueryChannelResponse = q(c, "/ibc.core.channel.v1.Query/Channel", req).await;
    assert_eq!((r.channel, r.proof_height), (Some(w.transfer_channel.clone()), at));
    let r: ch::QueryChannelsResponse = q(c, "/ibc.core.channel.v1.Query/Channels", ch::QueryChannelsRequest { pagination: None }).await;
    let ends: Vec<_> = r.channels.iter().map(|c| (c.port_id.as_str(), c.channel_id.as_str(), c.ordering(), c.version.as_str())).collect();
    assert_eq!(ends, [("oracle", "channel-1", ch::Order::Ordered, "oracle-1"), ("transfer", "channel-0", ch::Order::Unordered, "ics20-1")]);
    assert_eq!((r.channels[0].counterparty.clone(), r.height), (w.oracle_channel.counterparty.clone(), at));
    let on_conn = |connection: &str| ch::QueryConnectionChannelsRequest { connection: connection.into(), pagination: None };
    let r: ch::QueryConnectionChannelsResponse = q(c, "/ibc.core.channel.v1.Query/ConnectionChannels", on_conn("connection-0")).await;
    assert_eq!(r.channels.len(), 2);
    let r: ch::QueryConnectionChannelsResponse = q(c, "/ibc.core.channel.v1.Query/ConnectionChannels", on_conn("connection-1")).await;
    assert!(r.channels.is_empty());
    let req = ch::QueryChannelClientStateRequest { port_id: "transfer".into(), channel_id: "channel-0".into() };
    let r: ch::QueryChannelClientStateResponse = q(c, "/ibc.core.channel.v1.Query/ChannelClientState", req).await;
    assert_eq!(r.identified_client_state.unwrap().client_state, Some(w.client_state.clone()));
    let req = ch::QueryChannelConsensusStateRequest { port_id: "oracle".into(), channel_id: "channel-1".into(), revision_number: 1, revision_height: 10 };
    let r: ch::QueryChannelConsensusStateResponse = q(c, "/ibc.core.channel.v1.Query/ChannelConsensusState", req).await;
    assert_eq!((r.client_id.as_str(), r.consensus_state), ("07-tendermint-0", Some(w.consensus_10.clone())));

    let (code, log) = q_err(c, "/ibc.core.channel.v1.Query/Channel", ch::QueryChannelRequest { port_id: "transfer".into(), channel_id: "channel-9".into() }).await;
    assert_eq!((code, log.as_str()), (22, "rpc error: code = NotFound desc = channel transfer/channel-9 not found"));
    let (code, log) = q_err(c, "/ibc.core.connection.v1.Query/Connection", co::QueryConnectionRequest { connection_id: "connection-3".into() }).await;
    assert_eq!((code, log.as_str()), (22, "rpc error: code = NotFound desc = connection connection-3 not found"));
}

#[tokio::test]
async fn packet_queries_order_sequences_numerically_and_find_what_is_unrelayed() {
    let w = world().await;
    let c = &w.chain;
    let at = this_height(c);
    let transfer = |sequence| ("transfer".to_string(), "channel-0".to_string(), sequence);

    let req = ch::QueryPacketCommitmentsRequest { port_id: "transfer".into(), channel_id: "channel-0".into(), pagination: None };
    let r: ch::QueryPacketCommitmentsResponse = q(c, "/ibc.core.channel.v1.Query/PacketCommitments", req).await;
    let got: Vec<_> = r.commitments.iter().map(|s| (s.sequence, s.data.clone())).collect();
    assert_eq!(got, [(1, vec![1; 32]), (2, vec![2; 32]), (10, vec![10; 32])]);
    assert_eq!((r.pagination.unwrap().total, r.height), (3, at));
    // A page of two, then the rest from its next key.
    let page = |key: Vec<u8>| ch::QueryPacketCommitmentsRequest {
        port_id: "transfer".into(),
        channel_id: "channel-0".into(),
        pagination: Some(cosmos_sdk_proto::cosmos::base::query::v1beta1::PageRequest { key, limit: 2, ..Default::default() }),
    };
    let first: ch::QueryPacketCommitmentsResponse = q(c, "/ibc.core.channel.v1.Query/PacketCommitments", page(vec![])).await;
    assert_eq!(first.commitments.iter().map(|s| s.sequence).collect::<Vec<_>>(), [1, 2]);
    let rest: ch::QueryPacketCommitmentsResponse = q(c, "/ibc.core.channel.v1.Query/PacketCommitments", page(first.pagination.unwrap().next_key)).await;
    assert_eq!(rest.commitments.iter().map(|s| s.sequence).collect::<Vec<_>>(), [10]);

    let (p, ch_, s) = transfer(10);
    let r: ch::QueryPacketCommitmentResponse =
        q(c, "/ibc.core.channel.v1.Query/PacketCommitment", ch::QueryPacketCommitmentRequest { port_id: p, channel_id: ch_, sequence: s }).await;
    assert_eq!((r.commitment, r.proof_height), (vec![10; 32], at));
    let (p, ch_, s) = transfer(3);
    let (code, log) = q_err(c, "/ibc.core.channel.v1.Query/PacketCommitment", ch::QueryPacketCommitmentRequest { port_id: p, channel_id: ch_, sequence: s }).await;
    assert_eq!((code, log.as_str()), (22, "rpc error: code = NotFound desc = no commitment for packet 3 on transfer/channel-0"));

    for (sequence, want) in [(2, true), (1, false)] {
        let (p, ch_, s) = transfer(sequence);
        let r: ch::QueryPacketReceiptResponse =
            q(c, "/ibc.core.channel.v1.Query/PacketReceipt", ch::QueryPacketReceiptRequest { port_id: p, channel_id: ch_, sequence: s }).await;
        assert_eq!(r.received, want, "receipt {sequence}");
    }
    let (p, ch_, s) = transfer(5);
    let r: ch::QueryPacketAcknowledgementResponse =
        q(c, "/ibc.core.channel.v1.Query/PacketAcknowledgement", ch::QueryPacketAcknowledgementRequest { port_id: p, channel_id: ch_, sequence: s }).await;
    assert_eq!(r.acknowledgement, vec![5; 32]);
    let acks = |filter: Vec<u64>| ch::QueryPacketAcknowledgementsRequest {
        port_id: "transfer".into(),
        channel_id: "channel-0".into(),
        pagination: None,
        packet_commitment_sequences: filter,
    };
    let r: ch::QueryPacketAcknowledgementsResponse = q(c, "/ibc.core.channel.v1.Query/PacketAcknowledgements", acks(vec![])).await;
    assert_eq!(r.acknowledgements.iter().map(|a| (a.sequence, a.data.clone())).collect::<Vec<_>>(), [(3, vec![3; 32]), (5, vec![5; 32])]);
    let r: ch::QueryPacketAcknowledgementsResponse = q(c, "/ibc.core.channel.v1.Query/PacketAcknowledgements", acks(vec![4, 5, 6])).await;
    assert_eq!(r.acknowledgements.iter().map(|a| a.sequence).collect::<Vec<_>>(), [5]);
    assert_eq!((r.pagination, r.height), (None, at));

    // Unordered: whatever has no receipt. Ordered: at or past the next receive sequence.
    let unreceived = |port: &str, channel: &str, seqs: Vec<u64>| ch::QueryUnreceivedPacketsRequest {
        port_id: port.into(),
        channel_id: channel.into(),
        packet_commitment_sequences: seqs,
    };
    let r: ch::QueryUnreceivedPacketsResponse = q(c, "/ibc.core.channel.v1.Query/UnreceivedPackets", unreceived("transfer", "channel-0", vec![1, 2, 3])).await;
    assert_eq!((r.sequences, r.height), (vec![1, 3], at));
    let r: ch::QueryUnreceivedPacketsResponse = q(c, "/ibc.core.channel.v1.Query/UnreceivedPackets", unreceived("oracle", "channel-1", vec![2, 4, 6])).await;
    assert_eq!(r.sequences, [4, 6]);
    let (code, log) = q_err(c, "/ibc.core.channel.v1.Query/UnreceivedPackets", unreceived("transfer", "channel-0", vec![1, 0])).await;
    assert_eq!((code, log.as_str()), (18, "rpc error: code = InvalidArgument desc = packet sequence at index 1 is 0: sequences start at 1"));
    // Acks not yet processed: the commitment is still there.
    let req = ch::QueryUnreceivedAcksRequest { port_id: "transfer".into(), channel_id: "channel-0".into(), packet_ack_sequences: vec![1, 3, 10] };
    let r: ch::QueryUnreceivedAcksResponse = q(c, "/ibc.core.channel.v1.Query/UnreceivedAcks", req).await;
    assert_eq!(r.sequences, [1, 10]);

    let next = |port: &str, channel: &str| (port.to_string(), channel.to_string());
    let (port_id, channel_id) = next("transfer", "channel-0");
    let r: ch::QueryNextSequenceSendResponse =
        q(c, "/ibc.core.channel.v1.Query/NextSequenceSend", ch::QueryNextSequenceSendRequest { port_id: port_id.clone(), channel_id: channel_id.clone() }).await;
    assert_eq!((r.next_sequence_send, r.proof_height), (11, at));
    // An unordered channel does not use its receive sequence: 0, as in ibc-go.
    let r: ch::QueryNextSequenceReceiveResponse =
        q(c, "/ibc.core.channel.v1.Query/NextSequenceReceive", ch::QueryNextSequenceReceiveRequest { port_id, channel_id }).await;
    assert_eq!(r.next_sequence_receive, 0);
    let (port_id, channel_id) = next("oracle", "channel-1");
    let r: ch::QueryNextSequenceReceiveResponse =
        q(c, "/ibc.core.channel.v1.Query/NextSequenceReceive", ch::QueryNextSequenceReceiveRequest { port_id: port_id.clone(), channel_id: channel_id.clone() }).await;
    assert_eq!(r.next_sequence_receive, 4);
    let (code, log) = q_err(c, "/ibc.core.channel.v1.Query/NextSequenceSend", ch::QueryNextSequenceSendRequest { port_id, channel_id }).await;
    assert_eq!((code, log.as_str()), (22, "rpc error: code = NotFound desc = no next send sequence for channel oracle/channel-1"));
}

#[tokio::test]
async fn transfer_and_staking_queries_answer_what_relayers_and_wallets_ask() {
    let w = world().await;
    let c = &w.chain;
    let hash = denom_hash("transfer/channel-0/uatom");
    let trace = tr::DenomTrace { path: "transfer/channel-0".into(), base_denom: "uatom".into() };

    for h in [hash.clone(), format!("ibc/{hash}"), hash.to_lowercase()] {
        let r: tr::QueryDenomTraceResponse = q(c, "/ibc.applications.transfer.v1.Query/DenomTrace", tr::QueryDenomTraceRequest { hash: h }).await;
        assert_eq!(r.denom_trace, Some(trace.clone()));
    }
    let unknown = denom_hash("transfer/channel-0/uosmo");
    let (code, log) = q_err(c, "/ibc.applications.transfer.v1.Query/DenomTrace", tr::QueryDenomTraceRequest { hash: unknown.clone() }).await;
    assert_eq!((code, log), (22, format!("rpc error: code = NotFound desc = denomination trace not found for hash {unknown}")));
    let (code, _) = q_err(c, "/ibc.applications.transfer.v1.Query/DenomTrace", tr::QueryDenomTraceRequest { hash: "ibc/xyz".into() }).await;
    assert_eq!(code, 18);
    let r: tr::QueryDenomTracesResponse = q(c, "/ibc.applications.transfer.v1.Query/DenomTraces", tr::QueryDenomTracesRequest { pagination: None }).await;
    assert_eq!(r.denom_traces, [trace]);
    let r: tr::QueryDenomHashResponse =
        q(c, "/ibc.applications.transfer.v1.Query/DenomHash", tr::QueryDenomHashRequest { trace: "transfer/channel-0/uatom".into() }).await;
    assert_eq!(r.hash, hash);

    let req = tr::QueryEscrowAddressRequest { port_id: "transfer".into(), channel_id: "channel-0".into() };
    let r: tr::QueryEscrowAddressResponse = q(c, "/ibc.applications.transfer.v1.Query/EscrowAddress", req).await;
    assert_eq!(r.escrow_address, escrow_address("transfer", "channel-0").to_string());
    assert!(r.escrow_address.starts_with("aegis1"), "{}", r.escrow_address);
    // Only `transfer` channels' escrows count: 500, not 570.
    let r: tr::QueryTotalEscrowForDenomResponse =
        q(c, "/ibc.applications.transfer.v1.Query/TotalEscrowForDenom", tr::QueryTotalEscrowForDenomRequest { denom: NATIVE_DENOM.into() }).await;
    let amount = r.amount.unwrap();
    assert_eq!((amount.denom.as_str(), amount.amount.as_str()), (NATIVE_DENOM, "500"));
    let r: tr::QueryParamsResponse = q(c, "/ibc.applications.transfer.v1.Query/Params", tr::QueryParamsRequest {}).await;
    assert_eq!(r.params, Some(tr::Params { send_enabled: true, receive_enabled: true }));

    use cosmos_sdk_proto::cosmos::staking::v1beta1 as st;
    let r: st::QueryParamsResponse = q(c, "/cosmos.staking.v1beta1.Query/Params", st::QueryParamsRequest {}).await;
    let p = r.params.unwrap();
    assert_eq!(p.unbonding_time, Some(tendermint_proto::google::protobuf::Duration { seconds: 7 * 24 * 3600, nanos: 0 }));
    assert_eq!((p.historical_entries, p.max_validators, p.bond_denom.as_str()), (10_000, 100, NATIVE_DENOM));
}

/// Verify a `store/ibc/key` proof as a counterparty's 07-tendermint client
/// does: the path in the `ibc` substore against the substore root, then
/// `ibc` -> that root in the main store against the app hash.
fn check_ibc_proof(r: &response::Query, path: &str, app_hash: &[u8]) -> bool {
    use ics23::commitment_proof::Proof;
    let spec = cnidarium::ics23_spec();
    let ops = &r.proof.as_ref().expect("proof").ops;
    assert_eq!(ops.len(), 2, "substore proof, then main store proof");
    assert_eq!((ops[0].key.as_slice(), ops[1].key.as_slice()), (path.as_bytes(), b"ibc".as_slice()));
    let substore = ics23::CommitmentProof::decode(ops[0].data.as_slice()).unwrap();
    let main = ics23::CommitmentProof::decode(ops[1].data.as_slice()).unwrap();
    let Some(Proof::Exist(root_entry)) = &main.proof else { panic!("the ibc substore root is always in the main store") };
    let substore_root = root_entry.value.clone();
    assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(&main, &spec, &app_hash.to_vec(), b"ibc", &substore_root));
    if r.value.is_empty() {
        ics23::verify_non_membership::<ics23::HostFunctionsManager>(&substore, &spec, &substore_root, path.as_bytes())
    } else {
        ics23::verify_membership::<ics23::HostFunctionsManager>(&substore, &spec, &substore_root, path.as_bytes(), &r.value)
    }
}

#[tokio::test]
async fn store_ibc_key_proves_paths_through_the_ibc_substore_against_the_app_hash() {
    let w = world().await;
    let c = &w.chain;
    let snapshot = c.storage().latest_snapshot();
    let app_hash = snapshot.root_hash().await.unwrap().0.to_vec();
    let ibc_key = |path: &str, route: &str| request::Query { data: path.as_bytes().to_vec().into(), path: route.into(), height: 0u32.into(), prove: true };

    let path = "clients/07-tendermint-0/clientState";
    for route in ["store/ibc/key", "/store/ibc/key"] {
        let r = abci_query(c.storage(), ibc_key(path, route)).await;
        assert!(r.code.is_ok(), "{}", r.log);
        assert_eq!((r.key.as_ref(), r.value.as_ref(), r.height.value()), (path.as_bytes(), w.client_state.encode_to_vec().as_slice(), snapshot.version()));
        assert!(check_ibc_proof(&r, path, &app_hash));
    }
    let path = "commitments/ports/transfer/channels/channel-0/sequences/10";
    let r = abci_query(c.storage(), ibc_key(path, "store/ibc/key")).await;
    assert_eq!(r.value.as_ref(), [10u8; 32]);
    assert!(check_ibc_proof(&r, path, &app_hash));
    // A forged value does not verify.
    let mut forged = r.clone();
    forged.value = vec![11u8; 32].into();
    assert!(!check_ibc_proof(&forged, path, &app_hash));

    // Absence: no receipt for packet 1, proven.
    let path = "receipts/ports/transfer/channels/channel-0/sequences/1";
    let r = abci_query(c.storage(), ibc_key(path, "store/ibc/key")).await;
    assert!(r.code.is_ok() && r.value.is_empty(), "{}", r.log);
    assert!(check_ibc_proof(&r, path, &app_hash));
    // ... and the receipt that does exist cannot be proven absent.
    let present = "receipts/ports/transfer/channels/channel-0/sequences/2";
    let mut claimed_absent = abci_query(c.storage(), ibc_key(present, "store/ibc/key")).await;
    assert_eq!(claimed_absent.value.as_ref(), [1]);
    claimed_absent.value = Default::default();
    assert!(!check_ibc_proof(&claimed_absent, present, &app_hash));

    // The raw-key path still reads the same state by its full key.
    let full = abci_query(c.storage(), ibc_key("ibc/clients/07-tendermint-0/clientState", "/store/key")).await;
    assert_eq!(full.value.as_ref(), w.client_state.encode_to_vec().as_slice());
    assert_eq!(abci_query(c.storage(), ibc_key("", "store/ibc/key")).await.code.value(), 18);
}

/// The same queries over state ibc-rs wrote in a real handshake between
/// two chains: the encodings are the ones the queries decode.
#[tokio::test]
async fn queries_read_the_objects_a_real_handshake_leaves() {
    let funded = |who: &str| genesis_with(&[(test_signer(who).address, vec![Coin::new(NATIVE_DENOM, 1_000_000_000_000)])]);
    let mut a = TestChain::with_chain_id(&funded("relayer-a"), "aegis-a").await;
    let mut b = TestChain::with_chain_id(&funded("relayer-b"), "aegis-b").await;
    a.block(vec![]).await;
    b.block(vec![]).await;
    let mut relayer = Relayer::new(test_signer("relayer-a"), test_signer("relayer-b"), Duration::from_secs(7 * 24 * 3600));
    relayer.setup_transfer(&mut a, &mut b).await;
    let ids = relayer.ids.clone();

    let r: ch::QueryChannelsResponse = q(&a, "/ibc.core.channel.v1.Query/Channels", ch::QueryChannelsRequest { pagination: None }).await;
    assert_eq!(r.channels.len(), 1);
    let c = &r.channels[0];
    assert_eq!((c.port_id.as_str(), c.channel_id.as_str(), c.state(), c.ordering()), ("transfer", ids.chan_on_a.as_str(), ch::State::Open, ch::Order::Unordered));
    assert_eq!((c.connection_hops.clone(), c.counterparty.clone().unwrap().channel_id), (vec![ids.conn_on_a.clone()], ids.chan_on_b.clone()));

    let r: co::QueryConnectionResponse = q(&a, "/ibc.core.connection.v1.Query/Connection", co::QueryConnectionRequest { connection_id: ids.conn_on_a.clone() }).await;
    let conn = r.connection.unwrap();
    assert_eq!((conn.client_id.as_str(), conn.state(), conn.counterparty.unwrap().connection_id), (ids.client_on_a.as_str(), co::State::Open, ids.conn_on_b.clone()));
    let r: co::QueryClientConnectionsResponse =
        q(&a, "/ibc.core.connection.v1.Query/ClientConnections", co::QueryClientConnectionsRequest { client_id: ids.client_on_a.clone() }).await;
    assert_eq!(r.connection_paths, vec![ids.conn_on_a.clone()]);

    let req = ch::QueryChannelClientStateRequest { port_id: "transfer".into(), channel_id: ids.chan_on_a.clone() };
    let r: ch::QueryChannelClientStateResponse = q(&a, "/ibc.core.channel.v1.Query/ChannelClientState", req).await;
    let any = r.identified_client_state.unwrap().client_state.unwrap();
    let cs = tm::ClientState::decode(any.value.as_slice()).unwrap();
    assert_eq!((any.type_url.as_str(), cs.chain_id.as_str()), ("/ibc.lightclients.tendermint.v1.ClientState", "aegis-b"));
    let r: cl::QueryClientStatusResponse = q(&a, "/ibc.core.client.v1.Query/ClientStatus", cl::QueryClientStatusRequest { client_id: ids.client_on_a.clone() }).await;
    assert_eq!(r.status, "Active");
    let r: cl::QueryConsensusStateHeightsResponse = q(
        &a,
        "/ibc.core.client.v1.Query/ConsensusStateHeights",
        cl::QueryConsensusStateHeightsRequest { client_id: ids.client_on_a.clone(), pagination: None },
    )
    .await;
    let heights: Vec<_> = r.consensus_state_heights.iter().map(|h| h.revision_height).collect();
    assert!(!heights.is_empty() && heights.windows(2).all(|w| w[0] < w[1]), "{heights:?}");
    assert_eq!(heights.last().copied(), Some(cs.latest_height.unwrap().revision_height));
    let r: ch::QueryNextSequenceSendResponse =
        q(&a, "/ibc.core.channel.v1.Query/NextSequenceSend", ch::QueryNextSequenceSendRequest { port_id: "transfer".into(), channel_id: ids.chan_on_a.clone() }).await;
    assert_eq!(r.next_sequence_send, 1);
}
