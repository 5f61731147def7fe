//! Connection failures read as one sentence that says what to do, and never show the
//! password.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use common::{server_url, with_database};
use sqlx::{Connection as _, PgConnection};
use tradedesk::store::Error;
use tradedesk::store::connect::connect;
use tradedesk::store::embedded::Cluster;
use tradedesk::store::setup::setup;
use tradedesk::store::target::{Origin, Target};

#[tokio::test]
async fn an_unreachable_server_is_named_without_the_password() {
    // Port 1 on loopback: nothing listens there.
    let target = Target::from_url(
        "postgres://trader:Sup3rSecret@127.0.0.1:1/ai_trader",
        Origin::Env,
    )
    .unwrap();
    let err = connect(&target, 1).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(
            "cannot reach the PostgreSQL server for postgres://trader:***@127.0.0.1:1/ai_trader"
        ),
        "{text}"
    );
    assert!(text.contains("check that it is running"), "{text}");
    assert!(!text.contains("Sup3rSecret"), "{text}");
    assert!(!format!("{err:?}").contains("Sup3rSecret"));
}

#[tokio::test]
async fn a_wrong_password_is_named_without_the_password() {
    // A cluster of its own whose pg_hba.conf asks one role for a password.
    let dir = tempfile::Builder::new()
        .prefix("tradedesk-auth-")
        .tempdir()
        .unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let cluster = Cluster::ephemeral(dir.path().join("pg"));
    struct Stop(Cluster);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.stop();
        }
    }
    cluster.ensure_running().unwrap();
    let _stop = Stop(cluster.clone());
    let hba = cluster.data_dir().join("pg_hba.conf");
    let rules = fs::read_to_string(&hba).unwrap();
    fs::write(&hba, format!("local all pwuser scram-sha-256\n{rules}")).unwrap();
    let mut admin = PgConnection::connect_with(&cluster.connect_options("postgres"))
        .await
        .unwrap();
    sqlx::raw_sql("CREATE ROLE pwuser LOGIN PASSWORD 'correct-horse'; SELECT pg_reload_conf();")
        .execute(&mut admin)
        .await
        .unwrap();
    let socket = cluster.socket_dir();
    let url = |password: &str| {
        format!(
            "postgresql://pwuser:{password}@localhost/postgres?host={}",
            socket.display()
        )
    };

    // The reload is asynchronous: wait until the server asks for the password.
    let wrong = Target::from_url(&url("Wr0ngBattery"), Origin::Env).unwrap();
    let mut err = None;
    for _ in 0..50 {
        match connect(&wrong, 1).await {
            Ok(pool) => pool.close().await,
            Err(e) => {
                err = Some(e);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let err = err.expect("the server asks pwuser for a password after the reload");
    assert!(matches!(err, Error::AuthFailed { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("refused the password for role \"pwuser\""),
        "{text}"
    );
    assert!(
        text.contains("correct the password in DATABASE_URL"),
        "{text}"
    );
    assert!(!text.contains("Wr0ngBattery"), "{text}");
    assert!(!format!("{err:?}").contains("Wr0ngBattery"));

    // The right password gets in: the refusal above was about the password.
    let right = Target::from_url(&url("correct-horse"), Origin::Env).unwrap();
    connect(&right, 1).await.unwrap().close().await;
}

#[tokio::test]
async fn a_missing_database_suggests_create_db_and_setup_creates_it_when_asked() {
    let name = format!("tdtest_missing_{}", uuid::Uuid::new_v4().simple());
    let target = Target::from_url(&with_database(server_url(), &name), Origin::Flag).unwrap();

    let err = setup(&target, false).await.unwrap_err();
    assert!(matches!(err, Error::DatabaseMissing { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("database \"{name}\" does not exist")),
        "{err}"
    );
    assert!(
        err.to_string().contains("tradedesk setup --create-db"),
        "{err}"
    );

    let report = setup(&target, true).await.unwrap();
    assert!(report.prepared.database_created);
    let mut admin = PgConnection::connect(server_url()).await.unwrap();
    sqlx::query(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_role_that_may_not_create_databases_is_told_so() {
    let role = format!("tdlimited_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(server_url()).await.unwrap();
    sqlx::query(&format!("CREATE ROLE \"{role}\" LOGIN NOCREATEDB"))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(&with_database(server_url(), "tdtest_never_created")).unwrap();
    let from_query = url.query_pairs().any(|(k, _)| k == "user");
    if from_query {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "user" {
                    role.clone()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    } else {
        url.set_username(&role).unwrap();
    }
    let target = Target::from_url(url.as_str(), Origin::Flag).unwrap();
    let result = setup(&target, true).await;
    sqlx::query(&format!("DROP ROLE \"{role}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            Error::PermissionDenied {
                action: "create databases",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("may not create databases"),
        "{err}"
    );
}
