//! `update` is pure: these tests drive the console with keys and messages and check its
//! state and the commands it asks for. No terminal, no database.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rust_decimal::Decimal;

use super::app::{App, Connection};
use super::dialog::Dialog;
use super::fixtures::{self, loaded_app, now};
use super::msg::{AlertKind, Cmd, Done, Loaded, Msg, Pane, Reload};
use crate::domain::Outcome;
use crate::domain::stored::Listed;
use crate::domain::{Act, IdeaStatus, Lot, RiskChangeSet};
use crate::store::halt::Halted;
use crate::store::listen::Change;

fn key(app: &mut App, code: KeyCode) -> Vec<Cmd> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ch(app: &mut App, c: char) -> Vec<Cmd> {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), modifiers)))
}

fn ctrl(app: &mut App, c: char) -> Vec<Cmd> {
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        ch(app, c);
    }
}

/// The text of the toast on screen.
fn toast(app: &App) -> &str {
    app.toast.as_ref().map(|t| t.text.as_str()).unwrap_or("")
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

use super::tests_support::context;

#[test]
fn approval_sends_the_typed_lot_once_the_risk_checks_pass() {
    let mut app = loaded_app(false);
    assert_eq!(app.focus, Pane::Ideas);
    let first = app.ideas.items[0].id();
    assert_eq!(ch(&mut app, 'a'), vec![Cmd::LoadGateContext(first)]);
    assert!(matches!(app.dialog, Some(Dialog::Approve(_))));
    // Enter before the risk state arrives does nothing.
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);

    app.update(Msg::Loaded(Loaded::GateContext(Box::new(context(&app)))));
    let Some(Dialog::Approve(dialog)) = &app.dialog else {
        panic!()
    };
    assert_eq!(
        dialog.lot.value(),
        "0.50",
        "the smaller of the strategy cap and max_lot_size"
    );

    ctrl(&mut app, 'u');
    typed(&mut app, "0.75");
    let Some(Dialog::Approve(dialog)) = &app.dialog else {
        panic!()
    };
    let (_, report) = dialog.verdict.clone().unwrap().unwrap();
    assert_eq!(
        report.risk_check_result(),
        "fail:lot_size",
        "judged live as typed"
    );
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![],
        "a failing lot is not sent"
    );

    ctrl(&mut app, 'u');
    typed(&mut app, "0.30");
    let cmds = key(&mut app, KeyCode::Enter);
    assert_eq!(
        cmds,
        vec![Cmd::Approve {
            idea: first,
            lot: Lot::parse("0.30").unwrap()
        }]
    );
    assert!(app.dialog.is_none());
    assert_eq!(app.in_flight, 1);
}

#[test]
fn a_lot_that_is_not_a_number_is_named_and_never_sent() {
    let mut app = loaded_app(false);
    ch(&mut app, 'a');
    app.update(Msg::Loaded(Loaded::GateContext(Box::new(context(&app)))));
    ctrl(&mut app, 'u');
    typed(&mut app, "0.3x");
    let Some(Dialog::Approve(dialog)) = &app.dialog else {
        panic!()
    };
    assert_eq!(
        dialog.verdict,
        Some(Err("lot size `0.3x` is not a number such as 0.50".into()))
    );
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
}

#[test]
fn the_outcome_of_an_approval_is_shown_until_dismissed() {
    let mut app = loaded_app(false);
    let ctx = context(&app);
    let report = ctx.judge(
        Lot::parse("0.75").unwrap(),
        crate::domain::Purpose::HumanApproval,
    );
    app.in_flight = 1;
    app.update(Msg::Done(Done::Approved {
        approval: crate::store::approve::Approval::Blocked {
            idea: ctx.idea.id,
            decision: uuid::Uuid::nil(),
            report,
        },
        lot: Lot::parse("0.75").unwrap(),
    }));
    let Some(Dialog::Outcome { title, lines, ok }) = &app.dialog else {
        panic!("no outcome shown")
    };
    assert_eq!(title, "BLOCKED BY THE RISK CHECKS");
    assert!(!ok);
    assert!(
        lines.iter().any(|l| l.starts_with("lot_size — ")),
        "{lines:?}"
    );
    assert_eq!(app.in_flight, 0);
    // Time passing does not hide it.
    app.update(Msg::Tick(now() + chrono::Duration::minutes(5)));
    assert!(app.dialog.is_some());
    key(&mut app, KeyCode::Enter);
    assert!(app.dialog.is_none());
}

#[test]
fn reject_needs_a_reason_and_sends_it() {
    let mut app = loaded_app(false);
    let first = app.ideas.items[0].id();
    ch(&mut app, 'r');
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![],
        "no reason, nothing sent"
    );
    typed(&mut app, "spread too wide");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Cmd::Reject {
            idea: first,
            reason: "spread too wide".into()
        }]
    );
}

#[test]
fn only_ideas_awaiting_approval_can_be_decided() {
    let mut app = loaded_app(false);
    ch(&mut app, 'G');
    assert_eq!(
        app.ideas.selected().unwrap().read().unwrap().status,
        IdeaStatus::Rejected
    );
    assert_eq!(ch(&mut app, 'a'), vec![]);
    assert!(app.dialog.is_none());
    assert!(toast(&app).contains("not awaiting approval"));
}

