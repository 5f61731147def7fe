//! tradedesk: the operator's console of the ai-trader platform.
//!
//! Layers, each depending only on those below it (see `ARCHITECTURE.md`): [`domain`] holds
//! the platform's entities and rules as pure Rust; [`format`] shows them one way
//! everywhere; [`store`] is the only module that speaks SQL; [`console`] and [`cli`] are
//! the two faces of the same store functions.

pub mod cli;
pub mod config;
pub mod console;
pub mod domain;
pub mod format;
pub mod operator;
pub mod sim;
pub mod store;
