//! Test databases on a real PostgreSQL server: the one `DATABASE_URL` names, else an
//! embedded cluster of tradedesk's own in the temp directory. Every test gets a database
//! of its own, dropped when the test ends, so tests run in parallel without seeing each
//! other's rows.
#![allow(dead_code)]

pub mod cli;
pub mod console;

use std::path::PathBuf;
use std::sync::OnceLock;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection as _, PgConnection, PgPool};
use tradedesk::store::Target;
use tradedesk::store::embedded::Cluster;
use tradedesk::store::target::Origin;

/// Where the shared test cluster lives when `DATABASE_URL` is not set.
pub fn test_cluster_root() -> PathBuf {
    match std::env::var_os("TRADEDESK_TEST_PG_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::temp_dir().join(format!(
            "tradedesk-test-pg-{}",
            nix::unistd::geteuid().as_raw()
        )),
    }
}

/// The URL of a database on the test server to run CREATE DATABASE from.
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            // Throw-away data: fsync off keeps CREATE DATABASE fast.
            let cluster = Cluster::ephemeral(test_cluster_root());
            if let Err(e) = cluster.ensure_running() {
                panic!("cannot start the embedded test cluster: {e}");
            }
            cluster.url("postgres")
        }
    })
}

/// `url` naming another database on the same server.
pub fn with_database(url: &str, database: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("the test server URL parses");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

/// A database of the test's own.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Creates an empty database with a unique name.
    pub async fn new() -> TestDb {
        let name = format!("tdtest_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(server_url())
            .await
            .expect("connect to the test server");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        admin.close().await.ok();
        let url = with_database(server_url(), &name);
        TestDb { name, url }
    }

    /// The database as tradedesk's store sees it.
    pub fn target(&self) -> Target {
        Target::from_url(&self.url, Origin::Env).expect("the test URL parses")
    }

    pub async fn pool(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(3)
            .connect(&self.url)
            .await
            .expect("connect to the test database")
    }

    /// Runs an SQL file of `tests/fixtures/`.
    pub async fn load(&self, fixture: &str) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture);
        let sql = std::fs::read_to_string(&path).expect("read the fixture");
        let mut conn = PgConnection::connect(&self.url).await.expect("connect");
        sqlx::raw_sql(&sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("load {fixture}: {e}"));
        conn.close().await.ok();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async; a thread with a runtime of its own does the async work.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(server_url()).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                }
            });
        })
        .join();
    }
}

/// A set-up database holding the London breakout strategy and one account snapshot, with
/// its store and a pool of its own.
pub async fn ready() -> (TestDb, tradedesk::store::Store, PgPool) {
    let db = TestDb::new().await;
    tradedesk::store::setup::setup(&db.target(), false)
        .await
        .expect("setup");
    let store = tradedesk::store::Store::open(&db.target(), 4)
        .await
        .expect("open");
    let pool = db.pool().await;
    platform::insert_strategy(&pool).await;
    platform::insert_account(&pool, "10000.00", 0).await;
    (db, store, pool)
}