#[test]
fn the_kill_switch_works_from_any_pane_with_one_confirm_and_shows_halting_until_confirmed() {
    for pane in ['1', '2', '3', '4'] {
        let mut app = loaded_app(true);
        ch(&mut app, pane);
        ch(&mut app, 'K');
        assert!(
            matches!(app.dialog, Some(Dialog::Halt { .. })),
            "from pane {pane}"
        );
        typed(&mut app, "CPI");
        assert_eq!(
            key(&mut app, KeyCode::Enter),
            vec![Cmd::Halt {
                reason: "CPI".into()
            }]
        );
        assert!(app.halting, "HALTING… until the database confirms");
        assert!(
            app.risk.as_ref().unwrap().config.ai_trading_enabled,
            "not red before the database says so"
        );
        let cmds = app.update(Msg::Done(Done::Halted(Halted {
            already_halted: false,
            reason: "CPI".into(),
            ideas_halted: 2,
            executions_cancelled: 1,
        })));
        assert!(!app.halting);
        let risk = &app.risk.as_ref().unwrap().config;
        assert!(!risk.ai_trading_enabled, "red once the database committed");
        assert_eq!(
            app.switch.as_ref().map(|s| s.ai_trading_enabled),
            Some(false),
            "the header's switch from the act's own result, before any read"
        );
        assert_eq!(risk.last_halt_reason.as_deref(), Some("CPI"));
        // The halt is alerted, and the row itself is read again a moment later.
        assert!(
            matches!(cmds.as_slice(), [Cmd::Alert(a), Cmd::Coalesce] if a.title == "AI trading halted"),
            "{cmds:?}"
        );
        assert_eq!(app.update(Msg::Flush), vec![Cmd::LoadRisk]);
    }
    // Ctrl-K too, and the reason may be skipped.
    let mut app = loaded_app(true);
    ctrl(&mut app, 'k');
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Cmd::Halt {
            reason: String::new()
        }]
    );
}

#[test]
fn a_failed_halt_is_shown_and_clears_halting() {
    let mut app = loaded_app(true);
    ch(&mut app, 'K');
    key(&mut app, KeyCode::Enter);
    app.update(Msg::Failed {
        act: Act::Halt,
        code: crate::store::ErrorCode::Database,
        message: "the database refused it".into(),
        connection_lost: false,
    });
    assert!(!app.halting);
    let Some(Dialog::Outcome { title, ok, .. }) = &app.dialog else {
        panic!()
    };
    assert!(!ok);
    assert!(title.starts_with("the kill switch failed"), "{title}");
}

#[test]
fn resume_is_its_own_key_and_asks_to_confirm() {
    let mut app = loaded_app(false);
    assert_eq!(ch(&mut app, 'K'), vec![]);
    key(&mut app, KeyCode::Esc);
    assert!(app.dialog.is_none());
    ch(&mut app, 'R');
    assert!(matches!(app.dialog, Some(Dialog::Resume)));
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![],
        "Enter does not resume"
    );
    assert_eq!(ch(&mut app, 'y'), vec![Cmd::Resume]);
}

#[test]
fn acts_are_refused_while_disconnected_and_never_queued() {
    let mut app = loaded_app(true);
    let cmds = app.update(Msg::Disconnected("connection reset".into()));
    assert!(
        matches!(cmds.as_slice(), [Cmd::Alert(a)] if a.kind == AlertKind::Disconnect),
        "{cmds:?}"
    );
    assert!(app.stale);
    assert_eq!(toast(&app), "connection lost: connection reset");
    assert!(matches!(app.connection, Connection::Lost { .. }));
    for refused in ['a', 'r', 'R'] {
        assert_eq!(ch(&mut app, refused), vec![]);
        assert!(app.dialog.is_none());
        assert!(toast(&app).starts_with("not connected to the database"));
    }
    // A dialog confirmed after the connection dropped is refused too.
    let mut app = loaded_app(true);
    ch(&mut app, 'r');
    typed(&mut app, "late");
    app.update(Msg::Disconnected("gone".into()));
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    assert_eq!(app.in_flight, 0);
    // Back: a full refresh, because notifications sent meanwhile are lost.
    let cmds = app.update(Msg::Connected);
    assert_eq!(cmds.len(), 6, "{cmds:?}");
    assert!(!app.stale);
}

#[test]
fn read_only_consoles_explain_every_disabled_act() {
    let mut app = loaded_app(true);
    app.read_only = true;
    for c in ['K', 'R', 'a', 'r'] {
        assert_eq!(ch(&mut app, c), vec![]);
        assert!(app.dialog.is_none());
        assert!(toast(&app).starts_with("read-only console:"), "{c}");
    }
    ch(&mut app, '2');
    assert_eq!(ch(&mut app, ' '), vec![]);
    assert!(toast(&app).starts_with("read-only console:"));
}

#[test]
fn a_viewer_may_pull_the_kill_switch_and_is_told_why_every_other_act_is_not_theirs() {
    let mut app = loaded_app(true);
    app.role = crate::domain::role::Role::Viewer;
    for c in ['a', 'r', 'R'] {
        assert_eq!(ch(&mut app, c), vec![], "{c}");
        assert!(app.dialog.is_none());
        assert!(
            toast(&app).contains("role; yours is viewer"),
            "{c}: {}",
            toast(&app)
        );
    }
    assert_eq!(toast(&app), "resume needs the admin role; yours is viewer");
    ch(&mut app, 'K');
    assert!(app.dialog.is_some(), "the kill switch opens for anyone");
}

