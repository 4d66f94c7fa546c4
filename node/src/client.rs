//! The command-line client: signs with the local keyring and talks to a
//! node over gRPC, exactly as any Cosmos client would.

use aegis_app::auth::params::MinGasPrice;
use aegis_app::signer::{SignOptions, Signer};
use aegis_app::types::{Address, Coin, Coins};
use anyhow::{anyhow, bail, Context, Result};
use cosmos_sdk_proto::cosmos::auth::v1beta1::{query_client::QueryClient as AuthClient, BaseAccount, QueryAccountRequest};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{query_client::QueryClient as BankClient, QueryAllBalancesRequest, QueryBalanceRequest};
use cosmos_sdk_proto::cosmos::base::abci::v1beta1::{TxMsgData, TxResponse};
use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::{service_client::ServiceClient as TmClient, GetNodeInfoRequest};
pub use cosmos_sdk_proto::cosmos::tx::v1beta1::BroadcastMode;
use cosmos_sdk_proto::cosmos::tx::v1beta1::{service_client::ServiceClient as TxClient, BroadcastTxRequest, GetTxRequest, SimulateRequest, Tx};
use prost::Message;
use tonic::transport::Channel;

pub type RestakingClient = aegis_proto::aegis::restaking::v1::query_client::QueryClient<Channel>;
pub type DelegationClient = aegis_proto::aegis::delegation::v1::query_client::QueryClient<Channel>;
pub type RewardsClient = aegis_proto::aegis::rewards::v1::query_client::QueryClient<Channel>;
pub type AvsClient = aegis_proto::aegis::avs::v1::query_client::QueryClient<Channel>;
pub type SlashingClient = aegis_proto::aegis::slashing::v1::query_client::QueryClient<Channel>;
pub type ProviderClient = aegis_proto::aegis::provider::v1::query_client::QueryClient<Channel>;

pub struct GrpcClient {
    channel: Channel,
}

impl GrpcClient {
    pub async fn connect(url: &str) -> Result<Self> {
        let channel = Channel::from_shared(url.to_string())?.connect().await.with_context(|| format!("connecting to gRPC at {url}"))?;
        Ok(GrpcClient { channel })
    }

    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    pub fn restaking(&self) -> RestakingClient {
        RestakingClient::new(self.channel.clone())
    }

    pub fn delegation(&self) -> DelegationClient {
        DelegationClient::new(self.channel.clone())
    }

    pub fn rewards(&self) -> RewardsClient {
        RewardsClient::new(self.channel.clone())
    }

    pub fn avs(&self) -> AvsClient {
        AvsClient::new(self.channel.clone())
    }

    pub fn slashing(&self) -> SlashingClient {
        SlashingClient::new(self.channel.clone())
    }

    pub fn provider(&self) -> ProviderClient {
        ProviderClient::new(self.channel.clone())
    }

    /// Any query the node serves over ABCI (a gRPC method path and its
    /// protobuf request), through `cosmos.base.tendermint.v1beta1.Service/ABCIQuery`.
    pub async fn query<Req: Message, Resp: Message + Default>(&self, path: &str, req: &Req) -> Result<Resp> {
        use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::AbciQueryRequest;
        let r = TmClient::new(self.channel.clone())
            .abci_query(AbciQueryRequest { data: req.encode_to_vec(), path: path.into(), height: 0, prove: false })
            .await?
            .into_inner();
        if r.code != 0 {
            bail!("{} (codespace {}, code {})", r.log, r.codespace, r.code);
        }
        Ok(Resp::decode(r.value.as_slice())?)
    }

    /// The latest block's height and time (Unix nanoseconds).
    pub async fn latest_block(&self) -> Result<(u64, u64)> {
        use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::GetLatestBlockRequest;
        let r = TmClient::new(self.channel.clone()).get_latest_block(GetLatestBlockRequest {}).await?.into_inner();
        let header = r.sdk_block.and_then(|b| b.header).ok_or_else(|| anyhow!("latest block has no header"))?;
        let t = header.time.ok_or_else(|| anyhow!("latest block has no time"))?;
        Ok((header.height as u64, (t.seconds as u64) * 1_000_000_000 + t.nanos as u64))
    }

