//! The tamper-evident audit (migration 7) against real PostgreSQL: the chain that
//! tradedesk's acts and the platform's own INSERTs build, under concurrency, and what
//! verify names after a superuser's writes behind the triggers' back.

mod common;

use common::TestDb;
use common::platform::{STRATEGY, insert_account, insert_idea, insert_strategy, uuid};
use sqlx::{Connection as _, PgConnection, PgPool};
use tradedesk::domain::{Lot, RiskChangeSet};
use tradedesk::operator::Operator;
use tradedesk::store::Store;
use tradedesk::store::audit::{self, Chain, Head, Tamper, Verified};
use tradedesk::store::setup::setup;

async fn desk() -> (TestDb, Store, PgPool) {
    let db = TestDb::new().await;
    setup(&db.target(), false).await.unwrap();
    let pool = db.pool().await;
    insert_strategy(&pool).await;
    insert_account(&pool, "10000.00", 0).await;
    let store = Store::open(&db.target(), 4).await.unwrap();
    (db, store, pool)
}

fn ann() -> Operator {
    Operator::new("ann@desk").unwrap()
}

/// A decision as the platform's engine inserts it (docs/platform.md §1): its own UUID, the
/// enum as a label, no `operator` (tradedesk's column) and no audit columns.
async fn platform_decision(pool: &PgPool, values: &str) {
    sqlx::raw_sql(&format!(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                       confidence_score, risk_check_result, strategy_id,
                                       trade_idea_id, snapshot_ref, human_override)
         VALUES {values}"
    ))
    .execute(pool)
    .await
    .unwrap();
}

/// Some of every shape the platform writes: a proposal, a global halt (no symbol, no
/// score), a score of another scale, text with the canonical text's separators in it and
/// letters beyond ASCII, an empty result, and the server's default time.
async fn platform_rows(pool: &PgPool) {
    platform_decision(
        pool,
        &format!(
            "(gen_random_uuid(), now(), 'EURUSD', 'ai_proposed', 'Breakout, RSI 38: long', 92.5,
              'pass', '{STRATEGY}', NULL, gen_random_uuid(), false),
             (gen_random_uuid(), now(), NULL, 'ai_halted', 'Drawdown — 1 000,00 € reached', NULL,
              'fail:max_drawdown', NULL, NULL, NULL, false),
             (gen_random_uuid(), '2025-10-28 14:01:00.123456+00', 'XAUUSD', 'risk_rejected',
              '', 7, '', NULL, NULL, NULL, false)"
        ),
    )
    .await;
    sqlx::raw_sql(
        "INSERT INTO decision_history (id, action, rationale)
         VALUES (gen_random_uuid(), 'ai_resumed', '-,')",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// A config change written by hand, as a script of the desk's might.
async fn config_row(pool: &PgPool, change: &str) {
    sqlx::query(
        "INSERT INTO tradedesk.config_changes (id, operator, subject, change, before, after)
         VALUES (gen_random_uuid(), 'ops@desk', 'risk_config', $1,
                 '{\"max_lot_size\": \"1.00\", \"b\": [1, 2.50, null]}', NULL)",
    )
    .bind(change)
    .execute(pool)
    .await
    .unwrap();
}

async fn verify(store: &Store) -> (Verified, Verified) {
    verify_kept(store, &[]).await
}

async fn verify_kept(store: &Store, kept: &[Head]) -> (Verified, Verified) {
    let mut all = audit::verify(store, kept).await.unwrap();
    assert_eq!(all.len(), 2);
    let config = all.pop().unwrap();
    let decisions = all.pop().unwrap();
    assert_eq!(
        (decisions.table, config.table),
        (Chain::DecisionHistory, Chain::ConfigChanges)
    );
    (decisions, config)
}

fn relation(chain: Chain) -> &'static str {
    match chain {
        Chain::DecisionHistory => "decision_history",
        Chain::ConfigChanges => "tradedesk.config_changes",
    }
}

fn of(chain: Chain, verified: (Verified, Verified)) -> Verified {
    match chain {
        Chain::DecisionHistory => verified.0,
        Chain::ConfigChanges => verified.1,
    }
}

/// `sql` run as a superuser does it with the table's triggers disabled, the chain's
/// included, then enabled again.
async fn behind_the_triggers(pool: &PgPool, chain: Chain, sql: &str) {
    let table = relation(chain);
    sqlx::raw_sql(&format!(
        "ALTER TABLE {table} DISABLE TRIGGER ALL; {sql}; ALTER TABLE {table} ENABLE TRIGGER ALL;"
    ))
    .execute(pool)
    .await
    .unwrap();
}

async fn id_at(pool: &PgPool, chain: Chain, seq: i64) -> uuid::Uuid {
    sqlx::query_scalar(&format!(
        "SELECT id FROM {} WHERE audit_seq = $1",
        relation(chain)
    ))
    .bind(seq)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Deletes rows as the retention path does: `SET tradedesk.archiving = on` first.
async fn archive(pool: &PgPool, chain: Chain, condition: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL tradedesk.archiving = on")
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "DELETE FROM {} WHERE {condition}",
        relation(chain)
    ))
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// (count, min seq, max seq, rows without a seq or hash).
async fn seqs(pool: &PgPool, chain: Chain) -> (i64, Option<i64>, Option<i64>, i64) {
    sqlx::query_as(&format!(
        "SELECT count(*), min(audit_seq), max(audit_seq),
                count(*) FILTER (WHERE audit_seq IS NULL OR audit_hash IS NULL)
           FROM {}",
        relation(chain)
    ))
    .fetch_one(pool)
    .await
    .unwrap()
}

