//! practice-companion: the BACP Coaching competence framework (2022) for peer
//! supervision groups of therapists who coach.
//!
//! This library is the Discord-free core: the framework model and its loader
//! ([`framework`]), lookups by code ([`lookup`]), keyword search ([`search`]),
//! references in free text ([`references`]) and the card renderer
//! ([`render`]), and the commands every front-end shares ([`commands`]).
//! Front-ends sit on top and only translate: the terminal [`console`] and the
//! `companion` command line in [`cli`]. See ARCHITECTURE.md for the map.

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
pub mod prompts;
pub mod references;
pub mod reflections;
pub mod render;
pub mod schedule;
pub mod search;
pub mod store;

pub use framework::{Code, Competence, CompetenceId, DomainId, Framework, Section};
pub use library::Library;