#[test]
fn an_operator_decides_ideas_but_may_not_change_the_rules() {
    let mut app = loaded_app(true);
    app.role = crate::domain::role::Role::Operator;
    ch(&mut app, 'a');
    assert!(app.dialog.is_some(), "approve opens");
    app.update(Msg::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Esc,
    )));
    ch(&mut app, '2');
    assert_eq!(ch(&mut app, ' '), vec![]);
    assert_eq!(
        toast(&app),
        "enabling or disabling a strategy needs the admin role; yours is operator"
    );
}

#[test]
fn a_burst_of_changes_is_one_read_of_each_pane_it_touched() {
    let mut app = loaded_app(true);
    ch(&mut app, 'j');
    let on = app.ideas.selected().unwrap().id();
    // The first change asks for a flush a few milliseconds later; the rest wait for it.
    assert_eq!(
        app.update(Msg::Changed(Change::Idea(uuid::Uuid::nil()))),
        vec![Cmd::Coalesce]
    );
    for n in 0..100 {
        let change = if n % 2 == 0 {
            Change::Idea(uuid::Uuid::from_u128(n))
        } else {
            Change::Decision(uuid::Uuid::from_u128(n))
        };
        assert_eq!(app.update(Msg::Changed(change)), vec![]);
    }
    let cmds = app.update(Msg::Flush);
    assert_eq!(cmds.len(), 3, "a burst is one read a pane: {cmds:?}");
    assert_eq!(
        cmds[0],
        Cmd::LoadStrategyDays,
        "ideas and decisions count per strategy"
    );
    assert!(matches!(cmds[1], Cmd::LoadIdeas(_)));
    assert!(matches!(cmds[2], Cmd::LoadTimeline { append: false, .. }));
    // A new idea arrives above the operator's row.
    let mut items = app.ideas.items.clone();
    items.insert(
        0,
        Listed::Read(fixtures::idea(9, "AUDUSD", IdeaStatus::NeedsApproval, 60)),
    );
    app.update(Msg::Loaded(fixtures::ideas_loaded(items)));
    assert_eq!(app.ideas.selected().unwrap().id(), on);
    assert_eq!(app.update(Msg::Flush), vec![]);
}

#[test]
fn the_timeline_reads_the_next_page_near_its_end_and_bounds_what_it_holds() {
    let mut app = loaded_app(true);
    ch(&mut app, '4');
    let next = crate::store::timeline::Cursor {
        occurred_at: now().into(),
        id: uuid::Uuid::nil(),
    };
    app.timeline.next = Some(next);
    let cmds = ch(&mut app, 'j');
    let [
        Cmd::LoadTimeline {
            filter,
            append: true,
        },
    ] = cmds.as_slice()
    else {
        panic!("expected the next page: {cmds:?}")
    };
    assert_eq!(filter.after, Some(next));
    assert_eq!(ch(&mut app, 'j'), vec![], "one read at a time");
    // Pages keep coming: the oldest-read rows are dropped beyond the bound.
    let page: Vec<_> = (0..600)
        .map(|n| {
            let mut d = fixtures::decisions()[0].clone();
            d.id = uuid::Uuid::from_u128(n);
            Listed::Read(d)
        })
        .collect();
    for _ in 0..2 {
        app.update(Msg::Loaded(Loaded::Timeline {
            page: crate::store::timeline::Page {
                decisions: page.clone(),
                next: Some(next),
            },
            append: true,
        }));
    }
    assert_eq!(app.timeline.list.items.len(), super::app::TIMELINE_HELD);
    assert!(app.timeline.trimmed);
    // Back to the top reads the newest page again.
    let cmds = ch(&mut app, 'g');
    assert!(
        matches!(cmds.as_slice(), [Cmd::LoadTimeline { append: false, .. }]),
        "{cmds:?}"
    );
}

#[test]
fn risk_edits_are_validated_as_typed_and_the_switch_is_not_a_field() {
    let mut app = loaded_app(true);
    ch(&mut app, '1');
    ch(&mut app, 'e');
    assert!(
        app.dialog.is_none(),
        "ai_trading_enabled is the first field"
    );
    assert!(toast(&app).contains("kill switch (K) and resume (R)"));
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    ch(&mut app, 'e');
    let Some(Dialog::EditRisk { input, .. }) = &app.dialog else {
        panic!()
    };
    assert_eq!(input.value(), "1.00");
    ctrl(&mut app, 'u');
    typed(&mut app, "0.505");
    let Some(Dialog::EditRisk { edit, .. }) = &app.dialog else {
        panic!()
    };
    assert!(
        edit.as_ref()
            .unwrap_err()
            .contains("at most 2 decimal places")
    );
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    key(&mut app, KeyCode::Backspace);
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Cmd::SetRisk {
            edit: RiskChangeSet::parse(["max_lot_size=0.50"]).unwrap()
        }]
    );
}