/// `n` rows in `chain`, by tradedesk's acts where it has them.
async fn rows(store: &Store, pool: &PgPool, chain: Chain, n: usize) {
    match chain {
        Chain::DecisionHistory => {
            for _ in 0..n {
                platform_decision(
                    pool,
                    "(gen_random_uuid(), clock_timestamp(), 'EURUSD', 'ai_proposed', 'r', 90.00,
                      'pass', NULL, NULL, NULL, false)",
                )
                .await;
            }
        }
        // A desk's chain of changes begins with its set-up (the limits created, the test's
        // strategy inserted: migration 14 audits both): `n` rows in all.
        Chain::ConfigChanges => {
            let have: i64 = sqlx::query_scalar("SELECT count(*) FROM tradedesk.config_changes")
                .fetch_one(pool)
                .await
                .unwrap();
            for n in usize::try_from(have).unwrap()..n {
                let lot = format!("max_lot_size=0.{:02}", n % 90 + 10);
                let set = RiskChangeSet::parse([lot.as_str()]).unwrap();
                store.update_risk_config(&set, &ann()).await.unwrap();
            }
        }
    }
}

#[tokio::test]
async fn rows_from_tradedesks_acts_and_the_platforms_inserts_verify_intact() {
    let (_db, store, pool) = desk().await;
    platform_rows(&pool).await;
    let approved = insert_idea(&pool, "needs_approval").await.unwrap();
    let rejected = insert_idea(&pool, "needs_approval").await.unwrap();
    store
        .approve(uuid(&approved), Lot::parse("0.30").unwrap(), &ann())
        .await
        .unwrap();
    store
        .reject(uuid(&rejected), "too close to the news", &ann())
        .await
        .unwrap();
    store.halt("lunch", &ann(), false).await.unwrap();
    store.resume(&ann(), "back").await.unwrap();
    let set = RiskChangeSet::parse(["max_lot_size=0.50", "halt_on_drawdown=false"]).unwrap();
    store.update_risk_config(&set, &ann()).await.unwrap();
    store
        .set_strategy_active(uuid(STRATEGY), false, &ann())
        .await
        .unwrap();
    config_row(&pool, "by hand, with: separators").await;
    platform_rows(&pool).await;

    let (decisions, config) = verify(&store).await;
    let (count, first, last, unchained) = seqs(&pool, Chain::DecisionHistory).await;
    assert!(count >= 12, "{count}");
    assert_eq!((first, last, unchained), (Some(1), Some(count), 0));
    assert_eq!(decisions.problem, None);
    assert!(decisions.intact());
    assert_eq!(decisions.rows, count as u64);
    assert_eq!(decisions.head.as_ref().unwrap().seq, count);
    // The limits created by set-up and the strategy inserted (audited by the database),
    // the two acts, and the row written by hand.
    let (changes, first, last, unchained) = seqs(&pool, Chain::ConfigChanges).await;
    assert_eq!(changes, 5);
    assert_eq!((first, last, unchained), (Some(1), Some(5), 0));
    assert_eq!(config.problem, None);
    assert_eq!(config.rows, 5);

    // The head is the last row's hash; the heads printed are those verify walked to.
    let heads = audit::head(&store).await.unwrap();
    assert_eq!(heads.len(), 2);
    assert_eq!(Some(&heads[0]), decisions.head.as_ref());
    assert_eq!(Some(&heads[1]), config.head.as_ref());
    let last_hash: Vec<u8> =
        sqlx::query_scalar("SELECT audit_hash FROM decision_history WHERE audit_seq = $1")
            .bind(count)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(heads[0].hash, audit::hex(&last_hash));
    let (decisions, config) = verify_kept(&store, &heads).await;
    assert!(decisions.intact() && config.intact());

    // The same chain, recomputed in SQL from the migration's canonical text.
    let folded: Vec<u8> = sqlx::query_scalar(
        "SELECT tradedesk.tradedesk_audit_fold(sha256(convert_to(
                    tradedesk.tradedesk_audit_canonical_decision(d, d.audit_seq), 'UTF8'))
                ORDER BY d.audit_seq)
           FROM decision_history d",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(folded, last_hash);

    // Whatever seq and hash an INSERT names, the trigger sets its own.
    sqlx::raw_sql(
        "INSERT INTO decision_history (id, action, rationale, audit_seq, audit_hash)
         VALUES (gen_random_uuid(), 'ai_resumed', 'forged', 1, '\\x00')",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        seqs(&pool, Chain::DecisionHistory).await,
        (count + 1, Some(1), Some(count + 1), 0)
    );
    assert!(verify(&store).await.0.intact());
}

#[tokio::test]
async fn the_canonical_text_is_the_documented_one() {
    let (_db, _store, pool) = desk().await;
    sqlx::raw_sql(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                       confidence_score, risk_check_result, human_override, operator)
         VALUES ('a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', '1970-01-01 00:00:01.5+00', NULL,
                 'human_rejected', 'é, 1:x', 92.5, '', true, 'ann@desk')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (canonical, hash): (String, Vec<u8>) = sqlx::query_as(
        "SELECT tradedesk.tradedesk_audit_canonical_decision(d, d.audit_seq), d.audit_hash
           FROM decision_history d",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        canonical,
        "16:decision_history,1:1,36:a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d,7:1500000,-,\
         14:human_rejected,6:é, 1:x,5:92.50,0:,-,-,-,4:true,8:ann@desk,"
    );
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(canonical.as_bytes());
    let mut link = sha2::Sha256::new();
    link.update(audit::GENESIS);
    link.update(digest);
    assert_eq!(link.finalize().as_slice(), hash.as_slice());
}

