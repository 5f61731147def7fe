//! Every value the platform's writers store is read (docs/platform.md, "How the platform's
//! Python code writes"): rows written here as its Python code writes them — plain SQL, a
//! float's exact binary expansion in `NUMERIC[]`, `NaN` in a `NUMERIC`, `infinity` in a
//! timestamp — never through tradedesk's own writers, and every read and act held to what
//! it must do with them.

use crate::common;

use chrono::{DateTime, TimeZone as _, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sqlx::PgPool;

use common::cli::{Cli, json};
use common::platform::{SNAPSHOT, STRATEGY};
use tradedesk::console::app::App;
use tradedesk::console::keymap::Keymap;
use tradedesk::console::msg::{Loaded, Msg};
use tradedesk::console::theme::Theme;
use tradedesk::console::view;
use tradedesk::domain::stored::Listed;
use tradedesk::store::Store;
use tradedesk::store::ideas::IdeaFilter;
use tradedesk::store::timeline::TimelineFilter;

/// `1.081`, `1.2705`, `1.0795` and `1.0805` as Python floats reach an unconstrained NUMERIC:
/// their exact binary expansions (docs/platform.md).
const F1_081: &str = "1.080999999999999960920149533194489777088165283203125";
const F1_2705: &str = "1.2705000000000000959232693276135250926017761230468750";
const F1_0795: &str = "1.0794999999999999040767306723864749073982238769531250";
const F1_0805: &str = "1.0805000000000000159872115546022541821002960205078125";

const FLOATS: &str = "6a1f0001-0000-4000-8000-000000000001";
const NAN_STOP: &str = "6a1f0002-0000-4000-8000-000000000002";
const INFINITE: &str = "6a1f0003-0000-4000-8000-000000000003";
const DECIDED_AT_INFINITY: &str = "6d1f0004-0000-4000-8000-000000000004";
const ON_FLOATS: &str = "6d1f0005-0000-4000-8000-000000000005";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// The rows the platform's Python code writes, as it writes them: an EURUSD idea whose
/// zone and targets are floats, one whose stop is `NaN`, one created at `infinity`, a
/// decision dated `infinity`, and the proposal of the float idea.
async fn platform_rows(pool: &PgPool) {
    sqlx::raw_sql(&format!(
        "INSERT INTO trade_ideas (id, symbol, direction, entry_price, entry_range, stop_loss,
                                  take_profit, expected_hold, rationale, confidence_score, status,
                                  strategy_id, snapshot_ref, created_at, updated_at)
         VALUES ('{FLOATS}', 'EURUSD', 'buy', NULL, ARRAY[{F1_0795}, {F1_0805}]::numeric[], 1.078,
                 ARRAY[{F1_081}, {F1_2705}]::numeric[], 'scalp_30m', 'Breakout above the range',
                 91.5, 'needs_approval', '{STRATEGY}', '{SNAPSHOT}',
                 '2026-11-25 09:40:00+00', '2026-11-25 09:40:00+00'),
                ('{NAN_STOP}', 'EURUSD', 'sell', 1.0841, NULL, 'NaN', ARRAY[1.0811]::numeric[],
                 'scalp_30m', 'Fade the spike', 88, 'needs_approval', '{STRATEGY}', '{SNAPSHOT}',
                 '2026-11-25 09:41:00+00', '2026-11-25 09:41:00+00'),
                ('{INFINITE}', 'GBPUSD', 'buy', 1.2701, NULL, 1.2650, ARRAY[1.2790]::numeric[],
                 'swing_1d', 'Trend', 90, 'needs_approval', '{STRATEGY}', '{SNAPSHOT}',
                 'infinity', 'infinity');
         INSERT INTO decision_history (id, occurred_at, symbol, action, rationale, confidence_score,
                                       risk_check_result, strategy_id, trade_idea_id, snapshot_ref)
         VALUES ('{DECIDED_AT_INFINITY}', 'infinity', 'GBPUSD', 'ai_proposed', 'Trend', 'NaN',
                 'partial', '{STRATEGY}', '{INFINITE}', '{SNAPSHOT}'),
                ('{ON_FLOATS}', '2026-11-25 09:40:00+00', 'EURUSD', 'ai_proposed',
                 'Breakout above the range', 91.5, 'partial', '{STRATEGY}', '{FLOATS}', '{SNAPSHOT}');"
    ))
    .execute(pool)
    .await
    .expect("the platform's rows");
}

