//! The event loop: one `select!` over terminal events, the database's notifications,
//! command results, a tick and signals. Commands run on tasks; their results come back as
//! messages. The screen is restored on every way out.

use std::io::{self, Stdout};
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event, EventStream, KeyEventKind};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures::StreamExt as _;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use sqlx::postgres::PgListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::app::{App, failed};
use super::editor;
use super::msg::{Change, Cmd, Done, Loaded, Msg};
use super::theme::Theme;
use super::view;
use crate::domain::{AccountSnapshot as DaySnapshot, TradingDay, day_state};
use crate::operator::Operator;
use crate::store::Store;

type Term = Terminal<CrosstermBackend<Stdout>>;

/// How often time moves on screen and coalesced live changes are read.
const TICK: Duration = Duration::from_millis(200);
/// How often the listener checks that the database still answers.
const HEARTBEAT: Duration = Duration::from_secs(3);

/// Puts the terminal in the console's mode.
pub fn enter() -> io::Result<Term> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.hide_cursor()?;
    terminal.clear()?;
    Ok(terminal)
}

/// Gives the terminal back as it was. Safe to call twice.
pub fn leave() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
}

/// Restores the terminal before a panic is reported, so the report is readable and the
/// shell usable.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        leave();
        previous(info);
    }));
}

/// Runs the console until the operator quits or a signal ends it.
pub async fn run(store: Store, mut app: App, theme: Theme, operator: Operator) -> io::Result<()> {
    install_panic_hook();
    let mut terminal = enter()?;
    let result = event_loop(&mut terminal, &store, &mut app, theme, &operator).await;
    leave();
    result
}

async fn event_loop(
    terminal: &mut Term,
    store: &Store,
    app: &mut App,
    theme: Theme,
    operator: &Operator,
) -> io::Result<()> {
    let (tx, mut rx) = unbounded_channel::<Msg>();
    let listener = tokio::spawn(watch(store.clone(), tx.clone()));
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;

    let size = terminal.size()?;
    let mut pending = vec![Msg::Resize {
        list_rows: view::list_rows(size.width, size.height),
    }];
    // The first read happens when the listener reports Connected.
    let mut tasks = tokio::task::JoinSet::new();
    'outer: loop {
        for msg in pending.drain(..) {
            for cmd in app.update(msg) {
                match cmd {
                    Cmd::Quit => break 'outer,
                    Cmd::EditStrategy { id } => {
                        // The editor owns the terminal while it runs.
                        leave();
                        let done = editor::edit_strategy(store, id, operator).await;
                        *terminal = enter()?;
                        let _ = tx.send(done);
                    }
                    cmd => {
                        let (store, operator, tx) = (store.clone(), operator.clone(), tx.clone());
                        tasks.spawn(async move {
                            let _ = tx.send(exec(&store, cmd, &operator).await);
                        });
                    }
                }
            }
        }
        if app.quit {
            break;
        }
        // Finished commands have sent their message; let their handles go.
        while tasks.try_join_next().is_some() {}
        terminal.draw(|frame| view::draw(app, &theme, frame))?;
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => Msg::Key(key),
                Some(Ok(Event::Resize(width, height))) => Msg::Resize { list_rows: view::list_rows(width, height) },
                Some(Ok(_)) => continue,
                // The terminal went away (a dropped SSH session): leave.
                Some(Err(_)) | None => Msg::Terminate,
            },
            Some(msg) = rx.recv() => msg,
            _ = tick.tick() => Msg::Tick(Utc::now()),
            _ = sigterm.recv() => Msg::Terminate,
            _ = sighup.recv() => Msg::Terminate,
        };
        pending.push(msg);
        // Take everything else already waiting, so a burst is one redraw.
        while let Ok(more) = rx.try_recv() {
            pending.push(more);
        }
    }
    listener.abort();
    // Acts still running are dropped with their connections: PostgreSQL rolls their
    // transactions back, so nothing half-written remains.
    tasks.abort_all();
    Ok(())
}

