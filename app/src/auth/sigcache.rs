//! Signatures verified once, on every core.
//!
//! A bounded set of signatures this node has already seen verify: CheckTx
//! fills it, so FinalizeBlock does not verify a mempool tx a second time;
//! and before a block's transactions run one after another, FinalizeBlock
//! verifies the signatures it has not seen yet on every core
//! ([`preverify`]) and puts the valid ones here. The sequential ante then
//! finds them. A hit only skips CPU work: an entry is keyed by a hash of
//! everything verification covered (the exact sign bytes, which hold body,
//! auth info, chain id and account number; the public key; the signature),
//! so a hit is exactly the answer verification would give. Failures are
//! never stored, gas is charged by the ante before it asks, and sequences
//! are checked by the ante on every execution, never cached.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use cnidarium::{StateRead, StateWrite};
use sha2::{Digest, Sha256};

use super::msgs::{resolve_pubkey, sign_bytes, verify_secp256k1};
use super::AuthRead;
use crate::error::AppResult;
use crate::tx::ParsedTx;

/// Entries kept before the oldest is dropped: a few blocks' worth of
/// transactions, about 10 MB.
pub const DEFAULT_CAPACITY: usize = 100_000;

const SIG_CACHE: &str = "aegis/sig_cache";

/// sha256 over (sign bytes, public key, signature), each length-prefixed
/// so that no two different triples share an encoding.
pub type SigKey = [u8; 32];

pub fn sig_key(sign_bytes: &[u8], pubkey: &[u8], signature: &[u8]) -> SigKey {
    let mut h = Sha256::new();
    h.update(b"aegis/sigcache/v1");
    for part in [sign_bytes, pubkey, signature] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// The cache, shared (clones share it) between the mempool and consensus
/// connections. First in, first out: it never holds more than `capacity`.
#[derive(Clone)]
pub struct SigCache {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    capacity: usize,
    set: HashSet<SigKey>,
    order: VecDeque<SigKey>,
    stats: SigCacheStats,
}

/// What the cache saved, for operators and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigCacheStats {
    /// Ante lookups that found the signature (no verification).
    pub hits: u64,
    /// Ante lookups that did not (the ante verified).
    pub misses: u64,
    /// Signatures verified ahead of execution by [`preverify`] that held.
    pub preverified: u64,
}

impl Default for SigCache {
    fn default() -> Self {
        SigCache::new(DEFAULT_CAPACITY)
    }
}

impl SigCache {
    pub fn new(capacity: usize) -> Self {
        SigCache { inner: Arc::new(Mutex::new(Inner { capacity, set: HashSet::new(), order: VecDeque::new(), stats: SigCacheStats::default() })) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Entries are only ever valid facts, so a panic elsewhere while the
        // lock was held leaves nothing wrong in the set.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn contains(&self, key: &SigKey) -> bool {
        self.lock().set.contains(key)
    }

    pub fn len(&self) -> usize {
        self.lock().set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn stats(&self) -> SigCacheStats {
        self.lock().stats
    }

    pub fn capacity(&self) -> usize {
        self.lock().capacity
    }

    /// Record signatures that verified.
    pub fn insert_verified(&self, keys: impl IntoIterator<Item = SigKey>) {
        let mut inner = self.lock();
        for key in keys {
            if inner.capacity == 0 || !inner.set.insert(key) {
                continue;
            }
            inner.order.push_back(key);
            while inner.order.len() > inner.capacity {
                let old = inner.order.pop_front().expect("longer than capacity");
                inner.set.remove(&old);
            }
        }
    }

    /// Drop every entry and zero the statistics (a test's reset).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.set.clear();
        inner.order.clear();
        inner.stats = SigCacheStats::default();
    }

    /// [`verify_secp256k1`], skipped when this exact triple verified before;
    /// a success is remembered, a failure never.
    pub fn verify(&self, pubkey: &[u8], sign_bytes: &[u8], signature: &[u8]) -> Result<(), String> {
        let key = sig_key(sign_bytes, pubkey, signature);
        {
            let mut inner = self.lock();
            if inner.set.contains(&key) {
                inner.stats.hits += 1;
                return Ok(());
            }
            inner.stats.misses += 1;
        }
        verify_secp256k1(pubkey, sign_bytes, signature)?;
        self.insert_verified([key]);
        Ok(())
    }
}

/// One signature to check ahead of execution.
pub struct SigJob {
    pub pubkey: Vec<u8>,
    pub sign_bytes: Vec<u8>,
    pub signature: Vec<u8>,
}

/// Verify `jobs` on `threads` threads and record the valid ones in `cache`.
/// Only warms the cache: a job that fails (or was built from a key or
/// account number the block changes before its tx runs) is simply a miss
/// later, and the ante verifies that signature itself and decides.
/// Returns how many jobs verified.
pub fn preverify(cache: &SigCache, jobs: &[SigJob], threads: usize) -> usize {
    let work: Vec<(SigKey, &SigJob)> =
        jobs.iter().map(|j| (sig_key(&j.sign_bytes, &j.pubkey, &j.signature), j)).filter(|(k, _)| !cache.contains(k)).collect();
    if work.is_empty() {
        return 0;
    }
    let check = |chunk: &[(SigKey, &SigJob)]| -> usize {
        let ok: Vec<SigKey> =
            chunk.iter().filter(|(_, j)| verify_secp256k1(&j.pubkey, &j.sign_bytes, &j.signature).is_ok()).map(|(k, _)| *k).collect();
        let n = ok.len();
        cache.insert_verified(ok);
        cache.lock().stats.preverified += n as u64;
        n
    };
    let threads = threads.clamp(1, work.len());
    if threads == 1 {
        return check(&work);
    }
    let chunk = work.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = work.chunks(chunk).map(|c| s.spawn(move || check(c))).collect();
        handles.into_iter().map(|h| h.join().expect("signature verification thread panicked")).sum()
    })
}

