//! Who is acting: every human decision records its operator.

use std::fmt;

/// The person behind an act, as recorded in `decision_history.operator` and
/// `executions.requested_by`: the logged-in user's email once tradedesk has logins, and
/// until then the operating-system account as `user@host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator(String);

impl Operator {
    /// An operator by name, e.g. an email. Blank names are refused: an act must be
    /// attributable.
    pub fn new(name: impl Into<String>) -> Option<Self> {
        let name = name.into().trim().to_string();
        (!name.is_empty()).then_some(Self(name))
    }

    /// `user@host` of the process's real user.
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
        Self(format!("{user}@{host}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
    fn blank_operator_is_refused() {
        assert_eq!(Operator::new("  "), None);
        assert_eq!(Operator::new(" ann@desk ").unwrap().as_str(), "ann@desk");
    }
}