/// Sets `db` up as tradedesk did before it kept its objects in a schema of its own:
/// migrations 1-4 (the files as they are) run by sqlx's migrator on a connection with
/// the server's default search_path, so that everything, `_sqlx_migrations` included,
/// lands in `public`.
pub async fn set_up_with_everything_in_public(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(migrations).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if ["0001_", "0002_", "0003_", "0004_"]
            .iter()
            .any(|v| name.starts_with(v))
        {
            std::fs::copy(&path, dir.path().join(&name)).unwrap();
        }
    }
    let before = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    let versions: Vec<i64> = before
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect();
    assert_eq!(versions, [1, 2, 3, 4]);
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    before.run(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

/// Writes as the platform's Python engine writes: client-side UUIDs, lowercase labels.
pub mod platform {
    use sqlx::PgPool;

    pub const STRATEGY: &str = "3f0e6a52-1c4d-4e8b-a7f9-2b1c0d9e8f70";
    pub const SNAPSHOT: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

    /// The London breakout strategy on EURUSD and GBPUSD, open at every hour of every day
    /// so that tests do not depend on the clock; at most 0.50 lots and 2 positions. Its
    /// documents are the platform's own examples, as its json.dumps writes them.
    pub async fn insert_strategy(pool: &PgPool) {
        sqlx::raw_sql(&format!(
            "INSERT INTO strategies (id, name, is_active, allowed_symbols, session_windows,
                                     entry_conditions, exit_rules, forbidden_conditions, risk_caps,
                                     rr_expectation, created_at, updated_at)
             VALUES ('{STRATEGY}', 'London breakout', true, '{{EURUSD,GBPUSD}}',
                     '[{{\"start\": \"00:00Z\", \"end\": \"24:00Z\",
                        \"days\": [\"Mon\", \"Tue\", \"Wed\", \"Thu\", \"Fri\", \"Sat\", \"Sun\"]}}]',
                     '{{\"trend_alignment\": \"bullish\", \"rsi_below\": 40, \"price_rejects_level\": true}}',
                     '{{\"stop_loss\": \"swing_low - 5 pips\", \"take_profit\": \"RR>=2\", \"time_limit_min\": 30}}',
                     '{{}}',
                     '{{\"max_lot_size\": 0.5, \"max_concurrent_positions\": 2}}', 2.50, now(), now())"
        ))
        .execute(pool)
        .await
        .expect("insert the strategy");
    }

    /// An account snapshot captured now, with `open_positions` open.
    pub async fn insert_account(pool: &PgPool, equity: &str, open_positions: i32) {
        sqlx::query(
            "INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                           open_positions, captured_at)
             VALUES (gen_random_uuid(), 10000.00, $1::numeric, 200.00, 9800.00, 0, $2, now())",
        )
        .bind(equity)
        .bind(open_positions)
        .execute(pool)
        .await
        .expect("insert an account snapshot");
    }

    /// An id as the store takes it.
    pub fn uuid(id: &str) -> uuid::Uuid {
        uuid::Uuid::parse_str(id).expect("a UUID")
    }

    /// The status of idea `id`.
    pub async fn status_of(pool: &PgPool, id: &str) -> String {
        sqlx::query_scalar("SELECT status::text FROM trade_ideas WHERE id = $1::uuid")
            .bind(id)
            .fetch_one(pool)
            .await
            .expect("the idea exists")
    }

    /// An EURUSD idea in `status`, as the engine inserts it; returns its id.
    pub async fn insert_idea(pool: &PgPool, status: &str) -> Result<String, sqlx::Error> {
        insert_idea_as(pool, uuid::Uuid::new_v4(), status).await
    }

    /// [`insert_idea`] with the id given.
    pub async fn insert_idea_as(
        pool: &PgPool,
        id: uuid::Uuid,
        status: &str,
    ) -> Result<String, sqlx::Error> {
        let id = id.to_string();
        sqlx::query(&format!(
            "INSERT INTO trade_ideas (id, symbol, direction, entry_price, entry_range, stop_loss,
                                      take_profit, expected_hold, rationale, confidence_score, status,
                                      strategy_id, snapshot_ref, created_at, updated_at)
             VALUES ($1::uuid, 'EURUSD', 'buy', 1.085640, NULL, 1.084200, '{{1.087800}}', 'scalp_30m',
                     'Breakout', 93.00, '{status}', '{STRATEGY}', '{SNAPSHOT}', now(), now())"
        ))
        .bind(&id)
        .execute(pool)
        .await?;
        Ok(id)
    }
}

/// `url` connecting as `role` instead: the user is in the query (`?user=`, as the embedded
/// cluster's socket URLs have it) or before the host.
pub fn url_as(url: &str, role: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("a database URL");
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    if pairs.iter().any(|(k, _)| k == "user") {
        let mut query = parsed.query_pairs_mut();
        query.clear();
        for (k, v) in &pairs {
            query.append_pair(k, if k == "user" { role } else { v });
        }
    } else {
        parsed.set_username(role).expect("a URL with a host");
    }
    parsed.to_string()
}

/// A set-up database with the platform's strategies (tests/fixtures, as the platform writes
/// them) made active and open at every hour, so that a simulated run does not depend on
/// when it runs; imported by `ops@desk`, who is returned to act again.
pub async fn desk_with_open_strategies() -> (
    TestDb,
    tradedesk::store::Store,
    tradedesk::operator::Operator,
) {
    let mut doc: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/platform_strategies.json"))
            .expect("the fixture is JSON");
    for s in doc["strategies"]
        .as_array_mut()
        .expect("a list of strategies")
    {
        s["is_active"] = true.into();
        s["session_windows"] = serde_json::json!([{
            "start": "00:00Z", "end": "24:00Z",
            "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        }]);
    }
    let db = TestDb::new().await;
    tradedesk::store::setup::setup(&db.target(), false)
        .await
        .expect("setup");
    let store = tradedesk::store::Store::open(&db.target(), 3)
        .await
        .expect("open");
    let operator = tradedesk::operator::Operator::new("ops@desk").expect("an operator");
    let specs = tradedesk::domain::strategy::document::parse_documents(&doc.to_string())
        .expect("the platform's strategies parse");
    store
        .import_strategies(&specs, &operator)
        .await
        .expect("import");
    (db, store, operator)
}
