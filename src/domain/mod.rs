//! The platform's rules as plain Rust: no IO, no UI, no SQL.

pub mod risk;

pub use risk::RiskConfig;
