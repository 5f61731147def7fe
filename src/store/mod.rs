//! PostgreSQL: the only module that speaks SQL.

pub mod catalog;
pub mod connect;
pub mod embedded;
pub mod error;
pub mod migrate;
pub mod setup;
pub mod target;

pub use error::Error;
pub use target::Target;
