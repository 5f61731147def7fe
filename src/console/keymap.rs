//! Key bindings as data: one table drives the handlers, the footer and the help overlay,
//! and a user's `[keys]` table in config.toml rebinds any action.
//!
//! Two rules hold whatever config.toml says, checked as the console starts: the kill
//! switch always has `K` and `Ctrl-K` (a `halt` entry adds keys to them), and a key does
//! one thing wherever it works — in each pane and over a replay, its own keys, the lists'
//! and the global ones together. The one overlap by design: over a replay, which is a
//! screen of its own, its keys come first (`q` closes it; everywhere else `q` quits). No
//! key of the kill switch may mean anything else anywhere.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where an action works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// From anywhere (outside dialogs).
    Global,
    /// In any list pane.
    List,
    Risk,
    Strategies,
    Ideas,
    Timeline,
    /// While a decision's replay is open.
    Replay,
}

/// Everything a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    NextPane,
    PrevPane,
    Pane1,
    Pane2,
    Pane3,
    Pane4,
    Halt,
    Resume,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Details,
    /// What the AI saw: the replay of the selected idea's latest decision, or of the
    /// selected decision.
    Replay,
    CloseReplay,
    Filter,
    Approve,
    Reject,
    EditRisk,
    ToggleStrategy,
    EditStrategy,
}

/// One row of the table: the action, its config name, where it works, what the help says,
/// and its default keys.
struct Entry {
    action: Action,
    name: &'static str,
    scope: Scope,
    help: &'static str,
    keys: &'static [&'static str],
}

const TABLE: &[Entry] = &[
    Entry {
        action: Action::Halt,
        name: "halt",
        scope: Scope::Global,
        help: "KILL SWITCH: halt AI trading",
        keys: &["K", "ctrl-k"],
    },
    Entry {
        action: Action::Resume,
        name: "resume",
        scope: Scope::Global,
        help: "resume AI trading (asks to confirm)",
        keys: &["R"],
    },
    Entry {
        action: Action::NextPane,
        name: "next_pane",
        scope: Scope::Global,
        help: "next pane",
        keys: &["tab"],
    },
    Entry {
        action: Action::PrevPane,
        name: "prev_pane",
        scope: Scope::Global,
        help: "previous pane",
        keys: &["shift-tab"],
    },
    Entry {
        action: Action::Pane1,
        name: "pane_risk",
        scope: Scope::Global,
        help: "risk controls",
        keys: &["1"],
    },
    Entry {
        action: Action::Pane2,
        name: "pane_strategies",
        scope: Scope::Global,
        help: "strategies",
        keys: &["2"],
    },
    Entry {
        action: Action::Pane3,
        name: "pane_ideas",
        scope: Scope::Global,
        help: "trade ideas",
        keys: &["3"],
    },
    Entry {
        action: Action::Pane4,
        name: "pane_timeline",
        scope: Scope::Global,
        help: "decision timeline",
        keys: &["4"],
    },
    Entry {
        action: Action::Help,
        name: "help",
        scope: Scope::Global,
        help: "every key",
        keys: &["?"],
    },
    Entry {
        action: Action::Quit,
        name: "quit",
        scope: Scope::Global,
        help: "quit",
        keys: &["q"],
    },
    Entry {
        action: Action::Up,
        name: "up",
        scope: Scope::List,
        help: "up",
        keys: &["k", "up"],
    },
    Entry {
        action: Action::Down,
        name: "down",
        scope: Scope::List,
        help: "down",
        keys: &["j", "down"],
    },
    Entry {
        action: Action::PageUp,
        name: "page_up",
        scope: Scope::List,
        help: "page up",
        keys: &["pgup"],
    },
    Entry {
        action: Action::PageDown,
        name: "page_down",
        scope: Scope::List,
        help: "page down",
        keys: &["pgdn"],
    },
    Entry {
        action: Action::Top,
        name: "top",
        scope: Scope::List,
        help: "first",
        keys: &["g", "home"],
    },
    Entry {
        action: Action::Bottom,
        name: "bottom",
        scope: Scope::List,
        help: "last",
        keys: &["G", "end"],
    },
    Entry {
        action: Action::Replay,
        name: "replay",
        scope: Scope::List,
        help: "replay: what the AI saw then",
        keys: &["enter"],
    },
    Entry {
        action: Action::Details,
        name: "details",
        scope: Scope::List,
        help: "details",
        keys: &["i"],
    },
    Entry {
        action: Action::CloseReplay,
        name: "close_replay",
        scope: Scope::Replay,
        help: "close the replay",
        keys: &["esc", "q"],
    },
    Entry {
        action: Action::Filter,
        name: "filter",
        scope: Scope::List,
        help: "filter",
        keys: &["/"],
    },
    Entry {
        action: Action::Approve,
        name: "approve",
        scope: Scope::Ideas,
        help: "approve (lot, live risk check)",
        keys: &["a"],
    },
    Entry {
        action: Action::Reject,
        name: "reject",
        scope: Scope::Ideas,
        help: "reject with a reason",
        keys: &["r"],
    },
    Entry {
        action: Action::EditRisk,
        name: "edit_risk",
        scope: Scope::Risk,
        help: "edit the selected limit",
        keys: &["e"],
    },
    Entry {
        action: Action::ToggleStrategy,
        name: "toggle_strategy",
        scope: Scope::Strategies,
        help: "enable / disable",
        keys: &["space"],
    },
    Entry {
        action: Action::EditStrategy,
        name: "edit_strategy",
        scope: Scope::Strategies,
        help: "edit rules in $EDITOR",
        keys: &["e"],
    },
];

