//! Logins as the platform's users, roles at the desk, and the least-privilege PostgreSQL
//! roles, through the real binary against real PostgreSQL. Users are written as the
//! platform writes them (docs/platform.md §1: `users`, passlib bcrypt hashes).

mod common;

use common::cli::{Cli, json};
use common::platform::insert_idea;
use sqlx::PgPool;

/// Hashes of "correct horse battery" made by the platform's library, passlib 1.7.4
/// (bcrypt backend 4.0.1): `passlib.hash.bcrypt.using(rounds=12, ident=…).hash(…)`.
const PASSWORD: &str = "correct horse battery";
const HASH_2B: &str = "$2b$12$KTfM25A1wQG/W/axkmUpW.AIKCp2Fj0ksBTcoYvGtFFWh4wcDqhCS";
const HASH_2A: &str = "$2a$12$FDCFrnvLbWsuCcS913cM3usYbfztpzRmHDLMsax8CztDPTDJEi3Um";
const HASH_2Y: &str = "$2y$12$E6.R2BoLFsooCcXHTenKwuaTHgOC9goUxy6f7bLD8BJAa02UpRntG";

/// A platform user as the platform's SQLAlchemy model writes one.
async fn insert_user(pool: &PgPool, email: &str, hash: &str, active: bool) {
    sqlx::query(
        "INSERT INTO users (id, email, hashed_password, is_active, created_at, updated_at)
         VALUES (gen_random_uuid(), $1, $2, $3, now(), now())",
    )
    .bind(email)
    .bind(hash)
    .bind(active)
    .execute(pool)
    .await
    .unwrap();
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

fn login(cli: &Cli, email: &str, password: &str) -> common::cli::Run {
    cli.run_with_input(&["login", "--email", email], &format!("{password}\n"))
}

#[tokio::test]
async fn passlib_hashes_of_every_prefix_log_in_and_the_session_is_kept_privately() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    insert_user(&pool, "ann@desk.example", HASH_2B, true).await;
    insert_user(&pool, "bob@desk.example", HASH_2A, true).await;
    insert_user(&pool, "cy@desk.example", HASH_2Y, true).await;
    for email in ["ann@desk.example", "bob@desk.example", "cy@desk.example"] {
        let r = login(&cli, email, PASSWORD);
        assert_eq!(r.code, 0, "{email}: {}", r.err);
        assert!(
            r.out.starts_with(&format!(
                "Logged in as {email} (admin: no roles are granted yet, so every active user is one) until "
            )),
            "{}",
            r.out
        );
    }
    // The token is in a file only its owner can read; the database holds only its hash.
    let dir = cli.home.path().join("state/tradedesk/sessions");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(files.len(), 1, "one file per database");
    let path = files[0].as_ref().unwrap().path();
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let token = std::fs::read_to_string(&path).unwrap();
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tradedesk.sessions
          WHERE token_hash = sha256(convert_to($1, 'UTF8'))
            AND expires_at BETWEEN now() + interval '11 hours 59 minutes' AND now() + interval '12 hours'",
    )
    .bind(token.trim())
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 1, "the last login's session, by hash, for 12 hours");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM tradedesk.sessions").await,
        3
    );
    let r = cli.run(&["logout"]);
    assert_eq!((r.code, r.out.as_str()), (0, "Logged out.\n"));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM tradedesk.sessions WHERE ended_at IS NOT NULL"
        )
        .await,
        1
    );
    assert!(!path.exists());
}

