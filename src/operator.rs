//! Who is acting: every human decision records its operator.

use std::fmt;

use crate::domain::act::Act;
use crate::domain::role::Role;

/// The person behind an act, as recorded in `decision_history.operator` and
/// `executions.requested_by`, with the role that bounds what they may do: a logged-in
/// platform user's email (with the session that proves it, which the database checks
/// again as it acts), or — on a database without platform users — the operating-system
/// account as `user@host`, with every act open to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    name: String,
    role: Role,
    session: Option<SessionToken>,
}

/// A session's token, kept to prove the session to the database with each act. Never
/// printed: its Debug says only that it is one.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(std::sync::Arc<str>);

impl SessionToken {
    pub fn new(token: String) -> SessionToken {
        SessionToken(token.into())
    }

    /// The token itself, to hand to the database (never to print).
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

/// An act the operator's role does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{act} needs the {needs} role; {name} is {article} {role}", article = article(*.role))]
pub struct Forbidden {
    pub act: Act,
    pub needs: Role,
    pub name: String,
    pub role: Role,
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Admin | Role::Operator => "an",
        Role::Viewer => "a",
    }
}

impl Operator {
    /// An operator by name, e.g. an email, with every act open (a desk without platform
    /// users, and tests). Blank names are refused: an act must be attributable.
    pub fn new(name: impl Into<String>) -> Option<Self> {
        Self::with_role(name, Role::Admin)
    }

    /// A platform user with their role.
    pub fn with_role(name: impl Into<String>, role: Role) -> Option<Self> {
        let name = name.into().trim().to_string();
        (!name.is_empty()).then_some(Self {
            name,
            role,
            session: None,
        })
    }

    /// This operator, proven by `session`.
    pub fn with_session(self, session: SessionToken) -> Self {
        Self {
            session: Some(session),
            ..self
        }
    }

    /// The session that proves who this is, if they logged in.
    pub fn session(&self) -> Option<&SessionToken> {
        self.session.as_ref()
    }

    /// `user@host` of the process's real user, with every act open: only for a database
    /// that has no platform users.
    pub fn from_os() -> Self {
        let uid = nix::unistd::getuid();
        let user = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| format!("uid{}", uid.as_raw()));
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        Self {
            name: format!("{user}@{host}"),
            role: Role::Admin,
            session: None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// `Ok` when the role allows `act`; else the sentence that says who may.
    pub fn may(&self, act: Act) -> Result<(), Forbidden> {
        if self.role.permits(act) {
            Ok(())
        } else {
            Err(Forbidden {
                act,
                needs: act.least_role(),
                name: self.name.clone(),
                role: self.role,
            })
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_operator_is_user_at_host() {
        let op = Operator::from_os();
        let (user, host) = op.as_str().split_once('@').unwrap();
        assert!(!user.is_empty() && !host.is_empty(), "{op}");
    }

    #[test]
    fn a_viewer_may_stop_the_ai_but_not_approve() {
        let viewer = Operator::with_role("vic@desk", Role::Viewer).unwrap();
        assert_eq!(viewer.may(Act::Halt), Ok(()));
        let refused = viewer.may(Act::Approve).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "approval needs the operator role; vic@desk is a viewer"
        );
        let operator = Operator::with_role("ola@desk", Role::Operator).unwrap();
        assert_eq!(
            operator.may(Act::Resume).unwrap_err().to_string(),
            "resume needs the admin role; ola@desk is an operator"
        );
    }

    #[test]
    fn blank_operator_is_refused() {
        assert_eq!(Operator::new("  "), None);
        assert_eq!(Operator::new(" ann@desk ").unwrap().as_str(), "ann@desk");
    }
}
