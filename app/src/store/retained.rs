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

struct Window {
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
    let window = Window { keep, snapshots: RwLock::new(VecDeque::from([storage.latest_snapshot()])) };
    if WINDOW.set(window).is_err() {
        anyhow::bail!("a retained-heights window is already running in this process");
    }
    let storage = storage.clone();
    let mut rx = storage.subscribe();
    tokio::spawn(async move {
        while rx.changed().await.is_ok() {
            let latest = rx.borrow_and_update().clone();
            push(&storage, latest);
        }
    });
    Ok(())
}

/// Add `latest` to the window, first filling any versions the subscription
/// skipped from cnidarium's cache; a gap too old for it restarts the window.
fn push(storage: &Storage, latest: Snapshot) {
    let Some(w) = WINDOW.get() else { return };
    let mut snaps = w.snapshots.write().unwrap_or_else(|p| p.into_inner());
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
    snaps.truncate(w.keep as usize);
}

/// The retained snapshot of `version`, if it is in the window.
pub fn snapshot(version: u64) -> Option<Snapshot> {
    let w = WINDOW.get()?;
    let snaps = w.snapshots.read().unwrap_or_else(|p| p.into_inner());
    let newest = snaps.front()?.version();
    let offset = newest.checked_sub(version)?;
    snaps.get(usize::try_from(offset).ok()?).filter(|s| s.version() == version).cloned()
}
