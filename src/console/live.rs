//! Live changes, part of the pure `update`: what another writer changed is read again a
//! few milliseconds after its notification (so a burst is one read of each pane it
//! touched), never twice at once, and never lost while a read is in flight.

use std::collections::HashSet;

use super::app::{App, Connection, ReplayOf, TIMELINE_HELD};
use super::msg::{Cmd, Reload};
use crate::domain::Decision;
use crate::domain::stored::Listed;
use crate::store::listen::Change;
use crate::store::timeline::{Cursor, Page};

impl App {
    /// Notes what a change makes stale. Each strategy's day counts its decisions and
    /// values its orders at the last prices, which move with each account capture.
    pub(super) fn mark_dirty(&mut self, change: &Change) {
        let reloads: &[Reload] = match change {
            Change::Idea(_) | Change::Execution(_) => &[Reload::Ideas, Reload::StrategyDays],
            Change::Decision(_) => &[Reload::Timeline, Reload::StrategyDays],
            Change::Risk => &[Reload::Risk],
            Change::Strategy(_) => &[Reload::Strategies, Reload::Ideas, Reload::StrategyDays],
            Change::Account(_) => &[Reload::Account, Reload::StrategyDays],
        };
        self.dirty.extend(reloads.iter().copied());
        if self.replay.as_ref().is_some_and(|v| v.touched_by(change)) {
            self.dirty.insert(Reload::Replay);
        }
    }

    /// Asks for a flush in a few milliseconds, unless one is due or nothing waits.
    pub(super) fn schedule_flush(&mut self) -> Vec<Cmd> {
        if self.flush_pending || self.dirty.is_empty() || self.connection != Connection::Live {
            return Vec::new();
        }
        self.flush_pending = true;
        vec![Cmd::Coalesce]
    }

    /// Reads every stale pane that is not being read already (those wait for their read to
    /// come back, which may predate the change).
    pub(super) fn on_flush(&mut self) -> Vec<Cmd> {
        self.flush_pending = false;
        if self.connection != Connection::Live {
            return Vec::new();
        }
        let mut cmds = Vec::new();
        for reload in std::mem::take(&mut self.dirty) {
            if self.reading.contains(&reload) || self.deep_in_timeline(reload) {
                self.dirty.insert(reload);
            } else {
                cmds.extend(self.read(reload));
            }
        }
        cmds
    }

    /// Read of a pane done (or failed): a change that came meanwhile is read next.
    pub(super) fn read_done(&mut self, reload: Reload) -> Vec<Cmd> {
        self.reading.remove(&reload);
        self.schedule_flush()
    }

    /// The read of `reload`, noted as in flight; `None` for the replay when none is open.
    pub(super) fn read(&mut self, reload: Reload) -> Option<Cmd> {
        // An archive holds decisions and what their replays read: no live pane.
        if self.archive.is_some() && !matches!(reload, Reload::Timeline | Reload::Replay) {
            return None;
        }
        let cmd = match reload {
            Reload::Risk => Cmd::LoadRisk,
            Reload::Account => Cmd::LoadAccount,
            Reload::Strategies => Cmd::LoadStrategies,
            Reload::StrategyDays => Cmd::LoadStrategyDays,
            Reload::Ideas => Cmd::LoadIdeas(self.idea_filter.clone()),
            Reload::Timeline => {
                self.timeline.loading = true;
                Cmd::LoadTimeline {
                    filter: self.first_timeline_page(),
                    append: false,
                }
            }
            Reload::Replay => match self.replay.as_ref()?.of {
                ReplayOf::Decision(id) => Cmd::LoadReplay(id),
                ReplayOf::Idea(id) => Cmd::LoadIdeaReplay(id),
            },
        };
        self.reading.insert(reload);
        Some(cmd)
    }

    /// A timeline the operator has paged so deep that its newest rows were let go: new
    /// decisions are announced (`▲ new`) and read when they return to the top (`g`).
    fn deep_in_timeline(&mut self, reload: Reload) -> bool {
        if reload == Reload::Timeline && self.timeline.trimmed {
            self.timeline.newer_above = true;
            return true;
        }
        false
    }

    /// The newest page of the timeline, merged with the older rows already held: rows it
    /// holds replace theirs, older held rows stay below it (so an operator reading deep in
    /// the list keeps their place).
    pub(super) fn merge_first_page(&mut self, page: Page) {
        // Rows held after the newest were let go cannot be joined to the page without a
        // gap: then the page replaces them.
        let keep_older = !std::mem::take(&mut self.timeline.trimmed);
        self.timeline.newer_above = false;
        let key = |d: &Listed<Decision>| (d.at(), d.id());
        let fresh: HashSet<_> = page.decisions.iter().map(Listed::id).collect();
        let oldest_fresh = page.decisions.last().map(key);
        let older: Vec<Listed<Decision>> = self
            .timeline
            .list
            .items
            .iter()
            .filter(|d| keep_older && !fresh.contains(&d.id()))
            .filter(|d| oldest_fresh.is_some_and(|k| key(d) < k))
            .take(TIMELINE_HELD.saturating_sub(page.decisions.len()))
            .cloned()
            .collect();
        // The next page starts after the last row held.
        self.timeline.next = match older.last() {
            Some(d) => Some(Cursor {
                occurred_at: d.at(),
                id: d.id(),
            }),
            None => page.next,
        };
        let mut items = page.decisions;
        items.extend(older);
        self.timeline
            .list
            .replace(items, Listed::id, self.list_rows);
    }
}