#[test]
fn filters_reload_the_pane_and_bad_ones_say_why() {
    let mut app = loaded_app(true);
    ch(&mut app, '/');
    ctrl(&mut app, 'u');
    typed(&mut app, "gbpusd status:needs_approval");
    let cmds = key(&mut app, KeyCode::Enter);
    let [Cmd::LoadIdeas(filter)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(filter.symbol.as_deref(), Some("GBPUSD"));
    assert_eq!(filter.status, Some(IdeaStatus::NeedsApproval));

    ch(&mut app, '4');
    ch(&mut app, '/');
    typed(&mut app, "action:approved");
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    assert!(toast(&app).starts_with("`approved` is not a decision action"));
}

#[test]
fn quitting_waits_for_acts_in_flight_unless_forced() {
    let mut app = loaded_app(true);
    ch(&mut app, 'K');
    key(&mut app, KeyCode::Enter);
    assert_eq!(ch(&mut app, 'q'), vec![]);
    assert!(!app.quit);
    assert_eq!(ctrl(&mut app, 'c'), vec![Cmd::Quit]);
    assert!(app.quit);
}

#[test]
fn waived_rules_are_listed_in_the_preview() {
    let mut app = loaded_app(false);
    ch(&mut app, 'a');
    let mut ctx = context(&app);
    ctx.idea.confidence_score = dec("50.00");
    app.update(Msg::Loaded(Loaded::GateContext(Box::new(ctx))));
    let Some(Dialog::Approve(dialog)) = &app.dialog else {
        panic!()
    };
    let (_, report) = dialog.verdict.clone().unwrap().unwrap();
    assert!(report.passed(), "confidence binds the AI, not a human");
    assert!(report.verdicts.iter().any(|v| v.outcome == Outcome::Waived));
}

#[test]
fn new_decisions_appear_at_the_top_of_the_timeline_and_none_is_missed() {
    let mut app = loaded_app(true);
    ch(&mut app, '4');
    app.update(Msg::Changed(Change::Decision(uuid::Uuid::nil())));
    let cmds = app.update(Msg::Flush);
    assert!(
        matches!(
            cmds.as_slice(),
            [
                Cmd::LoadStrategyDays,
                Cmd::LoadTimeline { append: false, .. }
            ]
        ),
        "{cmds:?}"
    );
    // Another decision lands while that read is in flight: it is read next, not dropped.
    assert_eq!(
        app.update(Msg::Changed(Change::Decision(uuid::Uuid::nil()))),
        vec![Cmd::Coalesce]
    );
    assert_eq!(app.update(Msg::Flush), vec![], "not twice at once");
    let mut rows = fixtures::decisions();
    let mut newest = rows[0].clone();
    newest.id = uuid::Uuid::from_u128(1);
    newest.action = crate::domain::DecisionAction::HumanRejected;
    rows.insert(0, newest);
    app.update(Msg::Loaded(Loaded::Timeline {
        page: crate::store::timeline::Page {
            decisions: rows.into_iter().map(Listed::Read).collect(),
            next: None,
        },
        append: false,
    }));
    assert_eq!(app.timeline.list.offset, 0, "the new row is in view");
    assert_eq!(
        app.timeline.list.items[0].read().unwrap().action,
        crate::domain::DecisionAction::HumanRejected
    );
    assert_eq!(
        app.timeline.list.selected, 0,
        "following: on the newest row"
    );
    let cmds = app.update(Msg::Flush);
    assert!(
        matches!(cmds.as_slice(), [Cmd::LoadTimeline { append: false, .. }]),
        "the waiting change is read now: {cmds:?}"
    );
}

#[test]
fn the_kill_switch_pulled_without_a_connection_is_armed_and_sent_when_it_returns() {
    let mut app = loaded_app(true);
    app.update(Msg::Disconnected("connection reset".into()));
    ch(&mut app, 'K');
    assert!(
        matches!(app.dialog, Some(Dialog::Halt { .. })),
        "not refused"
    );
    typed(&mut app, "feed frozen");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![],
        "nothing can be sent yet"
    );
    assert_eq!(app.halt_armed.as_deref(), Some("feed frozen"));
    assert_eq!(app.in_flight, 0);
    // It cannot be forgotten by quitting.
    assert_eq!(ch(&mut app, 'q'), vec![]);
    assert!(toast(&app).starts_with("a halt is armed"));
    // Back: the halt goes first, then everything is read again.
    let cmds = app.update(Msg::Connected);
    assert_eq!(
        cmds[0],
        Cmd::Halt {
            reason: "feed frozen".into()
        }
    );
    assert_eq!(cmds.len(), 7, "{cmds:?}");
    assert!(app.halt_armed.is_none() && app.halting);
    // Lost again under it: armed again, sent once more when the connection returns.
    app.update(Msg::Failed {
        act: Act::Halt,
        code: crate::store::ErrorCode::Database,
        message: "connection reset".into(),
        connection_lost: true,
    });
    assert_eq!(app.halt_armed.as_deref(), Some("feed frozen"));
    assert!(app.dialog.is_none(), "no failure shown: it is still coming");
    app.update(Msg::Disconnected("gone".into()));
    let cmds = app.update(Msg::Connected);
    assert_eq!(
        cmds.iter()
            .filter(|c| matches!(c, Cmd::Halt { .. }))
            .count(),
        1
    );
    app.update(Msg::Done(Done::Halted(Halted {
        already_halted: false,
        reason: "feed frozen".into(),
        ideas_halted: 0,
        executions_cancelled: 0,
    })));
    assert!(app.halt_armed.is_none() && app.halt_sent.is_none() && !app.halting);
}

