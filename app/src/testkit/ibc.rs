//! An in-process relayer between two test chains, for IBC tests: it does
//! what a relayer does (client creation and updates with each chain's real
//! signed headers, ICS23 proofs read from the counterparty's committed
//! state, the handshakes, packets from `send_packet` events), through the
//! same signed transactions a live relayer sends. Nothing is skipped: every
//! message is verified by the receiving chain's light client.

// ibc-go still requires the deprecated `previous_*_id` fields to be sent (empty).
#![allow(deprecated)]

use std::time::Duration;

use ibc_client_tendermint::types::{AllowUpdate, ClientState as TmClientStateType, ConsensusState as TmConsensusStateType, Header as TmHeader, TrustThreshold};
use ibc_core::client::types::Height;
use ibc_core::host::types::identifiers::ChainId;
use ibc_core::primitives::proto::Protobuf;
use ibc_proto::ibc::core::channel::v1 as ch;
use ibc_proto::ibc::core::client::v1 as cl;
use ibc_proto::ibc::core::commitment::v1::{MerklePrefix, MerkleProof};
use ibc_proto::ibc::core::connection::v1 as co;
use prost::Message;
use tendermint::abci::Event;

use super::TestChain;
use crate::app::TxOutcome;
use crate::signer::{pack, Signer};

/// The two ends of a connected path (client, connection and channel ids).
#[derive(Clone, Debug, Default)]
pub struct PathIds {
    pub client_on_a: String,
    pub client_on_b: String,
    pub conn_on_a: String,
    pub conn_on_b: String,
    pub chan_on_a: String,
    pub chan_on_b: String,
}

/// The revision number a chain id carries (`consumer-1` -> 1, else 0).
pub fn revision(chain_id: &str) -> u64 {
    ChainId::new(chain_id).expect("chain id").revision_number()
}

pub fn raw_height(chain_id: &str, h: u64) -> cl::Height {
    cl::Height { revision_number: ChainId::new(chain_id).expect("chain id").revision_number(), revision_height: h }
}

/// Panic with the outcome's error unless it succeeded.
pub fn ok(o: &TxOutcome, what: &str) {
    if let Err(e) = &o.result {
        panic!("{what} failed: {}:{} {}", e.codespace, e.code, e.message);
    }
}

/// A client state of `of` for a counterparty, ibc-go's defaults: trust
/// 1/3, trusting period 2/3 of the unbonding period, 10 s clock drift.
pub fn client_state_of(of: &TestChain, unbonding: Duration, height: u64) -> TmClientStateType {
    TmClientStateType::new(
        ChainId::new(&of.chain_id).expect("chain id"),
        TrustThreshold::ONE_THIRD,
        unbonding * 2 / 3,
        unbonding,
        Duration::from_secs(10),
        Height::new(ChainId::new(&of.chain_id).expect("chain id").revision_number(), height).expect("height"),
        crate::ibc::proof_specs(),
        vec!["upgrade".into(), "upgradedIBCState".into()],
        AllowUpdate { after_expiry: false, after_misbehaviour: false },
    )
    .expect("valid client state")
}

/// `of`'s latest signed header (produced when its last block was finalized).
pub fn latest_header(of: &TestChain) -> tendermint::block::signed_header::SignedHeader {
    of.light.headers.get(&of.height).cloned().expect("a header for the latest block")
}

/// MsgCreateClient on `host` tracking `of` at its latest header.
pub fn create_client_msg(of: &TestChain, unbonding: Duration, signer: &Signer) -> cosmrs::Any {
    let sh = latest_header(of);
    let cs = client_state_of(of, unbonding, of.height);
    let cons = TmConsensusStateType::from(sh.header);
    let client_state = ibc_client_tendermint::client_state::ClientState::from(cs);
    let consensus_state = ibc_client_tendermint::consensus_state::ConsensusState::from(cons);
    pack(
        "/ibc.core.client.v1.MsgCreateClient",
        &cl::MsgCreateClient {
            client_state: Some(Protobuf::<ibc_core::primitives::proto::Any>::encode_vec(client_state).pipe_any()),
            consensus_state: Some(Protobuf::<ibc_core::primitives::proto::Any>::encode_vec(consensus_state).pipe_any()),
            signer: signer.address.to_string(),
        },
    )
}

