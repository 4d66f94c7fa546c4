//! The load's sender accounts: derived from a seed (the same seed gives the
//! same accounts, so a second run reuses them), funded by one funder in a
//! few multi-message txs, and the load's txs signed offline before timing.
//!
//! Addresses are written with the run's bech32 prefix, not Aegis's, so the
//! same code loads a stock Cosmos SDK chain: the key derivation (secp256k1,
//! coin type 118, address = ripemd160(sha256(pubkey))) is the SDK's.

use std::time::Duration;

use aegis_app::signer::Signer;
use anyhow::{anyhow, bail, Context, Result};
use cosmos_sdk_proto::cosmos::auth::v1beta1::{query_client::QueryClient as AuthClient, BaseAccount, QueryAccountRequest};
use cosmos_sdk_proto::cosmos::bank::v1beta1::{query_client::QueryClient as BankClient, MsgSend, QueryBalanceRequest};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
use cosmos_sdk_proto::cosmos::tx::v1beta1::Tx;
use prost::Message;
use sha2::{Digest, Sha256};
use tendermint_proto::google::protobuf::Any;
use tonic::transport::Channel;

use super::rpc::{BroadcastAnswer, CometRpc};
use super::{LoadConfig, MsgKind};
use crate::txdoc;

const MSG_SEND_URL: &str = "/cosmos.bank.v1beta1.MsgSend";
const MSG_DEPOSIT_URL: &str = "/aegis.restaking.v1.MsgDeposit";
/// Funding txs carry at most this many sends each.
const SENDS_PER_FUNDING_TX: usize = 100;

/// One sender of the load.
pub struct Account {
    pub signer: Signer,
    /// Bech32 with the run's prefix.
    pub address: String,
    pub account_number: u64,
    /// The sequence of its first load tx.
    pub sequence: u64,
    /// Its balance of the denom when the load starts.
    pub balance: u128,
    /// How many of the load's txs it signs.
    pub txs: u64,
}

/// A signed load tx.
pub struct LoadTx {
    pub bytes: Vec<u8>,
    /// sha256 of the bytes, as CometBFT hashes txs.
    pub hash: [u8; 32],
    pub account: usize,
}

pub fn bech32(prefix: &str, bytes: &[u8]) -> Result<String> {
    Ok(cosmrs::AccountId::new(prefix, bytes).map_err(|e| anyhow!("bech32 prefix {prefix:?}: {e}"))?.to_string())
}

/// Sender `i` of `seed`: its secp256k1 secret is sha256("aegis-loadtest/<seed>/<i>").
pub fn derive(seed: &str, i: usize) -> Signer {
    let secret = Sha256::digest(format!("aegis-loadtest/{seed}/{i}").as_bytes());
    Signer::from_secret(&secret).expect("a sha256 digest is a valid secp256k1 secret with overwhelming probability")
}

/// Txs account `i` of `k` signs when `n` are spread evenly (the first
/// `n % k` accounts sign one more).
pub fn share(n: u64, k: usize, i: usize) -> u64 {
    n / k as u64 + u64::from((i as u64) < n % k as u64)
}

pub fn coin(denom: &str, amount: u128) -> Coin {
    Coin { denom: denom.into(), amount: amount.to_string() }
}

/// Number and sequence of a bech32 account; None if the chain has none.
pub async fn account(ch: &Channel, address: &str) -> Result<Option<(u64, u64)>> {
    match AuthClient::new(ch.clone()).account(QueryAccountRequest { address: address.into() }).await {
        Ok(r) => {
            let any = r.into_inner().account.ok_or_else(|| anyhow!("empty account response for {address}"))?;
            let a = BaseAccount::decode(any.value.as_slice()).with_context(|| format!("account {address} is a {}, not a BaseAccount", any.type_url))?;
            Ok(Some((a.account_number, a.sequence)))
        }
        Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
        Err(s) => bail!("querying account {address}: {}", s.message()),
    }
}

pub async fn balance(ch: &Channel, address: &str, denom: &str) -> Result<u128> {
    let r = BankClient::new(ch.clone())
        .balance(QueryBalanceRequest { address: address.into(), denom: denom.into() })
        .await
        .map_err(|s| anyhow!("querying the balance of {address}: {}", s.message()))?
        .into_inner();
    Ok(r.balance.map(|c| c.amount.parse::<u128>()).transpose()?.unwrap_or(0))
}

