//! The event loop: one `select!` over terminal events, the database's notifications,
//! command results, a tick and signals. Commands run on tasks; their results come back as
//! messages. The screen is restored on every way out.

use std::io::{self, Stdout, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::task::JoinSet;

use super::alerts::{self, AlertSettings};
use super::app::{App, failed};
use super::editor;
use super::msg::{Cmd, Done, EquityPoint, Loaded, Msg};
use super::theme::Theme;
use super::view;
use crate::domain::{Act, TradingDay, day_state};
use crate::operator::Operator;
use crate::store::Store;
use crate::store::archive_replay::ArchiveData;
use crate::store::auth::SessionToken;
use crate::store::listen;

type Term = Terminal<CrosstermBackend<Stdout>>;

/// How often time moves on screen (ages, toasts).
const TICK: Duration = Duration::from_millis(500);
/// How long changes are gathered before they are read: long enough that a burst of
/// notifications (one per row of a transaction) is one read, short enough not to be seen.
const COALESCE: Duration = Duration::from_millis(4);
/// How long closing the connections may take when the console ends.
const CLOSE_WITHIN: Duration = Duration::from_secs(2);

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

/// Where the console's reads come from.
#[derive(Clone)]
pub enum Source {
    /// The platform's database: live panes, notifications, acts.
    Database(Store),
    /// A verified archive file (`tradedesk archive`): its timeline and the replays of its
    /// decisions. No connection, nothing to listen to, nothing that can be done.
    Archive(Arc<ArchiveData>),
}

/// Runs the console until the operator quits or a signal ends it, then closes its
/// connections (so the server sees them end, not reset).
pub async fn run(
    source: Source,
    mut app: App,
    theme: Theme,
    operator: Operator,
    session: Option<SessionToken>,
) -> io::Result<()> {
    install_panic_hook();
    let mut terminal = enter()?;
    let result = event_loop(&mut terminal, &source, &mut app, theme, &operator, session).await;
    leave();
    if let Source::Database(store) = &source
        && tokio::time::timeout(CLOSE_WITHIN, store.disconnect())
            .await
            .is_err()
    {
        tracing::warn!("the database connections did not close within {CLOSE_WITHIN:?}");
    }
    result
}

/// The loop's own state: where messages come from and what runs.
struct Loop<'a> {
    source: &'a Source,
    operator: &'a Operator,
    /// Checked before each act: a console left open does not outlive its session.
    session: Option<SessionToken>,
    tx: UnboundedSender<Msg>,
    tasks: JoinSet<()>,
    /// When the gathered changes are to be read (a `Msg::Flush` is due).
    flush_at: Option<Instant>,
    alerts: AlertSettings,
}