trait PipeAny {
    fn pipe_any(self) -> ibc_core::primitives::proto::Any;
}

impl PipeAny for Vec<u8> {
    fn pipe_any(self) -> ibc_core::primitives::proto::Any {
        ibc_core::primitives::proto::Any::decode(self.as_slice()).expect("an Any")
    }
}

/// MsgUpdateClient carrying `of`'s header at `height`, trusting the
/// client's state at `trusted`.
pub fn update_client_msg(of: &TestChain, client_id: &str, trusted: u64, height: u64, signer: &Signer) -> cosmrs::Any {
    let sh = of.light.headers.get(&height).cloned().expect("a header at that height");
    header_msg(of, client_id, trusted, sh, signer)
}

/// MsgUpdateClient with any signed header (tests forge them).
pub fn header_msg(of: &TestChain, client_id: &str, trusted: u64, sh: tendermint::block::signed_header::SignedHeader, signer: &Signer) -> cosmrs::Any {
    let validator_set = of.light.validators_at(sh.header.height.value());
    let header = TmHeader {
        signed_header: sh,
        validator_set,
        trusted_height: Height::new(ChainId::new(&of.chain_id).expect("chain id").revision_number(), trusted).expect("height"),
        trusted_next_validator_set: of.light.validators_at(trusted + 1),
    };
    let any: ibc_core::primitives::proto::Any = header.into();
    pack("/ibc.core.client.v1.MsgUpdateClient", &cl::MsgUpdateClient { client_id: client_id.into(), client_message: Some(any), signer: signer.address.to_string() })
}

/// The value at an ICS-24 path in `chain`'s state at `version`, and its
/// proof (substore, then main store) as the `MerkleProof` bytes a
/// counterparty verifies against the app hash in header `version + 1`.
pub async fn prove(chain: &TestChain, path: &str, version: u64) -> (Option<Vec<u8>>, Vec<u8>) {
    let snapshot = chain.storage().snapshot(version).expect("recent version retained");
    let (value, proof) = snapshot.get_with_proof(format!("ibc/{path}").into_bytes()).await.expect("proof");
    (value, MerkleProof { proofs: proof.proofs }.encode_to_vec())
}