#[tokio::test]
async fn every_refusal_is_the_same_sentence_exit_10_and_writes_no_session() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    insert_user(&pool, "ann@desk.example", HASH_2B, true).await;
    insert_user(&pool, "old@desk.example", HASH_2B, false).await;
    // A hash bcrypt cannot read (another scheme, a placeholder): refused like the rest,
    // after the same bcrypt work (the times printed show it).
    insert_user(
        &pool,
        "md5@desk.example",
        "md5$5f4dcc3b5aa765d61d8327deb882cf99",
        true,
    )
    .await;
    let refusals = [
        ("ann@desk.example", "wrong horse"),
        ("nobody@desk.example", PASSWORD),
        ("old@desk.example", PASSWORD),
        ("md5@desk.example", PASSWORD),
    ];
    let mut said = Vec::new();
    for (email, password) in refusals {
        let started = std::time::Instant::now();
        let r = login(&cli, email, password);
        println!("{email}: refused in {:?}", started.elapsed());
        assert_eq!(r.code, 10, "{email}: {}", r.err);
        assert!(r.out.is_empty());
        said.push(r.err);
    }
    assert!(said.iter().all(|s| *s == said[0]), "{said:#?}");
    assert!(
        said[0].starts_with("tradedesk: login refused: "),
        "{}",
        said[0]
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM tradedesk.sessions").await,
        0
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM decision_history").await,
        0
    );
    // Five failures lock the email for 15 minutes: the right password is then refused
    // with the same sentence, and an admin sees the lock.
    for _ in 0..4 {
        assert_eq!(login(&cli, "ann@desk.example", "wrong horse").code, 10);
    }
    let r = login(&cli, "ann@desk.example", PASSWORD);
    assert_eq!(r.code, 10);
    assert_eq!(r.err, said[0]);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM tradedesk.sessions").await,
        0
    );
    // Another email is not locked.
    insert_user(&pool, "raj@desk.example", HASH_2A, true).await;
    assert_eq!(login(&cli, "raj@desk.example", PASSWORD).code, 0);
    let users = json(&cli.run(&["--json", "users", "list"]).out);
    let ann = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ann@desk.example")
        .unwrap()
        .clone();
    assert_eq!(ann["recent_failures"], 5);
    assert!(ann["locked_until"].is_string(), "{ann}");
    // The lock ends 15 minutes after the fifth failure.
    sqlx::query("UPDATE tradedesk.login_failures SET at = at - interval '16 minutes'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(login(&cli, "ann@desk.example", PASSWORD).code, 0);
}

