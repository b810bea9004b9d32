//! Background work yields the disk to members' saves.
//!
//! The upkeep's rewrite after an erasure, its purge of the automatic
//! backups and its automatic backups move as many bytes as the whole
//! database; done in one burst they fill the disk's queue, and every other
//! member's save, which waits for its own `fdatasync`, waits behind them.
//! Done paced, the same work is cut into pieces of [`PIECE`] bytes, each
//! synced as it is written, and the thread rests after each piece for
//! three times as long as the piece took: the work then uses about a
//! quarter of the disk's time and the saves find the queue short. The
//! rewrite still ends well inside [`super::ERASE_WITHIN`] (it starts
//! [`super::REWRITE_MARGIN`] before the bound).
//!
//! Pacing is a property of the thread doing the work: [`Paced`] turns it on
//! for the current thread until dropped. Work done for a member who is
//! waiting (a close, a restore, a `db` command) is never paced.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// How many bytes are written (and synced) between rests.
pub(super) const PIECE: u64 = 1 << 20;

/// The share of wall time the paced work may take.
const DUTY: f64 = 0.25;

/// A rest is never longer than this, whatever one piece took (a piece slowed
/// by a stalled disk should not stall the erasure behind it for minutes).
const LONGEST_REST: Duration = Duration::from_millis(500);

thread_local! {
    static PACED: Cell<bool> = const { Cell::new(false) };
}

/// While alive, the current thread's background work is paced.
pub(super) struct Paced {
    was: bool,
}

impl Paced {
    pub(super) fn start() -> Paced {
        Paced {
            was: PACED.with(|p| p.replace(true)),
        }
    }
}

impl Drop for Paced {
    fn drop(&mut self) {
        PACED.with(|p| p.set(self.was));
    }
}

/// Whether the current thread's work is paced.
pub(super) fn is_paced() -> bool {
    PACED.with(Cell::get)
}

/// The rest owed for a piece of work that began at `started`.
pub(super) fn rest_after(took: Duration) -> Duration {
    took.mul_f64((1.0 - DUTY) / DUTY).min(LONGEST_REST)
}

/// Called after each piece of paced work (which began at `started`): rests
/// if the thread is paced, and returns when the next piece begins.
pub(super) fn breathe(started: Instant) -> Instant {
    if is_paced() {
        std::thread::sleep(rest_after(started.elapsed()));
    }
    Instant::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_belongs_to_the_thread_and_ends_with_its_guard() {
        assert!(!is_paced());
        {
            let _outer = Paced::start();
            assert!(is_paced());
            {
                let _inner = Paced::start();
                assert!(is_paced());
            }
            assert!(is_paced(), "an inner guard restores, not clears");
            std::thread::spawn(|| assert!(!is_paced(), "another thread is not paced"))
                .join()
                .expect("thread");
        }
        assert!(!is_paced());
    }

    #[test]
    fn a_paced_piece_rests_three_times_as_long_as_it_took_within_a_cap() {
        assert_eq!(
            rest_after(Duration::from_millis(10)),
            Duration::from_millis(30)
        );
        assert_eq!(rest_after(Duration::from_secs(5)), LONGEST_REST);
    }
}
