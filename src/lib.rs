//! tradedesk: the operator's console of the ai-trader platform.
//!
//! Layers, each depending only on those below it (see `ARCHITECTURE.md` in the design notes):
//! [`domain`] holds the platform's rules as pure Rust; [`store`] is the only module that
//! speaks SQL; [`cli`] is the headless face of the same store functions.

pub mod cli;
pub mod config;
pub mod console;
pub mod domain;
pub mod format;
pub mod operator;
pub mod store;