#[tokio::test]
async fn rows_there_before_the_migration_are_chained_oldest_first() {
    let db = TestDb::new().await;
    db.load("phase1_alembic_001.sql").await;
    db.load("phase1_rows.sql").await;
    setup(&db.target(), false).await.unwrap();
    let pool = db.pool().await;
    let order: Vec<(i64, bool)> = sqlx::query_as(
        "SELECT audit_seq, row_number() OVER (ORDER BY occurred_at, id) = audit_seq
           FROM decision_history ORDER BY audit_seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(order, [(1, true), (2, true), (3, true)]);
    let store = Store::open(&db.target(), 2).await.unwrap();
    let (decisions, config) = verify(&store).await;
    assert_eq!((decisions.rows, decisions.problem), (3, None));
    assert_eq!((config.rows, config.problem), (0, None));
    // The platform's rows go on from there.
    platform_rows(&pool).await;
    let (decisions, _) = verify(&store).await;
    assert_eq!((decisions.rows, decisions.problem), (7, None));

    // config_changes rows of a database set up before (everything in public) too.
    let db = TestDb::new().await;
    common::set_up_with_everything_in_public(&db).await;
    let pool = db.pool().await;
    sqlx::raw_sql(
        "INSERT INTO config_changes (id, changed_at, operator, subject, change, before, after)
         VALUES ('7a7a7a7a-0000-4000-8000-000000000002', '2025-10-29 09:00:00+00', 'bob@desk',
                 'strategy', 'disabled', NULL, NULL),
                ('7a7a7a7a-0000-4000-8000-000000000001', '2025-10-28 09:00:00+00', 'ann@desk',
                 'risk_config', 'max_lot_size=0.50', '{\"max_lot_size\": \"1.00\"}',
                 '{\"max_lot_size\": \"0.50\"}')",
    )
    .execute(&pool)
    .await
    .unwrap();
    setup(&db.target(), false).await.unwrap();
    let chained: Vec<(String, i64)> = sqlx::query_as(
        "SELECT operator, audit_seq FROM tradedesk.config_changes ORDER BY audit_seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    // Then the set-up's own change: the limits it created.
    assert_eq!(chained.len(), 3, "{chained:?}");
    assert_eq!(
        chained[..2],
        [("ann@desk".to_string(), 1), ("bob@desk".to_string(), 2)]
    );
    assert!(chained[2].0.ends_with("(tradedesk setup)"), "{chained:?}");
    let store = Store::open(&db.target(), 2).await.unwrap();
    let (_, config) = verify(&store).await;
    assert_eq!((config.rows, config.problem), (3, None));
}

#[tokio::test]
async fn concurrent_inserts_from_several_connections_leave_a_gap_free_chain() {
    let (db, store, pool) = desk().await;
    let mut writers = Vec::new();
    for writer in 0..6 {
        let url = db.url.clone();
        writers.push(tokio::spawn(async move {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            let mut committed = (0i64, 0i64);
            for round in 0..30 {
                let mut tx = conn.begin().await.unwrap();
                // One row, or three in one statement; a config change now and then.
                let many = (writer + round) % 3 == 0;
                sqlx::query(
                    "INSERT INTO decision_history (id, occurred_at, action, rationale)
                     SELECT gen_random_uuid(), clock_timestamp(), 'ai_proposed', $1
                       FROM generate_series(1, $2)",
                )
                .bind(format!("w{writer} r{round}"))
                .bind(if many { 3 } else { 1 })
                .execute(&mut *tx)
                .await
                .unwrap();
                let config = round % 5 == 0;
                if config {
                    sqlx::query(
                        "INSERT INTO tradedesk.config_changes (id, operator, subject, change)
                         VALUES (gen_random_uuid(), 'w@desk', 'strategy', 'enabled')",
                    )
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                }
                // Every fourth transaction is rolled back: its seqs must not be lost.
                if round % 4 == 3 {
                    tx.rollback().await.unwrap();
                } else {
                    tx.commit().await.unwrap();
                    committed.0 += if many { 3 } else { 1 };
                    committed.1 += i64::from(config);
                }
            }
            conn.close().await.unwrap();
            committed
        }));
    }
    let (mut decisions, mut changes) = (0, 0);
    for writer in writers {
        let (d, c) = writer.await.unwrap();
        decisions += d;
        changes += c;
    }
    assert_eq!(
        seqs(&pool, Chain::DecisionHistory).await,
        (decisions, Some(1), Some(decisions), 0)
    );
    // Two rows were there before: the desk's set-up.
    let changes = changes + 2;
    assert_eq!(
        seqs(&pool, Chain::ConfigChanges).await,
        (changes, Some(1), Some(changes), 0)
    );
    let (d, c) = verify(&store).await;
    assert_eq!((d.rows, d.problem), (decisions as u64, None));
    assert_eq!((c.rows, c.problem), (changes as u64, None));
}

#[tokio::test]
async fn a_transaction_left_open_blocks_no_one_and_is_chained_in_commit_order() {
    let (db, store, pool) = desk().await;
    let insert = "INSERT INTO decision_history (id, occurred_at, action, rationale)
                  VALUES (gen_random_uuid(), now(), 'ai_proposed', $1)";
    // The engine links two rows after the head and keeps its transaction open.
    let mut engine = PgConnection::connect(&db.url).await.unwrap();
    let mut open = engine.begin().await.unwrap();
    for rationale in ["engine 1", "engine 2"] {
        sqlx::query(insert)
            .bind(rationale)
            .execute(&mut *open)
            .await
            .unwrap();
    }
    // Meanwhile another writer commits, without waiting: it is sealed first.
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        sqlx::query(insert).bind("desk").execute(&pool),
    )
    .await
    .expect("an open transaction holds up no one")
    .unwrap();
    open.commit().await.unwrap();
    engine.close().await.unwrap();
    let order: Vec<(i64, String)> =
        sqlx::query_as("SELECT audit_seq, rationale FROM decision_history ORDER BY audit_seq")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        order,
        [
            (1, "desk".to_string()),
            (2, "engine 1".to_string()),
            (3, "engine 2".to_string())
        ]
    );
    let (decisions, _) = verify(&store).await;
    assert_eq!((decisions.rows, decisions.problem), (3, None));
}

