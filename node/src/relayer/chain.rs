//! One chain as the relayer sees it: CometBFT RPC only (ABCI queries at
//! the standard gRPC method paths and `store/ibc/key` with proofs, signed
//! headers and validator sets, `tx_search` and `block_search` over
//! ibc-go's event attributes, `broadcast_tx_sync`). Nothing here is Aegis-specific beyond the proof
//! specs a client of Aegis uses, so the same calls work against any chain
//! that serves them.

use std::time::Duration;

use aegis_app::auth::params::MinGasPrice;
use aegis_app::signer::{SignOptions, Signer};
use anyhow::{anyhow, bail, Context, Result};
use cosmos_sdk_proto::cosmos::auth::v1beta1::{BaseAccount, QueryAccountRequest, QueryAccountResponse};
use cosmos_sdk_proto::cosmos::tx::v1beta1::{SimulateRequest, SimulateResponse};
use ibc_proto::ibc::core::channel::v1 as ch;
use ibc_proto::ibc::core::client::v1 as cl;
use ibc_proto::ibc::core::commitment::v1::MerkleProof;
use prost::Message;
use tendermint::block::signed_header::SignedHeader;
use tendermint::validator::Set;
use tendermint_rpc::{Client, HttpClient, Order, Paging};

use super::config::ChainConfig;

pub struct Chain {
    pub id: String,
    pub revision: u64,
    pub rpc: HttpClient,
    pub signer: Signer,
    pub gas_price: MinGasPrice,
    /// Sequence of the next transaction we send (tracked locally between
    /// sends so consecutive transactions need no wait).
    next_sequence: Option<(u64, u64)>,
}

/// A `send_packet` (or `write_acknowledgement`) event turned back into a
/// packet, with the acknowledgement for the latter.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketEvent {
    pub packet: ch::Packet,
    pub ack: Vec<u8>,
}

fn revision_of(chain_id: &str) -> u64 {
    ibc_core::host::types::identifiers::ChainId::new(chain_id).map(|c| c.revision_number()).unwrap_or(0)
}

impl Chain {
    pub async fn connect(cfg: &ChainConfig) -> Result<Self> {
        let rpc = HttpClient::new(cfg.rpc.as_str()).with_context(|| format!("RPC address {}", cfg.rpc))?;
        let status = rpc.status().await.with_context(|| format!("reaching {} at {}", cfg.chain_id, cfg.rpc))?;
        if status.node_info.network.as_str() != cfg.chain_id {
            bail!("{} serves chain {}, the config says {}", cfg.rpc, status.node_info.network, cfg.chain_id);
        }
        let signer = crate::keys::Keyring::open(&cfg.keyring_home)
            .signer(&cfg.key_name)
            .with_context(|| format!("the relayer key {:?} in {}", cfg.key_name, cfg.keyring_home.display()))?;
        let gas_price = MinGasPrice::parse(&cfg.gas_price).map_err(|e| anyhow!("gas price {}: {e}", cfg.gas_price))?;
        Ok(Chain { id: cfg.chain_id.clone(), revision: revision_of(&cfg.chain_id), rpc, signer, gas_price, next_sequence: None })
    }

    pub fn height(&self, h: u64) -> cl::Height {
        cl::Height { revision_number: self.revision, revision_height: h }
    }

    pub async fn latest_height(&self) -> Result<u64> {
        Ok(self.rpc.status().await?.sync_info.latest_block_height.value())
    }