/// The ideas pane's actions that also work over a replay, on the replayed idea while it
/// awaits approval.
pub const REPLAY_LENT: [Action; 2] = [Action::Approve, Action::Reject];

/// The kill switch's own keys: no `[keys]` entry takes them away or gives them to another
/// action.
pub const KILL_SWITCH: [&str; 2] = ["K", "ctrl-k"];

/// Where keys are looked up when the operator is in a pane or a replay: its own scope
/// first, then (over a replay) the ideas pane's lent actions, the lists', the global ones.
const CONTEXTS: [Scope; 5] = [
    Scope::Risk,
    Scope::Strategies,
    Scope::Ideas,
    Scope::Timeline,
    Scope::Replay,
];

/// A key as written in config.toml: `a`, `K`, `ctrl-k`, `shift-tab`, `enter`, `pgdn`…
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
}

impl Key {
    /// Parses a key name; `None` for a name tradedesk does not know.
    pub fn parse(text: &str) -> Option<Key> {
        let (ctrl, rest) = match text.strip_prefix("ctrl-") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let code = match rest {
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            single => {
                let mut chars = single.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
                    _ => return None,
                }
            }
        };
        Some(Key { code, ctrl })
    }

    /// The key of a terminal event.
    pub fn of(event: &KeyEvent) -> Key {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let code = match event.code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            other => other,
        };
        Key { code, ctrl }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        match self.code {
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::Char(c) if self.ctrl => write!(f, "{}", c.to_ascii_uppercase()),
            KeyCode::Char(c) => write!(f, "{c}"),
            _ => f.write_str("?"),
        }
    }
}

/// One binding as the footer and help show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub action: Action,
    pub scope: Scope,
    pub keys: Vec<Key>,
    pub help: &'static str,
}

/// The bindings in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

