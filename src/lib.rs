//! practice-companion: the BACP Coaching competence framework (2022) for peer
//! supervision groups of therapists who coach.
//!
//! This library is the Discord-free core: the framework model and its loader
//! ([`framework`]), lookups by code ([`lookup`]), keyword search ([`search`]),
//! references in free text ([`references`]) and the card renderer
//! ([`render`]). Front-ends (the `companion` command line in [`cli`]) sit on
//! top and only translate. See ARCHITECTURE.md for the map.

pub mod cli;
pub mod framework;
mod fuzzy;
pub mod lookup;
pub mod references;
pub mod render;
pub mod search;

pub use framework::{Code, Competence, CompetenceId, DomainId, Framework};
