//! Reads kept between blocks: the values at the last committed version.
//!
//! Every read that misses a state delta goes to the snapshot, and cnidarium
//! answers each one on tokio's blocking pool (a thread hand-off) after a
//! walk down the Jellyfish Merkle tree in RocksDB. A transfer reads its
//! sender's account and both balances, the auth and bank params and more:
//! most of them the same keys block after block. This cache keeps what was
//! read or written, valid for exactly one version (the latest commit), like
//! the Cosmos SDK's inter-block cache.
//!
//! It never changes a result, only where the bytes come from:
//! - an entry answers only a snapshot of the cache's version; any other
//!   snapshot (a query at an older height, a state that a commit overtook)
//!   reads RocksDB as before;
//! - [`App::commit`](crate::app::App::commit) moves the cache to the new
//!   version by writing the block's own changes (deletions as known
//!   absences) into it, so every other entry is still the value at the new
//!   version; if the cache was not at the version just before (a commit
//!   made elsewhere, a failed one), it is emptied instead;
//! - a value read from RocksDB is inserted only if the cache is still at
//!   that snapshot's version, checked under the same lock the commit takes.
//!
//! Bounded by bytes (each key twice, values, a per-entry overhead), oldest entry
//! out first. Prefix and range scans are not cached.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use cnidarium::{Cache, Snapshot, StateRead};
use futures::future::{BoxFuture, Either, FutureExt, Ready};

/// About 64 MiB of keys and values.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// What an entry costs beyond its key and value bytes (map slot, queue slot,
/// allocations), counted against the bound.
const ENTRY_OVERHEAD: usize = 96;

/// Bytes counted for one entry: the key twice (map and queue), the value,
/// the overhead.
fn cost(key: &Key, value: &Option<Vec<u8>>) -> usize {
    2 * key.len() + value.as_ref().map_or(0, Vec::len) + ENTRY_OVERHEAD
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// A Merkle (JMT) key.
    Verifiable(String),
    /// A key of the nonverifiable store.
    Nonverifiable(Vec<u8>),
}

impl Key {
    fn len(&self) -> usize {
        match self {
            Key::Verifiable(k) => k.len(),
            Key::Nonverifiable(k) => k.len(),
        }
    }
}

/// Shared (clones share it) by the consensus and mempool connections.
#[derive(Clone)]
pub struct ReadCache {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    /// The committed version the entries hold the values of; `None` when empty.
    version: Option<u64>,
    max_bytes: usize,
    bytes: usize,
    /// `None`: known absent at `version`.
    entries: HashMap<Key, Option<Vec<u8>>>,
    /// Every key in `entries` exactly once, oldest first.
    order: VecDeque<Key>,
    stats: ReadCacheStats,
}

/// What the cache saved, for benchmarks and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadCacheStats {
    pub hits: u64,
    pub misses: u64,
    /// Times a commit found the cache at another version and emptied it.
    pub resets: u64,
}

/// The block's writes, taken before they go to RocksDB, for
/// [`ReadCache::advance`].
#[derive(Debug, Default)]
pub struct BlockWrites {
    writes: Vec<(Key, Option<Vec<u8>>)>,
}

impl BlockWrites {
    pub fn of(changes: &Cache) -> Self {
        let verifiable = changes.unwritten_changes().iter().map(|(k, v)| (Key::Verifiable(k.clone()), v.clone()));
        let nonverifiable = changes.nonverifiable_changes().iter().map(|(k, v)| (Key::Nonverifiable(k.clone()), v.clone()));
        BlockWrites { writes: verifiable.chain(nonverifiable).collect() }
    }
}

impl Default for ReadCache {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BYTES)
    }
}

impl ReadCache {
    pub fn new(max_bytes: usize) -> Self {
        ReadCache {
            inner: Arc::new(Mutex::new(Inner {
                version: None,
                max_bytes,
                bytes: 0,
                entries: HashMap::new(),
                order: VecDeque::new(),
                stats: ReadCacheStats::default(),
            })),
        }
    }

    /// `snapshot`, reading through this cache.
    pub fn wrap(&self, snapshot: Snapshot) -> CachedSnapshot {
        CachedSnapshot { snapshot, cache: self.clone() }
    }

    pub fn stats(&self) -> ReadCacheStats {
        self.lock().stats
    }

    /// The version the entries are valid for, if any.
    pub fn version(&self) -> Option<u64> {
        self.lock().version
    }