/// A packet carrying any `data` on `chain`'s `port`/`channel`, sent as a
/// module of the chain would send it (ibc-rs's `send_packet` over the
/// chain's IBC context, so the commitment, sequence and event are the real
/// ones) and committed as a version of its own, like [`TestChain::slash`].
/// Tests use it to deliver data no MsgTransfer would make. The timeout is
/// `timeout_height` at revision 0 of the counterparty. Returns the
/// packet as a relayer reads it, or why it could not be sent.
pub async fn send_raw_packet(chain: &mut TestChain, port: &str, channel: &str, data: Vec<u8>, timeout_height: u64) -> Result<ch::Packet, String> {
    use ibc_core::channel::types::packet::Packet;
    use ibc_core::channel::types::timeout::{TimeoutHeight, TimeoutTimestamp};
    use ibc_core::host::types::path::SeqSendPath;
    use ibc_core::host::ValidationContext;

    use crate::ibc::IbcRead;

    let mut delta = cnidarium::StateDelta::new(chain.storage().latest_snapshot());
    let params = delta.ibc_params().await.map_err(|e| e.message)?;
    let unbonding = crate::consumer::host_unbonding_period(&delta).await.map_err(|e| e.message)?;
    let block = crate::store::BlockContext { chain_id: chain.chain_id.clone(), height: chain.height + 1, time_seconds: chain.time, time_nanos: 0 };
    let (port_id, channel_id) = (port.parse().map_err(|e| format!("{e}"))?, channel.parse().map_err(|e| format!("{e}"))?);
    let packet = {
        let mut ctx = crate::ibc::context::IbcContext::new(&mut delta, params, block, unbonding).map_err(|e| e.message)?;
        let sequence = ctx.get_next_sequence_send(&SeqSendPath::new(&port_id, &channel_id)).map_err(|e| e.to_string())?;
        let counterparty = ctx.channel_end(&ibc_core::host::types::path::ChannelEndPath::new(&port_id, &channel_id)).map_err(|e| e.to_string())?.counterparty().clone();
        let packet = Packet {
            seq_on_a: sequence,
            port_id_on_a: port_id,
            chan_id_on_a: channel_id,
            port_id_on_b: counterparty.port_id.clone(),
            chan_id_on_b: counterparty.channel_id.clone().ok_or("the channel has no counterparty channel yet")?,
            data: data.clone(),
            timeout_height_on_b: TimeoutHeight::At(Height::new(0, timeout_height).map_err(|e| e.to_string())?),
            timeout_timestamp_on_b: TimeoutTimestamp::Never,
        };
        ibc_core::channel::handler::send_packet(&mut ctx, packet.clone()).map_err(|e| e.to_string())?;
        packet
    };
    chain.storage().commit(delta).await.map_err(|e| e.to_string())?;
    chain.height += 1;
    chain.check_invariants().await;
    Ok(ch::Packet {
        sequence: packet.seq_on_a.value(),
        source_port: packet.port_id_on_a.to_string(),
        source_channel: packet.chan_id_on_a.to_string(),
        destination_port: packet.port_id_on_b.to_string(),
        destination_channel: packet.chan_id_on_b.to_string(),
        data,
        timeout_height: Some(cl::Height { revision_number: 0, revision_height: timeout_height }),
        timeout_timestamp: 0,
    })
}

/// Drives two chains and the relayer accounts on each.
pub struct Relayer {
    pub on_a: Signer,
    pub on_b: Signer,
    /// Latest height of A's client of B, and of B's client of A.
    pub trusted_on_a: u64,
    pub trusted_on_b: u64,
    pub ids: PathIds,
    pub unbonding: Duration,
}

pub enum Side {
    A,
    B,
}

impl Relayer {
    pub fn new(on_a: Signer, on_b: Signer, unbonding: Duration) -> Self {
        Relayer { on_a, on_b, trusted_on_a: 0, trusted_on_b: 0, ids: PathIds::default(), unbonding }
    }

    /// A relayer over clients that already exist (a consumer's genesis
    /// client of its provider, the provider's client of the consumer):
    /// `client_on_a` tracks B, trusted at `trusted_on_a`, and the other way.
    pub fn with_clients(on_a: Signer, on_b: Signer, unbonding: Duration, client_on_a: (&str, u64), client_on_b: (&str, u64)) -> Self {
        let mut r = Relayer::new(on_a, on_b, unbonding);
        r.ids.client_on_a = client_on_a.0.into();
        r.trusted_on_a = client_on_a.1;
        r.ids.client_on_b = client_on_b.0.into();
        r.trusted_on_b = client_on_b.1;
        r
    }

    /// Create a client of each chain on the other.
    pub async fn create_clients(&mut self, a: &mut TestChain, b: &mut TestChain) {
        let msg = create_client_msg(b, self.unbonding, &self.on_a);
        self.trusted_on_a = b.height;
        a.time = a.time.max(b.time);
        let out = a.exec(&self.on_a, vec![msg]).await;
        ok(&out, "create client of B on A");
        self.ids.client_on_a = created_client(&out);
        let msg = create_client_msg(a, self.unbonding, &self.on_b);
        self.trusted_on_b = a.height;
        b.time = b.time.max(a.time);
        let out = b.exec(&self.on_b, vec![msg]).await;
        ok(&out, "create client of A on B");
        self.ids.client_on_b = created_client(&out);
    }

