//! Recent heights kept queryable (`x-cosmos-block-height`, ABCI `Query` at a
//! height) beyond cnidarium's own cache of the 10 latest snapshots.
//!
//! cnidarium cannot open an arbitrary old version, so the node keeps the
//! snapshots themselves: a task follows the storage's new versions and holds
//! the last `keep` of them. Each is a RocksDB snapshot, which costs no copy:
//! it pins the values overwritten since, until it leaves the window (the
//! JMT's own history is never pruned by cnidarium). Like the snapshot cache
//! it is in memory, so after a restart only heights committed since (and
//! the latest) answer.
//!
//! One window per process: `aegisd start` opens one storage and turns it on.
//! Without it (tests, tools) only cnidarium's 10 snapshots answer.

use std::collections::VecDeque;
use std::sync::{OnceLock, RwLock};

use cnidarium::{Snapshot, Storage};

/// cnidarium keeps the 10 latest versions whatever this is set to.
pub const CNIDARIUM_KEEPS: u64 = 10;

/// The last `keep` snapshots of one storage, newest first.
pub struct Window {
    keep: u64,
    /// Consecutive versions, newest at the front.
    snapshots: RwLock<VecDeque<Snapshot>>,
}

static WINDOW: OnceLock<Window> = OnceLock::new();

/// How many recent heights answer queries: the configured window, or
/// cnidarium's 10 when none is running.
pub fn keep_recent() -> u64 {
    WINDOW.get().map(|w| w.keep).unwrap_or(CNIDARIUM_KEEPS)
}

/// Keep the `keep` most recent versions of `storage` queryable, from now on.
/// Call once, inside a tokio runtime; `keep` at most cnidarium's 10 changes
/// nothing. Errors if a window is already running.
pub fn retain_recent(storage: &Storage, keep: u64) -> anyhow::Result<()> {
    if keep <= CNIDARIUM_KEEPS {
        return Ok(());
    }
    if WINDOW.set(Window::new(storage, keep)).is_err() {
        anyhow::bail!("a retained-heights window is already running in this process");
    }
    let storage = storage.clone();
    let mut rx = storage.subscribe();
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let latest = rx.borrow_and_update().clone();
            if let Some(w) = WINDOW.get() {
                w.push(&storage, latest);
            }
        }
    });
    Ok(())
}

/// The retained snapshot of `version`, if the process's window holds it.
pub fn snapshot(version: u64) -> Option<Snapshot> {
    WINDOW.get()?.get(version)
}

impl Window {
    /// A window of `keep` versions, starting with `storage`'s latest.
    pub fn new(storage: &Storage, keep: u64) -> Window {
        Window { keep, snapshots: RwLock::new(VecDeque::from([storage.latest_snapshot()])) }
    }

    /// Add `latest` to the window, first filling any versions the
    /// subscription skipped from cnidarium's cache; a gap too old for it
    /// restarts the window.
    pub fn push(&self, storage: &Storage, latest: Snapshot) {
        let mut snaps = self.snapshots.write().unwrap_or_else(|p| p.into_inner());
        let from = match snaps.front().map(|s| s.version()) {
            Some(v) if v != u64::MAX && v >= latest.version() => return,
            Some(v) if v != u64::MAX => v + 1,
            // Only the pre-genesis snapshot so far: start at the new version.
            _ => {
                snaps.clear();
                latest.version()
            }
        };
        for v in from..latest.version() {
            match storage.snapshot(v) {
                Some(s) => snaps.push_front(s),
                None => snaps.clear(),
            }
        }
        snaps.push_front(latest);
        snaps.truncate(self.keep as usize);
    }

    /// The snapshot of `version`, if it is in the window.
    pub fn get(&self, version: u64) -> Option<Snapshot> {
        let snaps = self.snapshots.read().unwrap_or_else(|p| p.into_inner());
        let newest = snaps.front()?.version();
        let offset = newest.checked_sub(version)?;
        snaps.get(usize::try_from(offset).ok()?).filter(|s| s.version() == version).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cnidarium::{StateDelta, StateRead, StateWrite, TempStorage};

    async fn commit(storage: &Storage, value: u64) {
        let mut delta = StateDelta::new(storage.latest_snapshot());
        delta.put_raw("k".into(), value.to_be_bytes().to_vec());
        storage.commit(delta).await.unwrap();
    }

    async fn value_at(w: &Window, version: u64) -> Option<u64> {
        let s = w.get(version)?;
        let raw = s.get_raw("k").await.unwrap().unwrap();
        Some(u64::from_be_bytes(raw.try_into().unwrap()))
    }

    #[tokio::test]
    async fn a_window_keeps_more_heights_than_cnidarium_and_reads_each_as_it_was() {
        let storage = TempStorage::new().await.unwrap();
        let w = Window::new(&storage, 25);
        // Version v holds value 100 + v; pushed as committed.
        for v in 0..40u64 {
            commit(&storage, 100 + v).await;
            w.push(&storage, storage.latest_snapshot());
        }
        assert_eq!(storage.latest_version(), 39);
        // cnidarium alone: only 30..=39.
        assert!(storage.snapshot(29).is_none());
        assert!(storage.snapshot(30).is_some());
        // The window: 15..=39, each with its own state.
        for v in 15..40 {
            assert_eq!(value_at(&w, v).await, Some(100 + v), "version {v}");
        }
        assert_eq!(value_at(&w, 14).await, None);
        assert_eq!(value_at(&w, 40).await, None);
    }

    #[tokio::test]
    async fn versions_the_subscription_skipped_are_filled_from_cnidarium() {
        let storage = TempStorage::new().await.unwrap();
        let w = Window::new(&storage, 50);
        commit(&storage, 100).await;
        w.push(&storage, storage.latest_snapshot());
        // Five commits seen as one change: 1..=4 come from cnidarium's cache.
        for v in 1..6u64 {
            commit(&storage, 100 + v).await;
        }
        w.push(&storage, storage.latest_snapshot());
        for v in 0..6 {
            assert_eq!(value_at(&w, v).await, Some(100 + v), "version {v}");
        }
        // A gap older than cnidarium's 10: the window restarts from what it can read.
        for v in 6..30u64 {
            commit(&storage, 100 + v).await;
        }
        w.push(&storage, storage.latest_snapshot());
        assert_eq!(value_at(&w, 5).await, None);
        assert_eq!(value_at(&w, 19).await, None);
        for v in 20..30 {
            assert_eq!(value_at(&w, v).await, Some(100 + v), "version {v}");
        }
        // An old snapshot pushed again changes nothing.
        w.push(&storage, storage.snapshot(25).unwrap());
        assert_eq!(value_at(&w, 29).await, Some(129));
    }
}
