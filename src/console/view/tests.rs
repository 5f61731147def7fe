//! Screens as text at fixed sizes, with fixed data and a fixed clock (insta snapshots in
//! `snapshots/`), and every size down to 1×1 drawn without a panic.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::console::app::App;
use crate::console::fixtures::{loaded_app, now};
use crate::console::msg::{Loaded, Msg};
use crate::console::theme::Theme;
use crate::console::view::{TALL, WIDE, draw};

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| draw(app, &Theme { color: false }, frame))
        .unwrap();
    terminal.backend().to_string()
}

fn press(app: &mut App, c: char) {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), modifiers)));
}

fn resized(mut app: App, width: u16, height: u16) -> App {
    app.update(Msg::Resize {
        list_rows: super::list_rows(width, height),
        width,
        height,
    });
    app
}

#[test]
fn four_panes_at_160x48() {
    let app = resized(loaded_app(true), 160, 48);
    insta::assert_snapshot!(screen(&app, 160, 48));
}

#[test]
fn halted_header_at_160x48() {
    let app = resized(loaded_app(false), 160, 48);
    insta::assert_snapshot!(screen(&app, 160, 48));
}

#[test]
fn each_pane_as_a_tab_at_80x24() {
    for pane in ['1', '2', '3', '4'] {
        let mut app = resized(loaded_app(false), 80, 24);
        press(&mut app, pane);
        insta::assert_snapshot!(format!("tab_{pane}_at_80x24"), screen(&app, 80, 24));
    }
}

#[test]
fn approve_dialog_with_its_live_verdict() {
    for (width, height) in [(80, 24), (160, 48)] {
        let mut app = resized(loaded_app(false), width, height);
        press(&mut app, 'a');
        let ctx = crate::console::tests_support::context(&app);
        app.update(Msg::Loaded(Loaded::GateContext(Box::new(ctx))));
        insta::assert_snapshot!(
            format!("approve_{width}x{height}"),
            screen(&app, width, height)
        );
    }
}

#[test]
fn kill_switch_reject_resume_dialogs_and_help() {
    for (width, height) in [(80, 24), (160, 48)] {
        for (name, keys) in [
            ("halt", "K"),
            ("reject", "r"),
            ("resume", "R"),
            ("help", "?"),
        ] {
            let mut app = resized(loaded_app(true), width, height);
            for c in keys.chars() {
                press(&mut app, c);
            }
            insta::assert_snapshot!(
                format!("{name}_{width}x{height}"),
                screen(&app, width, height)
            );
        }
    }
}

#[test]
fn halting_and_disconnected_headers() {
    let mut app = resized(loaded_app(true), 80, 24);
    press(&mut app, 'K');
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    insta::assert_snapshot!("halting_80x24", screen(&app, 80, 24));
    let mut app = resized(loaded_app(true), 80, 24);
    app.update(Msg::Disconnected("connection reset".into()));
    app.update(Msg::Tick(now() + chrono::Duration::seconds(7)));
    insta::assert_snapshot!("disconnected_80x24", screen(&app, 80, 24));
}

#[test]
fn every_size_down_to_one_cell_draws_without_panicking() {
    let mut app = loaded_app(false);
    press(&mut app, 'a');
    for width in [1, 2, 5, 10, 20, 40, 79, 119, 120] {
        for height in [1, 2, 3, 5, 8, 12, 23, 31, 32] {
            let _ = screen(&app, width, height);
            let _ = screen(&loaded_app(true), width, height);
        }
    }
}

#[test]
fn the_demo_badge_at_80x24_and_160x48() {
    for (width, height) in [(80, 24), (160, 48)] {
        let mut app = resized(loaded_app(false), width, height);
        app.demo = true;
        let text = screen(&app, width, height);
        let first = text.lines().next().unwrap_or_default();
        assert!(first.starts_with("\" DEMO   AI TRADING: OFF"), "{first}");
        insta::assert_snapshot!(format!("demo_{width}x{height}"), text);
    }
}