    pub async fn chain_id(&self) -> Result<String> {
        let info = TmClient::new(self.channel.clone()).get_node_info(GetNodeInfoRequest {}).await?.into_inner();
        Ok(info.default_node_info.ok_or_else(|| anyhow!("node info missing"))?.network)
    }

    pub async fn account(&self, addr: &Address) -> Result<Option<BaseAccount>> {
        match AuthClient::new(self.channel.clone()).account(QueryAccountRequest { address: addr.to_string() }).await {
            Ok(r) => {
                let any = r.into_inner().account.ok_or_else(|| anyhow!("empty account response"))?;
                Ok(Some(BaseAccount::decode(any.value.as_slice())?))
            }
            Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
            Err(s) => Err(s.into()),
        }
    }

    pub async fn balance(&self, addr: &Address, denom: &str) -> Result<u128> {
        let r = BankClient::new(self.channel.clone())
            .balance(QueryBalanceRequest { address: addr.to_string(), denom: denom.into() })
            .await?
            .into_inner();
        Ok(r.balance.map(|c| c.amount.parse()).transpose()?.unwrap_or(0))
    }

    pub async fn all_balances(&self, addr: &Address) -> Result<Vec<Coin>> {
        let r = BankClient::new(self.channel.clone())
            .all_balances(QueryAllBalancesRequest { address: addr.to_string(), pagination: None, resolve_denom: false })
            .await?
            .into_inner();
        Ok(Coins::from_proto(&r.balances).map_err(|e| anyhow!("{e}"))?.iter().cloned().collect())
    }

    /// The account's number and the sequence its next tx must carry, as
    /// this node sees it: counting the txs its mempool has admitted, so
    /// back-to-back txs need no --sequence. None if the account does not exist.
    pub async fn next_sequence(&self, addr: &Address) -> Result<Option<(u64, u64)>> {
        use aegis_proto::aegis::auth::v1::{query_client::QueryClient, QueryNextSequenceRequest};
        match QueryClient::new(self.channel.clone()).next_sequence(QueryNextSequenceRequest { address: addr.to_string() }).await {
            Ok(r) => {
                let r = r.into_inner();
                Ok(Some((r.account_number, r.next_sequence)))
            }
            Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
            Err(s) => Err(anyhow!("querying the next sequence of {addr}: {}", s.message())),
        }
    }

    /// Gas used by the tx when run on the latest state. A failure names the
    /// codespace and code the node reported ("... codespace rewards code 7").
    pub async fn simulate(&self, tx_bytes: Vec<u8>) -> Result<u64> {
        #[allow(deprecated)]
        let r = TxClient::new(self.channel.clone())
            .simulate(SimulateRequest { tx: None, tx_bytes })
            .await
            .map_err(|s| anyhow!("simulating the tx failed: {}", s.message()))?
            .into_inner();
        Ok(r.gas_info.ok_or_else(|| anyhow!("no gas info"))?.gas_used)
    }

    /// Broadcast in sync mode: returns once CheckTx has answered.
    pub async fn broadcast(&self, tx_bytes: Vec<u8>) -> Result<TxResponse> {
        self.broadcast_mode(tx_bytes, BroadcastMode::Sync).await
    }

    /// Broadcast in `mode`: Sync returns CheckTx's answer; Async returns
    /// the hash only (code 0 means "handed to the node", nothing more).
    pub async fn broadcast_mode(&self, tx_bytes: Vec<u8>, mode: BroadcastMode) -> Result<TxResponse> {
        let r = TxClient::new(self.channel.clone())
            .broadcast_tx(BroadcastTxRequest { tx_bytes, mode: mode as i32 })
            .await
            .map_err(|s| anyhow!("broadcasting the tx failed: {}", s.message()))?
            .into_inner();
        r.tx_response.ok_or_else(|| anyhow!("empty broadcast response"))
    }

    /// A committed tx by hash; None if the node has not indexed it.
    pub async fn get_tx(&self, hash: &str) -> Result<Option<(Option<Tx>, TxResponse)>> {
        match TxClient::new(self.channel.clone()).get_tx(GetTxRequest { hash: hash.into() }).await {
            Ok(r) => {
                let r = r.into_inner();
                Ok(Some((r.tx, r.tx_response.ok_or_else(|| anyhow!("empty tx response"))?)))
            }
            Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
            Err(s) => bail!("tx {hash}: {}", s.message()),
        }
    }

