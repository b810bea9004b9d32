//! Turns of the bot's requests to Discord, under Discord's global rate
//! limit (requests a second for the bot as a whole, whichever process sends
//! them). With sled the process is the only one, and counts here; with
//! PostgreSQL every process sharing the database counts in one table, per
//! second of the server's clock (`postgres.rs`), so together they keep
//! under the limit, and a global 429 answered to one holds back all.
//!
//! A limit of `per_second` is kept in every second, wherever it begins,
//! not only in whole seconds of the clock (whose counts alone would let
//! twice the limit through in a second straddling two): each second is cut
//! into slots of equal length, each taking one turn, and a turn asked for
//! in a slot already taken, or passed by, waits for the next free one. A
//! second has a tenth fewer slots than `per_second - 1`, the most any one
//! second could meet and keep the limit, so the requests still keep it as
//! Discord receives them when some are delayed on their way by up to a
//! tenth of a second more than others. (Discord's limit, and the bot's
//! share of it, is many a second; a limit of a few a second would not
//! leave that room.)

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

/// The turns taken in this process: the second counted, how many of its
/// slots are used (taken, or passed by before a turn was asked for), and
/// the seconds held back after a global 429.
#[derive(Debug, Default)]
pub(super) struct LocalTurns {
    second: i64,
    used: u32,
    held_back_until: f64,
}

impl LocalTurns {
    /// Takes the turn asked for at `at` (seconds since 1970), if its slot
    /// is free and no global 429 holds the bot back.
    fn take(&mut self, at: f64, per_second: u32) -> Turn {
        if at < self.held_back_until {
            return Turn::Wait(Duration::from_secs_f64(
                (self.held_back_until - at).min(60.0),
            ));
        }
        let second = at.floor() as i64;
        if self.second != second {
            self.second = second;
            self.used = 0;
        }
        let slots = slots(per_second);
        let slot = slot_at(at, slots);
        if self.used > slot {
            return Turn::Wait(until_free_slot(at, self.used, slots));
        }
        self.used = slot + 1;
        Turn::Go { second }
    }
}

/// The slots, of one turn each, that a second is cut into so that no
/// second, wherever it begins, holds more than `per_second` turns, with
/// room for requests delayed on their way (40 for 45).
pub(super) fn slots(per_second: u32) -> u32 {
    per_second.saturating_sub(1 + per_second / 10).max(1)
}

/// The slot of its second that `at` (seconds since 1970) falls in.
pub(super) fn slot_at(at: f64, slots: u32) -> u32 {
    let slot = (at.fract() * f64::from(slots)).floor();
    if slot.is_finite() && slot >= 0.0 {
        (slot as u32).min(slots - 1)
    } else {
        0
    }
}

/// How long from `at` until the first free slot of its second, when
/// `used` of its `slots` are used (the next second's first, if all are).
pub(super) fn until_free_slot(at: f64, used: u32, slots: u32) -> Duration {
    let free = f64::from(used.min(slots)) / f64::from(slots);
    let left = free - at.fract();
    Duration::from_secs_f64(left.clamp(0.001, 1.0))
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Store {
    /// Takes one turn of the bot's requests to Discord, if this moment's
    /// slot is free for every process sharing the store (and none is held
    /// back by a global 429): no second, wherever it begins, has more than
    /// `per_second` turns.
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
        Ok(turns.take(at, per_second))
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
    fn the_wait_is_until_the_first_free_slot() {
        assert_eq!(until_free_slot(10.25, 4, 4), Duration::from_millis(750));
        assert_eq!(until_free_slot(10.25, 3, 4), Duration::from_millis(500));
        assert_eq!(until_free_slot(10.0, 4, 4), Duration::from_secs(1));
        assert!(until_free_slot(10.9999999, 4, 4) >= Duration::from_millis(1));
    }

    #[test]
    fn a_second_has_a_tenth_fewer_slots_than_its_turns_less_one() {
        assert_eq!(slots(45), 40);
        assert_eq!(slots(10), 8);
        assert_eq!(slots(1), 1);
        assert_eq!(slot_at(10.0, 40), 0);
        assert_eq!(slot_at(10.5, 40), 20);
        assert_eq!(slot_at(10.9999999, 40), 39);
    }

    /// Turns asked for as often as they are refused, from any moment,
    /// never number more than `per_second` in any one second, nor in a
    /// second and a tenth (the room left for requests delayed on their way).
    #[test]
    fn no_second_wherever_it_begins_holds_more_than_the_limit() {
        for start in [0.0, 0.3, 0.97, 0.999] {
            let mut turns = LocalTurns::default();
            let mut taken = Vec::new();
            let mut at = 1000.0 + start;
            while at < 1004.0 {
                match turns.take(at, 10) {
                    Turn::Go { .. } => {
                        taken.push(at);
                        at += 0.0001;
                    }
                    Turn::Wait(wait) => at += wait.as_secs_f64(),
                }
            }
            assert!(
                taken.len() >= 24,
                "{} turns in 3 seconds and more",
                taken.len()
            );
            for (i, first) in taken.iter().enumerate() {
                let within = taken[i..].iter().take_while(|t| **t < first + 1.1).count();
                assert!(within <= 10, "{within} from {first} (start {start})");
            }
        }
    }
}
