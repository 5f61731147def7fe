//! Short ids as the command line shows them name their rows back (issue 19), against real
//! PostgreSQL: tradedesk's UUIDv7 ids made in one millisecond show distinct short ids, a
//! listing lengthens two that would be equal, each printed short id resolves, an ambiguous
//! one is refused with its candidates, and the resolution reads indexes, never a table.

mod common;

use common::cli::{Cli, json};
use common::platform::insert_idea_as;
use sqlx::Connection as _;
use tradedesk::format::{ShortIds, short};
use tradedesk::store::resolve::Kind;
use uuid::Uuid;

fn id(text: &str) -> Uuid {
    Uuid::parse_str(text).unwrap()
}

/// Two ideas and two decisions whose last 8 digits are equal: a listing must lengthen them.
const IDEA_A: &str = "7b000000-0000-4000-8000-0001c0ffee01";
const IDEA_B: &str = "7b000000-0000-4000-8000-0002c0ffee01";
const DECISION_A: &str = "01a25098-0000-7000-8000-00aa1c0d2e3f";
const DECISION_B: &str = "01a25098-0000-7000-8000-00bb1c0d2e3f";

/// `n` UUIDv7 ids of one millisecond, as `Uuid::now_v7` makes a burst of tradedesk's rows:
/// the same first 12 digits.
fn burst(n: usize) -> Vec<Uuid> {
    let context = uuid::ContextV7::new();
    let at = uuid::Timestamp::from_unix(&context, 1_790_000_000, 123_000_000);
    (0..n).map(|_| Uuid::new_v7(at)).collect()
}

async fn insert_decision(pool: &sqlx::PgPool, id: Uuid, idea: Option<&str>) {
    sqlx::query(
        "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                       trade_idea_id, human_override)
         VALUES ($1, now(), 'EURUSD', 'ai_proposed', 'Breakout', $2::uuid, false)",
    )
    .bind(id)
    .bind(idea)
    .execute(pool)
    .await
    .unwrap();
}