#[test]
fn the_demo_badge_and_the_switch_stay_on_the_first_line_at_every_width_from_80() {
    let mut armed = loaded_app(true);
    armed.demo = true;
    armed.update(Msg::Disconnected("connection reset".into()));
    press(&mut armed, 'K');
    armed.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let mut off = loaded_app(false);
    off.demo = true;
    off.risk.as_mut().unwrap().config.last_halt_reason = Some("x".repeat(300));
    for app in [&armed, &off] {
        for width in 80..=200 {
            let text = screen(app, width, 24);
            let first = text.lines().next().unwrap_or_default();
            assert!(first.contains(" DEMO "), "{width}: {first}");
            assert!(
                first.contains("AI TRADING: OFF") || first.contains("HALT PENDING"),
                "{width}: {first}"
            );
            assert!(
                first.contains("● LIVE") || first.contains("DISCONNECTED"),
                "the connection is never pushed off: {width}: {first}"
            );
        }
    }
    let plain = screen(&loaded_app(true), 80, 24);
    assert!(!plain.contains("DEMO"), "no badge on a real platform");
    // Over a replay too (it covers the header), beside the AI switch.
    let mut replaying = resized(loaded_app(true), 80, 24);
    replaying.demo = true;
    replaying.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    replaying.update(Msg::Loaded(Loaded::Replay(Box::new(
        crate::console::fixtures::replay_pending(),
    ))));
    let text = screen(&replaying, 80, 24);
    let first = text.lines().next().unwrap_or_default();
    assert!(first.ends_with(" DEMO  AI TRADING: ON\""), "{first}");
}

#[test]
fn the_equity_line_shows_where_there_is_room_and_the_header_stays_readable() {
    let app = loaded_app(true);
    let third = |width, height| {
        screen(&app, width, height)
            .lines()
            .nth(2)
            .unwrap_or_default()
            .to_owned()
    };
    // 80×24: a sparkline with its scale; the day's real low, though no column shows it.
    let line = third(80, 24);
    assert!(line.starts_with("\"Equity 00:00–10:29 UTC ▃"), "{line}");
    assert!(line.ends_with(" ▁24650.00 █25200.00\""), "{line}");
    // Narrower: the short label, then nothing rather than a line without its scale.
    let short = third(40, 24);
    assert!(short.starts_with("\"Equity ▂"), "{short}");
    assert!(short.ends_with(" ▁24650.00 █25200.00\""), "{short}");
    assert_eq!(third(30, 24).trim_matches(['"', ' ']), "");
    // Below 24 rows the header keeps its three lines: the gauges come third.
    assert!(third(80, 23).starts_with("\"Day P/L"), "{}", third(80, 23));
    // A day with one capture only (before it started): flat.
    let mut quiet = loaded_app(true);
    quiet.equity.truncate(1);
    let line = screen(&quiet, 80, 24)
        .lines()
        .nth(2)
        .unwrap_or_default()
        .to_owned();
    assert!(line.contains("▄▄▄▄ ▄24800.00 flat"), "{line}");
    assert!(line.contains("since 00:00 UTC"), "{line}");
}

#[test]
fn limits_near_and_reached_say_so_in_words_in_the_header_and_the_risk_pane() {
    let mut app = resized(loaded_app(true), 80, 24);
    press(&mut app, '1');
    let mut day = app.day.unwrap();
    day.day_pnl = "1600.00".parse().unwrap(); // 80 % of 2000.00
    day.drawdown = "1000.00".parse().unwrap(); // the limit
    app.day = Some(day);
    let text = screen(&app, 80, 24);
    // In the header, tight at 80 columns: every word whole.
    assert!(text.contains("Day P/L +1600.00/2000.00 80% near"), "{text}");
    assert!(
        text.contains("Drawdown 1000.00/1000.00 100% REACHED"),
        "{text}"
    );
    assert!(text.contains("+1600.00 / 2000.00   80% near"), "{text}");
    assert!(
        text.contains("████████  1000.00 / 1000.00  100% REACHED"),
        "{text}"
    );
    // A loss: the target's bar is empty, its number and percentage shown.
    day.day_pnl = "-120.00".parse().unwrap();
    day.drawdown = "799.99".parse().unwrap();
    app.day = Some(day);
    let text = screen(&app, 80, 24);
    let bars: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("\"│day P/L") || l.starts_with("\"│drawdown"))
        .collect();
    assert_eq!(bars.len(), 2, "{text}");
    assert!(bars[0].contains("day P/L  ░░░░"), "{}", bars[0]);
    assert!(bars[0].contains(" -120.00 / 2000.00   -6%│"), "{}", bars[0]);
    assert!(bars[1].contains(" 799.99 / 1000.00   79%│"), "{}", bars[1]);
}

