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
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::unbounded_channel;

use super::app::{App, failed};
use super::editor;
use super::msg::{Cmd, Done, Loaded, Msg};
use super::theme::Theme;
use super::view;
use crate::domain::{Act, TradingDay, day_state};
use crate::operator::Operator;
use crate::store::Store;
use crate::store::listen;

type Term = Terminal<CrosstermBackend<Stdout>>;

/// How often time moves on screen and coalesced live changes are read.
const TICK: Duration = Duration::from_millis(200);

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
    let listener = {
        let tx = tx.clone();
        tokio::spawn(listen::watch(store.clone(), move |event| {
            tx.send(match event {
                listen::Event::Connected => Msg::Connected,
                listen::Event::Changed(change) => Msg::Changed(change),
                listen::Event::Lost(reason) => Msg::Disconnected(reason),
            })
            .is_ok()
        }))
    };
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
    match cmd.act() {
        Some(act) => match perform(store, cmd, operator).await {
            Ok(done) => Msg::Done(done),
            Err(e) => failed(act, &e),
        },
        None => match read(store, cmd).await {
            Ok(loaded) => Msg::Loaded(loaded),
            Err(e) => Msg::LoadFailed(e.to_string()),
        },
    }
}

/// A read for a pane.
async fn read(store: &Store, cmd: Cmd) -> Result<Loaded, crate::store::Error> {
    Ok(match cmd {
        Cmd::LoadRisk => Loaded::Risk {
            row: store.risk_config().await?,
            last: store.last_risk_change().await?,
        },
        Cmd::LoadAccount => {
            let now = Utc::now();
            let day = TradingDay::UTC_MIDNIGHT;
            let snapshots = store.account_since(day.start_of(now)).await?;
            Loaded::Account {
                latest: snapshots.last().copied(),
                day: day_state(&snapshots, day, now),
            }
        }
        Cmd::LoadStrategies => Loaded::Strategies(store.strategies().await?),
        Cmd::LoadIdeas(filter) => Loaded::Ideas(store.ideas(&filter).await?),
        Cmd::LoadTimeline { filter, append } => Loaded::Timeline {
            page: store.timeline(&filter).await?,
            append,
        },
        Cmd::LoadGateContext(id) => Loaded::GateContext(Box::new(store.gate_context(id).await?)),
        other => {
            return Err(crate::store::Error::Refused(format!(
                "{other:?} is not a read"
            )));
        }
    })
}

/// An act, one transaction of the store.
async fn perform(
    store: &Store,
    cmd: Cmd,
    operator: &Operator,
) -> Result<Done, crate::store::Error> {
    Ok(match cmd {
        Cmd::Approve { idea, lot } => Done::Approved {
            approval: store.approve(idea, lot, operator).await?,
            lot,
        },
        Cmd::Reject { idea, reason } => Done::Rejected {
            idea: store.reject(idea, &reason, operator).await?.idea,
        },
        Cmd::Halt { reason } => Done::Halted(store.halt(&reason, operator, false).await?),
        Cmd::Resume => Done::Resumed(store.resume(operator, "").await?),
        Cmd::SetRisk { edit } => {
            Done::RiskSet(Box::new(store.update_risk_config(&edit, operator).await?))
        }
        Cmd::SetStrategyActive { id, active } => {
            let (s, changed) = store.set_strategy_active(id, active, operator).await?;
            Done::StrategyToggled {
                name: s.name,
                active,
                changed,
            }
        }
        // The editor needs the terminal: the loop runs it in the foreground.
        other => {
            return Err(crate::store::Error::Refused(format!(
                "{} cannot run in the background",
                other.act().map_or("this", Act::noun)
            )));
        }
    })
}