    /// Make `src`'s last committed state provable on `dst`: one more block
    /// on `src` (whose header carries the app hash), then a client update
    /// on `dst` to it. Returns (version to prove, proof height).
    async fn sync(&mut self, src: &mut TestChain, dst: &mut TestChain, side: Side) -> (u64, u64) {
        let (version, h, msg) = self.prepare_update(src, dst, &side).await;
        let signer = match side {
            Side::A => &self.on_b,
            Side::B => &self.on_a,
        };
        let out = dst.exec(signer, vec![msg]).await;
        ok(&out, "update client");
        (version, h)
    }

    pub async fn connect(&mut self, a: &mut TestChain, b: &mut TestChain) {
        let prefix = Some(MerklePrefix { key_prefix: b"ibc".to_vec() });
        let version = co::Version { identifier: "1".into(), features: vec!["ORDER_ORDERED".into(), "ORDER_UNORDERED".into()] };
        // Init on A.
        let init = co::MsgConnectionOpenInit {
            client_id: self.ids.client_on_a.clone(),
            counterparty: Some(co::Counterparty { client_id: self.ids.client_on_b.clone(), connection_id: String::new(), prefix: prefix.clone() }),
            version: Some(version.clone()),
            delay_period: 0,
            signer: self.on_a.address.to_string(),
        };
        let out = a.exec(&self.on_a, vec![pack("/ibc.core.connection.v1.MsgConnectionOpenInit", &init)]).await;
        ok(&out, "connection open init");
        self.ids.conn_on_a = attr(&out.events, "connection_open_init", "connection_id");
        // Try on B, proving A's connection end, A's client of B and its consensus state.
        let (v, h) = self.sync(a, b, Side::A).await;
        let client_a_height = self.trusted_on_a;
        let (client_state, proof_client) = prove(a, &format!("clients/{}/clientState", self.ids.client_on_a), v).await;
        let (_, proof_init) = prove(a, &format!("connections/{}", self.ids.conn_on_a), v).await;
        let (_, proof_consensus) = prove(a, &format!("clients/{}/consensusStates/{}-{client_a_height}", self.ids.client_on_a, revision(&b.chain_id)), v).await;
        let try_ = co::MsgConnectionOpenTry {
            client_id: self.ids.client_on_b.clone(),
            previous_connection_id: String::new(),
            client_state: Some(client_state.expect("client state on A").pipe_any()),
            counterparty: Some(co::Counterparty { client_id: self.ids.client_on_a.clone(), connection_id: self.ids.conn_on_a.clone(), prefix: prefix.clone() }),
            delay_period: 0,
            counterparty_versions: vec![version.clone()],
            proof_height: Some(raw_height(&a.chain_id, h)),
            proof_init,
            proof_client,
            proof_consensus,
            consensus_height: Some(raw_height(&b.chain_id, client_a_height)),
            signer: self.on_b.address.to_string(),
            host_consensus_state_proof: vec![],
        };
        let out = b.exec(&self.on_b, vec![pack("/ibc.core.connection.v1.MsgConnectionOpenTry", &try_)]).await;
        ok(&out, "connection open try");
        self.ids.conn_on_b = attr(&out.events, "connection_open_try", "connection_id");
        // Ack on A.
        let (v, h) = self.sync(b, a, Side::B).await;
        let client_b_height = self.trusted_on_b;
        let (client_state, proof_client) = prove(b, &format!("clients/{}/clientState", self.ids.client_on_b), v).await;
        let (_, proof_try) = prove(b, &format!("connections/{}", self.ids.conn_on_b), v).await;
        let (_, proof_consensus) = prove(b, &format!("clients/{}/consensusStates/{}-{client_b_height}", self.ids.client_on_b, revision(&a.chain_id)), v).await;
        let ack = co::MsgConnectionOpenAck {
            connection_id: self.ids.conn_on_a.clone(),
            counterparty_connection_id: self.ids.conn_on_b.clone(),
            version: Some(version),
            client_state: Some(client_state.expect("client state on B").pipe_any()),
            proof_height: Some(raw_height(&b.chain_id, h)),
            proof_try,
            proof_client,
            proof_consensus,
            consensus_height: Some(raw_height(&a.chain_id, client_b_height)),
            signer: self.on_a.address.to_string(),
            host_consensus_state_proof: vec![],
        };
        let out = a.exec(&self.on_a, vec![pack("/ibc.core.connection.v1.MsgConnectionOpenAck", &ack)]).await;
        ok(&out, "connection open ack");
        // Confirm on B.
        let (v, h) = self.sync(a, b, Side::A).await;
        let (_, proof_ack) = prove(a, &format!("connections/{}", self.ids.conn_on_a), v).await;
        let confirm = co::MsgConnectionOpenConfirm {
            connection_id: self.ids.conn_on_b.clone(),
            proof_ack,
            proof_height: Some(raw_height(&a.chain_id, h)),
            signer: self.on_b.address.to_string(),
        };
        let out = b.exec(&self.on_b, vec![pack("/ibc.core.connection.v1.MsgConnectionOpenConfirm", &confirm)]).await;
        ok(&out, "connection open confirm");
    }