/// The rows of a printed table: each line after the header, split at whitespace.
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_short_id_printed_names_its_row_back_and_an_ambiguous_one_lists_the_candidates() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    insert_idea_as(&pool, id(IDEA_A), "needs_approval")
        .await
        .unwrap();
    insert_idea_as(&pool, id(IDEA_B), "needs_approval")
        .await
        .unwrap();
    let burst = burst(5);
    for d in &burst {
        insert_decision(&pool, *d, None).await;
    }
    insert_decision(&pool, id(DECISION_A), Some(IDEA_A)).await;
    insert_decision(&pool, id(DECISION_B), Some(IDEA_B)).await;
    // What the security review saw: one millisecond's ids alike in their first 8 digits.
    let first8 = |u: &Uuid| u.simple().to_string()[..8].to_string();
    assert!(burst.iter().all(|d| first8(d) == first8(&burst[0])));

    // The timeline: one listing of decisions and ideas, none two alike.
    let run = cli.run(&["timeline"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let listed = rows(&run.out);
    assert_eq!(listed.len(), 7, "{}", run.out);
    let decisions: Vec<Uuid> = burst
        .iter()
        .copied()
        .chain([id(DECISION_A), id(DECISION_B)])
        .collect();
    let shown_as = |d: &Uuid| {
        listed
            .iter()
            .find(|row| d.simple().to_string().ends_with(&row[0]))
            .unwrap_or_else(|| panic!("no row for {d}: {}", run.out))
            .clone()
    };
    for d in &burst {
        assert_eq!(shown_as(d)[0], short(*d), "{}", run.out);
    }
    assert_eq!(shown_as(&id(DECISION_A))[0], "a1c0d2e3f", "{}", run.out);
    assert_eq!(shown_as(&id(DECISION_B))[0], "b1c0d2e3f", "{}", run.out);
    // The IDEA column (after the ID, the date, the time, the action and the symbol).
    assert_eq!(shown_as(&id(DECISION_A))[5], "1c0ffee01", "{}", run.out);
    assert_eq!(shown_as(&id(DECISION_B))[5], "2c0ffee01", "{}", run.out);
    let all: std::collections::HashSet<&String> = listed.iter().map(|r| &r[0]).collect();
    assert_eq!(all.len(), 7, "{}", run.out);

    // `replay` takes each as printed.
    for d in &decisions {
        let printed = &shown_as(d)[0];
        let run = cli.run(&["--json", "replay", printed]);
        assert!(
            run.code == 0 || run.code == 9,
            "replay {printed}: {}{}",
            run.out,
            run.err
        );
        assert_eq!(json(&run.out)["decision"]["id"], d.to_string(), "{printed}");
    }
    // The whole id, and (out of habit) a unique prefix, still name a decision.
    for given in [
        DECISION_A,
        "01a25098-0000-7000-8000-00a",
        "01a2509800007000800000aa",
    ] {
        let run = cli.run(&["--json", "replay", given]);
        assert_eq!(json(&run.out)["decision"]["id"], DECISION_A, "{given}");
    }

    // Ambiguous: one sentence naming the candidates as they can be given back.
    let run = cli.run(&["replay", "1c0d2e3f"]);
    assert_eq!(
        (run.code, run.err.as_str()),
        (
            3,
            "tradedesk: `1c0d2e3f` matches more than one decision (00aa1c0d2e3f, \
             00bb1c0d2e3f): give more of the id\n"
        )
    );
    let run = cli.run(&["replay", &first8(&burst[0])]);
    assert_eq!(run.code, 3, "{}", run.err);
    let mut sorted = burst.clone();
    sorted.sort();
    let named = ShortIds::at_least(sorted[..3].iter().copied(), 12);
    assert_eq!(
        run.err,
        format!(
            "tradedesk: `{}` matches more than one decision ({}, {}, {} and more): give more \
             of the id\n",
            first8(&burst[0]),
            named.of(sorted[0]),
            named.of(sorted[1]),
            named.of(sorted[2])
        )
    );
    let run = cli.run(&["replay", "0123456789"]);
    assert_eq!(
        (run.code, run.err.as_str()),
        (4, "tradedesk: no decision matches 0123456789\n")
    );

    // The ideas list likewise, and `ideas show` takes what it printed.
    let run = cli.run(&["ideas", "list"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let printed: Vec<String> = rows(&run.out).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(printed, ["1c0ffee01", "2c0ffee01"], "{}", run.out);
    for (given, idea) in printed.iter().zip([IDEA_A, IDEA_B]) {
        let run = cli.run(&["ideas", "show", given]);
        assert_eq!(run.code, 0, "{}", run.err);
        assert!(
            run.out.contains(&format!("Idea       {idea}")),
            "{}",
            run.out
        );
    }
    let run = cli.run(&["ideas", "reject", "c0ffee01", "--reason", "which?"]);
    assert_eq!(
        (run.code, run.err.as_str()),
        (
            3,
            "tradedesk: `c0ffee01` matches more than one trade idea (0001c0ffee01, \
             0002c0ffee01): give more of the id\n"
        )
    );

    // And the strategies list.
    let run = cli.run(&["strategies", "list"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let printed = rows(&run.out)[0][0].clone();
    assert_eq!(printed, "0d9e8f70", "{}", run.out);
    let run = cli.run(&["strategies", "show", &printed]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("London breakout"), "{}", run.out);
}

#[tokio::test]
async fn naming_by_a_short_id_reads_indexes_never_a_whole_table() {
    let cli = Cli::new().await;
    let mut conn = sqlx::PgConnection::connect(&cli.db.url).await.unwrap();
    // As sqlx runs it after a few executions (a generic plan, its parameters unknown); with
    // sequential scans priced out, a plan that still has one has no index to use.
    sqlx::raw_sql("SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan")
        .execute(&mut conn)
        .await
        .unwrap();
    for (k, (kind, table)) in Kind::ALL
        .into_iter()
        .zip(["trade_ideas", "strategies", "decision_history"])
        .enumerate()
    {
        sqlx::raw_sql(&format!(
            "PREPARE matching_{k}(uuid, uuid, uuid, uuid) AS {}",
            kind.matching()
        ))
        .execute(&mut conn)
        .await
        .unwrap();
        let plan: Vec<String> = sqlx::query_scalar(&format!(
            "EXPLAIN EXECUTE matching_{k}('01a25098-0000-0000-0000-000000000000',
                                          '01a25098-ffff-ffff-ffff-ffffffffffff',
                                          'f3e2d0c1-0000-0000-0000-000000000000',
                                          'f3e2d0c1-ffff-ffff-ffff-ffffffffffff')"
        ))
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let plan = plan.join("\n");
        assert!(!plan.contains("Seq Scan"), "{table}:\n{plan}");
        assert!(plan.contains(&format!("{table}_pkey")), "{table}:\n{plan}");
        assert!(
            plan.contains(&format!("idx_{table}_short_id")),
            "{table}:\n{plan}"
        );
    }
}

#[tokio::test]
async fn the_drawdown_guard_names_short_ids_and_migration_16_reverts_to_prefixes() {
    use tradedesk::store::migrate;
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    let guard = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT pg_get_functiondef('tradedesk.tradedesk_guard_day_limits()'::regprocedure)",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let right = "string_agg(right(replace(x::text, '-', ''), 8), ', '";
    let left = "string_agg(left(replace(x::text, '-', ''), 8), ', '";
    let with_16 = guard().await;
    assert!(
        with_16.contains(right) && !with_16.contains(left),
        "{with_16}"
    );
    assert_eq!(migrate::down(&pool, 1).await.unwrap().len(), 1);
    let without = guard().await;
    assert_eq!(without, with_16.replace(right, left));
    let exists = |index: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, bool>("SELECT to_regclass($1) IS NOT NULL")
                .bind(index)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert!(!exists("public.idx_decision_history_short_id").await);
    migrate::up(&pool).await.unwrap();
    assert_eq!(guard().await, with_16);
    assert!(exists("public.idx_decision_history_short_id").await);
}