    /// Wait until the chain has a block above `h`.
    pub async fn wait_past(&self, h: u64, timeout: Duration) -> Result<u64> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let latest = self.latest_height().await?;
            if latest > h {
                return Ok(latest);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("{} did not pass height {h} within {timeout:?} (at {latest})", self.id);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The signed header at `h` and the validator set that signed it.
    pub async fn header(&self, h: u64) -> Result<(SignedHeader, Set)> {
        let commit = self.rpc.commit(tendermint::block::Height::try_from(h)?).await.with_context(|| format!("{}: commit at {h}", self.id))?;
        let validators = self.validators(h).await?;
        Ok((commit.signed_header, validators))
    }

    pub async fn validators(&self, h: u64) -> Result<Set> {
        let r = self.rpc.validators(tendermint::block::Height::try_from(h)?, Paging::All).await.with_context(|| format!("{}: validators at {h}", self.id))?;
        Ok(Set::new(r.validators, None))
    }

    /// An ABCI query at a gRPC method path.
    pub async fn query<Req: Message, Resp: Message + Default>(&self, path: &str, req: &Req, height: Option<u64>) -> Result<Resp> {
        let height = height.map(tendermint::block::Height::try_from).transpose()?;
        let r = self.rpc.abci_query(Some(path.to_string()), req.encode_to_vec(), height, false).await?;
        if r.code.is_err() {
            bail!("{}: {path}: {} (code {})", self.id, r.log, r.code.value());
        }
        Ok(Resp::decode(r.value.as_slice())?)
    }

    /// The value at an ICS-24 path in state `height` and its proof (two
    /// ICS23 proofs, substore then main store) against header `height + 1`.
    pub async fn prove(&self, path: &str, height: u64) -> Result<(Vec<u8>, Vec<u8>)> {
        let r = self
            .rpc
            .abci_query(Some("store/ibc/key".into()), path.as_bytes().to_vec(), Some(tendermint::block::Height::try_from(height)?), true)
            .await?;
        if r.code.is_err() {
            bail!("{}: proof of {path} at {height}: {}", self.id, r.log);
        }
        let ops = r.proof.ok_or_else(|| anyhow!("{}: no proof for {path}", self.id))?;
        let proofs = ops
            .ops
            .iter()
            .map(|op| ics23::CommitmentProof::decode(op.data.as_slice()))
            .collect::<Result<Vec<_>, _>>()
            .context("proof op is not an ICS23 commitment proof")?;
        Ok((r.value, MerkleProof { proofs }.encode_to_vec()))
    }

    /// Raw value at an ICS-24 path in the latest state.
    pub async fn raw(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let r = self.rpc.abci_query(Some("store/ibc/key".into()), path.as_bytes().to_vec(), None, false).await?;
        if r.code.is_err() {
            bail!("{}: {path}: {}", self.id, r.log);
        }
        Ok(if r.value.is_empty() { None } else { Some(r.value) })
    }

    pub async fn account(&self) -> Result<BaseAccount> {
        let r: QueryAccountResponse = self
            .query("/cosmos.auth.v1beta1.Query/Account", &QueryAccountRequest { address: self.signer.address.to_string() }, None)
            .await
            .with_context(|| format!("the relayer account {} on {} (fund it first)", self.signer.address, self.id))?;
        Ok(BaseAccount::decode(r.account.ok_or_else(|| anyhow!("empty account"))?.value.as_slice())?)
    }

    /// Sign and send `msgs` in one transaction, wait until it is in a
    /// block, and return its result (the tx failed if `code != 0`).
    pub async fn send(&mut self, msgs: Vec<cosmrs::Any>) -> Result<tendermint_rpc::endpoint::tx::Response> {
        let (number, sequence) = match self.next_sequence {
            Some(s) => s,
            None => {
                let acc = self.account().await?;
                (acc.account_number, acc.sequence)
            }
        };
        let mut opts = SignOptions::new(&self.id, number, sequence);
        opts.fee = 0;
        opts.gas_limit = 0;
        #[allow(deprecated)]
        let sim: SimulateResponse =
            self.query("/cosmos.tx.v1beta1.Service/Simulate", &SimulateRequest { tx: None, tx_bytes: self.signer.sign(msgs.clone(), &opts)? }, None).await?;
        let used = sim.gas_info.map(|g| g.gas_used).unwrap_or(0);
        opts.gas_limit = (used * 13 / 10).max(100_000);
        opts.fee = self.gas_price.required_fee(opts.gas_limit);
        let bytes = self.signer.sign(msgs, &opts)?;
        let r = self.rpc.broadcast_tx_sync(bytes).await?;
        if r.code.is_err() {
            // The sequence may be stale (another sender, a restart): re-read next time.
            self.next_sequence = None;
            bail!("{}: the tx was refused: {} (code {})", self.id, r.log, r.code.value());
        }
        self.next_sequence = Some((number, sequence + 1));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match self.rpc.tx(r.hash, false).await {
                Ok(tx) => return Ok(tx),
                Err(_) if tokio::time::Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(e) => {
                    self.next_sequence = None;
                    bail!("{}: tx {} not committed within 30 s: {e}", self.id, r.hash)
                }
            }
        }
    }

    /// Packets from the transaction events matching `query` (`send_packet`
    /// or `write_acknowledgement`), as relayers read them.
    pub async fn packet_events(&self, kind: &str, query: String) -> Result<Vec<PacketEvent>> {
        let q: tendermint_rpc::query::Query = query.parse().map_err(|e| anyhow!("event query {query}: {e}"))?;
        let r = self.rpc.tx_search(q, false, 1, 100, Order::Descending).await?;
        let mut out = Vec::new();
        for tx in r.txs {
            for e in tx.tx_result.events.iter().filter(|e| e.kind == kind) {
                out.push(packet_of_event(e)?);
            }
        }
        Ok(out)
    }
}

impl Chain {
    /// Packets from the block events (FinalizeBlock's own, outside any
    /// transaction: what begin- and end-block hooks send, such as a CCV
    /// provider's validator-set packets) of the blocks matching `query`.
    pub async fn block_packet_events(&self, kind: &str, query: String) -> Result<Vec<PacketEvent>> {
        let q: tendermint_rpc::query::Query = query.parse().map_err(|e| anyhow!("event query {query}: {e}"))?;
        let r = self.rpc.block_search(q, 1, 100, Order::Descending).await?;
        let mut out = Vec::new();
        for b in r.blocks {
            let height = b.block.header.height;
            let results = self.rpc.block_results(height).await.with_context(|| format!("{}: block results at {height}", self.id))?;
            for e in results.finalize_block_events.iter().filter(|e| e.kind == kind) {
                out.push(packet_of_event(e)?);
            }
        }
        Ok(out)
    }

    /// The channel ends on `connection` (`ConnectionChannels`).
    pub async fn connection_channels(&self, connection: &str) -> Result<Vec<ch::IdentifiedChannel>> {
        let r: ch::QueryConnectionChannelsResponse = self
            .query(
                "/ibc.core.channel.v1.Query/ConnectionChannels",
                &ch::QueryConnectionChannelsRequest { connection: connection.into(), pagination: None },
                None,
            )
            .await?;
        Ok(r.channels)
    }
}

fn packet_of_event(e: &tendermint::abci::Event) -> Result<PacketEvent> {
    let (packet, ack) = aegis_app::ibc::packet_from_event(e).ok_or_else(|| anyhow!("a {} event without a well-formed packet", e.kind))?;
    Ok(PacketEvent { packet, ack })
}