#[tokio::test]
async fn acts_need_a_login_and_record_the_users_email() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    let idea = insert_idea(&pool, "needs_approval").await.unwrap();
    // Without platform users, the operating-system account acts.
    let r = cli.run(&["resume"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let os: String =
        sqlx::query_scalar("SELECT operator FROM decision_history WHERE action = 'ai_resumed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(os.contains('@') && !os.ends_with("desk.example"), "{os}");

    insert_user(&pool, "ann@desk.example", HASH_2B, true).await;
    for args in [
        vec!["ideas", "approve", &idea[..8], "--lot", "0.10"],
        vec!["resume"],
        vec!["risk", "set", "max_lot_size=0.50"],
    ] {
        let r = cli.run(&args);
        assert_eq!(r.code, 10, "{args:?}: {}", r.err);
        assert!(r.err.contains("log in first"), "{}", r.err);
    }
    // Stopping needs no login: the halt is recorded as the account, not logged in. Not
    // even a user locked out by failed logins delays it.
    for _ in 0..5 {
        assert_eq!(login(&cli, "ann@desk.example", "wrong").code, 10);
    }
    let r = cli.run(&["halt", "--reason", "x"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let by: String = sqlx::query_scalar(
        "SELECT operator FROM decision_history WHERE action = 'ai_halted'
          ORDER BY audit_seq DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(by.contains('@') && by.ends_with(" (not logged in)"), "{by}");
    // The lock-out ends (a test cannot wait 15 minutes): the failures are forgotten.
    sqlx::query("DELETE FROM tradedesk.login_failures")
        .execute(&pool)
        .await
        .unwrap();
    // Reading needs no login.
    assert_eq!(cli.run(&["status"]).code, 0);

    assert_eq!(login(&cli, "ann@desk.example", PASSWORD).code, 0);
    for args in [
        vec!["resume"],
        vec!["halt", "--reason", "lunch"],
        vec!["resume"],
    ] {
        let r = cli.run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.err);
    }
    let r = cli.run(&["ideas", "approve", &idea[..8], "--lot", "0.10"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let operators: Vec<(String, String)> = sqlx::query_as(
        "SELECT action::text, operator FROM decision_history
          WHERE occurred_at > (SELECT max(created_at) FROM tradedesk.sessions)
          ORDER BY occurred_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        operators,
        [
            ("ai_resumed".to_string(), "ann@desk.example".to_string()),
            ("ai_halted".to_string(), "ann@desk.example".to_string()),
            ("ai_resumed".to_string(), "ann@desk.example".to_string()),
            ("human_approved".to_string(), "ann@desk.example".to_string()),
        ]
    );
    let requested_by: String = sqlx::query_scalar("SELECT requested_by FROM tradedesk.executions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(requested_by, "ann@desk.example");
}

#[tokio::test]
async fn a_viewer_may_pull_the_kill_switch_but_not_approve_and_only_admins_resume() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    insert_user(&pool, "ann@desk.example", HASH_2B, true).await;
    insert_user(&pool, "ola@desk.example", HASH_2B, true).await;
    insert_user(&pool, "vic@desk.example", HASH_2B, true).await;
    let idea = insert_idea(&pool, "needs_approval").await.unwrap();

    // The first grant: ann keeps the desk's admin.
    assert_eq!(login(&cli, "ann@desk.example", PASSWORD).code, 0);
    let r = cli.run(&["users", "grant", "vic@desk.example", "viewer"]);
    assert_eq!(r.code, 5, "a desk without an admin is refused: {}", r.err);
    assert!(r.err.contains("without an admin"), "{}", r.err);
    for (email, role) in [
        ("ann@desk.example", "admin"),
        ("ola@desk.example", "operator"),
        ("vic@desk.example", "viewer"),
    ] {
        let r = cli.run(&["users", "grant", email, role]);
        assert_eq!(r.code, 0, "{}", r.err);
    }
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM tradedesk.config_changes WHERE subject = 'user_role'"
        )
        .await,
        3
    );
    assert_eq!(cli.run(&["resume"]).code, 0);

    // The viewer: refused an approval, allowed the kill switch.
    assert_eq!(login(&cli, "vic@desk.example", PASSWORD).code, 0);
    let r = cli.run(&["ideas", "approve", &idea[..8], "--lot", "0.10"]);
    assert_eq!(r.code, 10);
    assert_eq!(
        r.err,
        "tradedesk: approval needs the operator role; vic@desk.example is a viewer\n"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM decision_history WHERE trade_idea_id IS NOT NULL"
        )
        .await,
        0,
        "nothing written"
    );
    let r = cli.run(&["halt", "--reason", "spread blew out"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let r = cli.run(&["users", "grant", "vic@desk.example", "admin"]);
    assert_eq!(r.code, 10, "{}", r.err);

    // The operator approves, but may not resume.
    assert_eq!(login(&cli, "ola@desk.example", PASSWORD).code, 0);
    let r = cli.run(&["resume"]);
    assert_eq!(r.code, 10);
    assert!(r.err.contains("resume needs the admin role"), "{}", r.err);
    let r = cli.run(&["ideas", "reject", &idea[..8], "--reason", "spread"]);
    assert_eq!(r.code, 0, "{}", r.err);

    // The admin resumes; a user without a role, once roles exist, only looks.
    assert_eq!(login(&cli, "ann@desk.example", PASSWORD).code, 0);
    assert_eq!(cli.run(&["resume"]).code, 0);
    let r = cli.run(&["users", "revoke", "ola@desk.example"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(login(&cli, "ola@desk.example", PASSWORD).code, 0);
    let r = cli.run(&["risk", "set", "max_lot_size=0.50"]);
    assert_eq!(r.code, 10);
    assert!(r.err.contains("is a viewer"), "{}", r.err);
    let who: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT action::text, operator FROM decision_history WHERE symbol IS NULL ORDER BY occurred_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        who,
        [
            (
                "ai_resumed".to_string(),
                Some("ann@desk.example".to_string())
            ),
            (
                "ai_halted".to_string(),
                Some("vic@desk.example".to_string())
            ),
            (
                "ai_resumed".to_string(),
                Some("ann@desk.example".to_string())
            ),
        ]
    );
}

#[tokio::test]
async fn the_viewer_database_role_reads_but_cannot_write_or_disable_a_trigger() {
    let cli = Cli::new().await;
    let r = cli.run(&["setup", "--roles"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.contains("tradedesk_viewer"), "{}", r.out);
    // Again: nothing new, nothing broken.
    assert_eq!(cli.run(&["setup", "--roles"]).code, 0);
    let pool = cli.db.pool().await;
    insert_user(&pool, "ann@desk.example", HASH_2B, true).await;
    let idea = insert_idea(&pool, "needs_approval").await.unwrap();

    let as_role = |role: &str| common::url_as(&cli.db.url, role);
    let viewer = PgPool::connect(&as_role("tradedesk_viewer")).await.unwrap();
    assert_eq!(count(&viewer, "SELECT count(*) FROM trade_ideas").await, 1);
    for write in [
        "INSERT INTO decision_history (id, occurred_at, action, rationale)
         VALUES (gen_random_uuid(), now(), 'ai_resumed', 'x')",
        "UPDATE risk_config SET ai_trading_enabled = true",
        "UPDATE trade_ideas SET status = 'auto_executed'",
        "DELETE FROM strategies",
        "SELECT hashed_password FROM users",
        "ALTER TABLE decision_history DISABLE TRIGGER ALL",
        "ALTER TABLE trade_ideas DISABLE TRIGGER trade_ideas_guard_auto_execution",
        "ALTER TABLE snapshot_account DISABLE TRIGGER snapshot_account_guard_day_limits",
        "UPDATE tradedesk.audit_heads SET last_seq = 0",
        "LISTEN tradedesk; SELECT 1 FROM tradedesk.sessions WHERE token_hash IS NOT NULL",
    ] {
        let err = sqlx::raw_sql(write).execute(&viewer).await.unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("permission denied") || message.contains("must be owner"),
            "{write}: {message}"
        );
    }
    sqlx::raw_sql("LISTEN tradedesk")
        .execute(&viewer)
        .await
        .unwrap();
    viewer.close().await;

    // The operator role acts through tradedesk, but owns nothing.
    let operator = PgPool::connect(&as_role("tradedesk_operator"))
        .await
        .unwrap();
    let err = sqlx::raw_sql("ALTER TABLE decision_history DISABLE TRIGGER ALL")
        .execute(&operator)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("must be owner"), "{err}");
    // Logins, sessions and roles are the database's functions: the operator role reads no
    // password hash and makes no session, failed login, role or audit row itself.
    for write in [
        "UPDATE decision_history SET rationale = 'x'",
        "SELECT hashed_password FROM users",
        "SELECT token_hash FROM tradedesk.sessions",
        "INSERT INTO tradedesk.sessions (id, token_hash, user_id, email, host, expires_at)
         SELECT gen_random_uuid(), '\\x00', id, email, 'psql', now() + interval '1 day'
           FROM users",
        "DELETE FROM tradedesk.login_failures",
        "INSERT INTO tradedesk.user_roles (user_id, role, granted_by)
         SELECT id, 'admin', 'me' FROM users",
        "INSERT INTO tradedesk.config_changes (id, operator, subject, change)
         VALUES (gen_random_uuid(), 'me', 'risk_config', 'forged')",
        "SELECT * FROM tradedesk.set_role(NULL, 'me', 'ann@desk.example', 'admin')",
        "SELECT tradedesk.tradedesk_password_matches('x', 'y')",
    ] {
        let err = sqlx::raw_sql(write).execute(&operator).await.unwrap_err();
        assert!(
            err.to_string().contains("permission denied"),
            "{write}: {err}"
        );
    }
    // What it may: log in through the database's function (a wrong password: no row).
    let refused: Option<(String,)> =
        sqlx::query_as("SELECT token FROM tradedesk.login($1, 'wrong', 'psql', '1 hour')")
            .bind("ann@desk.example")
            .fetch_optional(&operator)
            .await
            .unwrap();
    assert!(refused.is_none());
    operator.close().await;

    // The admin role grants roles, only with an admin's session.
    let admin = PgPool::connect(&as_role("tradedesk_admin")).await.unwrap();
    let err = sqlx::query("SELECT * FROM tradedesk.set_role(NULL, 'me', $1, 'viewer')")
        .bind("ann@desk.example")
        .execute(&admin)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("log in first"), "{err}");
    let (token,): (String,) =
        sqlx::query_as("SELECT token FROM tradedesk.login($1, $2, 'psql', '1 hour')")
            .bind("ann@desk.example")
            .bind(PASSWORD)
            .fetch_one(&admin)
            .await
            .unwrap();
    let granted: (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT * FROM tradedesk.set_role($1, 'psql', $2, 'admin')")
            .bind(&token)
            .bind("ann@desk.example")
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(
        granted,
        ("ann@desk.example".into(), None, Some("admin".into()))
    );
    let by: String = sqlx::query_scalar(
        "SELECT operator FROM tradedesk.config_changes WHERE subject = 'user_role'",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert_eq!(by, "ann@desk.example");
    admin.close().await;

    let run_as = |role: &str, args: &[&str], input: &str| {
        use std::io::Write as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tradedesk"))
            .arg("--database-url")
            .arg(as_role(role))
            .args(args)
            .env_remove("DATABASE_URL")
            .env("HOME", cli.home.path())
            .env("XDG_CONFIG_HOME", cli.home.path())
            .env("XDG_STATE_HOME", cli.home.path().join("state"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run_as(
        "tradedesk_operator",
        &["login", "--email", "ann@desk.example"],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = run_as(
        "tradedesk_operator",
        &["ideas", "approve", &idea[..8], "--lot", "0.10"],
        "",
    );
    assert_eq!(
        code,
        Some(0),
        "the operator role's grants are enough to approve: {err}"
    );
    let (code, err) = run_as("tradedesk_operator", &["halt", "--reason", "close"], "");
    assert_eq!(code, Some(0), "and to halt: {err}");
    let (code, err) = run_as(
        "tradedesk_viewer",
        &["ideas", "reject", &idea[..8], "--reason", "x"],
        "",
    );
    assert_ne!(code, Some(0), "{err}");
    // The viewer reads enough to verify the audit, the operator's approval and halt in it.
    let (code, err) = run_as("tradedesk_viewer", &["audit", "verify"], "");
    assert_eq!(code, Some(0), "{err}");
}

#[tokio::test]
async fn attempts_sent_at_once_take_turns_so_the_lock_out_holds() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    insert_user(&pool, "ann@desk.example", HASH_2B, true).await;
    let store = tradedesk::store::Store::open(&cli.db.target(), 12)
        .await
        .unwrap();
    let attempts = (0..12).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .login(
                    "ann@desk.example",
                    "wrong horse",
                    "test",
                    chrono::TimeDelta::hours(1),
                )
                .await
        })
    });
    for attempt in futures::future::join_all(attempts).await {
        assert!(attempt.unwrap().is_err());
    }
    // Five were checked and counted; the rest found the email locked.
    assert_eq!(
        count(&pool, "SELECT count(*) FROM tradedesk.login_failures").await,
        5
    );
    assert_eq!(login(&cli, "ann@desk.example", PASSWORD).code, 10);
    // What was typed for no user is not kept (it may be a password typed as the email).
    assert_eq!(login(&cli, PASSWORD, PASSWORD).code, 10);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM tradedesk.login_failures WHERE email <> 'ann@desk.example'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn once_roles_are_granted_the_last_admin_cannot_go_and_only_admins_list_users() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    insert_user(&pool, "ann@desk.example", HASH_2B, true).await;
    insert_user(&pool, "raj@desk.example", HASH_2A, true).await;
    assert_eq!(login(&cli, "ann@desk.example", PASSWORD).code, 0);
    assert_eq!(
        cli.run(&["users", "grant", "ann@desk.example", "admin"])
            .code,
        0
    );
    // Revoking the only admin would make every user an admin again: refused.
    let r = cli.run(&["users", "revoke", "ann@desk.example"]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert!(r.err.contains("without an admin"), "{}", r.err);
    assert_eq!(
        count(&pool, "SELECT count(*) FROM tradedesk.user_roles").await,
        1
    );
    // Raj, without a role, is a viewer: the users' list (lock-outs, last logins) is not his.
    assert_eq!(cli.run(&["logout"]).code, 0);
    assert_eq!(login(&cli, "raj@desk.example", PASSWORD).code, 0);
    let r = cli.run(&["users", "list"]);
    assert_eq!(r.code, 10, "{}", r.err);
    assert!(r.out.is_empty());
}

#[tokio::test]
async fn a_console_left_open_acts_only_while_its_session_lasts_and_with_the_role_of_now() {
    use tradedesk::domain::Act;
    use tradedesk::domain::role::Role;
    use tradedesk::store::auth::SessionToken;
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    insert_user(&pool, "ann@desk.example", HASH_2B, true).await;
    insert_user(&pool, "raj@desk.example", HASH_2A, true).await;
    let store = tradedesk::store::Store::open(&cli.db.target(), 2)
        .await
        .unwrap();
    let hour = chrono::TimeDelta::hours(1);
    let raj = store
        .login("raj@desk.example", PASSWORD, "test", hour)
        .await
        .unwrap();
    let opened_as = tradedesk::operator::Operator::with_role(raj.email.clone(), raj.role).unwrap();
    assert_eq!(raj.role, Role::Admin);
    let session = SessionToken::new(raj.token.clone());
    assert_eq!(format!("{session:?}"), "SessionToken(…)");
    let now = store
        .acting(&opened_as, Some(&session), Act::Approve)
        .await
        .unwrap();
    assert_eq!(
        (now.as_str(), now.role()),
        ("raj@desk.example", Role::Admin)
    );
    // Ann becomes the admin: Raj, without a role, acts as the viewer he now is.
    let by_raj = opened_as.clone().with_session(session.clone());
    store
        .set_role("ann@desk.example", Some(Role::Admin), &by_raj)
        .await
        .unwrap();
    let now = store
        .acting(&opened_as, Some(&session), Act::Approve)
        .await
        .unwrap();
    assert_eq!(now.role(), Role::Viewer);
    // Logged out elsewhere: the open console's next act is refused.
    assert!(store.logout(&raj.token).await.unwrap());
    let err = store
        .acting(&opened_as, Some(&session), Act::Approve)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        tradedesk::store::ErrorCode::Unauthorized,
        "{err}"
    );
    assert!(err.to_string().contains("session has ended"), "{err}");
    // But the kill switch still works, as the user who opened the console.
    let halting = store
        .acting(&opened_as, Some(&session), Act::Halt)
        .await
        .unwrap();
    assert_eq!(
        (halting.as_str(), halting.role()),
        ("raj@desk.example", Role::Viewer)
    );
}

#[tokio::test]
async fn what_changes_the_schema_or_removes_data_is_an_admins_and_is_audited() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    insert_user(&pool, "ann@desk.example", HASH_2B, true).await;
    insert_user(&pool, "ola@desk.example", HASH_2B, true).await;
    let archive = cli.home.path().join("old.tdarchive");
    let archive = archive.to_str().unwrap();
    let destructive: [&[&str]; 6] = [
        &[
            "migrate",
            "down",
            "1",
            "--i-understand-this-drops",
            "change-audit",
        ],
        &["migrate", "up"],
        &["setup"],
        &["archive", "--before", "2020-01-01", "--to", archive],
        &["prune-snapshots", "--older-than", "30d"],
        &[
            "simulate",
            "--into-live-database",
            "--fast",
            "--duration",
            "1m",
        ],
    ];
    let audited = "SELECT count(*) FROM tradedesk.config_changes";
    let migrations = "SELECT count(*) FROM tradedesk._sqlx_migrations";
    let (changes, applied) = (count(&pool, audited).await, count(&pool, migrations).await);

    // Without a session, and with a session whose role is not admin: refused, nothing done.
    let refused = |cli: &Cli, why: &str| {
        for args in destructive {
            let r = cli.run(args);
            assert_eq!(r.code, 10, "{args:?}: {}", r.err);
            assert!(r.err.contains(why), "{args:?}: {}", r.err);
        }
    };
    refused(&cli, "it is an admin's, so log in as one first");
    assert_eq!(login(&cli, "ann@desk.example", PASSWORD).code, 0);
    for (email, role) in [
        ("ann@desk.example", "admin"),
        ("ola@desk.example", "operator"),
    ] {
        assert_eq!(cli.run(&["users", "grant", email, role]).code, 0);
    }
    assert_eq!(login(&cli, "ola@desk.example", PASSWORD).code, 0);
    refused(
        &cli,
        "needs the admin role; ola@desk.example is an operator",
    );
    assert_eq!(count(&pool, migrations).await, applied);
    // (the two grants are the only changes)
    assert_eq!(count(&pool, audited).await, changes + 2);
    assert!(!std::path::Path::new(archive).exists());

    // An admin may, and each is in the chained audit as theirs.
    assert_eq!(login(&cli, "ann@desk.example", PASSWORD).code, 0);
    for args in [
        destructive[0],
        destructive[1],
        &["prune-snapshots", "--older-than", "30d"][..],
    ] {
        let r = cli.run(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.err);
    }
    let recorded: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT operator, subject, change FROM tradedesk.config_changes
          WHERE subject IN ('schema', 'retention') ORDER BY audit_seq",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let ann = "ann@desk.example".to_string();
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    assert_eq!(
        recorded[..2],
        [
            (
                ann.clone(),
                "schema".into(),
                "migrate down 1: reverting migration 16".into()
            ),
            (
                ann.clone(),
                "schema".into(),
                "migrate up: applied migration 16".into()
            ),
        ]
    );
    assert_eq!(
        (&recorded[2].0, recorded[2].1.as_str()),
        (&ann, "retention")
    );
    assert!(
        recorded[2].2.starts_with("prune-snapshots: removed 0 rows"),
        "{recorded:?}"
    );
    let r = cli.run(&["audit", "verify"]);
    assert_eq!(r.code, 0, "{}", r.out);
}
