//! Which of Discord's gateway shards one bot process runs
//! (`run --shards A-B --shard-total N`), and so which servers it acts for.
//!
//! Discord sends a server's events to shard `(guild_id >> 22) % N`; a
//! process acts only for the servers its shards own.

use std::fmt;

/// The shards `first..=last` of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    first: u32,
    last: u32,
    total: u32,
}

/// The most shards a deployment may have (far above what Discord asks of
/// any bot this size; it keeps a shard's number within a lock's key).
pub const MAX_SHARDS: u32 = 65_535;

impl ShardRange {
    /// The one shard of one: every server (a bot run without `--shards`).
    pub const ALL: ShardRange = ShardRange {
        first: 0,
        last: 0,
        total: 1,
    };

    /// Reads `A-B` (or one shard, `A`) of `total`; the error says what is wrong.
    pub fn parse(range: &str, total: u32) -> Result<ShardRange, String> {
        let number = |s: &str| {
            s.trim().parse::<u32>().map_err(|_| {
                format!("--shards takes a range of shard numbers like 0-1 (or one shard, like 2), not `{range}`")
            })
        };
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let one = number(range)?;
                (one, one)
            }
        };
        if total == 0 || total > MAX_SHARDS {
            return Err(format!(
                "--shard-total must be from 1 to {MAX_SHARDS}, not {total}"
            ));
        }
        if first > last {
            return Err(format!(
                "--shards {range}: the first shard must not come after the last"
            ));
        }
        if last >= total {
            return Err(format!(
                "--shards {range}: shards are numbered from 0 to {} when --shard-total is {total}",
                total - 1
            ));
        }
        Ok(ShardRange { first, last, total })
    }

    /// The first shard.
    pub fn first(&self) -> u32 {
        self.first
    }

    /// The last shard (included).
    pub fn last(&self) -> u32 {
        self.last
    }

    /// How many shards the deployment has.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// Whether these are all the deployment's shards.
    pub fn covers_all(&self) -> bool {
        self.first == 0 && self.last + 1 == self.total
    }

    /// The shard Discord sends `guild`'s events to.
    pub fn shard_of(&self, guild: u64) -> u32 {
        // The remainder is below `total`, a u32.
        u32::try_from((guild >> 22) % u64::from(self.total)).unwrap_or(0)
    }

    /// Whether this process acts for `guild`.
    pub fn owns(&self, guild: u64) -> bool {
        (self.first..=self.last).contains(&self.shard_of(guild))
    }

    /// Whether this process sends what belongs to no server (members'
    /// reminders and reviews) and runs the database's upkeep: the process
    /// that runs shard 0, so exactly one does.
    pub fn owns_direct_messages(&self) -> bool {
        self.first == 0
    }
}

impl fmt::Display for ShardRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{} of {}", self.first, self.last, self.total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_and_checked() {
        let r = ShardRange::parse("0-1", 4).unwrap();
        assert_eq!((r.first(), r.last(), r.total()), (0, 1, 4));
        assert!(!r.covers_all());
        assert!(ShardRange::parse("0-3", 4).unwrap().covers_all());
        assert_eq!(ShardRange::parse("2", 4).unwrap().first(), 2);
        for (range, total, says) in [
            ("2-1", 4, "must not come after"),
            ("0-4", 4, "from 0 to 3"),
            ("0-0", 0, "from 1 to"),
            ("a-b", 4, "range of shard numbers"),
            ("0-1", MAX_SHARDS + 1, "from 1 to"),
        ] {
            let e = ShardRange::parse(range, total).unwrap_err();
            assert!(e.contains(says), "{range}/{total}: {e}");
        }
    }

    #[test]
    fn a_guild_belongs_to_the_shard_discord_sends_it_to() {
        let low = ShardRange::parse("0-1", 4).unwrap();
        let high = ShardRange::parse("2-3", 4).unwrap();
        for shard in 0..4u64 {
            let guild = (shard << 22) | 12345 | (8 << 22);
            assert_eq!(low.shard_of(guild), u32::try_from(shard).unwrap());
            assert_ne!(low.owns(guild), high.owns(guild));
            assert_eq!(low.owns(guild), shard < 2);
        }
        assert!(low.owns_direct_messages());
        assert!(!high.owns_direct_messages());
        assert!(ShardRange::ALL.owns(u64::MAX) && ShardRange::ALL.owns_direct_messages());
    }
}