async fn event_loop(
    terminal: &mut Term,
    source: &Source,
    app: &mut App,
    theme: Theme,
    operator: &Operator,
    session: Option<SessionToken>,
) -> io::Result<()> {
    let (tx, mut rx) = unbounded_channel::<Msg>();
    let listener = match source {
        Source::Database(store) => {
            let tx = tx.clone();
            Some(tokio::spawn(listen::watch(store.clone(), move |event| {
                tx.send(match event {
                    listen::Event::Connected => Msg::Connected,
                    listen::Event::Changed(change) => Msg::Changed(change),
                    listen::Event::Lost(reason) => Msg::Disconnected(reason),
                })
                .is_ok()
            })))
        }
        // A file does not change: it is read once, as it opens.
        Source::Archive(_) => {
            let _ = tx.send(Msg::Connected);
            None
        }
    };
    let list_rows = |width, height| match source {
        Source::Database(_) => view::list_rows(width, height),
        Source::Archive(_) => view::archive_list_rows(width, height),
    };
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut looping = Loop {
        source,
        operator,
        session,
        tx,
        tasks: JoinSet::new(),
        flush_at: None,
        alerts: app.alerts.settings,
    };
    let size = terminal.size()?;
    // The first read happens when the listener reports Connected.
    let mut acts_ready = false;
    let mut pending = vec![Msg::Resize {
        list_rows: list_rows(size.width, size.height),
        width: size.width,
        height: size.height,
    }];
    loop {
        for msg in pending.drain(..) {
            for cmd in app.update(msg) {
                if !looping.run(cmd, terminal).await? {
                    app.quit = true;
                }
            }
        }
        if app.quit {
            break;
        }
        // Finished commands have sent their message; let their handles go.
        while looping.tasks.try_join_next().is_some() {}
        terminal.draw(|frame| view::draw(app, &theme, frame))?;
        // Once the first ideas are on screen (start-up is not slowed by it), the act
        // connections open and are made ready, so the first act is as quick as any.
        if !acts_ready
            && app.ideas_awaiting.is_some()
            && let Source::Database(store) = source
        {
            acts_ready = true;
            if !app.read_only {
                let store = store.clone();
                looping.tasks.spawn(async move { store.ready_acts().await });
            }
        }
        let flush_at = looping.flush_at;
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => Msg::Key(key),
                Some(Ok(Event::Resize(width, height))) => Msg::Resize { list_rows: list_rows(width, height), width, height },
                Some(Ok(_)) => continue,
                // The terminal went away (a dropped SSH session): leave.
                Some(Err(_)) | None => Msg::Terminate,
            },
            Some(msg) = rx.recv() => msg,
            _ = sleep_until(flush_at), if flush_at.is_some() => {
                looping.flush_at = None;
                Msg::Flush
            }
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
    if let Some(listener) = &listener {
        listener.abort();
    }
    // Acts still running are dropped with their connections: PostgreSQL rolls their
    // transactions back, so nothing half-written remains.
    looping.tasks.abort_all();
    while looping.tasks.join_next().await.is_some() {}
    if let Some(listener) = listener {
        let _ = listener.await;
    }
    Ok(())
}

/// Sleeps until `at` (never called without one).
async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}

impl Loop<'_> {
    /// Carries out one command; `false` to leave.
    async fn run(&mut self, cmd: Cmd, terminal: &mut Term) -> io::Result<bool> {
        match cmd {
            Cmd::Quit => return Ok(false),
            Cmd::EditStrategy { id } => {
                let done = match self.source {
                    Source::Database(store) => match store
                        .acting(self.operator, self.session.as_ref(), Act::EditStrategy)
                        .await
                    {
                        Ok(operator) => {
                            // The editor owns the terminal while it runs.
                            leave();
                            let done = editor::edit_strategy(store, id, &operator).await;
                            *terminal = enter()?;
                            done
                        }
                        Err(e) => failed(Act::EditStrategy, &e),
                    },
                    Source::Archive(_) => failed(Act::EditStrategy, &archive_refusal()),
                };
                let _ = self.tx.send(done);
            }
            Cmd::Coalesce => {
                self.flush_at
                    .get_or_insert_with(|| Instant::now() + COALESCE);
            }
            Cmd::Alert(alert) => {
                let bytes = alerts::terminal_bytes(&alert, &self.alerts);
                let mut out = io::stdout();
                out.write_all(bytes.as_bytes())?;
                out.flush()?;
                tracing::info!(kind = ?alert.kind, title = %alert.title, body = %alert.body, "alert");
            }
            cmd => {
                let (source, operator, session, tx) = (
                    self.source.clone(),
                    self.operator.clone(),
                    self.session.clone(),
                    self.tx.clone(),
                );
                self.tasks.spawn(async move {
                    let msg = match &source {
                        Source::Database(store) => {
                            exec(store, cmd, &operator, session.as_ref()).await
                        }
                        Source::Archive(data) => exec_archive(data, cmd).await,
                    };
                    let _ = tx.send(msg);
                });
            }
        }
        Ok(true)
    }
}