async fn status(pool: &PgPool, id: &str) -> String {
    common::platform::status_of(pool, id).await
}

/// The id as tradedesk shows it and takes it back: its last 8 hex digits.
fn short(id: &str) -> &str {
    &id[id.len() - 8..]
}

#[tokio::test]
async fn the_platforms_values_read_in_every_command() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    platform_rows(&pool).await;

    // ideas list: every row, the float idea at EURUSD's five digits, the NaN one flagged.
    let run = cli.run(&["ideas", "list"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let line = |id: &str| {
        run.out
            .lines()
            .find(|l| l.starts_with(short(id)))
            .unwrap_or_else(|| panic!("no row {id}: {}", run.out))
            .to_string()
    };
    let floats = line(FLOATS);
    assert!(floats.contains("1.07950–1.08050"), "{floats}");
    assert!(floats.contains("1.08100,1.27050"), "{floats}");
    assert!(floats.contains("1.07800"), "{floats}");
    let nan = line(NAN_STOP);
    assert!(nan.contains("UNREADABLE") && nan.contains("NaN"), "{nan}");
    let infinite = line(INFINITE);
    assert!(infinite.contains('∞'), "{infinite}");
    assert!(
        run.out
            .contains(&format!("{}  stop_loss is NaN", short(NAN_STOP))),
        "the reason is named: {}",
        run.out
    );

    // JSON: prices as strings at the instrument's digits; the flagged row with its id.
    let run = cli.run(&["--json", "ideas", "list"]);
    assert_eq!(run.code, 0, "{}", run.err);
    let ideas = json(&run.out);
    let all = ideas.as_array().unwrap();
    assert_eq!(all.len(), 3, "no row dropped: {ideas}");
    let of = |id: &str| all.iter().find(|i| i["id"] == id).unwrap().clone();
    assert_eq!(
        of(FLOATS)["take_profit"],
        serde_json::json!(["1.08100", "1.27050"])
    );
    assert_eq!(
        of(FLOATS)["entry_range"],
        serde_json::json!(["1.07950", "1.08050"])
    );
    assert_eq!(
        of(NAN_STOP)["unreadable"]["flaws"][0]["column"],
        "stop_loss",
        "{ideas}"
    );

    // ideas show: the float idea in full; the NaN one as stored.
    let run = cli.run(&["ideas", "show", short(FLOATS)]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(
        run.out.contains("Targets    1.08100,1.27050"),
        "{}",
        run.out
    );
    let run = cli.run(&["ideas", "show", short(NAN_STOP)]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("stop_loss is NaN"), "{}", run.out);

    // status and timeline read the infinite times.
    let run = cli.run(&["status"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert!(run.out.contains("3 awaiting approval"), "{}", run.out);
    let run = cli.run(&["timeline"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let top = run.out.lines().nth(1).unwrap_or_default();
    assert!(
        top.starts_with(short(DECIDED_AT_INFINITY))
            && top.contains('∞')
            && top.contains("UNREADABLE"),
        "the row dated infinity is the newest, flagged: {}",
        run.out
    );
    let run = cli.run(&["timeline", "--csv"]);
    assert_eq!(run.code, 0, "{}", run.err);
    assert!(run.out.contains("infinity,UNREADABLE"), "{}", run.out);

    // replay of the float idea's proposal: its prices as a trader reads them.
    let run = cli.run(&["replay", short(ON_FLOATS)]);
    assert!(
        run.code == 0 || run.code == 9,
        "read, whatever snapshot rows it lacks: {}{}",
        run.out,
        run.err
    );
    assert!(run.out.contains("1.08100"), "{}", run.out);

    // Acts: the NaN idea cannot be approved (one sentence naming the row and the column,
    // nothing written); it can be rejected.
    let run = cli.run(&["ideas", "approve", short(NAN_STOP), "--lot", "0.10"]);
    assert_eq!(run.code, 3, "{}{}", run.out, run.err);
    assert!(
        run.err.contains(&format!(
            "trade idea {} cannot be read: stop_loss is NaN",
            short(NAN_STOP)
        )),
        "{}",
        run.err
    );
    assert_eq!(status(&pool, NAN_STOP).await, "needs_approval");
    let run = cli.run(&["ideas", "reject", short(NAN_STOP), "--reason", "no stop"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert_eq!(status(&pool, NAN_STOP).await, "rejected");
    let (action, confidence): (String, Option<String>) = sqlx::query_as(
        "SELECT action::text, confidence_score::text FROM decision_history
          WHERE trade_idea_id = $1::uuid AND action = 'human_rejected'",
    )
    .bind(NAN_STOP)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (action.as_str(), confidence.as_deref()),
        ("human_rejected", Some("88.00"))
    );
    // The float idea rejects too, its expansion never in the way.
    let run = cli.run(&["ideas", "reject", short(FLOATS), "--reason", "too late"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
}

/// The ideas pane's title counts from the database, not the window: 205 waiting, 200 held.
#[tokio::test]
async fn the_ideas_title_says_how_many_wait_whatever_the_window_holds() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    sqlx::raw_sql(&format!(
        "INSERT INTO trade_ideas (id, symbol, direction, entry_price, stop_loss, take_profit,
                                  rationale, confidence_score, status, strategy_id, snapshot_ref,
                                  created_at, updated_at)
         SELECT gen_random_uuid(), 'EURUSD', 'buy', 1.0841, 1.0811, ARRAY[{F1_081}]::numeric[],
                'r' || g, 90, 'needs_approval', '{STRATEGY}', '{SNAPSHOT}',
                timestamptz '2026-11-25 08:00:00+00' + g * interval '1 second',
                timestamptz '2026-11-25 08:00:00+00' + g * interval '1 second'
           FROM generate_series(1, 205) g"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let store = Store::open(&cli.db.target(), 2).await.unwrap();
    let filter = IdeaFilter {
        limit: tradedesk::console::app::IDEAS_WINDOW,
        ..IdeaFilter::default()
    };
    let items = store.ideas(&filter).await.unwrap();
    assert_eq!(items.len(), 200);
    let awaiting = store.pending(None).await.unwrap().count;
    assert_eq!(awaiting, 205);
    let mut app = app_at(Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap());
    app.update(Msg::Loaded(Loaded::Ideas { items, awaiting }));
    let text = screen(&mut app, 160, 48, None);
    assert!(text.contains("205 awaiting approval (200 shown)"), "{text}");
}

/// The console on the platform's rows at 80×24: the ideas tab and the timeline tab, drawn
/// from what the store read.
#[tokio::test]
async fn the_console_draws_the_platforms_rows_at_80x24() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    platform_rows(&pool).await;
    let store = Store::open(&cli.db.target(), 2).await.unwrap();
    let mut app = app_at(at("2026-11-25T10:00:00Z"));
    let items = store
        .ideas(&IdeaFilter {
            limit: 200,
            ..IdeaFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        items
            .iter()
            .filter(|i| matches!(i, Listed::Flagged(_)))
            .count(),
        2
    );
    let awaiting = store.pending(None).await.unwrap().count;
    app.update(Msg::Loaded(Loaded::Ideas { items, awaiting }));
    let page = store
        .timeline(&TimelineFilter {
            limit: 50,
            ..TimelineFilter::default()
        })
        .await
        .unwrap();
    app.update(Msg::Loaded(Loaded::Timeline {
        page,
        append: false,
    }));
    app.update(Msg::Loaded(Loaded::Risk {
        shown: store.risk_shown().await.unwrap(),
        last: None,
    }));
    let ideas = screen(&mut app, 80, 24, Some('3'));
    assert!(ideas.contains("3 awaiting approval"), "{ideas}");
    insta::assert_snapshot!("platform_ideas_at_80x24", ideas);
    let timeline = screen(&mut app, 80, 24, Some('4'));
    assert!(timeline.contains("UNREADABLE"), "{timeline}");
    insta::assert_snapshot!("platform_timeline_at_80x24", timeline);
}

fn app_at(now: DateTime<Utc>) -> App {
    let mut app = App::new(
        "ann@desk.example".into(),
        "postgresql:///ai_trader".into(),
        false,
        Keymap::default(),
        now,
    );
    app.update(Msg::Connected);
    app
}

/// The screen at `width`×`height`, after pressing `pane` (a pane's number) if given.
fn screen(app: &mut App, width: u16, height: u16, pane: Option<char>) -> String {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    app.update(Msg::Resize {
        list_rows: view::list_rows(width, height),
        width,
        height,
    });
    if let Some(c) = pane {
        app.update(Msg::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
    }
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| view::draw(app, &Theme { color: false }, frame))
        .unwrap();
    terminal.backend().to_string()
}

/// Values each Phase-1 type admits that a careless reader trips on, as SQL.
mod extremes {
    pub const PRICE: &[&str] = &[
        "1.085640",
        "'NaN'",
        "999999999999.999999",
        "-999999999999.999999",
        "0.000001",
    ];
    pub const PERCENT: &[&str] = &["91.50", "'NaN'", "999.99", "-999.99", "0"];
    pub const MONEY: &[&str] = &[
        "10000.00",
        "'NaN'",
        "9999999999999999.99",
        "-9999999999999999.99",
    ];
    pub const PRICES: &[&str] = &[
        "ARRAY[1.0878]::numeric[]",
        "ARRAY[1.080999999999999960920149533194489777088165283203125, 1.2705000000000000959232693276135250926017761230468750]::numeric[]",
        "'{NaN}'::numeric[]",
        "'{Infinity,-Infinity}'::numeric[]",
        "'{NULL}'::numeric[]",
        "'{}'::numeric[]",
        "'{{1.1,1.2},{1.3,1.4}}'::numeric[]",
        "ARRAY['1e300'::numeric]",
        "ARRAY['-1e300'::numeric]",
        "ARRAY['4.9406564584124654e-324'::numeric]",
        "'[0:1]={1.1,1.2}'::numeric[]",
    ];
    pub const TIME: &[&str] = &[
        "timestamptz '2026-11-25 09:40:00+00'",
        "'infinity'",
        "'-infinity'",
        "'4713-01-01 00:00:00+00 BC'",
        "'294276-12-31 23:59:59.999999+00'",
        "'1970-01-01 00:00:00+00'",
    ];
    pub const TEXT: &[&str] = &[
        "'EURUSD'",
        "''",
        "repeat('x', 20000)",
        "E'\\x1b]52;c;SGVsbG8=\\x07\\x1b[2J'",
        "E'\\u202eevil\\u200b'",
        "'日本語のニュース'",
        "E'line\\nbreak\\r\\ttab'",
    ];
    pub const SYMBOLS: &[&str] = &[
        "'{EURUSD,GBPUSD}'",
        "'{}'",
        "'{NULL}'",
        "'{{EURUSD},{GBPUSD}}'",
        "'{eurusd}'",
    ];
    pub const JSON: &[&str] = &[
        "'[{\"start\": \"07:00Z\", \"end\": \"11:00Z\", \"days\": [\"Mon\"]}]'",
        "'1e400'",
        "'null'",
        "'[]'",
        "'{\"a\": 1, \"a\": 2}'",
        "'\"\\ud800\"'",
        "(repeat('[', 300) || repeat(']', 300))::json",
    ];
    pub const INT: &[&str] = &["2", "2147483647", "-2147483648", "0"];
}

use proptest::prelude::*;

/// One row of each table the console reads, each column one of its extremes.
#[derive(Debug, Clone)]
struct Rows {
    idea: [&'static str; 9],
    decision: [&'static str; 4],
    strategy: [&'static str; 5],
    account: [&'static str; 3],
    candle: [&'static str; 3],
    headline: [&'static str; 3],
    limits: [&'static str; 3],
}

fn pick(values: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(values)
}

fn rows() -> impl Strategy<Value = Rows> {
    use extremes::*;
    (
        [
            pick(TEXT),
            pick(PRICE),
            pick(PRICES),
            pick(PRICE),
            pick(PRICES),
            pick(TEXT),
            pick(PERCENT),
            pick(TIME),
            pick(TIME),
        ],
        [pick(TIME), pick(TEXT), pick(PERCENT), pick(TEXT)],
        [
            pick(TEXT),
            pick(SYMBOLS),
            pick(JSON),
            pick(PERCENT),
            pick(TIME),
        ],
        [pick(MONEY), pick(INT), pick(TIME)],
        [pick(PRICE), pick(PRICE), pick(TIME)],
        [pick(TEXT), pick(SYMBOLS), pick(TIME)],
        [pick(PERCENT), pick(PERCENT), pick(INT)],
    )
        .prop_map(
            |(idea, decision, strategy, account, candle, headline, limits)| Rows {
                idea,
                decision,
                strategy,
                account,
                candle,
                headline,
                limits,
            },
        )
}

/// Writes `r` as plain SQL (a value a column's constraint refuses is no row any writer
/// can leave, and is skipped).
async fn write(pool: &PgPool, r: &Rows) {
    let strategy = uuid::Uuid::new_v4();
    let idea = uuid::Uuid::new_v4();
    let [name, symbols, document, rr, s_time] = r.strategy;
    let statements = [
        format!(
            "INSERT INTO strategies (id, name, is_active, allowed_symbols, session_windows,
                                     entry_conditions, exit_rules, forbidden_conditions, risk_caps,
                                     rr_expectation, created_at, updated_at)
             VALUES ('{strategy}', {name}, true, {symbols}, {document}, {document}, '{{}}', '{{}}',
                     {document}, {rr}, {s_time}, {s_time})"
        ),
        {
            let [
                symbol,
                price,
                range,
                stop,
                targets,
                rationale,
                confidence,
                created,
                updated,
            ] = r.idea;
            format!(
                "INSERT INTO trade_ideas (id, symbol, direction, entry_price, entry_range, stop_loss,
                                          take_profit, expected_hold, rationale, confidence_score,
                                          status, strategy_id, snapshot_ref, created_at, updated_at)
                 VALUES ('{idea}', {symbol}, 'buy', {price}, {range}, {stop}, {targets}, 'scalp_30m',
                         {rationale}, {confidence}, 'needs_approval', '{strategy}', '{SNAPSHOT}',
                         {created}, {updated})"
            )
        },
        {
            let [at, rationale, confidence, symbol] = r.decision;
            format!(
                "INSERT INTO decision_history (id, occurred_at, symbol, action, rationale,
                                               confidence_score, strategy_id, trade_idea_id,
                                               snapshot_ref)
                 VALUES (gen_random_uuid(), {at}, {symbol}, 'ai_proposed', {rationale},
                         {confidence}, '{strategy}', '{idea}', '{SNAPSHOT}')"
            )
        },
        {
            let [money, positions, at] = r.account;
            format!(
                "INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free,
                                               open_pl, open_positions, captured_at)
                 VALUES ('{SNAPSHOT}', {money}, {money}, {money}, {money}, {money}, {positions}, {at})
                 ON CONFLICT (id) DO NOTHING"
            )
        },
        {
            let [open, close, at] = r.candle;
            format!(
                "INSERT INTO snapshot_market (id, symbol, timeframe, open, high, low, close, volume,
                                              captured_at)
                 VALUES (gen_random_uuid(), 'EURUSD', 'M5', {open}, {close}, {open}, {close}, 10, {at});
                 INSERT INTO snapshot_indicators (id, symbol, timeframe, rsi_14, sma_50, sma_200,
                                                  atr, macd, captured_at)
                 VALUES (gen_random_uuid(), 'EURUSD', 'M5', 'NaN', {open}, {close}, {close},
                         '{{\"macd\": 1e400}}', {at})"
            )
        },
        {
            let [headline, symbols, at] = r.headline;
            format!(
                "INSERT INTO snapshot_news (id, headline, source, symbols, published_at, captured_at)
                 VALUES (gen_random_uuid(), {headline}, 'wire', {symbols}, {at}, {at});
                 INSERT INTO snapshot_calendar (id, event_time, currency, impact_level, title,
                                                captured_at)
                 VALUES (gen_random_uuid(), {at}, 'USD', 'high', {headline}, {at})"
            )
        },
        {
            let [threshold, target, trades] = r.limits;
            format!(
                "UPDATE risk_config SET min_confidence_threshold = {threshold},
                        daily_profit_target = {target}::numeric(12,2) * 0 + {target},
                        max_concurrent_trades = {trades}
                  WHERE id"
            )
        },
    ];
    for sql in statements {
        if let Err(e) = sqlx::raw_sql(&sql).execute(pool).await {
            // Out of a column's range (NUMERIC(5,2) holds no 999999): no writer stores it.
            let refused = matches!(&e, sqlx::Error::Database(d)
                if matches!(d.code().as_deref(), Some("22003" | "22P02" | "22008" | "22007" | "23514" | "2202E")));
            assert!(refused, "{sql}: {e}");
        }
    }
}

/// Every read the console and the commands make, on whatever `write` left: each answers,
/// or refuses with a sentence naming a row (never a failed decode, never a panic), and
/// the console draws it at every size.
async fn read_everything(store: &Store) {
    use tradedesk::store::Error;
    let fine = |what: &str, e: &Error| {
        assert!(
            matches!(e, Error::Unreadable { .. } | Error::NotFound { .. }),
            "{what}: {e}"
        );
    };
    let ideas = store
        .ideas(&IdeaFilter {
            limit: 200,
            ..IdeaFilter::default()
        })
        .await
        .expect("ideas list");
    let awaiting = store.pending(None).await.expect("the count").count;
    assert_eq!(
        awaiting as usize,
        ideas.iter().filter(|i| i.awaits_approval()).count(),
        "every idea waiting is listed, read or flagged"
    );
    for i in &ideas {
        store.idea(i.id()).await.expect("ideas show");
        if let Err(e) = store.gate_context(i.id()).await {
            fine("the approval dialog's checks", &e);
        }
        if let Err(e) = store.replay_idea(i.id()).await {
            fine("an idea's replay", &e);
        }
    }
    let mut filter = TimelineFilter {
        limit: 3,
        ..TimelineFilter::default()
    };
    let mut decisions = Vec::new();
    loop {
        let page = store.timeline(&filter).await.expect("a timeline page");
        decisions.extend(page.decisions);
        match page.next {
            Some(next) => filter.after = Some(next),
            None => break,
        }
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM decision_history")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(
        decisions.len() as i64,
        total,
        "the keyset walk reaches every row"
    );
    for d in &decisions {
        if let Err(e) = store.replay(d.id()).await {
            fine("a decision's replay", &e);
        }
    }
    let strategies = store.strategies().await.expect("strategies list");
    let risk = store.risk_shown().await.expect("the risk row");
    store.latest_account().await.expect("the latest capture");
    let now = Utc::now();
    let captures = store
        .account_since(now - chrono::Duration::days(400_000))
        .await
        .expect("the day's captures");
    store
        .strategy_days(now - chrono::Duration::days(400_000))
        .await
        .expect("the strategies' days");

    let mut app = app_at(now);
    app.update(Msg::Loaded(Loaded::Ideas {
        items: ideas,
        awaiting,
    }));
    app.update(Msg::Loaded(Loaded::Timeline {
        page: tradedesk::store::timeline::Page {
            decisions,
            next: None,
        },
        append: false,
    }));
    app.update(Msg::Loaded(Loaded::Strategies(strategies)));
    app.update(Msg::Loaded(Loaded::Risk {
        shown: risk,
        last: None,
    }));
    app.update(Msg::Loaded(Loaded::Account {
        latest: captures.read.last().copied(),
        unreadable: captures.flagged,
        day: None,
        equity: Vec::new(),
    }));
    for (w, h) in [(160, 48), (80, 24), (1, 1)] {
        for pane in ['1', '2', '3', '4'] {
            screen(&mut app, w, h, Some(pane));
            for key in ['j', 'i'] {
                app.update(Msg::Key(crossterm::event::KeyEvent::new(
                    crossterm::event::KeyCode::Char(key),
                    crossterm::event::KeyModifiers::NONE,
                )));
                screen(&mut app, w, h, None);
                app.update(Msg::Key(crossterm::event::KeyEvent::new(
                    crossterm::event::KeyCode::Esc,
                    crossterm::event::KeyModifiers::NONE,
                )));
            }
        }
    }
}

/// Whatever each column holds, every read answers and the console draws it: random
/// batches of rows, each column one of its extremes, written into one database one batch
/// after another, everything read again after each.
#[test]
fn every_column_at_its_extremes_is_read_and_drawn() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (db, store) = runtime.block_on(async {
        let db = common::TestDb::new().await;
        tradedesk::store::setup::setup(&db.target(), false)
            .await
            .unwrap();
        let store = Store::open(&db.target(), 2).await.unwrap();
        (db, store)
    });
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 6,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&prop::collection::vec(rows(), 1..4), |batch| {
        runtime.block_on(async {
            let pool = db.pool().await;
            for rows in &batch {
                write(&pool, rows).await;
            }
            read_everything(&store).await;
        });
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let written: i64 = runtime.block_on(async {
        sqlx::query_scalar("SELECT count(*) FROM trade_ideas")
            .fetch_one(store.pool())
            .await
            .unwrap()
    });
    assert!(written >= 8, "the batches wrote rows ({written} ideas)");
}

/// The real console on the platform's rows: the ideas tab lists all three (the float idea
/// at EURUSD's digits, the others flagged) under the true count, and the reader never dies
/// (it read the timeline dated `infinity` too).
#[tokio::test]
async fn the_running_console_lists_the_platforms_rows() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    platform_rows(&pool).await;
    let mut console = common::console::Console::start(&cli.db.url);
    console.wait_for("AI TRADING");
    console.keys("3");
    let text = console.wait_for("3 awaiting approval");
    assert!(text.contains("1.08100,1.27050"), "{text}");
    assert!(text.contains("UNREADABLE"), "{text}");
    console.keys("4");
    let text = console.wait_for("occurred_at is");
    assert!(text.contains('∞'), "{text}");
    console.keys("q");
}

/// The simulator's paper broker trades the orders approved on the platform's ideas: a
/// float's targets read as prices, an order whose idea has a `NaN` stop is left out
/// (never failing the others).
#[tokio::test]
async fn the_paper_broker_reads_the_platforms_orders() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    platform_rows(&pool).await;
    // Orders as an approval hands them to execution (docs/platform.md, the hand-off).
    sqlx::raw_sql(&format!(
        "INSERT INTO tradedesk.executions (id, trade_idea_id, lot_size, requested_by, requested_at)
         VALUES (gen_random_uuid(), '{FLOATS}', 0.10, 'ann@desk', now()),
                (gen_random_uuid(), '{NAN_STOP}', 0.10, 'ann@desk', now())"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let store = Store::open(&cli.db.target(), 2).await.unwrap();
    let positions = store.open_positions().await.expect("the open orders");
    assert_eq!(positions.len(), 1, "the NaN one left out: {positions:?}");
    let p = &positions[0];
    assert_eq!(p.trade_idea_id.to_string(), FLOATS);
    assert_eq!(
        p.take_profit,
        [
            "1.081".parse().unwrap(),
            "1.2705".parse::<rust_decimal::Decimal>().unwrap()
        ]
    );
}

/// Limits another writer made unreadable (`NaN` in a NUMERIC(10,2)) never stop the kill
/// switch; approvals are refused naming the column until an edit sets it.
#[tokio::test]
async fn a_nan_limit_stops_approvals_never_the_kill_switch() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    platform_rows(&pool).await;
    sqlx::raw_sql(
        "UPDATE risk_config SET ai_trading_enabled = true, max_lot_size = 'NaN' WHERE id",
    )
    .execute(&pool)
    .await
    .unwrap();
    let run = cli.run(&["status"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert!(run.out.contains("AI TRADING: ON"), "{}", run.out);
    assert!(run.out.contains("max_lot_size is NaN"), "{}", run.out);
    let run = cli.run(&["ideas", "approve", short(FLOATS), "--lot", "0.10"]);
    assert_eq!(run.code, 3, "{}{}", run.out, run.err);
    assert!(
        run.err
            .contains("risk_config cannot be read: max_lot_size is NaN"),
        "{}",
        run.err
    );
    assert_eq!(status(&pool, FLOATS).await, "needs_approval");
    let run = cli.run(&["halt", "--reason", "limits unreadable"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    assert!(
        run.out.contains("AI TRADING: OFF — limits unreadable"),
        "{}",
        run.out
    );
    // An edit that leaves the NaN unset is refused; one that sets it corrects the row.
    let run = cli.run(&["risk", "set", "max_concurrent_trades=4"]);
    assert_eq!(run.code, 3, "{}{}", run.out, run.err);
    assert!(
        run.err.contains("set max_lot_size in the same edit"),
        "{}",
        run.err
    );
    let run = cli.run(&["risk", "set", "max_lot_size=0.50"]);
    assert_eq!(run.code, 0, "{}{}", run.out, run.err);
    let before: String = sqlx::query_scalar(
        "SELECT before ->> 'max_lot_size' FROM tradedesk.config_changes
          WHERE subject = 'risk_config' ORDER BY changed_at DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(before, "NaN", "the audit keeps what was stored");
}

/// The drawdown guard judges a `NaN` limit as reached by the first cent of loss: a limit
/// that cannot be read halts, never lets the AI trade on unguarded.
#[tokio::test]
async fn a_nan_drawdown_limit_halts_at_the_first_loss() {
    let cli = Cli::new().await;
    let pool = cli.db.pool().await;
    sqlx::raw_sql(
        "UPDATE risk_config SET ai_trading_enabled = true, max_drawdown_amount = 'NaN' WHERE id;
         INSERT INTO snapshot_account (id, balance, equity, margin_used, margin_free, open_pl,
                                       open_positions, captured_at)
         VALUES (gen_random_uuid(), 10000.00, 9999.99, 0, 9999.99, -0.01, 0,
                 now() + interval '1 second')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let (on, reason): (bool, Option<String>) =
        sqlx::query_as("SELECT ai_trading_enabled, last_halt_reason FROM risk_config")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((on, reason.as_deref()), (false, Some("max_drawdown")));
}