#[test]
fn alerts_fire_once_at_their_transitions_and_can_be_switched_off() {
    let mut app = loaded_app(true);
    // A new idea awaiting approval.
    let mut items = app.ideas.items.clone();
    items.push(Listed::Read(fixtures::idea(
        9,
        "AUDUSD",
        IdeaStatus::NeedsApproval,
        1,
    )));
    let cmds = app.update(Msg::Loaded(fixtures::ideas_loaded(items.clone())));
    assert!(
        matches!(cmds.as_slice(), [Cmd::Alert(a), ..] if a.kind == AlertKind::Approval
            && a.body.starts_with("AUDUSD")),
        "{cmds:?}"
    );
    let cmds = app.update(Msg::Loaded(fixtures::ideas_loaded(items)));
    assert!(!cmds.iter().any(|c| matches!(c, Cmd::Alert(_))), "once");
    // Drawdown past 80% of its 1000.00 limit, once; again only after falling back.
    let mut day = app.day.unwrap();
    for (drawdown, alerted) in [
        ("799", false),
        ("800", true),
        ("950", false),
        ("100", false),
        ("850", true),
    ] {
        day.drawdown = drawdown.parse().unwrap();
        let cmds = app.update(Msg::Loaded(Loaded::Account {
            latest: app.account,
            unreadable: Vec::new(),
            day: Some(day),
            equity: app.equity.clone(),
        }));
        let fired = cmds
            .iter()
            .any(|c| matches!(c, Cmd::Alert(a) if a.kind == AlertKind::Drawdown));
        assert_eq!(fired, alerted, "at {drawdown}");
    }
    // AI trading halted by another writer (a limit, here).
    let row = fixtures::risk_shown(false, Some("max_drawdown"));
    let cmds = app.update(Msg::Loaded(Loaded::Risk {
        shown: row.clone(),
        last: None,
    }));
    assert!(
        matches!(cmds.as_slice(), [Cmd::Alert(a), ..] if a.body == "AI trading: OFF — max_drawdown"),
        "{cmds:?}"
    );
    // Switched off: none.
    let mut quiet = loaded_app(true);
    quiet.alerts.settings.halt = false;
    let cmds = quiet.update(Msg::Loaded(Loaded::Risk {
        shown: row,
        last: None,
    }));
    assert!(!cmds.iter().any(|c| matches!(c, Cmd::Alert(_))), "{cmds:?}");
}

#[test]
fn the_bell_and_desktop_notifications_are_terminal_escapes_that_text_cannot_end() {
    let alert = crate::console::msg::Alert {
        kind: AlertKind::Halt,
        title: "AI trading halted".into(),
        body: "OFF — evil\x07;text\u{202e}".into(),
    };
    let all = crate::config::AlertSettings::default();
    let bytes = super::alerts::terminal_bytes(&alert, &all);
    // What could end the sequence or hide is shown as its escape.
    assert_eq!(
        bytes,
        "\x07\x1b]9;AI trading halted: OFF — evil\\u{7},text\\u{202e}\x07\x1b]777;notify;AI trading halted;OFF — evil\\u{7},text\\u{202e}\x07"
    );
    let quiet = crate::config::AlertSettings { bell: false, ..all };
    assert!(super::alerts::terminal_bytes(&alert, &quiet).starts_with("\x1b]9;"));
    let silent = crate::config::AlertSettings {
        bell: false,
        desktop: false,
        ..all
    };
    assert_eq!(super::alerts::terminal_bytes(&alert, &silent), "");
}

#[test]
fn every_act_command_names_its_act_and_reads_name_none() {
    let id = uuid::Uuid::nil();
    let acts = [
        (
            Cmd::Approve {
                idea: id,
                lot: Lot::parse("0.10").unwrap(),
            },
            Act::Approve,
        ),
        (
            Cmd::Reject {
                idea: id,
                reason: "r".into(),
            },
            Act::Reject,
        ),
        (
            Cmd::Halt {
                reason: String::new(),
            },
            Act::Halt,
        ),
        (Cmd::Resume, Act::Resume),
        (
            Cmd::SetRisk {
                edit: RiskChangeSet::parse(["max_lot_size=0.50"]).unwrap(),
            },
            Act::EditRisk,
        ),
        (
            Cmd::SetStrategyActive { id, active: true },
            Act::ToggleStrategy,
        ),
        (Cmd::EditStrategy { id }, Act::EditStrategy),
    ];
    for (cmd, act) in acts {
        assert_eq!(cmd.act(), Some(act), "{cmd:?}");
    }
    for read in [
        Cmd::LoadRisk,
        Cmd::LoadStrategies,
        Cmd::LoadGateContext(id),
        Cmd::Quit,
    ] {
        assert_eq!(read.act(), None, "{read:?}");
    }
    assert_eq!(Act::Halt.noun(), "the kill switch");
}