/// Runs one command against the store and says what came of it.
pub async fn exec(
    store: &Store,
    cmd: Cmd,
    operator: &Operator,
    session: Option<&SessionToken>,
) -> Msg {
    match cmd.act() {
        Some(act) => {
            let done = match store.acting(operator, session, act).await {
                Ok(operator) => perform(store, cmd, &operator).await,
                Err(e) => Err(e),
            };
            match done {
                Ok(done) => Msg::Done(done),
                Err(e) => failed(act, &e),
            }
        }
        None => {
            let reload = cmd.reload();
            match read(store, cmd).await {
                Ok(loaded) => Msg::Loaded(loaded),
                Err(e) => Msg::LoadFailed {
                    reload,
                    message: e.to_string(),
                },
            }
        }
    }
}

/// Why nothing is done from an archive (the console never asks: its acts are disabled).
fn archive_refusal() -> crate::store::Error {
    crate::store::Error::Refused("an archive file is read-only".into())
}

/// Runs one command against an archive file's rows: the timeline and its replays.
pub async fn exec_archive(data: &ArchiveData, cmd: Cmd) -> Msg {
    if let Some(act) = cmd.act() {
        return failed(act, &archive_refusal());
    }
    let reload = cmd.reload();
    let loaded = match cmd {
        Cmd::LoadTimeline { filter, append } => data
            .timeline(&filter)
            .map(|page| Loaded::Timeline { page, append }),
        Cmd::LoadReplay(id) => data.replay(id).await.map(|r| Loaded::Replay(Box::new(r))),
        other => {
            return Msg::LoadFailed {
                reload,
                message: format!("an archive holds no {other:?}"),
            };
        }
    };
    match loaded {
        Ok(loaded) => Msg::Loaded(loaded),
        Err(e) => Msg::LoadFailed {
            reload,
            message: e.to_string(),
        },
    }
}

/// A read for a pane.
async fn read(store: &Store, cmd: Cmd) -> Result<Loaded, crate::store::Error> {
    Ok(match cmd {
        Cmd::LoadRisk => Loaded::Risk {
            shown: store.risk_shown().await?,
            last: store.last_risk_change().await?,
        },
        Cmd::LoadAccount => {
            let now = Utc::now();
            let day = TradingDay::UTC_MIDNIGHT;
            let captures = store.account_since(day.start_of(now)).await?;
            // The day's figures only from a day whose every capture reads.
            let day_figures = if !captures.unreadable_by(now) {
                day_state(&captures.read, day, now)
            } else {
                None
            };
            Loaded::Account {
                latest: captures.read.last().copied(),
                unreadable: captures.flagged,
                day: day_figures,
                equity: captures
                    .read
                    .iter()
                    .map(|s| EquityPoint {
                        at: s.captured_at,
                        equity: s.equity,
                    })
                    .collect(),
            }
        }
        Cmd::LoadStrategies => Loaded::Strategies(store.strategies().await?),
        // The same trading day as the account's figures.
        Cmd::LoadStrategyDays => Loaded::StrategyDays(
            store
                .strategy_days(TradingDay::UTC_MIDNIGHT.start_of(Utc::now()))
                .await?,
        ),
        Cmd::LoadIdeas(filter) => Loaded::Ideas {
            items: store.ideas(&filter).await?,
            awaiting: store.pending(filter.symbol.as_deref()).await?.count,
        },
        Cmd::LoadTimeline { filter, append } => Loaded::Timeline {
            page: store.timeline(&filter).await?,
            append,
        },
        Cmd::LoadGateContext(id) => Loaded::GateContext(Box::new(store.gate_context(id).await?)),
        Cmd::LoadReplay(id) => Loaded::Replay(Box::new(store.replay(id).await?)),
        Cmd::LoadIdeaReplay(id) => Loaded::Replay(Box::new(store.replay_idea(id).await?)),
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