    /// Open a channel between `port` on both ends.
    pub async fn open_channel(&mut self, a: &mut TestChain, b: &mut TestChain, port: &str, version: &str, ordering: ch::Order) {
        self.open_channel_between(a, b, port, port, version, ordering).await
    }

    /// A's `MsgChannelOpenInit` for a channel from `port_a` to `port_b`
    /// over the path's connection.
    pub fn channel_open_init_msg(&self, port_a: &str, port_b: &str, version: &str, ordering: ch::Order) -> cosmrs::Any {
        let init = ch::MsgChannelOpenInit {
            port_id: port_a.into(),
            channel: Some(ch::Channel {
                state: ch::State::Init as i32,
                ordering: ordering as i32,
                counterparty: Some(ch::Counterparty { port_id: port_b.into(), channel_id: String::new() }),
                connection_hops: vec![self.ids.conn_on_a.clone()],
                version: version.into(),
                upgrade_sequence: 0,
            }),
            signer: self.on_a.address.to_string(),
        };
        pack("/ibc.core.channel.v1.MsgChannelOpenInit", &init)
    }

    /// Open a channel from `port_a` on A (which initiates, proposing
    /// `version`) to `port_b` on B. B's module may answer with another
    /// version (a CCV provider answers with its handshake metadata); the
    /// ack carries whatever B stored.
    pub async fn open_channel_between(&mut self, a: &mut TestChain, b: &mut TestChain, port_a: &str, port_b: &str, version: &str, ordering: ch::Order) {
        let init = self.channel_open_init_msg(port_a, port_b, version, ordering);
        let out = a.exec(&self.on_a, vec![init]).await;
        ok(&out, "channel open init");
        let chan_a = attr(&out.events, "channel_open_init", "channel_id");
        let chan_b = self.complete_channel_handshake(a, b, port_a, &chan_a).await;
        self.ids.chan_on_a = chan_a;
        self.ids.chan_on_b = chan_b;
    }

