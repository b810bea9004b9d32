//! practice-companion: the BACP Coaching competence framework (2022) for peer
//! supervision groups of therapists who coach.
//!
//! The core knows no front-end: the framework model and its loader
//! ([`framework`]), lookups by code ([`lookup`]), keyword search ([`search`]),
//! references in free text ([`references`]), the card renderer ([`render`]),
//! reflections and their rules ([`reflections`]), the weekly schedule
//! ([`schedule`]), the group's meetings and their rota (`meetings`) and the
//! commands every front-end shares ([`commands`]).
//! The front-ends sit on top and only translate: the Discord bot in
//! [`discord`], the terminal [`console`] and the `companion` command line in
//! [`cli`]. The encrypted database is [`store`]. See ARCHITECTURE.md for the map.

pub mod cli;
pub mod clock;
pub mod commands;
pub mod console;
pub mod discord;
pub mod framework;
mod fuzzy;
pub mod inline;
pub mod library;
pub mod lookup;
mod meetings;
pub mod prompts;
pub mod references;
pub mod reflections;
pub mod render;
pub mod schedule;
pub mod search;
pub mod shards;
pub mod store;
pub mod supervision;

pub use framework::{Code, Competence, CompetenceId, DomainId, Framework, Section};
pub use library::Library;