#[test]
fn approve_over_a_replay_keeps_the_chart_in_view() {
    for (width, height) in [(80, 24), (160, 48)] {
        let mut app = resized(loaded_app(true), width, height);
        let replay = crate::console::fixtures::replay_pending();
        let id = replay.idea.as_ref().unwrap().id;
        app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        app.update(Msg::Loaded(Loaded::Replay(Box::new(replay))));
        let text = screen(&app, width, height);
        let footer = text.lines().last().unwrap_or_default();
        assert!(footer.starts_with("\"a approve · r reject · "), "{footer}");
        // Read-only, the keys are not offered.
        app.read_only = true;
        let text = screen(&app, width, height);
        let footer = text.lines().last().unwrap_or_default();
        assert!(footer.starts_with("\"j/k scroll · "), "{footer}");
        app.read_only = false;
        press(&mut app, 'a');
        let ctx = crate::console::tests_support::context(&app);
        assert_eq!(ctx.idea.id, id);
        app.update(Msg::Loaded(Loaded::GateContext(Box::new(ctx))));
        let text = screen(&app, width, height);
        assert!(text.contains("APPROVE"), "{text}");
        assert!(
            text.contains("entry 1.08564"),
            "the chart's levels stay: {text}"
        );
        assert!(text.contains("▲09:55"), "the moment stays: {text}");
        insta::assert_snapshot!(format!("approve_over_replay_{width}x{height}"), text);
    }
}

#[test]
fn every_size_draws_a_dialog_over_a_replay_without_panicking() {
    let mut app = loaded_app(true);
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    app.update(Msg::Loaded(Loaded::Replay(Box::new(
        crate::console::fixtures::replay_pending(),
    ))));
    press(&mut app, 'a');
    let ctx = crate::console::tests_support::context(&app);
    app.update(Msg::Loaded(Loaded::GateContext(Box::new(ctx))));
    for width in [1, 2, 5, 10, 20, 40, 79, 80, 119, 120, 200] {
        for height in [1, 2, 3, 5, 8, 12, 23, 24, 31, 32, 60] {
            let _ = screen(&app, width, height);
        }
    }
}

#[test]
fn each_strategys_day_reads_exactly_even_when_it_cannot_be_valued_or_is_quiet() {
    let mut app = resized(loaded_app(true), 80, 24);
    press(&mut app, '2');
    let text = screen(&app, 80, 24);
    assert!(
        text.contains("│today    P/L +34.20 = closed +30.00 + 2 open +4.20"),
        "{text}"
    );
    press(&mut app, 'j');
    let text = screen(&app, 80, 24);
    assert!(text.contains(" 3 ideas · 1 auto · P/L      —│"), "{text}");
    assert!(
        text.contains("│today    P/L — : 1 open cannot be valued · closed -12.50"),
        "{text}"
    );
    press(&mut app, 'j');
    let text = screen(&app, 80, 24);
    assert!(text.contains(" 0 ideas · 0 auto · P/L   0.00│"), "{text}");
    assert!(
        text.contains("│today    P/L 0.00 = closed 0.00 + 0 open 0.00"),
        "{text}"
    );
    // Before the first read: said, never shown as a quiet day.
    app.strategy_days = None;
    let text = screen(&app, 80, 24);
    assert_eq!(text.matches("reading…").count(), 4, "{text}");
    // One idea reads as one, the column still aligned.
    let mut days = crate::console::fixtures::strategy_days();
    days[1].ideas = 1;
    app.update(Msg::Loaded(Loaded::StrategyDays(days)));
    let text = screen(&app, 80, 24);
    assert!(text.contains("12 ideas · 5 auto"), "{text}");
    assert!(text.contains(" 1 idea  · 1 auto"), "{text}");
}

#[test]
fn the_smallest_four_pane_screen_shows_rows_of_every_pane() {
    let app = resized(loaded_app(false), WIDE, TALL);
    let text = screen(&app, WIDE, TALL);
    insta::assert_snapshot!(text.clone());
    // The timeline's first rows are there, under its header, not only its frame.
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("Decision timeline"))
        .unwrap();
    assert!(
        lines[at + 2].contains("ai_") || lines[at + 2].contains("human_"),
        "{text}"
    );
    // The header's two bars keep apart.
    assert!(text.contains("  Drawdown"), "{text}");
}