#[tokio::test]
async fn rows_an_insert_skips_on_conflict_and_savepoints_rolled_back_leave_no_gap() {
    let (_db, store, pool) = desk().await;
    platform_rows(&pool).await;
    // The first, a middle and the last row of one statement conflict; then a statement
    // whose every row does.
    sqlx::raw_sql(
        "INSERT INTO decision_history (id, action, rationale)
         SELECT id, 'ai_proposed'::decisionaction, 'again' FROM decision_history WHERE audit_seq = 1
         UNION ALL SELECT gen_random_uuid(), 'ai_proposed', 'new one'
         UNION ALL SELECT id, 'ai_proposed', 'again' FROM decision_history WHERE audit_seq = 2
         UNION ALL SELECT gen_random_uuid(), 'ai_proposed', 'new two'
         UNION ALL SELECT id, 'ai_proposed', 'again' FROM decision_history WHERE audit_seq = 3
         ON CONFLICT DO NOTHING;
         INSERT INTO decision_history (id, action, rationale)
         SELECT id, 'ai_proposed', 'again' FROM decision_history WHERE audit_seq <= 2
         ON CONFLICT DO NOTHING;
         BEGIN;
         INSERT INTO decision_history (id, action, rationale) VALUES (gen_random_uuid(), 'ai_halted', 'kept');
         SAVEPOINT s;
         INSERT INTO decision_history (id, action, rationale) VALUES (gen_random_uuid(), 'ai_halted', 'undone');
         ROLLBACK TO SAVEPOINT s;
         INSERT INTO decision_history (id, action, rationale)
         SELECT id, 'ai_proposed', 'again' FROM decision_history WHERE audit_seq = 1
         ON CONFLICT DO NOTHING;
         INSERT INTO decision_history (id, action, rationale) VALUES (gen_random_uuid(), 'ai_resumed', 'kept too');
         COMMIT;",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        seqs(&pool, Chain::DecisionHistory).await,
        (8, Some(1), Some(8), 0)
    );
    let (decisions, _) = verify(&store).await;
    assert_eq!((decisions.rows, decisions.problem), (8, None));
    assert_eq!(decisions.head.unwrap().seq, 8);
}

#[tokio::test]
async fn an_update_behind_the_triggers_back_is_named() {
    for chain in Chain::ALL {
        let (_db, store, pool) = desk().await;
        rows(&store, &pool, chain, 6).await;
        let id = id_at(&pool, chain, 4).await;
        let column = match chain {
            Chain::DecisionHistory => "rationale",
            Chain::ConfigChanges => "change",
        };
        // An UPDATE is still refused while the triggers are on.
        let refused = sqlx::query(&format!(
            "UPDATE {} SET {column} = 'softened' WHERE id = $1",
            relation(chain)
        ))
        .bind(id)
        .execute(&pool)
        .await
        .unwrap_err();
        assert!(refused.to_string().contains("APPEND_ONLY"), "{refused}");

        behind_the_triggers(
            &pool,
            chain,
            &format!(
                "UPDATE {} SET {column} = 'softened' WHERE audit_seq = 4",
                relation(chain)
            ),
        )
        .await;
        let verified = of(chain, verify(&store).await);
        let problem = verified.problem.unwrap();
        assert_eq!(
            (problem.kind, problem.seq, problem.id),
            (Tamper::Changed, Some(4), Some(id)),
            "{chain}"
        );
        assert_eq!(verified.rows, 3);
        assert!(
            problem.detail.contains("does not match its hash"),
            "{problem:?}"
        );

        // A row changed and its own hash recomputed: the break shows at the next row.
        behind_the_triggers(
            &pool,
            chain,
            &format!(
                "UPDATE {0} SET {column} = 'rehashed' WHERE audit_seq = 4;
                 UPDATE {0} SET audit_hash = sha256(
                     (SELECT p.audit_hash FROM {0} p WHERE p.audit_seq = 3)
                     || sha256(convert_to(tradedesk.tradedesk_audit_canonical_{1}(t, 4), 'UTF8')))
                  FROM {0} t WHERE t.audit_seq = 4 AND {0}.audit_seq = 4",
                relation(chain),
                match chain {
                    Chain::DecisionHistory => "decision",
                    Chain::ConfigChanges => "config",
                }
            ),
        )
        .await;
        let problem = of(chain, verify(&store).await).problem.unwrap();
        assert_eq!((problem.kind, problem.seq), (Tamper::Changed, Some(5)));
    }
}

#[tokio::test]
async fn a_delete_behind_the_triggers_back_is_named() {
    for chain in Chain::ALL {
        let (_db, store, pool) = desk().await;
        rows(&store, &pool, chain, 6).await;
        let after = id_at(&pool, chain, 4).await;
        behind_the_triggers(
            &pool,
            chain,
            &format!("DELETE FROM {} WHERE audit_seq = 3", relation(chain)),
        )
        .await;
        let verified = of(chain, verify(&store).await);
        let problem = verified.problem.unwrap();
        assert_eq!(
            (problem.kind, problem.seq, problem.id),
            (Tamper::Deleted, Some(3), None),
            "{chain}"
        );
        assert!(problem.detail.contains(&after.to_string()), "{problem:?}");
        assert_eq!(verified.rows, 2);

        // The newest rows, which no later row follows: the head still names them.
        behind_the_triggers(
            &pool,
            chain,
            &format!(
                "DELETE FROM {} WHERE audit_seq <= 3 OR audit_seq >= 5",
                relation(chain)
            ),
        )
        .await;
        let problem = of(chain, verify(&store).await).problem.unwrap();
        assert_eq!((problem.kind, problem.seq), (Tamper::Deleted, Some(1)));
        behind_the_triggers(&pool, chain, &format!("DELETE FROM {}", relation(chain))).await;
        let problem = of(chain, verify(&store).await).problem.unwrap();
        assert_eq!((problem.kind, problem.seq), (Tamper::Deleted, Some(1)));
        assert!(problem.detail.contains("head is seq 6"), "{problem:?}");
    }
}