    /// Entries and the bytes counted for them.
    pub fn size(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.entries.len(), inner.bytes)
    }

    /// Version `to` was committed on top of `from` with exactly `writes`.
    pub fn advance(&self, from: u64, to: u64, writes: BlockWrites) {
        let mut inner = self.lock();
        if inner.version != Some(from) {
            if inner.version.is_some() {
                inner.stats.resets += 1;
            }
            inner.clear();
        }
        inner.version = Some(to);
        for (key, value) in writes.writes {
            inner.insert(key, value);
        }
    }

    /// Start caching for `version` if the cache is empty (at startup, or
    /// after [`clear`](Self::clear)): an empty cache is valid for any
    /// version, and [`advance`](Self::advance) empties it again unless the
    /// next commit is made on exactly this one.
    pub fn adopt(&self, version: u64) {
        let mut inner = self.lock();
        if inner.version.is_none() {
            inner.version = Some(version);
        }
    }

    /// Forget everything (a commit this cache did not see).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent maps (every
        // method finishes its bookkeeping before it can panic), so a
        // poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, version: u64, key: &Key) -> Option<Option<Vec<u8>>> {
        let mut inner = self.lock();
        if inner.version != Some(version) {
            return None;
        }
        match inner.entries.get(key).cloned() {
            Some(v) => {
                inner.stats.hits += 1;
                Some(v)
            }
            None => {
                inner.stats.misses += 1;
                None
            }
        }
    }

    fn fill(&self, version: u64, key: Key, value: Option<Vec<u8>>) {
        let mut inner = self.lock();
        if inner.version == Some(version) {
            inner.insert(key, value);
        }
    }
}

impl Inner {
    fn clear(&mut self) {
        self.version = None;
        self.entries.clear();
        self.order.clear();
        self.bytes = 0;
    }

    fn insert(&mut self, key: Key, value: Option<Vec<u8>>) {
        let size = cost(&key, &value);
        if size > self.max_bytes {
            if let Some(old) = self.entries.remove(&key) {
                self.bytes -= cost(&key, &old);
                self.order.retain(|k| k != &key);
            }
            return;
        }
        match self.entries.get_mut(&key) {
            Some(old) => {
                self.bytes = self.bytes - old.as_ref().map_or(0, Vec::len) + value.as_ref().map_or(0, Vec::len);
                *old = value;
            }
            None => {
                self.bytes += size;
                self.order.push_back(key.clone());
                self.entries.insert(key, value);
            }
        }
        while self.bytes > self.max_bytes {
            let Some(oldest) = self.order.pop_front() else { break };
            if let Some(v) = self.entries.remove(&oldest) {
                self.bytes -= cost(&oldest, &v);
            }
        }
    }
}

/// A snapshot whose point reads go through a [`ReadCache`]. What every
/// block, CheckTx and simulation state is built on.
#[derive(Clone)]
pub struct CachedSnapshot {
    snapshot: Snapshot,
    cache: ReadCache,
}

impl CachedSnapshot {
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    pub fn into_snapshot(self) -> Snapshot {
        self.snapshot
    }

    /// A read the cache missed: from RocksDB, then into the cache if it
    /// is still at this snapshot's version.
    fn miss(&self, key: Key, read: <Snapshot as StateRead>::GetRawFut) -> <Self as StateRead>::GetRawFut {
        let version = self.snapshot.version();
        let cache = self.cache.clone();
        Either::Right(
            async move {
                let value = read.await?;
                cache.fill(version, key, value.clone());
                Ok(value)
            }
            .boxed(),
        )
    }
}

impl StateRead for CachedSnapshot {
    type GetRawFut = Either<Ready<Result<Option<Vec<u8>>>>, BoxFuture<'static, Result<Option<Vec<u8>>>>>;
    type PrefixRawStream = <Snapshot as StateRead>::PrefixRawStream;
    type PrefixKeysStream = <Snapshot as StateRead>::PrefixKeysStream;
    type NonconsensusPrefixRawStream = <Snapshot as StateRead>::NonconsensusPrefixRawStream;
    type NonconsensusRangeRawStream = <Snapshot as StateRead>::NonconsensusRangeRawStream;

    fn get_raw(&self, key: &str) -> Self::GetRawFut {
        let version = self.snapshot.version();
        let k = Key::Verifiable(key.to_string());
        if let Some(value) = self.cache.get(version, &k) {
            return Either::Left(futures::future::ready(Ok(value)));
        }
        self.miss(k, self.snapshot.get_raw(key))
    }

    fn nonverifiable_get_raw(&self, key: &[u8]) -> Self::GetRawFut {
        let version = self.snapshot.version();
        let k = Key::Nonverifiable(key.to_vec());
        if let Some(value) = self.cache.get(version, &k) {
            return Either::Left(futures::future::ready(Ok(value)));
        }
        self.miss(k, self.snapshot.nonverifiable_get_raw(key))
    }

    fn object_get<T: std::any::Any + Send + Sync + Clone>(&self, key: &'static str) -> Option<T> {
        self.snapshot.object_get(key)
    }

    fn object_type(&self, key: &'static str) -> Option<std::any::TypeId> {
        self.snapshot.object_type(key)
    }

    fn prefix_raw(&self, prefix: &str) -> Self::PrefixRawStream {
        self.snapshot.prefix_raw(prefix)
    }

    fn prefix_keys(&self, prefix: &str) -> Self::PrefixKeysStream {
        self.snapshot.prefix_keys(prefix)
    }

    fn nonverifiable_prefix_raw(&self, prefix: &[u8]) -> Self::NonconsensusPrefixRawStream {
        self.snapshot.nonverifiable_prefix_raw(prefix)
    }

    fn nonverifiable_range_raw(&self, prefix: Option<&[u8]>, range: impl std::ops::RangeBounds<Vec<u8>>) -> Result<Self::NonconsensusRangeRawStream> {
        self.snapshot.nonverifiable_range_raw(prefix, range)
    }
}