    /// Complete the handshake of a channel whose end on A is in INIT (a
    /// relayer's MsgChannelOpenInit, or a module's own, like the reward
    /// channel an ICS consumer starts): ChanOpenTry on B with A's ordering,
    /// ports and proposed version, ChanOpenAck on A with the version B's
    /// module chose, ChanOpenConfirm on B, each proven from committed
    /// state. Returns B's channel id; the path's ids are left alone.
    pub async fn complete_channel_handshake(&mut self, a: &mut TestChain, b: &mut TestChain, port_a: &str, chan_a: &str) -> String {
        let end = channel_end(a, port_a, chan_a).await.unwrap_or_else(|| panic!("no channel {port_a}/{chan_a} on {}", a.chain_id));
        assert_eq!(end.state, ch::State::Init as i32, "channel {port_a}/{chan_a} is not in INIT");
        assert_eq!(end.connection_hops, vec![self.ids.conn_on_a.clone()], "channel {port_a}/{chan_a} is not on this path's connection");
        let port_b = end.counterparty.as_ref().map(|c| c.port_id.clone()).unwrap_or_default();
        let (ordering, version) = (end.ordering, end.version.clone());
        let (v, h) = self.sync(a, b, Side::A).await;
        let (_, proof_init) = prove(a, &format!("channelEnds/ports/{port_a}/channels/{chan_a}"), v).await;
        let try_ = ch::MsgChannelOpenTry {
            port_id: port_b.clone(),
            previous_channel_id: String::new(),
            channel: Some(ch::Channel {
                state: ch::State::Tryopen as i32,
                ordering,
                counterparty: Some(ch::Counterparty { port_id: port_a.into(), channel_id: chan_a.into() }),
                connection_hops: vec![self.ids.conn_on_b.clone()],
                version: version.clone(),
                upgrade_sequence: 0,
            }),
            counterparty_version: version,
            proof_init,
            proof_height: Some(raw_height(&a.chain_id, h)),
            signer: self.on_b.address.to_string(),
        };
        let out = b.exec(&self.on_b, vec![pack("/ibc.core.channel.v1.MsgChannelOpenTry", &try_)]).await;
        ok(&out, "channel open try");
        let chan_b = attr(&out.events, "channel_open_try", "channel_id");
        let (v, h) = self.sync(b, a, Side::B).await;
        let (end_b, proof_try) = prove(b, &format!("channelEnds/ports/{port_b}/channels/{chan_b}"), v).await;
        let version_b = ch::Channel::decode(end_b.expect("B's channel end").as_slice()).expect("a channel end").version;
        let ack = ch::MsgChannelOpenAck {
            port_id: port_a.into(),
            channel_id: chan_a.into(),
            counterparty_channel_id: chan_b.clone(),
            counterparty_version: version_b,
            proof_try,
            proof_height: Some(raw_height(&b.chain_id, h)),
            signer: self.on_a.address.to_string(),
        };
        let out = a.exec(&self.on_a, vec![pack("/ibc.core.channel.v1.MsgChannelOpenAck", &ack)]).await;
        ok(&out, "channel open ack");
        let (v, h) = self.sync(a, b, Side::A).await;
        let (_, proof_ack) = prove(a, &format!("channelEnds/ports/{port_a}/channels/{chan_a}"), v).await;
        let confirm = ch::MsgChannelOpenConfirm {
            port_id: port_b.clone(),
            channel_id: chan_b.clone(),
            proof_ack,
            proof_height: Some(raw_height(&a.chain_id, h)),
            signer: self.on_b.address.to_string(),
        };
        let out = b.exec(&self.on_b, vec![pack("/ibc.core.channel.v1.MsgChannelOpenConfirm", &confirm)]).await;
        ok(&out, "channel open confirm");
        chan_b
    }

    /// Clients, connection and an unordered ICS-20 channel.
    pub async fn setup_transfer(&mut self, a: &mut TestChain, b: &mut TestChain) {
        self.create_clients(a, b).await;
        self.connect(a, b).await;
        self.open_channel(a, b, "transfer", "ics20-1", ch::Order::Unordered).await;
    }