#[tokio::test]
async fn an_insert_behind_the_triggers_back_is_named() {
    for chain in Chain::ALL {
        let (_db, store, pool) = desk().await;
        rows(&store, &pool, chain, 3).await;
        let (insert, values) = match chain {
            Chain::DecisionHistory => (
                "INSERT INTO decision_history (id, action, rationale, audit_seq, audit_hash)",
                "'ai_proposed', 'slipped in'",
            ),
            Chain::ConfigChanges => (
                "INSERT INTO tradedesk.config_changes (id, operator, subject, change, audit_seq, audit_hash)",
                "'eve@desk', 'risk_config', 'slipped in'",
            ),
        };
        let id = uuid::Uuid::new_v4();
        behind_the_triggers(
            &pool,
            chain,
            &format!("{insert} VALUES ('{id}', {values}, NULL, NULL)"),
        )
        .await;
        let problem = of(chain, verify(&store).await).problem.unwrap();
        assert_eq!(
            (problem.kind, problem.seq, problem.id),
            (Tamper::OutOfBand, None, Some(id)),
            "{chain}"
        );

        // With a seq of its own beyond the head: named before the row without one.
        let beyond = uuid::Uuid::new_v4();
        behind_the_triggers(
            &pool,
            chain,
            &format!("{insert} VALUES ('{beyond}', {values}, 9, '\\x00')"),
        )
        .await;
        let verified = of(chain, verify(&store).await);
        let problem = verified.problem.unwrap();
        assert_eq!(
            (problem.kind, problem.seq, problem.id),
            (Tamper::OutOfBand, Some(9), Some(beyond))
        );
        assert_eq!(verified.rows, 3);
    }
}

#[tokio::test]
async fn a_seq_written_twice_is_named_at_any_window_edge() {
    for chain in Chain::ALL {
        let (_db, store, pool) = desk().await;
        rows(&store, &pool, chain, 3).await;
        let (insert, values) = match chain {
            Chain::DecisionHistory => (
                "INSERT INTO decision_history (id, action, rationale, audit_seq, audit_hash)",
                "'ai_proposed', 'slipped in'",
            ),
            Chain::ConfigChanges => (
                "INSERT INTO tradedesk.config_changes (id, operator, subject, change, audit_seq, audit_hash)",
                "'eve@desk', 'risk_config', 'slipped in'",
            ),
        };
        // The copy of seq 2 sorts after the row that holds it (the largest id there is).
        let copy = uuid::Uuid::max();
        let hash: Vec<u8> = sqlx::query_scalar(&format!(
            "SELECT audit_hash FROM {} WHERE audit_seq = 2",
            relation(chain)
        ))
        .fetch_one(&pool)
        .await
        .unwrap();
        behind_the_triggers(
            &pool,
            chain,
            &format!(
                "{insert} VALUES ('{copy}', {values}, 2, '\\x{}')",
                audit::hex(&hash)
            ),
        )
        .await;
        for window in [1, 2, 3, 1000] {
            let verified = audit::verify_windowed(&store, &[], window).await.unwrap();
            let problem = of(chain, (verified[0].clone(), verified[1].clone()))
                .problem
                .unwrap();
            assert_eq!(
                (problem.kind, problem.seq, problem.id),
                (Tamper::OutOfBand, Some(2), Some(copy)),
                "{chain}, window {window}"
            );
        }
    }
}