#[test]
fn an_archive_opens_on_its_timeline_alone_and_nothing_in_it_can_be_done() {
    use crate::console::app::ArchiveShown;
    use crate::console::keymap::Keymap;
    use crate::console::msg::Cmd;
    use crate::store::timeline::Page;

    for (width, height) in [(80, 24), (160, 48)] {
        let decisions = crate::console::fixtures::decisions();
        let shown = ArchiveShown {
            file: "2026-q1.tdarchive".into(),
            database: "ai_trader".into(),
            created_at: now(),
            decisions: decisions.len(),
            span: Some((
                decisions.last().unwrap().occurred_at,
                decisions[0].occurred_at,
            )),
            seqs: (1, decisions.len() as i64),
            checked: None,
        };
        let mut app = App::new(
            "archive".into(),
            "ai_trader".into(),
            true,
            Keymap::default(),
            now(),
        )
        .on_archive(shown);
        app.update(Msg::Resize {
            list_rows: super::archive_list_rows(width, height),
            width,
            height,
        });
        // Opened, it reads its timeline and nothing else (an archive has no live pane).
        let cmds = app.update(Msg::Connected);
        assert!(
            matches!(cmds.as_slice(), [Cmd::LoadTimeline { append: false, .. }]),
            "{cmds:?}"
        );
        app.update(Msg::Loaded(Loaded::Timeline {
            page: Page {
                decisions: decisions
                    .iter()
                    .cloned()
                    .map(crate::domain::stored::Listed::Read)
                    .collect(),
                next: None,
            },
            append: false,
        }));
        // Pane keys keep the timeline; a new day reads nothing.
        for key in ['1', '2', '3'] {
            press(&mut app, key);
        }
        assert_eq!(app.focus, crate::console::msg::Pane::Timeline);
        assert!(
            app.update(Msg::Tick(now() + chrono::Duration::days(1)))
                .is_empty()
        );
        app.update(Msg::Flush);
        assert!(
            app.reading
                .iter()
                .all(|r| *r == crate::console::msg::Reload::Timeline)
        );
        let text = screen(&app, width, height);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains(" ARCHIVE "), "{text}");
        assert!(lines[0].contains("READ-ONLY"), "{text}");
        // Nothing but the file vouched for it, and the header says so first.
        assert!(
            lines[0].contains("READ-ONLY  not checked against a database"),
            "{text}"
        );
        assert!(!text.contains("AI TRADING"), "no live switch: {text}");
        assert!(!text.contains("HALT"), "nothing to halt: {text}");
        assert!(text.contains(decisions[0].action.as_str()), "{text}");
        insta::assert_snapshot!(format!("archive_{width}x{height}"), text);

        // The kill switch and every act say why not, and send nothing.
        for key in ['K', 'a', 'r'] {
            let cmds = app.update(Msg::Key(KeyEvent::new(
                KeyCode::Char(key),
                if key == 'K' {
                    KeyModifiers::SHIFT
                } else {
                    KeyModifiers::NONE
                },
            )));
            assert!(cmds.is_empty(), "{key}: {cmds:?}");
            assert!(app.dialog.is_none(), "{key}");
        }
        let toast = app
            .toast
            .as_ref()
            .map(|t| t.text.clone())
            .unwrap_or_default();
        assert!(toast.contains("archive file is read-only"), "{toast}");

        // Enter replays the selected decision from the file; its title says ARCHIVE.
        let cmds = app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        assert_eq!(
            cmds,
            vec![Cmd::LoadReplay(decisions[0].id)],
            "the newest decision, selected"
        );
        let mut replay = crate::console::fixtures::replay();
        replay.decision = Some(decisions[0].clone());
        app.update(Msg::Loaded(Loaded::Replay(Box::new(replay))));
        let text = screen(&app, width, height);
        assert!(text.lines().next().unwrap().contains(" ARCHIVE "), "{text}");
    }
}