#[test]
fn enter_replays_the_ideas_latest_decision_and_i_shows_its_details() {
    let mut app = loaded_app(true);
    let first = app.ideas.items[0].id();
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Cmd::LoadIdeaReplay(first)]
    );
    let view = app
        .replay
        .as_ref()
        .expect("the replay opens at once, reading");
    assert!(view.replay.is_none());
    assert!(app.dialog.is_none(), "no details dialog any more on Enter");
    // Esc closes it; `i` shows the details the Enter key used to.
    key(&mut app, KeyCode::Esc);
    assert!(app.replay.is_none());
    assert_eq!(ch(&mut app, 'i'), vec![]);
    assert!(
        matches!(&app.dialog, Some(Dialog::Text { title, .. }) if title == &format!("Idea {first}")),
        "{:?}",
        app.dialog
    );
}

#[test]
fn enter_on_a_timeline_row_replays_that_decision_and_on_a_strategy_shows_details() {
    let mut app = loaded_app(true);
    ch(&mut app, '4');
    let first = app.timeline.list.items[0].id();
    assert_eq!(key(&mut app, KeyCode::Enter), vec![Cmd::LoadReplay(first)]);
    assert!(app.replay.is_some());
    let mut app = loaded_app(true);
    ch(&mut app, '2');
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    assert!(matches!(app.dialog, Some(Dialog::Text { .. })));
    assert!(app.replay.is_none());
}

#[test]
fn a_replay_scrolls_closes_with_q_and_keeps_the_kill_switch() {
    let mut app = loaded_app(true);
    app.update(Msg::Resize {
        list_rows: 10,
        width: 80,
        height: 24,
    });
    let replay = fixtures::replay();
    let id = replay.decision.as_ref().unwrap().id;
    app.open_replay(super::app::ReplayOf::Decision(id));
    app.update(Msg::Loaded(Loaded::Replay(Box::new(replay))));
    assert!(app.replay.as_ref().unwrap().replay.is_some());
    ch(&mut app, 'j');
    ch(&mut app, 'j');
    assert_eq!(app.replay.as_ref().unwrap().scroll, 2);
    ch(&mut app, 'k');
    assert_eq!(app.replay.as_ref().unwrap().scroll, 1);
    // Pane keys wait: 'a' approves nothing, '1' switches nothing.
    assert_eq!(ch(&mut app, 'a'), vec![]);
    ch(&mut app, '1');
    assert_eq!(app.focus, Pane::Ideas);
    // The kill switch is a key away, over the replay.
    ch(&mut app, 'K');
    assert!(matches!(app.dialog, Some(Dialog::Halt { .. })));
    key(&mut app, KeyCode::Esc);
    assert!(app.dialog.is_none());
    assert!(
        app.replay.is_some(),
        "Esc closed the dialog, not the replay"
    );
    // q closes the replay, not the console.
    assert_eq!(ch(&mut app, 'q'), vec![]);
    assert!(app.replay.is_none());
    assert!(!app.quit);
}

#[test]
fn a_replay_that_fails_to_read_closes_and_a_late_one_is_not_opened() {
    let mut app = loaded_app(true);
    key(&mut app, KeyCode::Enter);
    app.update(Msg::LoadFailed {
        reload: Some(Reload::Replay),
        message: "no trade idea matches it".into(),
    });
    assert!(app.replay.is_none());
    assert!(toast(&app).contains("no trade idea matches it"));
    // Asked for one idea, then another: the first one's answer does not open.
    let replay = fixtures::replay();
    ch(&mut app, 'G');
    key(&mut app, KeyCode::Enter);
    app.update(Msg::Loaded(Loaded::Replay(Box::new(replay))));
    assert!(app.replay.as_ref().unwrap().replay.is_none());
}

/// The first idea's replay (it still awaits approval), open over the panes at 80×24.
fn replaying_pending() -> (App, uuid::Uuid) {
    let mut app = loaded_app(true);
    app.update(Msg::Resize {
        list_rows: 10,
        width: 80,
        height: 24,
    });
    let first = app.ideas.items[0].id();
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Cmd::LoadIdeaReplay(first)]
    );
    app.update(Msg::Loaded(Loaded::Replay(Box::new(
        fixtures::replay_pending(),
    ))));
    let view = app.replay.as_ref().expect("open");
    assert_eq!(view.decidable_idea().map(|i| i.id), Some(first));
    (app, first)
}

/// The same replay as read after the idea was approved: executed, decided by ann, filled.
fn replay_after_approval() -> crate::domain::Replay {
    let mut after = fixtures::replay_pending();
    if let Some(idea) = after.idea.as_mut() {
        idea.status = IdeaStatus::AutoExecuted;
    }
    let approved = fixtures::replay();
    after.decided = approved.decided;
    after.execution = approved.execution;
    after
}