#[tokio::test]
async fn archiving_removes_a_prefix_and_verify_starts_at_its_boundary() {
    for chain in Chain::ALL {
        let (_db, store, pool) = desk().await;
        rows(&store, &pool, chain, 8).await;
        let table = relation(chain);
        // Not the oldest rows: refused, and nothing is removed.
        let err = archive(&pool, chain, "audit_seq = 2").await.unwrap_err();
        assert!(err.to_string().contains("oldest rows"), "{err}");
        assert_eq!(seqs(&pool, chain).await.0, 8);

        archive(&pool, chain, "audit_seq <= 3").await.unwrap();
        let boundary: Vec<u8> = sqlx::query_scalar(
            "SELECT archived_hash FROM tradedesk.audit_heads WHERE chained_table = $1",
        )
        .bind(chain.as_str())
        .fetch_one(&pool)
        .await
        .unwrap();
        let verified = of(chain, verify(&store).await);
        assert_eq!((verified.rows, &verified.problem), (5, &None), "{chain}");
        let archived = verified.archived.unwrap();
        assert_eq!((archived.seq, archived.hash), (3, audit::hex(&boundary)));

        // A row changed behind the triggers' back is never archived away.
        behind_the_triggers(
            &pool,
            chain,
            &format!(
                "UPDATE {table} SET {} = 'softened' WHERE audit_seq = 5",
                match chain {
                    Chain::DecisionHistory => "rationale",
                    Chain::ConfigChanges => "change",
                }
            ),
        )
        .await;
        let err = archive(&pool, chain, "audit_seq <= 6").await.unwrap_err();
        assert!(err.to_string().contains("does not match its hash"), "{err}");
        archive(&pool, chain, "audit_seq = 4").await.unwrap();
        let problem = of(chain, verify(&store).await).problem.unwrap();
        assert_eq!((problem.kind, problem.seq), (Tamper::Changed, Some(5)));

        // The first row after the boundary deleted behind the triggers' back; an archived
        // row put back.
        let (_db, store, pool) = desk().await;
        rows(&store, &pool, chain, 6).await;
        archive(&pool, chain, "audit_seq <= 2").await.unwrap();
        behind_the_triggers(
            &pool,
            chain,
            &format!("DELETE FROM {table} WHERE audit_seq = 3"),
        )
        .await;
        let problem = of(chain, verify(&store).await).problem.unwrap();
        assert_eq!((problem.kind, problem.seq), (Tamper::Deleted, Some(3)));
        let (insert, values) = match chain {
            Chain::DecisionHistory => (
                "INSERT INTO decision_history (id, action, rationale, audit_seq, audit_hash)",
                "'ai_proposed', 'back'",
            ),
            Chain::ConfigChanges => (
                "INSERT INTO tradedesk.config_changes (id, operator, subject, change, audit_seq, audit_hash)",
                "'eve@desk', 'risk_config', 'back'",
            ),
        };
        behind_the_triggers(
            &pool,
            chain,
            &format!("{insert} VALUES (gen_random_uuid(), {values}, 2, '\\x00')"),
        )
        .await;
        let problem = of(chain, verify(&store).await).problem.unwrap();
        assert_eq!((problem.kind, problem.seq), (Tamper::OutOfBand, Some(2)));

        // Everything archived: an empty chain that ends at its boundary.
        let (_db, store, pool) = desk().await;
        rows(&store, &pool, chain, 2).await;
        archive(&pool, chain, "true").await.unwrap();
        let verified = of(chain, verify(&store).await);
        assert_eq!((verified.rows, &verified.problem), (0, &None));
        assert_eq!(verified.archived.unwrap().seq, 2);
        rows(&store, &pool, chain, 1).await;
        let verified = of(chain, verify(&store).await);
        assert_eq!((verified.rows, verified.problem), (1, None));
        assert_eq!(verified.head.unwrap().seq, 3);
    }
}

#[tokio::test]
async fn a_head_kept_elsewhere_catches_a_chain_rewritten_whole() {
    let (_db, store, pool) = desk().await;
    rows(&store, &pool, Chain::DecisionHistory, 5).await;
    let kept = audit::head(&store).await.unwrap();
    rows(&store, &pool, Chain::DecisionHistory, 2).await;
    // A superuser changes a row, recomputes every hash after it and moves the head.
    behind_the_triggers(
        &pool,
        Chain::DecisionHistory,
        "UPDATE decision_history SET rationale = 'rewritten' WHERE audit_seq = 2;
         UPDATE decision_history d SET audit_hash = c.hash
           FROM (SELECT id, tradedesk.tradedesk_audit_fold(sha256(convert_to(
                        tradedesk.tradedesk_audit_canonical_decision(d, audit_seq), 'UTF8')))
                        OVER (ORDER BY audit_seq) AS hash
                   FROM decision_history d) c
          WHERE d.id = c.id;
         UPDATE tradedesk.audit_heads
            SET last_hash = (SELECT audit_hash FROM decision_history ORDER BY audit_seq DESC LIMIT 1)
          WHERE chained_table = 'decision_history'",
    )
    .await;
    assert!(verify(&store).await.0.intact());
    let (decisions, config) = verify_kept(&store, &kept).await;
    let problem = decisions.problem.unwrap();
    assert_eq!(
        (problem.kind, problem.seq),
        (Tamper::Changed, Some(5)),
        "{problem:?}"
    );
    assert!(problem.detail.contains("rewritten"), "{problem:?}");
    assert!(config.intact());

    // Rows deleted from the end and the head moved back: the kept head is past the end.
    let (_db, store, pool) = desk().await;
    rows(&store, &pool, Chain::DecisionHistory, 4).await;
    let kept = audit::head(&store).await.unwrap();
    behind_the_triggers(
        &pool,
        Chain::DecisionHistory,
        "DELETE FROM decision_history WHERE audit_seq = 4;
         UPDATE tradedesk.audit_heads
            SET last_seq = 3,
                last_hash = (SELECT audit_hash FROM decision_history WHERE audit_seq = 3)
          WHERE chained_table = 'decision_history'",
    )
    .await;
    assert!(verify(&store).await.0.intact());
    let problem = verify_kept(&store, &kept).await.0.problem.unwrap();
    assert_eq!((problem.kind, problem.seq), (Tamper::Deleted, Some(4)));
}

#[tokio::test]
async fn verify_reads_the_chain_a_window_at_a_time() {
    let (_db, store, pool) = desk().await;
    sqlx::raw_sql(
        "INSERT INTO decision_history (id, occurred_at, action, rationale, confidence_score)
         SELECT gen_random_uuid(), now() - g * interval '1 minute', 'ai_proposed', 'row ' || g,
                g / 7.0
           FROM generate_series(1, 50) g",
    )
    .execute(&pool)
    .await
    .unwrap();
    for window in [1, 7, 50, 1000] {
        let all = audit::verify_windowed(&store, &[], window).await.unwrap();
        assert_eq!(
            (all[0].rows, &all[0].problem),
            (50, &None),
            "window {window}"
        );
    }
    behind_the_triggers(
        &pool,
        Chain::DecisionHistory,
        "UPDATE decision_history SET confidence_score = 0 WHERE audit_seq = 36",
    )
    .await;
    for window in [1, 7, 35, 36, 1000] {
        let all = audit::verify_windowed(&store, &[], window).await.unwrap();
        let problem = all[0].problem.as_ref().unwrap();
        assert_eq!((problem.kind, problem.seq), (Tamper::Changed, Some(36)));
        assert_eq!(all[0].rows, 35);
    }
}