/// What an attacker writes into every text column the console shows: an OSC 52 clipboard
/// write, a window title, a screen clear, C1 CSI, bidi overrides and isolates, zero-width
/// and byte-order marks, a carriage return and a line break.
const HOSTILE: &str = "\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}\u{2066}\u{200b}\u{feff}\r\n!";

/// How [`HOSTILE`] is shown on one line: every character visible.
const HOSTILE_SHOWN: &str = "\\u{1b}]52;c;ZXZpbA==\\u{7}\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{202e}\\u{2066}\\u{200b}\\u{feff}\\u{d}\\u{a}!";

/// `text` with [`HOSTILE`] after it.
fn evil(text: &str) -> String {
    format!("{text}{HOSTILE}")
}

/// The fixture desk with every text column the console shows made hostile.
fn hostile_app() -> App {
    use crate::console::fixtures::{decisions, idea, strategies};
    use crate::domain::IdeaStatus;
    use crate::domain::stored::Listed;
    use crate::store::risk::LastChange;
    use crate::store::timeline::Page;

    let mut app = App::new(
        evil("ann@desk"),
        evil("postgresql:///ai_trader"),
        false,
        crate::console::keymap::Keymap::default(),
        now(),
    );
    app.update(Msg::Connected);
    let mut ideas = Vec::new();
    for (n, status) in [(1, IdeaStatus::NeedsApproval), (2, IdeaStatus::Rejected)] {
        let mut i = idea(n, "EURUSD", status, 10);
        i.symbol = evil("EU");
        i.strategy_name = Some(evil("London"));
        i.rationale = evil("Breakout");
        i.expected_hold = Some(evil("scalp"));
        ideas.push(Listed::Read(i));
    }
    let mut strategies = strategies();
    for s in &mut strategies {
        s.name = evil("Strat");
        s.allowed_symbols = vec![evil("EU")];
    }
    let mut decisions = decisions();
    for d in &mut decisions {
        d.symbol = Some(evil("EU"));
        d.operator = Some(evil("op"));
        d.rationale = evil("why");
        d.risk_check_result = Some(evil("fail:"));
    }
    for l in [
        Loaded::Risk {
            shown: crate::console::fixtures::risk_shown(false, Some(&evil("halted"))),
            last: Some(LastChange {
                operator: evil("raj"),
                changes: evil("max_lot_size=1.00"),
                changed_at: now(),
            }),
        },
        Loaded::Strategies(strategies.into_iter().map(Listed::Read).collect()),
        Loaded::Ideas {
            items: ideas,
            awaiting: 1,
        },
        Loaded::Timeline {
            page: Page {
                decisions: decisions.into_iter().map(Listed::Read).collect(),
                next: None,
            },
            append: false,
        },
    ] {
        app.update(Msg::Loaded(l));
    }
    app
}

/// A hostile replay: every text of the decision, idea, strategy, calendar and headlines.
fn hostile_replay() -> crate::domain::Replay {
    let mut r = crate::console::fixtures::replay();
    if let Some(d) = &mut r.decision {
        d.operator = Some(evil("op"));
        d.rationale = evil("why");
        d.risk_check_result = Some(evil("pass"));
    }
    if let Some(i) = &mut r.idea {
        i.symbol = evil("EU");
        i.rationale = evil("Breakout");
    }
    if let Some((s, _)) = &mut r.strategy {
        s.name = evil("Strat");
    }
    if let Some(m) = &mut r.market {
        m.symbol = evil("EU");
    }
    for h in &mut r.news {
        h.headline = evil("Headline");
        h.source = evil("wire");
    }
    for e in &mut r.calendar {
        e.event.title = evil("CPI");
    }
    r
}

/// The screen drawn by each drawing function alone, and how many of its cells still held
/// a hidden character (the last guard, `scrub`, would have replaced them).
fn drawn_unguarded(app: &App, width: u16, height: u16) -> (String, usize) {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let mut hidden = 0;
    terminal
        .draw(|frame| {
            super::draw_views(app, &Theme { color: false }, frame);
            hidden = super::scrub(frame.buffer_mut());
        })
        .unwrap();
    (terminal.backend().to_string(), hidden)
}

