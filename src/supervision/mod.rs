//! A member's own record of supervision: the supervision log (each meeting
//! or other supervision, with the time, its kind, what was taken away, the
//! competences it touched and which of Proctor's functions it served) and
//! the yearly supervision record built from it; and case presentations
//! prepared by the seven-eyed model of supervision, or as a short frame of
//! the question alone.
//!
//! This module is the model and its rules, every field read and checked as
//! typed; the sealed storage is in `store::supervision`, the commands in
//! `commands::personal::supervision`.

pub mod case;
pub mod export;
pub mod log;
pub mod record;
