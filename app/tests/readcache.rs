//! The inter-block read cache: hot keys are read from memory block after
//! block, and no configuration of it (default, too small to hold anything,
//! evicting constantly, emptied before every block, bypassed by a commit it
//! never saw) changes a result or an app hash.

use aegis_app::app::BlockOutput;
use aegis_app::bank::state::balance_key;
use aegis_app::bank::BankRead;
use aegis_app::signer::Signer;
use aegis_app::store::readcache::{ReadCache, ReadCacheStats};
use aegis_app::store::StoreWrite;
use aegis_app::testkit::{genesis_with, test_signer, TestChain};
use aegis_app::types::{Address, Amount, Coin, NATIVE_DENOM};
use aegis_app::AppGenesis;
use cnidarium::{StateDelta, StateRead};

const FUNDS: u128 = 1_000_000_000;
const FEE: u128 = 5_000; // SignOptions default

fn users() -> Vec<Signer> {
    (0..4).map(|i| test_signer(&format!("reader{i}"))).collect()
}

fn genesis(users: &[Signer]) -> AppGenesis {
    genesis_with(
        &users
            .iter()
            .map(|u| (u.address, vec![Coin::new(NATIVE_DENOM, FUNDS)]))
            .collect::<Vec<_>>(),
    )
}

/// What must agree whatever the cache holds: per block, the app hash and
/// each tx's code, log, gas and events.
type BlockSummary = (Vec<u8>, Vec<(u32, String, u64, u64, usize)>);

fn summary(out: &BlockOutput) -> BlockSummary {
    let txs = out
        .tx_results
        .iter()
        .map(|r| {
            let (code, log) = match &r.result {
                Ok(()) => (0, String::new()),
                Err(e) => (e.code, e.message.clone()),
            };
            (code, log, r.gas_wanted, r.gas_used, r.events.len())
        })
        .collect();
    (out.app_hash.clone(), txs)
}

/// Five blocks in which every user sends to the next, one transfer asks
/// for more than the sender has, and from block 2 on a new account is
/// created and funded. `before_block` runs on the chain before each block.
async fn run(
    cache: ReadCache,
    before_block: impl Fn(&TestChain),
) -> (Vec<BlockSummary>, Vec<ReadCacheStats>) {
    let users = users();
    let mut chain = TestChain::new(&genesis(&users)).await;
    chain.app_mut().set_read_cache(cache.clone());
    let (mut blocks, mut stats) = (vec![], vec![]);
    for h in 0..5u128 {
        let mut txs = vec![];
        for (i, u) in users.iter().enumerate() {
            txs.push(
                chain
                    .send_tx(
                        u,
                        &users[(i + 1) % users.len()].address,
                        100 + h * 10 + i as u128,
                    )
                    .await,
            );
        }
        // Refused for funds: its fee is charged, its transfer reverted.
        let (number, sequence) = chain.account(&users[0].address).await.unwrap();
        txs.push(
            users[0]
                .sign(
                    vec![
                        users[0].msg_send(&users[1].address, &[Coin::new(NATIVE_DENOM, FUNDS * 2)])
                    ],
                    &aegis_app::signer::SignOptions::new(
                        aegis_app::testkit::CHAIN_ID,
                        number,
                        sequence + 1,
                    ),
                )
                .unwrap(),
        );
        if h >= 2 {
            txs.push(
                users[2]
                    .sign(
                        vec![users[2].msg_send(
                            &test_signer(&format!("newcomer{h}")).address,
                            &[Coin::new(NATIVE_DENOM, 7)],
                        )],
                        &aegis_app::signer::SignOptions::new(
                            aegis_app::testkit::CHAIN_ID,
                            chain.account(&users[2].address).await.unwrap().0,
                            chain.account(&users[2].address).await.unwrap().1 + 1,
                        ),
                    )
                    .unwrap(),
            );
        }
        before_block(&chain);
        blocks.push(summary(&chain.block(txs).await));
        stats.push(cache.stats());
    }
    (blocks, stats)
}

#[tokio::test]
async fn no_cache_configuration_changes_a_result_or_an_app_hash() {
    let (reference, stats) = run(ReadCache::default(), |_| {}).await;
    // Block 0: every transfer ok except the overdraft (sdk 5); from block 2
    // the newcomer's funding is ok too.
    let codes: Vec<Vec<u32>> = reference
        .iter()
        .map(|(_, txs)| txs.iter().map(|t| t.0).collect())
        .collect();
    assert_eq!(
        codes,
        vec![
            vec![0, 0, 0, 0, 5],
            vec![0, 0, 0, 0, 5],
            vec![0, 0, 0, 0, 5, 0],
            vec![0, 0, 0, 0, 5, 0],
            vec![0, 0, 0, 0, 5, 0]
        ]
    );
    // From the second block on, every key a block reads was read or written
    // by the block before, except what a new account brings: block 1 misses
    // nothing; block 2 its newcomer's account and balance and the next
    // account number; blocks 3 and 4 only their newcomer's account and
    // balance (block 2 wrote the next account number).
    let misses: Vec<u64> = stats
        .windows(2)
        .map(|w| w[1].misses - w[0].misses)
        .collect();
    assert_eq!(misses, vec![0, 3, 2, 2]);
    assert!(stats[4].hits > stats[0].hits, "{stats:?}");
    assert_eq!(stats[4].resets, 0);

    // Nothing fits: every read goes to RocksDB.
    let nothing = ReadCache::new(0);
    let (blocks, stats) = run(nothing.clone(), |_| {}).await;
    assert_eq!(blocks, reference);
    assert_eq!(stats[4].hits, 0);
    assert_eq!(nothing.size(), (0, 0));

    // Room for two or three entries: constant eviction.
    let tiny = ReadCache::new(400);
    let (blocks, _) = run(tiny.clone(), |_| {}).await;
    assert_eq!(blocks, reference);
    let (entries, bytes) = tiny.size();
    assert!(
        entries >= 1 && bytes <= 400,
        "{entries} entries, {bytes} bytes"
    );

    // Emptied before every block (as after a restart).
    let emptied = ReadCache::default();
    let (blocks, _) = run(emptied.clone(), |_| emptied.clear()).await;
    assert_eq!(blocks, reference);
}

