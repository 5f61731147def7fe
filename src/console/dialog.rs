//! The console's dialogs: their state and their keys. Nothing here does IO; a dialog
//! that is confirmed hands back the command to run.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::{Input, InputRequest};

use super::msg::{Cmd, Pane};
use crate::domain::stored::Listed;
use crate::domain::text::{Typed, typed};
use crate::domain::{
    GateContext, GateReport, Idea, Lot, Purpose, RiskChangeSet, RiskConfig, RiskField,
};
use crate::format::Shown;

/// An open dialog.
#[derive(Debug, Clone)]
pub enum Dialog {
    Approve(Approve),
    Reject {
        /// An idea whose row cannot be read may be rejected too.
        idea: Listed<Idea>,
        reason: Input,
    },
    /// The kill switch: one confirm key, the reason optional.
    Halt {
        reason: Input,
    },
    /// Resuming is deliberate: its own key and its own confirmation.
    Resume,
    EditRisk {
        field: RiskField,
        input: Input,
        current: Box<RiskConfig>,
        /// The edit as typed, checked against the current limits: what Enter sends, or
        /// why it cannot be sent.
        edit: Result<RiskChangeSet, String>,
    },
    Filter {
        pane: Pane,
        input: Input,
    },
    /// Details of a row.
    Text {
        title: String,
        body: Vec<String>,
    },
    /// What an act came to; stays until dismissed, so no outcome is missed.
    Outcome {
        title: String,
        lines: Vec<String>,
        ok: bool,
    },
}

/// The approval dialog: a lot size and the Gate's verdict on it, live.
#[derive(Debug, Clone)]
pub struct Approve {
    pub idea: Idea,
    pub lot: Input,
    /// Read when the dialog opened; `None` until it arrives.
    pub context: Option<Box<GateContext>>,
    /// The lot as typed with the Gate's verdict on it, or why it is not a lot; `None`
    /// until the context arrives.
    pub verdict: Option<Result<(Lot, GateReport), String>>,
}

impl Approve {
    pub fn new(idea: Idea) -> Approve {
        Approve {
            idea,
            lot: Input::default(),
            context: None,
            verdict: None,
        }
    }

    /// The context arrived: offer the default lot and judge it.
    pub fn set_context(&mut self, context: Box<GateContext>) {
        if self.lot.value().is_empty() {
            self.lot = Input::new(Shown(context.default_lot()).to_string());
        }
        self.context = Some(context);
        self.rejudge();
    }

    /// Parses the typed lot (once per keystroke) and re-runs the Gate on it: pure, no
    /// database.
    pub fn rejudge(&mut self) {
        self.verdict = self.context.as_ref().map(|context| {
            Lot::parse(self.lot.value())
                .map(|lot| (lot, context.judge(lot, Purpose::HumanApproval)))
                .map_err(|e| e.to_string())
        });
    }

    /// The command to send, when the lot passes.
    fn submit(&self) -> Option<Cmd> {
        match &self.verdict {
            Some(Ok((lot, report))) if report.passed() => Some(Cmd::Approve {
                idea: self.idea.id,
                lot: *lot,
            }),
            _ => None,
        }
    }
}

/// What a key did to a dialog.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Stay,
    Close,
    /// Close and run this.
    Submit(Cmd),
    /// Close and apply this filter text to a pane.
    Filter(Pane, String),
}

/// Applies an editing key to a text input; `false` for keys that are not editing.
pub fn edit(input: &mut Input, key: &KeyEvent) -> bool {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let request = match key.code {
        KeyCode::Char('u') if ctrl => InputRequest::DeleteLine,
        KeyCode::Char('w') if ctrl => InputRequest::DeletePrevWord,
        KeyCode::Char(c) if !ctrl => InputRequest::InsertChar(c),
        KeyCode::Backspace => InputRequest::DeletePrevChar,
        KeyCode::Delete => InputRequest::DeleteNextChar,
        KeyCode::Left => InputRequest::GoToPrevChar,
        KeyCode::Right => InputRequest::GoToNextChar,
        KeyCode::Home => InputRequest::GoToStart,
        KeyCode::End => InputRequest::GoToEnd,
        _ => return false,
    };
    input.handle(request);
    true
}

impl Dialog {
    /// Handles a key; `Esc` always closes without acting.
    pub fn on_key(&mut self, key: &KeyEvent) -> Outcome {
        if key.code == KeyCode::Esc {
            return Outcome::Close;
        }
        let enter = key.code == KeyCode::Enter;
        match self {
            Dialog::Approve(approve) => {
                if enter {
                    return approve.submit().map_or(Outcome::Stay, Outcome::Submit);
                }
                if edit(&mut approve.lot, key) {
                    approve.rejudge();
                }
                Outcome::Stay
            }
            Dialog::Reject { idea, reason } => {
                if enter {
                    let text = reason.value().trim().to_string();
                    // A refused reason is said under it (the view); Enter waits for it.
                    if text.is_empty() || typed(Typed::RejectReason, &text).is_err() {
                        return Outcome::Stay;
                    }
                    return Outcome::Submit(Cmd::Reject {
                        idea: idea.id(),
                        reason: text,
                    });
                }
                edit(reason, key);
                Outcome::Stay
            }
            Dialog::Halt { reason } => {
                if enter {
                    let text = reason.value().trim().to_string();
                    // The store would refuse it: said under the reason, with how to clear it.
                    if typed(Typed::HaltReason, &text).is_err() {
                        return Outcome::Stay;
                    }
                    return Outcome::Submit(Cmd::Halt { reason: text });
                }
                edit(reason, key);
                Outcome::Stay
            }
            Dialog::Resume => match key.code {
                KeyCode::Char('y') => Outcome::Submit(Cmd::Resume),
                KeyCode::Char('n') => Outcome::Close,
                _ => Outcome::Stay,
            },
            Dialog::EditRisk {
                field,
                input,
                current,
                edit: parsed,
            } => {
                if enter {
                    return match parsed {
                        Ok(set) => Outcome::Submit(Cmd::SetRisk { edit: set.clone() }),
                        Err(_) => Outcome::Stay,
                    };
                }
                if edit(input, key) {
                    *parsed = risk_edit(*field, input.value(), current);
                }
                Outcome::Stay
            }
            Dialog::Filter { pane, input } => {
                if enter {
                    return Outcome::Filter(*pane, input.value().trim().to_string());
                }
                edit(input, key);
                Outcome::Stay
            }
            Dialog::Text { .. } | Dialog::Outcome { .. } => {
                if enter || matches!(key.code, KeyCode::Char('q')) {
                    Outcome::Close
                } else {
                    Outcome::Stay
                }
            }
        }
    }
}

/// `field=value` as an edit of the limits, checked against `current`.
pub fn risk_edit(
    field: RiskField,
    value: &str,
    current: &RiskConfig,
) -> Result<RiskChangeSet, String> {
    let text = format!("{field}={}", value.trim());
    RiskChangeSet::parse([text.as_str()])
        .and_then(|set| set.apply_to(current).map(|_| set))
        .map_err(|e| e.to_string())
}