/// The signatures of a block's decoded transactions as the ante would check
/// them against `state` (the block's state before its first tx): each
/// signer's key (registered, or the one the tx supplies) and the sign bytes
/// with the account number `state` holds. Signers whose account is missing
/// or whose key the ante would refuse are left out; the ante reports them.
/// Accounts are read concurrently (each snapshot read is a blocking task),
/// and so are the fee payers' balances of their fee denoms, which every
/// ante reads too: a key the read cache lacks (an account first seen in
/// this block) is then fetched here, in parallel, rather than one by one
/// by the sequential ante. Those balance reads only warm the read cache;
/// nothing here is decided by them.
pub async fn block_jobs<S: StateRead>(state: &S, chain_id: &str, txs: &[AppResult<ParsedTx>]) -> Vec<SigJob> {
    use crate::bank::BankRead;
    let mut signers: Vec<(&ParsedTx, usize)> = Vec::new();
    for tx in txs.iter().flatten() {
        signers.extend((0..tx.signers.len()).map(|i| (tx, i)));
    }
    let fee_balances: Vec<(&crate::types::Address, &str)> = txs.iter().flatten().flat_map(|tx| tx.fee.iter().map(|c| (&tx.fee_payer, c.denom.as_str()))).collect();
    for chunk in fee_balances.chunks(64) {
        futures::future::join_all(chunk.iter().map(|(payer, denom)| state.balance(payer, denom))).await;
    }
    let mut accounts = Vec::with_capacity(signers.len());
    for chunk in signers.chunks(64) {
        let mut reads = Vec::with_capacity(chunk.len());
        for (tx, i) in chunk {
            reads.push(state.account(&tx.signers[*i]));
        }
        accounts.extend(futures::future::join_all(reads).await);
    }
    signers
        .iter()
        .zip(accounts)
        .filter_map(|((tx, i), account)| {
            let account = account.ok().flatten()?;
            let pubkey = resolve_pubkey(&account, &tx.signers[*i], tx.auth_info.signer_infos[*i].public_key.as_ref()).ok()?;
            Some(SigJob { pubkey, sign_bytes: sign_bytes(tx, chain_id, account.account_number), signature: tx.signatures[*i].clone() })
        })
        .collect()
}

/// The cache rides in the state delta as an ephemeral object, as the gas
/// meter does: the ante asks it when present, and state built without one
/// (simulation, tests, tools) verifies every signature.
pub trait SigCacheRead: StateRead {
    fn sig_cache(&self) -> Option<SigCache> {
        self.object_get(SIG_CACHE)
    }
}
impl<T: StateRead + ?Sized> SigCacheRead for T {}

pub trait SigCacheWrite: StateWrite {
    fn put_sig_cache(&mut self, cache: SigCache) {
        self.object_put(SIG_CACHE, cache);
    }
}
impl<T: StateWrite + ?Sized> SigCacheWrite for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_bounds_the_cache_oldest_first() {
        let cache = SigCache::new(2);
        let k = |i: u8| sig_key(&[i], b"pk", b"sig");
        cache.insert_verified([k(1), k(2), k(1), k(3)]);
        assert_eq!(cache.len(), 2);
        assert!(!cache.contains(&k(1)));
        assert!(cache.contains(&k(2)) && cache.contains(&k(3)));
        let none = SigCache::new(0);
        none.insert_verified([k(1)]);
        assert!(none.is_empty());
    }

    #[test]
    fn keys_separate_every_part() {
        // Moving a byte from one part to the next changes the key.
        assert_ne!(sig_key(b"ab", b"c", b"d"), sig_key(b"a", b"bc", b"d"));
        assert_ne!(sig_key(b"a", b"b", b"cd"), sig_key(b"a", b"bc", b"d"));
    }

    #[test]
    fn only_valid_signatures_are_remembered_on_any_thread_count() {
        let signer = crate::testkit::test_signer("cache");
        let jobs: Vec<SigJob> = (0..7u8)
            .map(|i| {
                let msg = vec![i; 10];
                let mut signature = signer.sign_bytes(&msg);
                if i % 3 == 0 {
                    signature[5] ^= 1;
                }
                SigJob { pubkey: signer.public_key(), sign_bytes: msg, signature }
            })
            .collect();
        for threads in [1, 2, 4, 16] {
            let cache = SigCache::new(100);
            assert_eq!(preverify(&cache, &jobs, threads), 4);
            assert_eq!(cache.len(), 4);
            // Warm: nothing left to verify.
            assert_eq!(preverify(&cache, &jobs, threads), 0);
            let bad = &jobs[3];
            assert_eq!(cache.verify(&bad.pubkey, &bad.sign_bytes, &bad.signature), Err("signature does not match".into()));
            assert_eq!(cache.len(), 4);
            assert_eq!(cache.stats(), SigCacheStats { hits: 0, misses: 1, preverified: 4 });
            let good = &jobs[1];
            assert_eq!(cache.verify(&good.pubkey, &good.sign_bytes, &good.signature), Ok(()));
            assert_eq!(cache.stats(), SigCacheStats { hits: 1, misses: 1, preverified: 4 });
        }
    }
}
