//! The integration test crate: the real `companion` binary and the shipped
//! data, exercised from outside. One crate, one module per subject.

mod cli;
mod console;
mod data;
mod properties;
mod support;
