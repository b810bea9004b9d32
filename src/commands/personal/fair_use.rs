//! Fair use: how often each member may run the commands that read all
//! their reflections, by the injected clock.

use chrono::{DateTime, Utc};

use super::Personal;

/// The answer to a member who runs an expensive command again too soon
/// (each of these reads all their reflections).
pub fn cooldown_text(command: &str, remaining: std::time::Duration) -> String {
    let seconds = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    format!(
        "`/{command}` reads every reflection you have, so each member can run it only every so often. Try again in {} s.",
        seconds.max(1)
    )
}

/// The commands that read every reflection a member has: each member may run
/// each only every so often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Heavy {
    /// `/reflections export`: once a minute.
    Export,
    /// `/reflections forget-me`: once every 30 seconds, counted when it is
    /// confirmed (it rewrites the database), not when a front-end only asks.
    ForgetMe,
    /// `/map`: once every 15 seconds.
    Map,
}

impl Heavy {
    /// How long a member waits between two runs.
    pub fn every(self) -> chrono::Duration {
        chrono::Duration::seconds(match self {
            Heavy::Export => 60,
            Heavy::ForgetMe => 30,
            Heavy::Map => 15,
        })
    }

    fn command(self) -> &'static str {
        match self {
            Heavy::Export => "reflections export",
            Heavy::ForgetMe => "reflections forget-me",
            Heavy::Map => "map",
        }
    }
}

impl Personal {
    /// The wait this command is charged to, if it is [`Heavy`]. Forget-me
    /// is charged by [`Personal::ForgetMe`], which runs only once the member
    /// has confirmed: asking for the confirmation costs nothing, so the first
    /// confirmation after asking is never refused, and a second one within
    /// the wait (a stale or duplicated button) is, with nothing done.
    pub fn heavy(&self) -> Option<Heavy> {
        match self {
            Personal::Export(_) => Some(Heavy::Export),
            Personal::ForgetMe => Some(Heavy::ForgetMe),
            Personal::Map => Some(Heavy::Map),
            Personal::Save(_)
            | Personal::List { .. }
            | Personal::View(_)
            | Personal::Edit(..)
            | Personal::AddTag(..)
            | Personal::RemoveTag(..)
            | Personal::Delete(_)
            | Personal::Log(_)
            | Personal::Cases(_)
            | Personal::Priorities(_) => None,
        }
    }
}

/// When each member last ran each [`Heavy`] command, by the injected clock.
#[derive(Debug, Default)]
pub struct FairUse {
    started: std::sync::Mutex<std::collections::HashMap<(u64, Heavy), DateTime<Utc>>>,
}

impl FairUse {
    /// Starts `member`'s wait for `command` at `now`, or says how long is
    /// left of the last one.
    pub fn start(&self, member: u64, command: Heavy, now: DateTime<Utc>) -> Result<(), String> {
        let mut started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = started.get(&(member, command)) {
            let ready = *at + command.every();
            if now < ready {
                let left = (ready - now).to_std().unwrap_or_default();
                return Err(cooldown_text(command.command(), left));
            }
        }
        // Only waits still running are kept.
        started.retain(|(_, c), at| now - *at < c.every());
        started.insert((member, command), now);
        Ok(())
    }

    /// Lets `member` run `command` at `now` if it is not [`Heavy`] or its
    /// wait is over (starting the next wait), or says how long is left.
    pub fn admit(&self, member: u64, command: &Personal, now: DateTime<Utc>) -> Result<(), String> {
        match command.heavy() {
            Some(heavy) => self.start(member, heavy, now),
            None => Ok(()),
        }
    }
}
