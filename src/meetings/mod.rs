//! The group's own meetings, as plain rules: when they fall (a series in
//! the server's time zone, one-off or recurring, with an occurrence
//! cancelled or moved, and the day each agenda opens) and who does what at
//! each (the fair rota of presenters, facilitator and timekeeper).
//!
//! Pure functions of their inputs: the time is passed in, as is who is in
//! the server; nothing here stores, sends or mentions anyone. Each operation
//! returns what to keep and the words to say; a front-end shows the words.

pub(crate) mod coverage;
pub(crate) mod export;
pub(crate) mod group;
pub(crate) mod rota;
pub(crate) mod series;
