//! The integration test crate: the real `companion` binary, the Discord
//! front-end against a fake Discord, and the shipped data, exercised from
//! outside. One crate, one module per subject.

mod bot;
mod cli;
mod console;
mod crash_states;
mod data;
mod discord;
mod durability;
mod failover;
mod fake_discord;
mod faults;
mod faults_pg;
mod guide;
mod guide_discord;
mod hostile;
mod layers;
mod load;
mod meetings;
mod nudge_quality;
mod postgres;
mod properties;
mod reflections;
mod replies;
mod review;
mod schedule;
mod search_quality;
mod shards;
mod sharing;
mod storage;
mod storage_holes;
mod store_engines;
mod supervision;
mod supervision_discord;
mod support;
mod tls;
