//! Turns of the bot's requests to Discord, under Discord's global rate
//! limit (requests a second for the bot as a whole, whichever process sends
//! them). With sled the process is the only one, and counts here; with
//! PostgreSQL every process sharing the database counts in one table, per
//! second of the server's clock (`postgres.rs`), so together they keep
//! under the limit, and a global 429 answered to one holds back all.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Store, StoreError};

/// Whether a request to Discord may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// It may: the turn was taken in this second (seconds since 1970, of
    /// the clock that counts: the database server's, or this machine's).
    Go {
        /// The second the turn was counted in.
        second: i64,
    },
    /// This second's turns are gone: ask again after this long.
    Wait(Duration),
}

/// The turns taken in this process: the second counted, how many, and the
/// seconds held back after a global 429.
#[derive(Debug, Default)]
pub(super) struct LocalTurns {
    second: i64,
    used: u32,
    held_back_until: f64,
}

/// How long from `at` (seconds since 1970) until the next whole second.
pub(super) fn until_next_second(at: f64) -> Duration {
    let left = 1.0 - at.fract();
    Duration::from_secs_f64(left.clamp(0.001, 1.0))
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Store {
    /// Takes one turn of the bot's requests to Discord, if fewer than
    /// `per_second` were taken this second by every process sharing the
    /// store (and none is held back by a global 429).
    pub fn discord_turn(&self, per_second: u32) -> Result<Turn, StoreError> {
        if let Some(pg) = self.with(|live| Ok(live.pg().cloned()))? {
            return pg.discord_turn(per_second);
        }
        let at = now_seconds();
        let mut turns = self
            .shared
            .turns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if at < turns.held_back_until {
            return Ok(Turn::Wait(Duration::from_secs_f64(
                (turns.held_back_until - at).min(60.0),
            )));
        }
        let second = at.floor() as i64;
        if turns.second != second {
            turns.second = second;
            turns.used = 0;
        }
        if turns.used >= per_second {
            return Ok(Turn::Wait(until_next_second(at)));
        }
        turns.used += 1;
        Ok(Turn::Go { second })
    }

    /// Holds back every process's requests to Discord for `wait` (Discord
    /// answered a global 429: the bot as a whole is to wait).
    pub fn hold_discord_back(&self, wait: Duration, per_second: u32) -> Result<(), StoreError> {
        if let Some(pg) = self.with(|live| Ok(live.pg().cloned()))? {
            return pg.hold_discord_back(wait, per_second);
        }
        let until = now_seconds() + wait.as_secs_f64();
        let mut turns = self
            .shared
            .turns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        turns.held_back_until = turns.held_back_until.max(until);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_until_the_next_second() {
        assert_eq!(until_next_second(10.25), Duration::from_millis(750));
        assert_eq!(until_next_second(10.0), Duration::from_secs(1));
        assert!(until_next_second(10.9999999) >= Duration::from_millis(1));
    }
}