/// A `[keys]` entry tradedesk could not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error("[keys] {0}: no such action (the actions are {1})")]
    UnknownAction(String, String),
    #[error(
        "[keys] {action}: \"{key}\" is not a key (write a, K, ctrl-k, tab, shift-tab, enter, esc, space, up, down, pgup, pgdn, home, end)"
    )]
    UnknownKey { action: String, key: String },
    /// One key bound to two actions that work in the same place.
    #[error(
        "[keys] {key} is bound to both {first} and {second}, which work in the same place: \
         give one of them another key{}",
        if *.first == "halt" || *.second == "halt" {
            " (K and Ctrl-K are always the kill switch's)"
        } else {
            ""
        }
    )]
    Conflict {
        key: String,
        first: &'static str,
        second: &'static str,
    },
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: TABLE
                .iter()
                .map(|e| Binding {
                    action: e.action,
                    scope: e.scope,
                    keys: e.keys.iter().filter_map(|k| Key::parse(k)).collect(),
                    help: e.help,
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// The defaults with the user's `[keys]` table applied (`approve = ["a", "y"]`).
    pub fn with_overrides(
        overrides: &BTreeMap<String, Vec<String>>,
    ) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::default();
        for (name, keys) in overrides {
            let Some(entry) = TABLE.iter().find(|e| e.name == name) else {
                let names: Vec<&str> = TABLE.iter().map(|e| e.name).collect();
                return Err(KeymapError::UnknownAction(name.clone(), names.join(", ")));
            };
            let parsed = keys
                .iter()
                .map(|k| {
                    Key::parse(k).ok_or_else(|| KeymapError::UnknownKey {
                        action: name.clone(),
                        key: k.clone(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(binding) = map.bindings.iter_mut().find(|b| b.action == entry.action) {
                binding.keys = if entry.action == Action::Halt {
                    // Added to, never taken from: `halt = []` still halts with K.
                    let mut keys: Vec<Key> =
                        KILL_SWITCH.iter().filter_map(|k| Key::parse(k)).collect();
                    for key in parsed {
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                    }
                    keys
                } else {
                    parsed
                };
            }
        }
        map.check_conflicts()?;
        Ok(map)
    }

    /// Refuses a key bound to two actions that can both be reached in one pane or over a
    /// replay (see the module's rules), naming the key and both actions.
    fn check_conflicts(&self) -> Result<(), KeymapError> {
        let name = |action: Action| {
            TABLE
                .iter()
                .find(|e| e.action == action)
                .map_or("?", |e| e.name)
        };
        // The kill switch's keys mean nothing else, in any scope.
        if let Some(halt) = self.bindings.iter().find(|b| b.action == Action::Halt) {
            for other in self.bindings.iter().filter(|b| b.action != Action::Halt) {
                if let Some(key) = other.keys.iter().find(|k| halt.keys.contains(k)) {
                    return Err(KeymapError::Conflict {
                        key: key.to_string(),
                        first: name(Action::Halt),
                        second: name(other.action),
                    });
                }
            }
        }
        for context in CONTEXTS {
            let reached: Vec<&Binding> = self
                .bindings
                .iter()
                .filter(|b| {
                    b.scope == context
                        || matches!(b.scope, Scope::List | Scope::Global)
                        || (context == Scope::Replay
                            && b.scope == Scope::Ideas
                            && REPLAY_LENT.contains(&b.action))
                })
                .collect();
            for (n, first) in reached.iter().enumerate() {
                for second in &reached[n + 1..] {
                    // The replay's own keys come first there, by design.
                    let layered = context == Scope::Replay
                        && (first.scope == Scope::Replay) != (second.scope == Scope::Replay);
                    if layered || first.action == second.action {
                        continue;
                    }
                    if let Some(key) = first.keys.iter().find(|k| second.keys.contains(k)) {
                        return Err(KeymapError::Conflict {
                            key: key.to_string(),
                            first: name(first.action),
                            second: name(second.action),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The action `event` means in `scope` (pane-specific bindings first, then lists, then
    /// global ones). Over a replay, the ideas pane's approve and reject keys work too (on
    /// the replayed idea).
    pub fn action(&self, event: &KeyEvent, scope: Scope) -> Option<Action> {
        let key = Key::of(event);
        let find = |wanted: Scope| {
            self.bindings
                .iter()
                .find(|b| b.scope == wanted && b.keys.contains(&key))
                .map(|b| b.action)
        };
        let lent =
            || find(Scope::Ideas).filter(|a| scope == Scope::Replay && REPLAY_LENT.contains(a));
        find(scope)
            .or_else(lent)
            .or_else(|| find(Scope::List))
            .or_else(|| find(Scope::Global))
    }

    /// The bindings the help lists under `scope`: its own, and over a replay the ideas
    /// pane's that work there too.
    pub fn help_bindings(&self, scope: Scope) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| {
            b.scope == scope
                || (scope == Scope::Replay
                    && b.scope == Scope::Ideas
                    && REPLAY_LENT.contains(&b.action))
        })
    }

    /// The bindings of a scope, for the footer and help.
    pub fn bindings(&self, scope: Scope) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.scope == scope)
    }

    /// The first key of an action, as shown (`K`).
    pub fn key_of(&self, action: Action) -> String {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first())
            .map(ToString::to_string)
            .unwrap_or_else(|| "(unbound)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn the_kill_switch_works_from_every_pane_with_both_keys() {
        let map = Keymap::default();
        for scope in [
            Scope::Risk,
            Scope::Strategies,
            Scope::Ideas,
            Scope::Timeline,
        ] {
            assert_eq!(
                map.action(&press(KeyCode::Char('K'), KeyModifiers::SHIFT), scope),
                Some(Action::Halt)
            );
            assert_eq!(
                map.action(&press(KeyCode::Char('k'), KeyModifiers::CONTROL), scope),
                Some(Action::Halt)
            );
            assert_eq!(
                map.action(&press(KeyCode::Char('k'), KeyModifiers::NONE), scope),
                Some(Action::Up)
            );
        }
    }

    #[test]
    fn pane_keys_win_over_list_and_global_keys() {
        let map = Keymap::default();
        let e = press(KeyCode::Char('e'), KeyModifiers::NONE);
        assert_eq!(map.action(&e, Scope::Risk), Some(Action::EditRisk));
        assert_eq!(
            map.action(&e, Scope::Strategies),
            Some(Action::EditStrategy)
        );
        assert_eq!(map.action(&e, Scope::Ideas), None);
    }

    #[test]
    fn enter_replays_i_shows_details_and_a_replay_closes_with_esc_or_q() {
        let map = Keymap::default();
        let key = |c: KeyCode| press(c, KeyModifiers::NONE);
        for scope in [Scope::Ideas, Scope::Timeline] {
            assert_eq!(
                map.action(&key(KeyCode::Enter), scope),
                Some(Action::Replay)
            );
            assert_eq!(
                map.action(&key(KeyCode::Char('i')), scope),
                Some(Action::Details)
            );
            assert_eq!(
                map.action(&key(KeyCode::Char('q')), scope),
                Some(Action::Quit)
            );
        }
        let replay = Scope::Replay;
        assert_eq!(
            map.action(&key(KeyCode::Esc), replay),
            Some(Action::CloseReplay)
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('q')), replay),
            Some(Action::CloseReplay)
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('j')), replay),
            Some(Action::Down)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('K'), KeyModifiers::SHIFT), replay),
            Some(Action::Halt),
            "the kill switch works over a replay too"
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('a')), replay),
            Some(Action::Approve),
            "approve and reject work over a replay, with the ideas pane's keys"
        );
        assert_eq!(
            map.action(&key(KeyCode::Char('r')), replay),
            Some(Action::Reject)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('R'), KeyModifiers::SHIFT), replay),
            Some(Action::Resume)
        );
        // The other pane keys do not.
        assert_eq!(map.action(&key(KeyCode::Char('e')), replay), None);
        assert_eq!(map.action(&key(KeyCode::Char(' ')), replay), None);
    }

    #[test]
    fn rebound_approve_and_reject_keys_follow_into_the_replay() {
        let mut overrides = BTreeMap::new();
        overrides.insert("approve".to_string(), vec!["y".to_string()]);
        let map = Keymap::with_overrides(&overrides).unwrap();
        let key = |c: char| press(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(map.action(&key('y'), Scope::Replay), Some(Action::Approve));
        assert_eq!(map.action(&key('a'), Scope::Replay), None);
        let listed: Vec<Action> = map.help_bindings(Scope::Replay).map(|b| b.action).collect();
        assert_eq!(
            listed,
            [Action::CloseReplay, Action::Approve, Action::Reject]
        );
    }

    #[test]
    fn overrides_rebind_and_bad_ones_are_named() {
        let mut overrides = BTreeMap::new();
        overrides.insert("approve".to_string(), vec!["y".to_string()]);
        let map = Keymap::with_overrides(&overrides).unwrap();
        assert_eq!(
            map.action(&press(KeyCode::Char('y'), KeyModifiers::NONE), Scope::Ideas),
            Some(Action::Approve)
        );
        assert_eq!(
            map.action(&press(KeyCode::Char('a'), KeyModifiers::NONE), Scope::Ideas),
            None
        );
        assert_eq!(map.key_of(Action::Approve), "y");

        overrides.insert("aprove".to_string(), vec!["a".to_string()]);
        let err = Keymap::with_overrides(&overrides).unwrap_err().to_string();
        assert!(err.starts_with("[keys] aprove: no such action"), "{err}");
        let mut bad_key = BTreeMap::new();
        bad_key.insert("halt".to_string(), vec!["hyper-k".to_string()]);
        assert!(Keymap::with_overrides(&bad_key).is_err());
    }

    fn with(entries: &[(&str, &[&str])]) -> Result<Keymap, KeymapError> {
        let overrides: BTreeMap<String, Vec<String>> = entries
            .iter()
            .map(|(action, keys)| {
                (
                    action.to_string(),
                    keys.iter().map(|k| k.to_string()).collect(),
                )
            })
            .collect();
        Keymap::with_overrides(&overrides)
    }

    fn halts_everywhere_with_k_and_ctrl_k(map: &Keymap) {
        for scope in CONTEXTS {
            assert_eq!(
                map.action(&press(KeyCode::Char('K'), KeyModifiers::SHIFT), scope),
                Some(Action::Halt),
                "{scope:?}"
            );
            assert_eq!(
                map.action(&press(KeyCode::Char('k'), KeyModifiers::CONTROL), scope),
                Some(Action::Halt),
                "{scope:?}"
            );
        }
    }

    #[test]
    fn the_kill_switch_cannot_be_unbound_and_keys_given_to_it_are_added() {
        let map = with(&[("halt", &[])]).unwrap();
        halts_everywhere_with_k_and_ctrl_k(&map);
        assert_eq!(map.key_of(Action::Halt), "K");

        let map = with(&[("halt", &["ctrl-h", "K"])]).unwrap();
        halts_everywhere_with_k_and_ctrl_k(&map);
        assert_eq!(
            map.action(
                &press(KeyCode::Char('h'), KeyModifiers::CONTROL),
                Scope::Ideas
            ),
            Some(Action::Halt)
        );
        let keys: Vec<String> = map
            .bindings(Scope::Global)
            .find(|b| b.action == Action::Halt)
            .unwrap()
            .keys
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(keys, ["K", "Ctrl-K", "Ctrl-H"]);
    }

    #[test]
    fn a_key_of_the_kill_switch_given_to_another_action_is_refused_naming_both() {
        for (action, key, shown) in [
            ("resume", "K", "K"),
            ("approve", "K", "K"),
            ("up", "ctrl-k", "Ctrl-K"),
            ("close_replay", "K", "K"),
            ("edit_strategy", "ctrl-k", "Ctrl-K"),
        ] {
            let keys = [key];
            let e = with(&[(action, &keys)]).unwrap_err().to_string();
            assert_eq!(
                e,
                format!(
                    "[keys] {shown} is bound to both halt and {action}, which work in the same \
                     place: give one of them another key (K and Ctrl-K are always the kill \
                     switch's)"
                )
            );
        }
        // A key added to the kill switch is its own too.
        let e = with(&[("halt", &["x"]), ("filter", &["x"])])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("[keys] x is bound to both halt and filter"),
            "{e}"
        );
    }

    #[test]
    fn a_key_bound_to_two_actions_that_work_in_one_place_is_refused_naming_both() {
        // Both global.
        let e = with(&[("help", &["q"])]).unwrap_err().to_string();
        assert!(
            e.starts_with("[keys] q is bound to both help and quit"),
            "{e}"
        );
        assert!(!e.contains("kill switch"), "{e}");
        // A pane's key over a list key.
        let e = with(&[("approve", &["j"])]).unwrap_err().to_string();
        assert!(
            e.starts_with("[keys] j is bound to both down and approve"),
            "{e}"
        );
        // A lent key over a replay.
        let e = with(&[("reject", &["pgdn"])]).unwrap_err().to_string();
        assert!(
            e.starts_with("[keys] PgDn is bound to both page_down and reject"),
            "{e}"
        );
        // Panes that are never open together may share a key (as e does by default), and
        // the replay's own keys come first over it (as q does by default).
        with(&[("edit_risk", &["x"]), ("toggle_strategy", &["x"])]).unwrap();
        with(&[("close_replay", &["esc", "q", "j"])]).unwrap();
        Keymap::default().check_conflicts().unwrap();
    }
}