/// A tx of `msgs` paying `fee` `denom` for `gas`, signed for account
/// `number` at `sequence`.
fn signed(signer: &Signer, msgs: Vec<Any>, (fee, denom, gas): (u128, &str, u64), chain_id: &str, number: u64, sequence: u64) -> Result<Vec<u8>> {
    let mut tx: Tx = txdoc::unsigned(msgs, "", 0, 0, gas);
    txdoc::set_fee_in(&mut tx, denom, fee, gas);
    Ok(txdoc::raw(&txdoc::sign(tx, signer, chain_id, number, sequence)?))
}

/// The load's message from account `i` of `n`: 1 unit to the next account
/// (a ring, so every balance change is known exactly), or a deposit.
fn load_msg(cfg: &LoadConfig, accounts: &[Account], i: usize) -> Any {
    let from = accounts[i].address.clone();
    match cfg.msg {
        MsgKind::Send => {
            let to = accounts[(i + 1) % accounts.len()].address.clone();
            Any { type_url: MSG_SEND_URL.into(), value: MsgSend { from_address: from, to_address: to, amount: vec![coin(&cfg.denom, cfg.amount)] }.encode_to_vec() }
        }
        MsgKind::Deposit => {
            let msg = aegis_proto::aegis::restaking::v1::MsgDeposit { staker: from, amount: Some(coin(&cfg.denom, cfg.amount)) };
            Any { type_url: MSG_DEPOSIT_URL.into(), value: msg.encode_to_vec() }
        }
    }
}

/// What account `i` needs for its txs (amount and fee each), plus room
/// for one more run's fees, so a rerun with the same seed need not refund.
pub fn needed(cfg: &LoadConfig, txs: u64) -> u128 {
    txs as u128 * (cfg.amount + cfg.fee) * 2
}

/// The `k` accounts of the seed, each holding what its share of the load
/// needs: the funder tops up those short of it, in txs of up to 100
/// sends, and waits for them to commit.
pub async fn prepare(cfg: &LoadConfig, rpc: &CometRpc, ch: &Channel, chain_id: &str, funder: Option<&Signer>, log: &dyn Fn(String)) -> Result<Vec<Account>> {
    let mut accounts = Vec::with_capacity(cfg.accounts);
    for i in 0..cfg.accounts {
        let signer = derive(&cfg.seed, i);
        let address = bech32(&cfg.bech32_prefix, &signer.address.0)?;
        accounts.push(Account { signer, address, account_number: 0, sequence: 0, balance: 0, txs: share(cfg.txs, cfg.accounts, i) });
    }
    let balances = futures::future::try_join_all(accounts.iter().map(|a| balance(ch, &a.address, &cfg.denom))).await?;
    let top_ups: Vec<(String, u128)> = accounts
        .iter()
        .zip(&balances)
        .filter(|(a, have)| **have < needed(cfg, a.txs))
        .map(|(a, have)| (a.address.clone(), needed(cfg, a.txs) - have))
        .collect();
    if !top_ups.is_empty() {
        let funder = funder.ok_or_else(|| anyhow!("{} of the {} accounts need funds: give --from <key> (a funded key in the keyring at --home)", top_ups.len(), cfg.accounts))?;
        fund(cfg, rpc, ch, chain_id, funder, &top_ups, log).await?;
    }
    let numbers = futures::future::try_join_all(accounts_of(ch, &accounts)).await?;
    for (a, (number, sequence)) in accounts.iter_mut().zip(numbers) {
        a.account_number = number;
        a.sequence = sequence;
    }
    let balances = futures::future::try_join_all(accounts.iter().map(|a| balance(ch, &a.address, &cfg.denom))).await?;
    for (a, b) in accounts.iter_mut().zip(balances) {
        a.balance = b;
    }
    Ok(accounts)
}

fn accounts_of<'a>(ch: &'a Channel, accounts: &'a [Account]) -> impl Iterator<Item = impl std::future::Future<Output = Result<(u64, u64)>> + 'a> {
    accounts.iter().map(move |a| async move { account(ch, &a.address).await?.ok_or_else(|| anyhow!("account {} does not exist after funding", a.address)) })
}