#[test]
fn an_idea_awaiting_approval_is_approved_from_its_replay_which_then_shows_its_new_state() {
    let (mut app, id) = replaying_pending();
    ch(&mut app, 'j');
    assert_eq!(app.replay.as_ref().unwrap().scroll, 1);
    // The ideas pane's approve key, over the replay: the same dialog, for the replayed idea.
    assert_eq!(ch(&mut app, 'a'), vec![Cmd::LoadGateContext(id)]);
    assert!(
        matches!(&app.dialog, Some(Dialog::Approve(a)) if a.idea.id == id),
        "{:?}",
        app.dialog
    );
    assert!(app.replay.is_some(), "the replay stays open under it");
    app.update(Msg::Loaded(Loaded::GateContext(Box::new(context(&app)))));
    let lot = Lot::parse("0.50").unwrap();
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Cmd::Approve { idea: id, lot }]
    );
    assert_eq!(app.in_flight, 1);
    // Confirmed: the outcome is shown over the replay, and the replay is read again.
    let report = context(&app).judge(lot, crate::domain::Purpose::HumanApproval);
    let cmds = app.update(Msg::Done(Done::Approved {
        approval: crate::store::approve::Approval::Executed {
            idea: id,
            execution: uuid::Uuid::nil(),
            decision: uuid::Uuid::nil(),
            report,
        },
        lot,
    }));
    assert_eq!(cmds, vec![Cmd::Coalesce]);
    assert!(matches!(app.dialog, Some(Dialog::Outcome { ok: true, .. })));
    assert_eq!(app.update(Msg::Flush), vec![Cmd::LoadIdeaReplay(id)]);
    // The idea's own notification meanwhile waits for that read: never two at once.
    assert_eq!(
        app.update(Msg::Changed(Change::Idea(id))),
        vec![Cmd::Coalesce]
    );
    let cmds = app.update(Msg::Flush);
    assert!(!cmds.contains(&Cmd::LoadIdeaReplay(id)), "{cmds:?}");
    // Read again: executed, who approved it, its order; the operator keeps their place.
    let cmds = app.update(Msg::Loaded(Loaded::Replay(Box::new(
        replay_after_approval(),
    ))));
    let view = app.replay.as_ref().unwrap();
    let shown = view.replay.as_ref().unwrap();
    assert_eq!(
        shown.idea.as_ref().map(|i| i.status),
        Some(IdeaStatus::AutoExecuted)
    );
    assert!(shown.decided.is_some() && shown.execution.is_some());
    assert_eq!(view.scroll, 1);
    assert!(view.decidable_idea().is_none());
    // The change that came during the read is read after it.
    assert_eq!(cmds, vec![Cmd::Coalesce]);
    assert_eq!(app.update(Msg::Flush), vec![Cmd::LoadIdeaReplay(id)]);
    // Decided now: the keys say why they do nothing.
    key(&mut app, KeyCode::Esc);
    assert_eq!(ch(&mut app, 'a'), vec![]);
    assert!(app.dialog.is_none());
    assert_eq!(
        toast(&app),
        "this idea is auto executed, not awaiting approval"
    );
}

#[test]
fn an_idea_awaiting_approval_is_rejected_from_its_replay_and_the_kill_switch_still_works() {
    let (mut app, id) = replaying_pending();
    ch(&mut app, 'K');
    assert!(matches!(app.dialog, Some(Dialog::Halt { .. })));
    key(&mut app, KeyCode::Esc);
    assert!(app.replay.is_some() && app.dialog.is_none());
    assert_eq!(ch(&mut app, 'r'), vec![]);
    assert!(matches!(&app.dialog, Some(Dialog::Reject { idea, .. }) if idea.id() == id));
    typed(&mut app, "spread too wide");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Cmd::Reject {
            idea: id,
            reason: "spread too wide".into()
        }]
    );
    assert_eq!(
        app.update(Msg::Done(Done::Rejected { idea: id })),
        vec![Cmd::Coalesce]
    );
    assert_eq!(
        toast(&app),
        format!("rejected idea {}", crate::format::short(id))
    );
    assert_eq!(app.update(Msg::Flush), vec![Cmd::LoadIdeaReplay(id)]);
    assert!(app.replay.is_some(), "the replay stays open");
    // Deciding another idea does not read this replay again.
    let other = app.ideas.items[1].id();
    app.update(Msg::Loaded(Loaded::Replay(Box::new(
        fixtures::replay_pending(),
    ))));
    app.update(Msg::Done(Done::Rejected { idea: other }));
    assert!(!app.dirty.contains(&Reload::Replay));
}

#[test]
fn approve_and_reject_over_a_replay_work_only_for_an_idea_a_human_may_decide_now() {
    // A decided idea's replay: the keys say why not.
    let mut app = loaded_app(true);
    let replay = fixtures::replay();
    let decision = replay.decision.as_ref().unwrap().id;
    app.open_replay(super::app::ReplayOf::Decision(decision));
    app.update(Msg::Loaded(Loaded::Replay(Box::new(replay))));
    for c in ['a', 'r'] {
        assert_eq!(ch(&mut app, c), vec![]);
        assert!(app.dialog.is_none());
        assert_eq!(
            toast(&app),
            "this idea is auto executed, not awaiting approval"
        );
    }
    // A replay still being read: nothing to decide yet.
    let mut app = loaded_app(true);
    key(&mut app, KeyCode::Enter);
    assert_eq!(ch(&mut app, 'a'), vec![]);
    assert!(app.dialog.is_none() && app.toast.is_none());
    // Read-only, or without a connection: refused, and said so.
    let (mut app, _) = replaying_pending();
    app.read_only = true;
    for c in ['a', 'r'] {
        assert_eq!(ch(&mut app, c), vec![]);
        assert!(app.dialog.is_none());
        assert!(toast(&app).starts_with("read-only console:"), "{c}");
    }
    let (mut app, _) = replaying_pending();
    app.update(Msg::Disconnected("gone".into()));
    assert_eq!(ch(&mut app, 'a'), vec![]);
    assert!(toast(&app).starts_with("not connected to the database"));
}