    /// Committed txs matching a CometBFT event query, page `page` (1-based)
    /// of `limit`; with the total number of matches.
    pub async fn txs_by_events(&self, query: &str, page: u64, limit: u64, descending: bool) -> Result<(Vec<(Tx, TxResponse)>, u64)> {
        use cosmos_sdk_proto::cosmos::tx::v1beta1::{GetTxsEventRequest, OrderBy};
        #[allow(deprecated)]
        let req = GetTxsEventRequest {
            query: query.to_string(),
            page,
            limit,
            order_by: if descending { OrderBy::Desc } else { OrderBy::Asc } as i32,
            ..Default::default()
        };
        let r = TxClient::new(self.channel.clone()).get_txs_event(req).await.map_err(|s| anyhow!("searching txs: {}", s.message()))?.into_inner();
        Ok((r.txs.into_iter().zip(r.tx_responses).collect(), r.total))
    }

    /// The block at `height`, or the latest.
    pub async fn block(&self, height: Option<u64>) -> Result<(Option<tendermint_proto::types::BlockId>, tendermint_proto::types::Block)> {
        use cosmos_sdk_proto::cosmos::base::tendermint::v1beta1::{GetBlockByHeightRequest, GetLatestBlockRequest};
        let (id, block) = match height {
            None => {
                let r = TmClient::new(self.channel.clone()).get_latest_block(GetLatestBlockRequest {}).await?.into_inner();
                (r.block_id, r.block)
            }
            Some(h) => {
                let h = i64::try_from(h).map_err(|_| anyhow!("height {h} is too large"))?;
                let r = TmClient::new(self.channel.clone())
                    .get_block_by_height(GetBlockByHeightRequest { height: h })
                    .await
                    .map_err(|s| anyhow!("block {h}: {}", s.message()))?
                    .into_inner();
                (r.block_id, r.block)
            }
        };
        Ok((id, block.ok_or_else(|| anyhow!("the node returned no block"))?))
    }

    /// Poll until the tx is in a block, up to `timeout`.
    pub async fn wait_for_tx(&self, hash: &str, timeout: std::time::Duration) -> Result<TxResponse> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.get_tx(hash).await? {
                Some((_, r)) => return Ok(r),
                None if tokio::time::Instant::now() < deadline => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
                None => bail!("tx {hash} was not in a block after {}s; look for it later with `aegisd query tx {hash}`", timeout.as_secs()),
            }
        }
    }

    /// Sign `msgs` as `signer` with the account's number and next sequence;
    /// the gas limit is 1.3 times the simulated gas unless `gas` is given,
    /// and the fee is `gas_limit * gas_price` rounded up.
    pub async fn sign(&self, signer: &Signer, msgs: Vec<cosmrs::Any>, gas: impl Into<Option<u64>>, gas_price: &MinGasPrice, memo: &str) -> Result<Vec<u8>> {
        let chain_id = self.chain_id().await?;
        let (account_number, sequence) =
            self.next_sequence(&signer.address).await?.ok_or_else(|| anyhow!("account {} does not exist on chain (fund it first)", signer.address))?;
        let mut opts = SignOptions::new(&chain_id, account_number, sequence);
        opts.memo = memo.to_string();
        let gas_limit = match gas.into() {
            Some(g) => g,
            None => {
                opts.fee = 0;
                let used = self.simulate(signer.sign(msgs.clone(), &opts)?).await?;
                used * 13 / 10
            }
        };
        opts.gas_limit = gas_limit;
        opts.fee = gas_price.required_fee(gas_limit);
        signer.sign(msgs, &opts)
    }

    /// Sign `msgs` (gas simulated x1.3 unless `gas` is given), broadcast
    /// them in sync mode and, with `wait`, poll until the tx is in a block.
    /// Returns CheckTx's response if it rejected the tx (`code != 0`,
    /// `height == 0`) or if `wait` is None; else the committed result.
    pub async fn sign_and_broadcast(
        &self,
        signer: &Signer,
        msgs: Vec<cosmrs::Any>,
        gas: impl Into<Option<u64>>,
        gas_price: &MinGasPrice,
        memo: &str,
        wait: Option<std::time::Duration>,
    ) -> Result<TxResponse> {
        let bytes = self.sign(signer, msgs, gas, gas_price, memo).await?;
        self.broadcast_and_wait(bytes, wait).await
    }

    /// Broadcast signed bytes in sync mode and, with `wait` and a CheckTx
    /// success, poll until the tx is in a block.
    pub async fn broadcast_and_wait(&self, bytes: Vec<u8>, wait: Option<std::time::Duration>) -> Result<TxResponse> {
        let r = self.broadcast(bytes).await?;
        match wait {
            Some(timeout) if r.code == 0 => self.wait_for_tx(&r.txhash, timeout).await,
            _ => Ok(r),
        }
    }
}

