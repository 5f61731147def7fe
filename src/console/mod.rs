//! The console: four live panes over the platform's database, in the Elm shape —
//! `App` (state) + `update` (pure) + `view` (reads only) + `run` (the loop and its IO).

mod alerts;
pub mod app;
pub mod details;
pub mod dialog;
pub mod editor;
pub mod filter;
pub mod keymap;
mod keys;
pub mod list;
mod live;
pub mod msg;
pub mod run;
pub mod theme;
pub mod view;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_support;