async fn fund(cfg: &LoadConfig, rpc: &CometRpc, ch: &Channel, chain_id: &str, funder: &Signer, top_ups: &[(String, u128)], log: &dyn Fn(String)) -> Result<()> {
    let from = bech32(&cfg.bech32_prefix, &funder.address.0)?;
    let (number, mut sequence) = account(ch, &from).await?.ok_or_else(|| anyhow!("funder {from} has no account on chain {chain_id}"))?;
    let total: u128 = top_ups.iter().map(|(_, a)| a).sum();
    log(format!("funding {} accounts with {total}{} from {from}", top_ups.len(), cfg.denom));
    // Waited for in the blocks themselves, not through the tx index: a
    // node may run with `indexer = "null"`.
    let start = rpc.status().await?.1 + 1;
    let mut hashes = vec![];
    for chunk in top_ups.chunks(SENDS_PER_FUNDING_TX) {
        let msgs: Vec<Any> = chunk
            .iter()
            .map(|(to, amount)| Any {
                type_url: MSG_SEND_URL.into(),
                value: MsgSend { from_address: from.clone(), to_address: to.clone(), amount: vec![coin(&cfg.denom, *amount)] }.encode_to_vec(),
            })
            .collect();
        // Gas: the load's per-tx gas for each send; the fee at the load's price.
        let gas = cfg.gas.saturating_mul(chunk.len() as u64);
        let fee = (cfg.fee * gas as u128).div_ceil(cfg.gas as u128);
        let bytes = signed(funder, msgs, (fee, &cfg.denom, gas), chain_id, number, sequence)?;
        match rpc.broadcast_batch("broadcast_tx_sync", &[&bytes]).await?.remove(0) {
            BroadcastAnswer::Accepted => {}
            other => bail!("the funding tx was refused: {other:?}"),
        }
        hashes.push(<[u8; 32]>::from(Sha256::digest(&bytes)));
        sequence += 1;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(cfg.timeout_secs);
    let mut next = start;
    while !hashes.is_empty() {
        let latest = rpc.status().await?.1;
        while next <= latest {
            let block = rpc.block(next).await?;
            let ours: Vec<(usize, [u8; 32])> =
                block.txs.iter().enumerate().map(|(pos, tx)| (pos, <[u8; 32]>::from(Sha256::digest(tx)))).filter(|(_, h)| hashes.contains(h)).collect();
            if !ours.is_empty() {
                // CometBFT stores a block a moment before its results.
                let Ok(results) = rpc.block_results(next).await else { break };
                for (pos, hash) in ours {
                    match results.get(pos) {
                        Some((_, 0)) => hashes.retain(|h| *h != hash),
                        Some((codespace, code)) => bail!("funding tx {} failed with code {codespace}/{code} in block {next}", hex::encode_upper(hash)),
                        None => bail!("block {next} has no result for its tx {pos}"),
                    }
                }
            }
            next += 1;
        }
        if hashes.is_empty() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("funding tx {} was not committed within {} s", hex::encode_upper(hashes[0]), cfg.timeout_secs);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// Every load tx, signed offline: account `i`'s `txs` at its sequences
/// from `sequence` on, on all cores. Returned per account, in sequence order.
pub fn sign_all(cfg: &LoadConfig, accounts: &[Account], chain_id: &str) -> Result<Vec<Vec<LoadTx>>> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(accounts.len()).max(1);
    let sign_one = |i: usize| -> Result<Vec<LoadTx>> {
        let a = &accounts[i];
        (0..a.txs)
            .map(|k| {
                let bytes = signed(&a.signer, vec![load_msg(cfg, accounts, i)], (cfg.fee, &cfg.denom, cfg.gas), chain_id, a.account_number, a.sequence + k)?;
                Ok(LoadTx { hash: Sha256::digest(&bytes).into(), bytes, account: i })
            })
            .collect()
    };
    let mut out: Vec<Option<Result<Vec<LoadTx>>>> = (0..accounts.len()).map(|_| None).collect();
    std::thread::scope(|s| {
        let chunks: Vec<_> = out.chunks_mut(accounts.len().div_ceil(threads)).enumerate().collect();
        let per = accounts.len().div_ceil(threads);
        for (c, slots) in chunks {
            let sign_one = &sign_one;
            s.spawn(move || {
                for (j, slot) in slots.iter_mut().enumerate() {
                    *slot = Some(sign_one(c * per + j));
                }
            });
        }
    });
    out.into_iter().map(|r| r.expect("every account signed")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_derived_from_the_seed_alone() {
        assert_eq!(derive("s", 3).address, derive("s", 3).address);
        assert_ne!(derive("s", 3).address, derive("s", 4).address);
        assert_ne!(derive("s", 3).address, derive("t", 3).address);
        let a = derive("s", 0).address;
        assert_eq!(bech32("aegis", &a.0).unwrap(), a.to_string());
        assert!(bech32("cosmos", &a.0).unwrap().starts_with("cosmos1"));
    }

    #[test]
    fn the_load_is_spread_evenly_over_the_accounts() {
        let shares: Vec<u64> = (0..3).map(|i| share(10, 3, i)).collect();
        assert_eq!(shares, vec![4, 3, 3]);
        assert_eq!((0..7).map(|i| share(20_000, 7, i)).sum::<u64>(), 20_000);
    }
}