    /// One more block on `src` and the client update for it, not yet sent:
    /// (version to prove, proof height, the MsgUpdateClient for `dst`).
    pub async fn prepare_update(&mut self, src: &mut TestChain, dst: &mut TestChain, side: &Side) -> (u64, u64, cosmrs::Any) {
        let version = src.height;
        src.block(vec![]).await;
        // The destination's next block is no earlier than the source's
        // header (a light client refuses headers from its future).
        dst.time = dst.time.max(src.time);
        let h = src.height;
        let (client, trusted, signer) = match side {
            Side::A => (self.ids.client_on_b.clone(), self.trusted_on_b, &self.on_b),
            Side::B => (self.ids.client_on_a.clone(), self.trusted_on_a, &self.on_a),
        };
        let msg = update_client_msg(src, &client, trusted, h, signer);
        match side {
            Side::A => self.trusted_on_b = h,
            Side::B => self.trusted_on_a = h,
        }
        (version, h, msg)
    }

    /// The relayer's account on the chain that is not `side`.
    pub fn signer_for_dst(&self, side: &Side) -> &Signer {
        match side {
            Side::A => &self.on_b,
            Side::B => &self.on_a,
        }
    }

    /// A client update plus one `MsgRecvPacket` per packet, proven at the
    /// update's height: the batch relayers send. `src` sent the packets
    /// in a block already committed.
    pub async fn recv_batch(&mut self, src: &mut TestChain, dst: &mut TestChain, side: Side, packets: &[ch::Packet]) -> Vec<cosmrs::Any> {
        let (v, h, update) = self.prepare_update(src, dst, &side).await;
        let signer = self.signer_for_dst(&side).address.to_string();
        let mut msgs = vec![update];
        for p in packets {
            let (_, proof) = prove(src, &format!("commitments/ports/{}/channels/{}/sequences/{}", p.source_port, p.source_channel, p.sequence), v).await;
            msgs.push(pack(
                "/ibc.core.channel.v1.MsgRecvPacket",
                &ch::MsgRecvPacket { packet: Some(p.clone()), proof_commitment: proof, proof_height: Some(raw_height(&src.chain_id, h)), signer: signer.clone() },
            ));
        }
        msgs
    }

    /// A client update plus one `MsgAcknowledgement` per written ack on
    /// `src` (the packets' destination).
    pub async fn ack_batch(&mut self, src: &mut TestChain, dst: &mut TestChain, side: Side, acks: &[(ch::Packet, Vec<u8>)]) -> Vec<cosmrs::Any> {
        let (v, h, update) = self.prepare_update(src, dst, &side).await;
        let signer = self.signer_for_dst(&side).address.to_string();
        let mut msgs = vec![update];
        for (p, ack) in acks {
            let (_, proof) = prove(src, &format!("acks/ports/{}/channels/{}/sequences/{}", p.destination_port, p.destination_channel, p.sequence), v).await;
            msgs.push(pack(
                "/ibc.core.channel.v1.MsgAcknowledgement",
                &ch::MsgAcknowledgement {
                    packet: Some(p.clone()),
                    acknowledgement: ack.clone(),
                    proof_acked: proof,
                    proof_height: Some(raw_height(&src.chain_id, h)),
                    signer: signer.clone(),
                },
            ));
        }
        msgs
    }

    /// A client update plus one `MsgTimeout` per packet, with proofs that
    /// `src` (the destination) never received them.
    pub async fn timeout_batch(&mut self, src: &mut TestChain, dst: &mut TestChain, side: Side, packets: &[ch::Packet]) -> Vec<cosmrs::Any> {
        let (v, h, update) = self.prepare_update(src, dst, &side).await;
        let signer = self.signer_for_dst(&side).address.to_string();
        let mut msgs = vec![update];
        for p in packets {
            let (_, proof) = prove(src, &format!("receipts/ports/{}/channels/{}/sequences/{}", p.destination_port, p.destination_channel, p.sequence), v).await;
            msgs.push(pack(
                "/ibc.core.channel.v1.MsgTimeout",
                &ch::MsgTimeout {
                    packet: Some(p.clone()),
                    proof_unreceived: proof,
                    proof_height: Some(raw_height(&src.chain_id, h)),
                    next_sequence_recv: p.sequence,
                    signer: signer.clone(),
                },
            ));
        }
        msgs
    }
}