/// The per-message responses (`Any`s) in a committed tx's `data` (hex of
/// a `TxMsgData`); empty if the tx failed or carries none.
pub fn msg_responses(r: &TxResponse) -> Result<Vec<cosmrs::Any>> {
    if r.data.is_empty() {
        return Ok(vec![]);
    }
    let bytes = hex::decode(&r.data).context("tx data is not hex")?;
    let data = TxMsgData::decode(bytes.as_slice()).context("tx data is not a TxMsgData")?;
    Ok(data.msg_responses.into_iter().map(|a| cosmrs::Any { type_url: a.type_url, value: a.value }).collect())
}

/// `--gas`: simulate ("auto") or a fixed limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gas {
    Auto,
    Limit(u64),
}

impl std::str::FromStr for Gas {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Gas::Auto),
            n => match n.parse::<u64>() {
                Ok(0) => Err("gas limit 0: give a positive limit or \"auto\"".into()),
                Ok(g) => Ok(Gas::Limit(g)),
                Err(_) => Err(format!("{n:?} is neither \"auto\" nor a gas limit (a positive integer)")),
            },
        }
    }
}

impl From<Gas> for Option<u64> {
    fn from(g: Gas) -> Self {
        match g {
            Gas::Auto => None,
            Gas::Limit(n) => Some(n),
        }
    }
}

/// `--gas-adjustment`: a positive decimal with at most 18 decimals, kept
/// exactly (as 10^-18 units) so the gas limit it gives is reproducible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasAdjustment(u128);

impl GasAdjustment {
    /// floor(gas_used * adjustment), as the Cosmos SDK truncates.
    pub fn apply(&self, gas_used: u64) -> u64 {
        let v = (gas_used as u128).saturating_mul(self.0) / 1_000_000_000_000_000_000;
        v.min(u64::MAX as u128) as u64
    }
}

impl std::str::FromStr for GasAdjustment {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        // MinGasPrice parses exactly this decimal shape.
        let p = MinGasPrice::parse(&format!("{s}uaegis")).map_err(|_| format!("gas adjustment {s:?} is not a decimal such as 1.3 (at most 18 decimals)"))?;
        if p.atto_per_gas == 0 {
            return Err(format!("gas adjustment {s:?} must be above 0"));
        }
        Ok(GasAdjustment(p.atto_per_gas))
    }
}

/// What the fee of a tx is: exactly `--fees`, or `--gas-prices` times the gas limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeeSpec {
    /// An amount of the native denom.
    Fixed(u128),
    Price(MinGasPrice),
}

impl FeeSpec {
    /// The fee for `gas_limit`, in the native denom.
    pub fn amount(&self, gas_limit: u64) -> u128 {
        match self {
            FeeSpec::Fixed(a) => *a,
            FeeSpec::Price(p) => p.required_fee(gas_limit),
        }
    }