#[test]
fn text_from_the_database_and_the_keyboard_is_shown_escaped_in_every_view() {
    use crate::domain::text::is_hidden;
    let key = |app: &mut App, code: KeyCode| {
        app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    };
    // (what, keys pressed, size, what must be seen escaped)
    let screens: Vec<(&str, App, u16, u16, &[&str])> = {
        let wide = || resized(hostile_app(), 200, 60);
        let narrow = || resized(hostile_app(), 80, 24);
        let mut out: Vec<(&str, App, u16, u16, &[&str])> = vec![(
            "four panes",
            wide(),
            200,
            60,
            &["halted\\u{1b}]52;c;", "EU\\u{1b}]52", "\\u{202e}"],
        )];
        for (name, pane) in [
            ("risk", '1'),
            ("strategies", '2'),
            ("ideas", '3'),
            ("timeline", '4'),
        ] {
            let mut app = narrow();
            press(&mut app, pane);
            out.push((name, app, 80, 24, &["\\u{1b}]52;c;"]));
        }
        // Details of an idea (its rationale), a decision and a strategy.
        let mut app = wide();
        press(&mut app, '3');
        press(&mut app, 'i');
        out.push(("idea details", app, 200, 60, &["Breakout\\u{1b}]52;c;"]));
        let mut app = wide();
        press(&mut app, '4');
        press(&mut app, 'i');
        out.push(("decision details", app, 200, 60, &["why\\u{1b}]52;c;"]));
        let mut app = wide();
        press(&mut app, '2');
        key(&mut app, KeyCode::Enter);
        out.push(("strategy details", app, 200, 60, &["EU\\u{1b}]52"]));
        // What is typed into the kill switch and a rejection, and the refusal under it.
        for (name, open) in [("halt dialog", 'K'), ("reject dialog", 'r')] {
            let mut app = wide();
            press(&mut app, '3');
            press(&mut app, open);
            for c in "lunch\u{202e}x".chars() {
                press(&mut app, c);
            }
            key(&mut app, KeyCode::Enter);
            assert!(
                app.dialog.is_some(),
                "{name}: Enter waits for a reason it can keep"
            );
            out.push((
                name,
                app,
                200,
                60,
                &["lunch\\u{202e}x", "U+202E (a bidi control"],
            ));
        }
        // A toast quoting the database, and the help with the database's name.
        let mut app = wide();
        app.toast(evil("failed: "), true);
        out.push(("toast", app, 200, 60, &["failed: \\u{1b}]52"]));
        let mut app = wide();
        press(&mut app, '?');
        out.push(("help", app, 200, 60, &["ai_trader\\u{1b}]52"]));
        // The replay, at both layouts.
        for (w, h) in [(200, 60), (80, 24)] {
            let mut app = resized(hostile_app(), w, h);
            let replay = hostile_replay();
            let of = replay.decision.as_ref().map(|d| d.id).unwrap_or_default();
            app.open_replay(crate::console::app::ReplayOf::Decision(of));
            app.update(Msg::Loaded(Loaded::Replay(Box::new(replay))));
            out.push(("replay", app, w, h, &["\\u{1b}]52;c;"]));
        }
        out
    };
    for (name, app, width, height, seen) in screens {
        let (text, hidden) = drawn_unguarded(&app, width, height);
        assert_eq!(
            hidden, 0,
            "{name}: cells left holding a hidden character:\n{text}"
        );
        assert!(
            !text.chars().any(|c| c != '\n' && is_hidden(c)),
            "{name}:\n{text}"
        );
        for s in seen {
            assert!(text.contains(s), "{name}: `{s}` is not shown:\n{text}");
        }
    }
    // The whole escape, where a line has room for it.
    let (text, _) = drawn_unguarded(&resized(hostile_app(), 200, 60), 200, 60);
    assert!(text.contains(HOSTILE_SHOWN), "{text}");
}

#[test]
fn the_last_guard_draws_a_hidden_character_no_view_showed_as_a_replacement() {
    let mut terminal = Terminal::new(TestBackend::new(10, 1)).unwrap();
    terminal
        .draw(|frame| {
            let buffer = frame.buffer_mut();
            buffer[(0, 0)].set_symbol("a\u{200d}");
            buffer[(1, 0)].set_symbol("\u{202e}");
            assert_eq!(super::scrub(buffer), 2);
        })
        .unwrap();
    assert!(terminal.backend().to_string().starts_with("\"��"));
}
