//! Each block: apply the allocation changes whose time has come.

use futures::StreamExt;

use super::state::{parse_queue_suffix, queue_prefix};
use super::{AvsError, AvsWrite};
use crate::error::{AppError, AppResult};
use crate::store::StoreWrite;

/// Drain the allocation queue up to this block's time, oldest first. Cost:
/// the changes maturing now, never the whole queue.
pub async fn begin_block<S: StoreWrite + Send + Sync>(state: &mut S) -> AppResult<usize> {
    let now = state.block_time();
    let prefix = queue_prefix();
    let mut due = Vec::new();
    {
        let mut stream = Box::pin(state.prefix_keys(prefix));
        while let Some(key) = stream.next().await {
            let key = key.map_err(AppError::from)?;
            let entry = parse_queue_suffix(&key[prefix.len()..]).ok_or_else(|| AvsError::Invariant(format!("bad queue key {key}")))?;
            if entry.0 > now {
                break;
            }
            due.push(entry);
        }
    }
    for (at, op, denom, avs_id, set_id) in &due {
        super::msgs::mature(state, *at, op, denom, *avs_id, *set_id).await?;
        state.dequeue_allocation(*at, op, denom, *avs_id, *set_id)?;
    }
    Ok(due.len())
}