    /// From `--fees` (one coin, e.g. `5000uaegis`) or else `--gas-prices`
    /// (e.g. `0.025uaegis`). The chain takes fees in the native denom only
    /// (the auth ante refuses any other), so any other denom is refused here,
    /// before anything is signed.
    pub fn parse(fees: Option<&str>, gas_prices: &str) -> Result<Self> {
        use aegis_app::types::NATIVE_DENOM;
        if let Some(fees) = fees {
            let coins: Vec<&str> = fees.split(',').map(str::trim).filter(|c| !c.is_empty()).collect();
            let [coin] = coins.as_slice() else {
                bail!("--fees {fees:?}: give exactly one coin of {NATIVE_DENOM}, e.g. 5000{NATIVE_DENOM} (the chain takes fees in {NATIVE_DENOM} only)");
            };
            let split = coin.find(|c: char| !c.is_ascii_digit()).unwrap_or(coin.len());
            let (amount, denom) = coin.split_at(split);
            let amount: u128 = amount.parse().map_err(|_| anyhow!("--fees {fees:?}: write <amount><denom>, e.g. 5000{NATIVE_DENOM}"))?;
            if denom != NATIVE_DENOM {
                bail!("--fees {fees:?}: denom {denom:?} is not accepted for fees; the chain takes fees in {NATIVE_DENOM} only");
            }
            return Ok(FeeSpec::Fixed(amount));
        }
        let price = MinGasPrice::parse(gas_prices).map_err(|e| anyhow!("--gas-prices {gas_prices:?}: {e}"))?;
        if price.denom != NATIVE_DENOM {
            bail!("--gas-prices {gas_prices:?}: denom {:?} is not accepted for fees; the chain takes fees in {NATIVE_DENOM} only", price.denom);
        }
        Ok(FeeSpec::Price(price))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_and_gas_prices_parse_in_the_native_denom_only() {
        assert_eq!(FeeSpec::parse(Some("5000uaegis"), "0.025uaegis").unwrap(), FeeSpec::Fixed(5000));
        assert_eq!(FeeSpec::parse(Some("5000uaegis"), "0.025uaegis").unwrap().amount(1_000_000), 5000);
        let p = FeeSpec::parse(None, "0.025uaegis").unwrap();
        assert_eq!(p.amount(200_000), 5000);
        assert_eq!(p.amount(1), 1);
        assert_eq!(FeeSpec::parse(None, "0uaegis").unwrap().amount(200_000), 0);
        for (fees, price, want) in [
            (None, "0.025stuaegis", "--gas-prices \"0.025stuaegis\": denom \"stuaegis\" is not accepted for fees; the chain takes fees in uaegis only"),
            (Some("5000stuaegis"), "0.025uaegis", "--fees \"5000stuaegis\": denom \"stuaegis\" is not accepted for fees; the chain takes fees in uaegis only"),
            (Some("1uaegis,2uatom"), "0.025uaegis", "--fees \"1uaegis,2uatom\": give exactly one coin of uaegis, e.g. 5000uaegis (the chain takes fees in uaegis only)"),
            (Some("uaegis"), "0.025uaegis", "--fees \"uaegis\": write <amount><denom>, e.g. 5000uaegis"),
            (None, "0.025", "--gas-prices \"0.025\": minimum gas price \"0.025\" has no denom"),
        ] {
            assert_eq!(FeeSpec::parse(fees, price).unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn gas_flags_parse_and_adjust_exactly() {
        assert_eq!("auto".parse::<Gas>(), Ok(Gas::Auto));
        assert_eq!("150000".parse::<Gas>(), Ok(Gas::Limit(150_000)));
        assert_eq!("0".parse::<Gas>(), Err("gas limit 0: give a positive limit or \"auto\"".into()));
        assert_eq!("lots".parse::<Gas>(), Err("\"lots\" is neither \"auto\" nor a gas limit (a positive integer)".into()));
        let a: GasAdjustment = "1.3".parse().unwrap();
        assert_eq!(a.apply(100_000), 130_000);
        assert_eq!(a.apply(12_345), 16_048); // 16048.5 truncated
        assert_eq!("2".parse::<GasAdjustment>().unwrap().apply(7), 14);
        assert_eq!("0".parse::<GasAdjustment>(), Err("gas adjustment \"0\" must be above 0".into()));
        assert_eq!("-1".parse::<GasAdjustment>(), Err("gas adjustment \"-1\" is not a decimal such as 1.3 (at most 18 decimals)".into()));
    }
}
