//! Live changes: `LISTEN tradedesk` (the triggers of migration 3 announce every change to
//! the tables the console shows), a heartbeat that notices a connection gone silent, and
//! reconnection with backoff. Listeners get typed [`Change`]s, never SQL.

use std::time::{Duration, Instant};

use backon::{BackoffBuilder as _, ExponentialBuilder};
use sqlx::postgres::PgListener;
use uuid::Uuid;

use super::Store;

/// The channel the triggers notify.
const CHANNEL: &str = "tradedesk";
/// How often the listener checks that the database still answers.
const HEARTBEAT: Duration = Duration::from_secs(3);
/// How long the database has to answer a heartbeat.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(2);
/// A session that lasted this long resets the backoff.
const STEADY: Duration = Duration::from_secs(30);

/// A row some writer changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    Idea(Uuid),
    Decision(Uuid),
    /// The single `risk_config` row.
    Risk,
    Strategy(Uuid),
    Execution(Uuid),
    Account(Uuid),
}

impl Change {
    /// Reads a notification's payload, `{"table": …, "op": …, "id": …}`; `None` for one
    /// that names a table tradedesk does not show, or is not such a payload.
    pub fn parse(payload: &str) -> Option<Change> {
        let value: serde_json::Value = serde_json::from_str(payload).ok()?;
        let id = || value["id"].as_str().and_then(|s| Uuid::parse_str(s).ok());
        match value["table"].as_str()? {
            "trade_ideas" => id().map(Change::Idea),
            "decision_history" => id().map(Change::Decision),
            "risk_config" => Some(Change::Risk),
            "strategies" => id().map(Change::Strategy),
            "executions" => id().map(Change::Execution),
            "snapshot_account" => id().map(Change::Account),
            _ => None,
        }
    }
}

/// What the listener reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Listening (again): anything announced while disconnected was lost, so read all.
    Connected,
    Changed(Change),
    /// The connection was lost, and why; the listener is reconnecting.
    Lost(String),
}

/// Listens until `report` returns false (its receiver is gone): reports every change, a
/// lost connection, and each reconnection. Quick failures back off from 250 ms up to 5 s.
pub async fn watch(store: Store, mut report: impl FnMut(Event) -> bool + Send) {
    let backoff = || {
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(250))
            .with_max_delay(Duration::from_secs(5))
            .with_factor(2.0)
            .without_max_times()
            .build()
    };
    let mut delays = backoff();
    loop {
        let started = Instant::now();
        match session(&store, &mut report).await {
            Ok(()) => return,
            Err(reason) => {
                if !report(Event::Lost(reason)) {
                    return;
                }
            }
        }
        if started.elapsed() > STEADY {
            delays = backoff();
        }
        let wait = delays.next().unwrap_or(Duration::from_secs(5));
        tokio::time::sleep(wait).await;
    }
}

/// One listening session; `Err(reason)` when the connection is lost, `Ok` when the
/// listener is no longer wanted.
async fn session(store: &Store, report: &mut impl FnMut(Event) -> bool) -> Result<(), String> {
    let mut listener = PgListener::connect_with(store.pool())
        .await
        .map_err(|e| e.to_string())?;
    listener.listen(CHANNEL).await.map_err(|e| e.to_string())?;
    if !report(Event::Connected) {
        return Ok(());
    }
    // The heartbeat runs beside the listener, so that waiting for a notification is never
    // cancelled while the connection is kept: only when it is given up.
    let (lost_tx, mut lost) = tokio::sync::oneshot::channel::<String>();
    let heartbeat = tokio::spawn(heartbeat(store.clone(), lost_tx));
    let result = loop {
        tokio::select! {
            note = listener.try_recv() => match note {
                Ok(Some(note)) => {
                    let Some(change) = Change::parse(note.payload()) else { continue };
                    if !report(Event::Changed(change)) {
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

/// Asks the database to answer every few seconds; says why when it does not.
async fn heartbeat(store: Store, lost: tokio::sync::oneshot::Sender<String>) {
    // The first beat a period after listening starts: the panes are being read then.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    loop {
        tick.tick().await;
        let ping = tokio::time::timeout(HEARTBEAT_TIMEOUT, store.ping()).await;
        let reason = match ping {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!(
                "the database did not answer within {} s",
                HEARTBEAT_TIMEOUT.as_secs()
            ),
        };
        let _ = lost.send(reason);
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_become_typed_changes() {
        let id = "0195f3b2-7c1e-7d4a-9b1f-2a3c4d5e6f70";
        let uuid = Uuid::parse_str(id).unwrap();
        let note = |table: &str, id: &str| {
            Change::parse(&format!(
                r#"{{"table":"{table}","op":"insert","id":"{id}"}}"#
            ))
        };
        assert_eq!(note("trade_ideas", id), Some(Change::Idea(uuid)));
        assert_eq!(note("decision_history", id), Some(Change::Decision(uuid)));
        assert_eq!(note("risk_config", "true"), Some(Change::Risk));
        assert_eq!(note("strategies", id), Some(Change::Strategy(uuid)));
        assert_eq!(note("executions", id), Some(Change::Execution(uuid)));
        assert_eq!(note("snapshot_account", id), Some(Change::Account(uuid)));
        assert_eq!(note("users", id), None, "a table tradedesk does not show");
        assert_eq!(note("trade_ideas", "not-an-id"), None);
        assert_eq!(Change::parse("not json"), None);
    }
}