/// Runs one command against the store and says what came of it.
pub async fn exec(store: &Store, cmd: Cmd, operator: &Operator) -> Msg {
    let loaded = |r: Result<Loaded, crate::store::Error>| match r {
        Ok(l) => Msg::Loaded(l),
        Err(e) => Msg::LoadFailed(e.to_string()),
    };
    let done = |act: &'static str, r: Result<Done, crate::store::Error>| match r {
        Ok(d) => Msg::Done(d),
        Err(e) => failed(act, &e),
    };
    match cmd {
        Cmd::LoadRisk => loaded(
            async {
                let row = store.risk_config().await?;
                let last = store.last_risk_change().await?;
                Ok(Loaded::Risk { row, last })
            }
            .await,
        ),
        Cmd::LoadAccount => loaded(
            async {
                let now = Utc::now();
                let day = TradingDay::UTC_MIDNIGHT;
                let snapshots = store.account_since(day.start_of(now)).await?;
                let latest = snapshots.last().cloned();
                let points: Vec<DaySnapshot> = snapshots
                    .iter()
                    .map(|a| DaySnapshot {
                        balance: a.balance,
                        equity: a.equity,
                        captured_at: a.captured_at,
                    })
                    .collect();
                Ok(Loaded::Account {
                    latest,
                    day: day_state(&points, day, now),
                })
            }
            .await,
        ),
        Cmd::LoadStrategies => loaded(store.strategies().await.map(Loaded::Strategies)),
        Cmd::LoadIdeas(filter) => loaded(store.ideas(&filter).await.map(Loaded::Ideas)),
        Cmd::LoadTimeline { filter, append } => loaded(
            store
                .timeline(&filter)
                .await
                .map(|page| Loaded::Timeline { page, append }),
        ),
        Cmd::LoadGateContext(id) => loaded(
            store
                .gate_context(&id.to_string())
                .await
                .map(|c| Loaded::GateContext(Box::new(c))),
        ),
        Cmd::Approve { idea, lot } => done(
            "approval",
            store
                .approve(&idea.to_string(), lot, operator)
                .await
                .map(|approval| Done::Approved { approval, lot }),
        ),
        Cmd::Reject { idea, reason } => done(
            "rejection",
            store
                .reject(&idea.to_string(), &reason, operator)
                .await
                .map(|r| Done::Rejected { idea: r.idea }),
        ),
        Cmd::Halt { reason } => done(
            "halt",
            store.halt(&reason, operator, false).await.map(Done::Halted),
        ),
        Cmd::Resume => done(
            "resume",
            store.resume(operator, "").await.map(Done::Resumed),
        ),
        Cmd::SetRisk { edit } => done(
            "edit",
            async {
                let set = crate::domain::RiskChangeSet::parse([edit.as_str()])
                    .map_err(|e| crate::store::Error::InvalidInput(e.to_string()))?;
                store
                    .update_risk_config(&set, operator)
                    .await
                    .map(|u| Done::RiskSet(Box::new(u)))
            }
            .await,
        ),
        Cmd::SetStrategyActive { id, active } => done(
            "strategy",
            store
                .set_strategy_active(&id.to_string(), active, operator)
                .await
                .map(|(s, changed)| Done::StrategyToggled {
                    name: s.name,
                    active,
                    changed,
                }),
        ),
        // These need the terminal: the loop runs them in the foreground.
        Cmd::EditStrategy { .. } | Cmd::Quit => Msg::LoadFailed("not a background command".into()),
    }
}

/// Watches the database: forwards notifications, notices a lost connection (a dropped
/// LISTEN connection, or a heartbeat that gets no answer), and reconnects with backoff.
async fn watch(store: Store, tx: UnboundedSender<Msg>) {
    let mut failures: u32 = 0;
    loop {
        let started = std::time::Instant::now();
        match listen(&store, &tx).await {
            Ok(()) => return,
            Err(reason) => {
                if tx.send(Msg::Disconnected(reason)).is_err() {
                    return;
                }
            }
        }
        // A session that lasted resets the backoff; quick failures double it, up to 5 s.
        failures = if started.elapsed() > Duration::from_secs(30) {
            0
        } else {
            failures.saturating_add(1)
        };
        let wait = Duration::from_millis(250) * 2u32.saturating_pow(failures.min(5));
        tokio::time::sleep(wait.min(Duration::from_secs(5))).await;
    }
}

/// One listening session; returns `Err(reason)` when the connection is lost, `Ok` when
/// the console is gone.
async fn listen(store: &Store, tx: &UnboundedSender<Msg>) -> Result<(), String> {
    let mut listener = PgListener::connect_with(store.pool())
        .await
        .map_err(|e| e.to_string())?;
    listener
        .listen("tradedesk")
        .await
        .map_err(|e| e.to_string())?;
    if tx.send(Msg::Connected).is_err() {
        return Ok(());
    }
    // The heartbeat runs beside the listener, so that waiting for a notification is never
    // cancelled while the connection is kept: only when it is given up.
    let (lost_tx, mut lost) = tokio::sync::oneshot::channel::<String>();
    let pool = store.pool().clone();
    let heartbeat = tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEARTBEAT);
        loop {
            tick.tick().await;
            let ping = tokio::time::timeout(
                Duration::from_secs(2),
                sqlx::query("SELECT 1").execute(&pool),
            )
            .await;
            let reason = match ping {
                Ok(Ok(_)) => continue,
                Ok(Err(e)) => e.to_string(),
                Err(_) => "the database did not answer within 2 s".to_string(),
            };
            let _ = lost_tx.send(reason);
            return;
        }
    });
    let result = loop {
        tokio::select! {
            note = listener.try_recv() => match note {
                Ok(Some(note)) => {
                    let table = serde_json::from_str::<serde_json::Value>(note.payload())
                        .ok()
                        .and_then(|v| v["table"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    if tx.send(Msg::Changed(Change { table })).is_err() {
                        break Ok(());
                    }
                }
                Ok(None) => break Err("the database connection was closed".into()),
                Err(e) => break Err(e.to_string()),
            },
            reason = &mut lost => {
                break Err(reason.unwrap_or_else(|_| "the heartbeat stopped".into()));
            }
        }
    };
    heartbeat.abort();
    result
}