#[tokio::test]
async fn a_platform_role_without_privileges_on_tradedesks_schema_is_chained() {
    let (db, store, pool) = desk().await;
    let role = format!("platform_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(&format!(
        "CREATE ROLE {role} LOGIN;
         GRANT SELECT, INSERT ON decision_history TO {role};
         GRANT USAGE ON SCHEMA tradedesk TO {role};"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let mut platform = PgConnection::connect(&common::url_as(&db.url, &role))
        .await
        .unwrap();
    sqlx::raw_sql(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale, human_override)
         VALUES (gen_random_uuid(), now(), 'EURUSD', 'ai_proposed', 'by the engine', false)",
    )
    .execute(&mut platform)
    .await
    .unwrap();
    // It cannot move a head, by hand or through the chain's functions.
    for sql in [
        "UPDATE tradedesk.audit_heads SET last_seq = 0",
        "SELECT tradedesk.tradedesk_audit_lock_head('decision_history')",
        "UPDATE decision_history SET audit_seq = NULL",
    ] {
        let err = sqlx::raw_sql(sql).execute(&mut platform).await.unwrap_err();
        assert!(
            err.to_string().contains("permission denied"),
            "{sql}: {err}"
        );
    }
    platform.close().await.unwrap();
    let (decisions, _) = verify(&store).await;
    assert_eq!((decisions.rows, decisions.problem), (1, None));
    sqlx::raw_sql(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .execute(&pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_kept_head_inside_rows_archived_since_fails_verify() {
    let chain = Chain::DecisionHistory;
    let (_db, store, pool) = desk().await;
    rows(&store, &pool, chain, 5).await;
    let kept_at = |seq: i64| {
        let pool = pool.clone();
        async move {
            let hash: Vec<u8> =
                sqlx::query_scalar("SELECT audit_hash FROM decision_history WHERE audit_seq = $1")
                    .bind(seq)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            Head {
                table: chain,
                seq,
                hash: audit::hex(&hash),
            }
        }
    };
    let (two, three) = (kept_at(2).await, kept_at(3).await);
    archive(&pool, chain, "audit_seq <= 3").await.unwrap();
    // At the boundary it is checked against the boundary's hash, and passes.
    let (decisions, _) = verify_kept(&store, std::slice::from_ref(&three)).await;
    assert_eq!((decisions.rows, decisions.problem), (2, None));
    // Inside the archived rows it cannot be checked: not passed over.
    let (decisions, _) = verify_kept(&store, &[two]).await;
    let problem = decisions.problem.unwrap();
    assert_eq!((problem.kind, problem.seq), (Tamper::Deleted, Some(2)));
    assert!(
        problem.detail.contains("archived since"),
        "{}",
        problem.detail
    );
}

/// The config_changes rows written after `since` (a seq): operator, subject, change.
async fn changes_after(pool: &PgPool, since: i64) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT operator, subject, change FROM tradedesk.config_changes
          WHERE audit_seq > $1 ORDER BY audit_seq",
    )
    .bind(since)
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn head_seq(pool: &PgPool, chain: Chain) -> i64 {
    seqs(pool, chain).await.2.unwrap_or(0)
}

#[tokio::test]
async fn every_change_of_the_desks_settings_is_audited_whoever_makes_it() {
    let (_db, store, pool) = desk().await;
    sqlx::raw_sql(
        "INSERT INTO users (id, email, hashed_password, is_active)
         VALUES ('5e5e5e5e-0000-4000-8000-000000000001', 'ola@desk',
                 '$2b$12$KTfM25A1wQG/W/axkmUpW.AIKCp2Fj0ksBTcoYvGtFFWh4wcDqhCS', true)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let seq = head_seq(&pool, Chain::ConfigChanges).await;
    let decisions = head_seq(&pool, Chain::DecisionHistory).await;

    // What an insider did from psql: every write is audited as the role that logged in.
    sqlx::raw_sql(
        "UPDATE risk_config SET max_lot_size = 99999999.99, halt_on_drawdown = false;
         UPDATE risk_config SET ai_trading_enabled = true;
         UPDATE strategies SET risk_caps = '{\"max_lot_size\": 50}';
         UPDATE strategies SET is_active = false;
         INSERT INTO tradedesk.user_roles (user_id, role, granted_by)
         VALUES ('5e5e5e5e-0000-4000-8000-000000000001', 'admin', 'me');
         UPDATE tradedesk.user_roles SET role = 'viewer';
         DELETE FROM tradedesk.user_roles;",
    )
    .execute(&pool)
    .await
    .unwrap();
    let direct = "postgres (direct SQL)".to_string();
    let row = |subject: &str, change: &str| (direct.clone(), subject.into(), change.into());
    assert_eq!(
        changes_after(&pool, seq).await,
        [
            row(
                "risk_config",
                "max_lot_size=99999999.99 halt_on_drawdown=false"
            ),
            row("strategy", "updated risk_caps"),
            row("strategy", "disabled"),
            row("user_role", "role=admin"),
            row("user_role", "role=viewer"),
            row("user_role", "role revoked"),
        ]
    );
    // The switch's flip, which no decision recorded, is recorded in decision_history.
    let flip: (String, String, Option<String>) = sqlx::query_as(
        "SELECT action::text, operator, risk_check_result FROM decision_history
          WHERE audit_seq > $1 ORDER BY audit_seq",
    )
    .bind(decisions)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        flip,
        ("ai_resumed".into(), direct.clone(), Some("pass".into()))
    );

    // What the triggers record reads back as the replay's "as it was then" reads it: the
    // limits and the strategy on both sides of each change.
    use tradedesk::domain::replay::{limits_from_audit, strategy_from_audit};
    let audited: Vec<(String, serde_json::Value, serde_json::Value)> = sqlx::query_as(
        "SELECT subject, before, after FROM tradedesk.config_changes
          WHERE audit_seq > $1 AND subject IN ('risk_config', 'strategy') ORDER BY audit_seq",
    )
    .bind(seq)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(audited.len(), 3, "{audited:?}");
    let (before, after) = (&audited[0].1, &audited[0].2);
    let before = limits_from_audit(before).expect("the limits before read back");
    let after = limits_from_audit(after).expect("the limits after read back");
    assert_eq!(before.max_lot_size.to_string(), "1.00");
    assert!(before.halt_on_drawdown);
    assert_eq!(after.max_lot_size.to_string(), "99999999.99");
    assert!(!after.halt_on_drawdown);
    let now = chrono::Utc::now();
    for (_, before, after) in &audited[1..] {
        for side in [before, after] {
            let strategy = strategy_from_audit(side, now, None).expect("the strategy read back");
            assert_eq!(strategy.id, uuid(STRATEGY));
        }
    }
    let capped = strategy_from_audit(&audited[1].2, now, None).unwrap();
    assert_eq!(
        capped.documents.risk_caps,
        serde_json::json!({"max_lot_size": 50})
    );
    assert!(
        !strategy_from_audit(&audited[2].2, now, None)
            .unwrap()
            .is_active
    );

    // A change that changes nothing writes nothing; nor does the switch alone.
    let seq = head_seq(&pool, Chain::ConfigChanges).await;
    sqlx::raw_sql(
        "UPDATE risk_config SET max_lot_size = 99999999.99, updated_at = now();
         UPDATE strategies SET updated_at = now(), risk_caps = '{\"max_lot_size\": 50}';
         UPDATE risk_config SET last_halt_reason = 'noted';",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(changes_after(&pool, seq).await, []);

    // A halt that records its own decision, as the platform's and tradedesk's do, is not
    // recorded twice; one flipped with no decision, even with a decision of another
    // transaction named as its own, is.
    let decisions = head_seq(&pool, Chain::DecisionHistory).await;
    store.halt("lunch", &ann(), false).await.unwrap();
    let old: String = sqlx::query_scalar(
        "SELECT id::text FROM decision_history WHERE action = 'ai_halted' ORDER BY audit_seq DESC",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::raw_sql(&format!(
        "BEGIN;
         INSERT INTO decision_history (id, action, rationale)
         VALUES (gen_random_uuid(), 'ai_resumed', 'the platform resumes');
         UPDATE risk_config SET ai_trading_enabled = true, last_halt_reason = NULL;
         COMMIT;
         BEGIN;
         SELECT set_config('tradedesk.switch_decision', '{old}', true);
         UPDATE risk_config SET ai_trading_enabled = false, last_halt_reason = 'quietly';
         COMMIT;"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let written: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT action::text, coalesce(operator, 'the platform'), risk_check_result
           FROM decision_history WHERE audit_seq > $1 ORDER BY audit_seq",
    )
    .bind(decisions)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        written,
        [
            (
                "ai_halted".into(),
                "ann@desk".into(),
                Some("fail:manual_halt".into())
            ),
            ("ai_resumed".into(), "the platform".into(), None),
            (
                "ai_halted".into(),
                direct.clone(),
                Some("fail:quietly".into())
            ),
        ]
    );

    // tradedesk's acts are audited as their operator, with their own words where the
    // columns do not say it all.
    let seq = head_seq(&pool, Chain::ConfigChanges).await;
    let set = RiskChangeSet::parse(["max_lot_size=0.50"]).unwrap();
    store.update_risk_config(&set, &ann()).await.unwrap();
    store
        .set_strategy_active(uuid(STRATEGY), true, &ann())
        .await
        .unwrap();
    // A role is the database's to grant: by a logged-in user (before the first grant,
    // every active user is an admin).
    let ola = store
        .login(
            "ola@desk",
            "correct horse battery",
            "test",
            chrono::TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let ola = Operator::with_role("ola@desk", tradedesk::domain::role::Role::Admin)
        .unwrap()
        .with_session(tradedesk::store::auth::SessionToken::new(ola.token));
    store
        .set_role("ola@desk", Some(tradedesk::domain::role::Role::Admin), &ola)
        .await
        .unwrap();
    let ann = "ann@desk".to_string();
    assert_eq!(
        changes_after(&pool, seq).await,
        [
            (
                ann.clone(),
                "risk_config".into(),
                "max_lot_size=0.50".into()
            ),
            (ann.clone(), "strategy".into(), "enabled".into()),
            ("ola@desk".into(), "user_role".into(), "role=admin".into()),
        ]
    );

    // Every row chained: the audit verifies, and the deletion of a strategy is there too.
    sqlx::raw_sql(&format!("DELETE FROM strategies WHERE id = '{STRATEGY}'"))
        .execute(&pool)
        .await
        .unwrap();
    let last: (String, Option<serde_json::Value>) = sqlx::query_as(
        "SELECT change, before FROM tradedesk.config_changes ORDER BY audit_seq DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(last.0, "deleted");
    assert_eq!(last.1.unwrap()["risk_caps"]["max_lot_size"], 50);
    let (decisions, config) = verify(&store).await;
    assert!(
        decisions.intact() && config.intact(),
        "{decisions:?} {config:?}"
    );
}
