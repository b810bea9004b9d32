//! Background work yields the disk to members' saves.
//!
//! The upkeep's rewrite after an erasure, its purge of the automatic
//! backups and its automatic backups move as many bytes as the whole
//! database; done in one burst they fill the disk's queue, and every other
//! member's save, which waits for its own `fdatasync`, waits behind them.
//! Done paced, the same work is cut into pieces of [`PIECE`] bytes, each
//! synced as it is written, and the thread rests after each piece for
//! nineteen times as long as the piece took: the work then uses about a
//! twentieth of the machine's time (measured: at a quarter, the others'
//! saves slowed more than twofold on two cores, from the CPU as much as the
//! disk), and the saves find it free.
//!
//! Pacing has an end: an erasure's rewrite is paced only until half of
//! [`super::REWRITE_MARGIN`] is left before [`super::ERASE_WITHIN`], and
//! then runs at full speed, so the bound holds however large the database
//! ([`Paced::until`]).
//!
//! Pacing is a property of the thread doing the work: [`Paced`] turns it on
//! for the current thread until dropped. Work done for a member who is
//! waiting (a close, a restore, a `db` command) is never paced.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// How many bytes are written (and synced) between rests.
pub(super) const PIECE: u64 = 1 << 20;

/// The share of wall time the paced work may take.
const DUTY: f64 = 0.05;

/// A rest is never longer than this, whatever one piece took (a piece slowed
/// by a stalled disk should not stall the erasure behind it for minutes).
const LONGEST_REST: Duration = Duration::from_millis(500);

thread_local! {
    /// Until when the current thread's work is paced, if it is.
    static PACED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// While alive, the current thread's background work is paced.
pub(super) struct Paced {
    was: Option<Instant>,
}

impl Paced {
    /// Paces the current thread's work with no end (work with no bound to
    /// meet: the automatic backups).
    pub(super) fn start() -> Paced {
        // A year is as good as never, and cannot overflow an `Instant`.
        Paced::until(Instant::now().checked_add(Duration::from_secs(365 * 86_400)))
    }

    /// Paces the current thread's work until `end`, then lets it run at
    /// full speed (work with a bound to meet: an erasure's rewrite). `None`
    /// is no pacing at all.
    pub(super) fn until(end: Option<Instant>) -> Paced {
        Paced {
            was: PACED.with(|p| p.replace(end)),
        }
    }
}

impl Drop for Paced {
    fn drop(&mut self) {
        PACED.with(|p| p.set(self.was));
    }
}

/// Whether the current thread's work is paced now.
pub(super) fn is_paced() -> bool {
    PACED.with(|p| p.get().is_some_and(|end| Instant::now() < end))
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
    fn a_paced_piece_rests_nineteen_times_as_long_as_it_took_within_a_cap() {
        let rest = rest_after(Duration::from_millis(10)).as_secs_f64();
        assert!((rest - 0.19).abs() < 1e-6, "{rest}");
        assert_eq!(rest_after(Duration::from_secs(5)), LONGEST_REST);
    }

    #[test]
    fn pacing_with_an_end_stops_at_it_and_the_thread_then_runs_at_full_speed() {
        {
            let _bounded = Paced::until(Some(Instant::now() + Duration::from_millis(50)));
            assert!(is_paced());
            std::thread::sleep(Duration::from_millis(60));
            assert!(!is_paced(), "past its end the work is not paced");
            let started = Instant::now();
            breathe(started - Duration::from_millis(100));
            assert!(started.elapsed() < Duration::from_millis(50), "no rest");
        }
        let _none = Paced::until(None);
        assert!(!is_paced());
    }
}