#[test]
fn the_open_replay_is_read_again_when_its_idea_or_its_order_changes_and_never_once_closed() {
    let (mut app, id) = replaying_pending();
    let other = app.ideas.items[1].id();
    app.update(Msg::Changed(Change::Idea(other)));
    let cmds = app.update(Msg::Flush);
    assert!(
        !cmds.iter().any(|c| matches!(c, Cmd::LoadIdeaReplay(_))),
        "{cmds:?}"
    );
    app.update(Msg::Changed(Change::Idea(id)));
    let cmds = app.update(Msg::Flush);
    assert!(cmds.contains(&Cmd::LoadIdeaReplay(id)), "{cmds:?}");
    // Its order's changes (filled, cancelled) too, once it has one.
    app.update(Msg::Loaded(Loaded::Replay(Box::new(
        replay_after_approval(),
    ))));
    let order = replay_after_approval().execution.unwrap().id;
    app.update(Msg::Changed(Change::Execution(order)));
    let cmds = app.update(Msg::Flush);
    assert!(cmds.contains(&Cmd::LoadIdeaReplay(id)), "{cmds:?}");
    // A lost connection reads it again with everything else.
    app.update(Msg::Loaded(Loaded::Replay(Box::new(
        replay_after_approval(),
    ))));
    app.update(Msg::Disconnected("gone".into()));
    let cmds = app.update(Msg::Connected);
    assert!(cmds.contains(&Cmd::LoadIdeaReplay(id)), "{cmds:?}");
    // Closed: a change reads nothing, and a late answer does not open it again.
    app.update(Msg::Loaded(Loaded::Replay(Box::new(
        replay_after_approval(),
    ))));
    ch(&mut app, 'q');
    assert!(app.replay.is_none());
    app.update(Msg::Changed(Change::Idea(id)));
    let cmds = app.update(Msg::Flush);
    assert!(
        !cmds.iter().any(|c| matches!(c, Cmd::LoadIdeaReplay(_))),
        "{cmds:?}"
    );
    app.update(Msg::Loaded(Loaded::Replay(Box::new(
        replay_after_approval(),
    ))));
    assert!(app.replay.is_none());
    assert!(!app.reading.contains(&Reload::Replay));
}

#[test]
fn each_strategys_day_is_read_with_the_panes_and_again_when_what_moves_it_changes() {
    let app = loaded_app(true);
    let days = app.strategy_days.as_ref().expect("read with the panes");
    assert_eq!(days.len(), 2, "the quiet one is simply absent");
    let nil = uuid::Uuid::nil();
    for change in [
        Change::Account(nil),
        Change::Execution(nil),
        Change::Decision(nil),
        Change::Idea(nil),
        Change::Strategy(nil),
    ] {
        let mut app = loaded_app(true);
        app.update(Msg::Changed(change));
        let cmds = app.update(Msg::Flush);
        assert_eq!(
            cmds.iter().filter(|c| **c == Cmd::LoadStrategyDays).count(),
            1,
            "{change:?}: {cmds:?}"
        );
    }
    let mut app = loaded_app(true);
    app.update(Msg::Changed(Change::Risk));
    assert!(!app.update(Msg::Flush).contains(&Cmd::LoadStrategyDays));
    // A burst while it is read: read once more after it, not twice at once.
    let mut app = loaded_app(true);
    app.update(Msg::Changed(Change::Account(nil)));
    assert!(app.update(Msg::Flush).contains(&Cmd::LoadStrategyDays));
    for _ in 0..10 {
        app.update(Msg::Changed(Change::Account(nil)));
    }
    assert!(!app.update(Msg::Flush).contains(&Cmd::LoadStrategyDays));
    let cmds = app.update(Msg::Loaded(Loaded::StrategyDays(Vec::new())));
    assert_eq!(cmds, vec![Cmd::Coalesce]);
    assert_eq!(app.update(Msg::Flush), vec![Cmd::LoadStrategyDays]);
    assert_eq!(app.strategy_days.as_ref().map(|d| d.len()), Some(0));
}

#[test]
fn a_new_trading_day_reads_the_day_again_though_nothing_was_written() {
    let mut app = loaded_app(false);
    assert_eq!(
        app.update(Msg::Tick(now() + chrono::Duration::hours(1))),
        vec![]
    );
    // 10:30 → the next day's 00:00:01 UTC.
    let midnight = now() + chrono::Duration::seconds(13 * 3600 + 30 * 60 + 1);
    assert_eq!(app.update(Msg::Tick(midnight)), vec![Cmd::Coalesce]);
    let mut reads = app.update(Msg::Flush);
    reads.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(reads, vec![Cmd::LoadAccount, Cmd::LoadStrategyDays]);
    // The next tick of the same day reads nothing more.
    let later = midnight + chrono::Duration::seconds(1);
    assert_eq!(app.update(Msg::Tick(later)), vec![]);
}