/// The client id a MsgCreateClient response carries.
pub fn created_client(out: &TxOutcome) -> String {
    attr(&out.events, "create_client", "client_id")
}

/// The value of `key` in the first event of `kind`.
pub fn attr(events: &[Event], kind: &str, key: &str) -> String {
    events
        .iter()
        .filter(|e| e.kind == kind)
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.key_str().ok() == Some(key))
        .and_then(|a| a.value_str().ok().map(str::to_string))
        .unwrap_or_else(|| panic!("no {kind}.{key} in events {events:?}"))
}

/// An ICS-20 `MsgTransfer` on port `transfer`, timing out at height
/// `0-timeout_height` on the receiving chain (no timestamp timeout).
pub fn transfer_msg(sender: &crate::types::Address, channel: &str, receiver: &str, denom: &str, amount: u128, timeout_height: u64) -> cosmrs::Any {
    pack(
        "/ibc.applications.transfer.v1.MsgTransfer",
        &ibc_proto::ibc::applications::transfer::v1::MsgTransfer {
            source_port: "transfer".into(),
            source_channel: channel.into(),
            token: Some(ibc_proto::cosmos::base::v1beta1::Coin { denom: denom.into(), amount: amount.to_string() }),
            sender: sender.to_string(),
            receiver: receiver.into(),
            timeout_height: Some(cl::Height { revision_number: 0, revision_height: timeout_height }),
            timeout_timestamp: 0,
            memo: String::new(),
        },
    )
}

/// Packets from `send_packet` events, as a relayer reads them.
pub fn sent_packets(events: &[Event]) -> Vec<ch::Packet> {
    events.iter().filter(|e| e.kind == "send_packet").map(|e| crate::ibc::packet_from_event(e).expect("a packet event").0).collect()
}

/// Packets a block sent, from its block events (what end-block hooks
/// send, like a provider's VSC packets) and its transactions' events, in
/// that order.
pub fn block_sent_packets(out: &crate::app::BlockOutput) -> Vec<ch::Packet> {
    let mut packets = sent_packets(&out.events);
    for tx in &out.tx_results {
        packets.extend(sent_packets(&tx.events));
    }
    packets
}

/// (packet, acknowledgement bytes) from `write_acknowledgement` events.
pub fn written_acks(events: &[Event]) -> Vec<(ch::Packet, Vec<u8>)> {
    events.iter().filter(|e| e.kind == "write_acknowledgement").map(|e| crate::ibc::packet_from_event(e).expect("a packet event")).collect()
}

/// A channel end in `chain`'s committed state, if it exists.
pub async fn channel_end(chain: &TestChain, port: &str, channel: &str) -> Option<ch::Channel> {
    let snap = chain.storage().latest_snapshot();
    let bytes = crate::ibc::state::read_raw(&snap, &format!("ibc/channelEnds/ports/{port}/channels/{channel}")).await.expect("read")?;
    Some(ch::Channel::decode(bytes.as_slice()).expect("a channel end"))
}

/// Every channel end on `chain` in INIT state: (port, channel), in key
/// order. What a relayer looks for to complete handshakes modules start.
pub async fn channels_in_init(chain: &TestChain) -> Vec<(String, String)> {
    let snap = chain.storage().latest_snapshot();
    let mut out = Vec::new();
    for (k, v) in crate::ibc::state::scan_raw(&snap, "ibc/channelEnds/ports/").await.expect("scan") {
        let Ok(end) = ch::Channel::decode(v.as_slice()) else { continue };
        if end.state != ch::State::Init as i32 {
            continue;
        }
        if let Some((port, channel)) = k.split_once("/channels/") {
            out.push((port.to_string(), channel.to_string()));
        }
    }
    out
}
