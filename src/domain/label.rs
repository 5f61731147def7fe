//! Labels: the exact words the database enums (and other fixed vocabularies) use, read and
//! written one way everywhere.

use std::fmt;

/// A label read from the database or typed by an operator that names no known value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{got}\" is not a {kind}; expected one of {expected}")]
pub struct UnknownLabel {
    pub kind: &'static str,
    pub got: String,
    pub expected: String,
}

/// How a status or action reads at a glance, in the colours traders know
/// (docs/platform.md §5): auto-executed green, needs approval yellow, rejected or halted
/// red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tone {
    /// Executed, approved, resumed.
    Good,
    /// Waiting for someone.
    Waiting,
    /// Rejected, halted, blocked.
    Bad,
    /// Nothing to signal.
    Neutral,
}

/// The labels of `all`, comma-separated, for messages that list the valid choices.
pub fn labels<T: fmt::Display>(all: &[T]) -> String {
    all.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Defines a label enum with `ALL`, `as_str`, `Display`, `FromStr` and `Serialize` over
/// exact labels.
macro_rules! label_enum {
    ($(#[$doc:meta])* $name:ident, $kind:literal { $($(#[$vdoc:meta])* $variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in the database enum's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The exact database label.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::label::UnknownLabel;

            /// Reads the exact lowercase label; anything else is refused, not guessed.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| $crate::domain::label::UnknownLabel {
                    kind: $kind,
                    got: s.to_owned(),
                    expected: Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                })
            }
        }
    };
}

pub(crate) use label_enum;