#[tokio::test]
async fn a_commit_the_cache_never_saw_is_read_from_rocksdb() {
    let users = users();
    let (alice, bob, carol) = (&users[0], &users[1], test_signer("carol").address);
    let mut chain = TestChain::new(&genesis(&users)).await;
    let tx = chain.send_tx(alice, &carol, 10).await;
    chain.block(vec![tx]).await;
    let cache = chain.app().read_cache().clone();
    let after_first = FUNDS - 10 - FEE;
    assert_eq!(cache.version(), Some(chain.storage().latest_version()));

    // Another writer commits a version: 1,000 moves from alice to bob.
    let mut delta = StateDelta::new(chain.storage().latest_snapshot());
    delta
        .write_amount(
            balance_key(&alice.address, NATIVE_DENOM),
            Amount(after_first - 1_000),
        )
        .unwrap();
    delta
        .write_amount(
            balance_key(&bob.address, NATIVE_DENOM),
            Amount(FUNDS + 1_000),
        )
        .unwrap();
    chain.storage().commit(delta).await.unwrap();
    chain.height += 1;
    let committed_elsewhere = chain.storage().latest_version();
    assert_eq!(cache.version(), Some(committed_elsewhere - 1));

    // The next block reads the new balance, not the cached one, and its
    // commit empties the cache instead of moving it forward.
    let tx = chain.send_tx(alice, &carol, 1).await;
    let out = chain.block(vec![tx]).await;
    assert!(
        out.tx_results[0].result.is_ok(),
        "{:?}",
        out.tx_results[0].result
    );
    assert_eq!(
        chain.balance(&alice.address, NATIVE_DENOM).await,
        after_first - 1_000 - 1 - FEE
    );
    assert_eq!(
        chain.balance(&bob.address, NATIVE_DENOM).await,
        FUNDS + 1_000
    );
    assert_eq!(cache.stats().resets, 1);
    assert_eq!(cache.version(), Some(committed_elsewhere + 1));

    // And caches again from there.
    let hits = cache.stats().hits;
    let tx = chain.send_tx(alice, &carol, 2).await;
    chain.block(vec![tx]).await;
    assert_eq!(
        chain.balance(&alice.address, NATIVE_DENOM).await,
        after_first - 1_000 - 1 - FEE - 2 - FEE
    );
    assert!(cache.stats().hits > hits);

    // A snapshot of an older version, wrapped, reads its own version's
    // values: the cache answers only the version it holds.
    let old = cache.wrap(chain.storage().snapshot(committed_elsewhere - 1).unwrap());
    assert_eq!(
        old.balance(&alice.address, NATIVE_DENOM).await.unwrap(),
        Amount(after_first)
    );
    let bob_key = balance_key(&bob.address, NATIVE_DENOM);
    assert_eq!(
        old.get_raw(&bob_key).await.unwrap(),
        Some(FUNDS.to_be_bytes().to_vec())
    );
}

#[tokio::test]
async fn the_byte_bound_holds_and_the_oldest_entries_leave_first() {
    let users = users();
    let mut chain = TestChain::new(&genesis(&users)).await;
    let cache = ReadCache::new(1_000);
    chain.app_mut().set_read_cache(cache.clone());
    let mut last: Vec<Address> = vec![];
    for h in 0..6u128 {
        let to = test_signer(&format!("fresh{h}")).address;
        let tx = chain.send_tx(&users[0], &to, 1).await;
        chain.block(vec![tx]).await;
        let (_, bytes) = cache.size();
        assert!(bytes <= 1_000, "{bytes} bytes after block {h}");
        last.push(to);
    }
    // The newest recipient's balance was written by the last block, so it
    // is among the newest entries and still held: reading it is a hit.
    let hits = cache.stats().hits;
    let state = cache.wrap(chain.storage().latest_snapshot());
    assert_eq!(
        state
            .balance(last.last().unwrap(), NATIVE_DENOM)
            .await
            .unwrap(),
        Amount(1)
    );
    assert_eq!(cache.stats().hits, hits + 1);
    // The first recipient's was evicted long ago: a miss, still correct.
    let misses = cache.stats().misses;
    assert_eq!(
        state.balance(&last[0], NATIVE_DENOM).await.unwrap(),
        Amount(1)
    );
    assert_eq!(cache.stats().misses, misses + 1);
}
