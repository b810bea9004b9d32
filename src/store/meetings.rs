//! Each server's meetings: the plan, the rota and the Discord events made,
//! one record per server, written when a convenor or a member changes them
//! or the scheduler does what is due.
//!
//! A record is keyed by the server and a generation. The rota names
//! members, so forget-me writes the record without the member under the
//! next generation and names the old key in the erasure record by itself:
//! every earlier version of the record, in the database's files and in any
//! backup, is then left out wherever erasures are applied, while the new
//! key is untouched.

use std::collections::BTreeMap;

use super::envelope::Fingerprint;
use super::{Live, Store, StoreError, trees};
use crate::meetings::coverage::{self, Quarter};
use crate::meetings::group::{self, Meetings};

fn key(guild: u64, generation: u64) -> [u8; 16] {
    let mut k = [0; 16];
    k[..8].copy_from_slice(&guild.to_be_bytes());
    k[8..].copy_from_slice(&generation.to_be_bytes());
    k
}

/// The kind a meetings record is sealed as (see
/// [`super::Envelope::seal_server_record`]).
const KIND: &str = "meetings";

impl Store {
    /// A server's record as stored under `at`: sealed with the key for
    /// server records, bound to its key. A record written before records
    /// were sealed is plain JSON, always an object, whose first byte (`{`)
    /// no sealed record starts with (those start with a version byte);
    /// it is read as it is, and sealed at its next change.
    fn read(&self, guild: u64, at: &[u8], bytes: &[u8]) -> Result<Meetings, StoreError> {
        if bytes.first() == Some(&b'{') {
            return serde_json::from_slice(bytes)
                .map_err(|e| StoreError::Corrupt(format!("meetings of server {guild}: {e}")));
        }
        self.shared
            .envelope
            .open_server_record(KIND, at, bytes)
            .map_err(|e| StoreError::Corrupt(format!("meetings of server {guild}: {e}")))
    }

    /// `m` sealed to be stored under `at`.
    fn sealed(&self, at: &[u8], m: &Meetings) -> Result<Vec<u8>, StoreError> {
        self.shared.envelope.seal_server_record(KIND, at, m)
    }
}

/// The latest record of every server: its key and what it holds.
fn latest(live: &Live) -> Result<BTreeMap<u64, super::engine::Entry>, StoreError> {
    let mut out = BTreeMap::new();
    for entry in live.t.meetings.iter() {
        let (k, v) = entry?;
        let Some(guild) = k.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) else {
            continue;
        };
        // Keys sort by generation within a server: the last one wins.
        out.insert(u64::from_be_bytes(guild), (k, v));
    }
    Ok(out)
}

impl Store {
    /// A server's meetings (empty when none were set).
    pub(crate) fn meetings(&self, guild: u64) -> Result<Meetings, StoreError> {
        self.with(
            |live| match live.t.meetings.scan_prefix(guild.to_be_bytes()).last() {
                Some(entry) => {
                    let (at, bytes) = entry?;
                    self.read(guild, &at, &bytes)
                }
                None => Ok(Meetings::default()),
            },
        )
    }

    /// Saves `next`, a change worked out from `was` (what [`Store::meetings`]
    /// gave), durably, only if the record still holds `was`: otherwise
    /// [`StoreError::MeetingsChanged`] and nothing is written. Changes are
    /// made one at a time under [`Store::hold_meetings`], but a database
    /// failover lets go of that lock unannounced, and a forget-me through
    /// another process may then take the member out between the read and
    /// this write; written whole, the change would put them back.
    pub(crate) fn set_meetings(
        &self,
        guild: u64,
        was: &Meetings,
        next: &Meetings,
    ) -> Result<(), StoreError> {
        self.with(|live| {
            let (at, held) = match live.t.meetings.scan_prefix(guild.to_be_bytes()).last() {
                Some(entry) => {
                    let (at, held) = entry?;
                    if self.read(guild, &at, &held)? != *was {
                        return Err(StoreError::MeetingsChanged);
                    }
                    (at, Some(held))
                }
                None if *was == Meetings::default() => (key(guild, 0).to_vec(), None),
                None => return Err(StoreError::MeetingsChanged),
            };
            let bytes = self.sealed(&at, next)?;
            // Compared and swapped: a writer between the read above and
            // this write is found too.
            if live
                .t
                .meetings
                .compare_and_swap(at, held.as_deref(), Some(&bytes))?
                .is_err()
            {
                return Err(StoreError::MeetingsChanged);
            }
            self.commit(live)
        })
    }

    /// Every server that has meetings set or a rota.
    pub(crate) fn all_meetings(&self) -> Result<Vec<(u64, Meetings)>, StoreError> {
        self.with(|live| {
            latest(live)?
                .into_iter()
                .map(|(guild, (k, v))| Ok((guild, self.read(guild, &k, &v)?)))
                .collect()
        })
    }

    /// `member`'s tag in a server's tallies for `quarter` (see
    /// [`coverage`]): keyed with the master key's fingerprint key, so it
    /// names no one to a reader of the database, and different in every
    /// server and quarter, so it links nothing across them.
    pub(crate) fn tally_tag(&self, guild: u64, member: u64, quarter: Quarter) -> u64 {
        let mut value = [0u8; 13];
        value[..8].copy_from_slice(&member.to_be_bytes());
        value[8..].copy_from_slice(&quarter.bytes());
        let print = self
            .shared
            .envelope
            .fingerprint(b"tally", &guild.to_be_bytes(), &value);
        let mut tag = [0u8; 8];
        tag.copy_from_slice(&print[..8]);
        u64::from_be_bytes(tag)
    }

    /// Whether any server's record names `member`, or counts them in its
    /// tallies.
    pub(super) fn on_any_rota(&self, live: &Live, member: u64) -> Result<bool, StoreError> {
        for (guild, (k, v)) in latest(live)? {
            let m = self.read(guild, &k, &v)?;
            if m.names(member)
                || coverage::without(&m.tallies, |q| self.tally_tag(guild, member, q)).1
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// For forget-me: every server's record that names `member`, without
    /// them, to be written under the record's next generation, and the old
    /// keys to name in the erasure record (with every version under them).
    pub(super) fn rotas_without(
        &self,
        live: &Live,
        member: u64,
    ) -> Result<(Vec<Fingerprint>, Vec<Rewrite>), StoreError> {
        let mut prints = Vec::new();
        let mut rewrites = Vec::new();
        for (guild, (old, v)) in latest(live)? {
            let m = self.read(guild, &old, &v)?;
            let (tallies, counted) =
                coverage::without(&m.tallies, |q| self.tally_tag(guild, member, q));
            if !m.names(member) && !counted {
                continue;
            }
            let mut m = group::forget(&m, member);
            m.tallies = tallies;
            let generation = old
                .get(8..16)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            let new = key(guild, generation.saturating_add(1));
            let bytes = self.sealed(&new, &m)?;
            prints.push(
                self.shared
                    .envelope
                    .fingerprint(trees::MEETINGS.as_bytes(), &old, b""),
            );
            rewrites.push(Rewrite { old, new, bytes });
        }
        Ok((prints, rewrites))
    }
}

/// A server's record written under its next generation.
pub(super) struct Rewrite {
    old: Vec<u8>,
    new: [u8; 16],
    bytes: Vec<u8>,
}

/// Writes the records [`Store::rotas_without`] made, each replacing its old
/// key at once. Not committed: the caller commits with the rest.
pub(super) fn apply(live: &Live, rewrites: Vec<Rewrite>) -> Result<(), StoreError> {
    for r in rewrites {
        let mut batch = super::engine::Batch::default();
        batch.remove(r.old);
        batch.insert(&r.new[..], r.bytes);
        live.t.meetings.apply_batch(batch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::{TimeZone, Utc};

    use super::super::tests::temp_dir;
    use super::*;
    use crate::meetings::rota::{self, Names};

    fn names() -> Names {
        [(1, "Ana".to_string()), (2, "Ben".to_string())]
            .into_iter()
            .collect()
    }

    #[test]
    fn meetings_survive_a_reopen_and_forget_me_leaves_no_trace_of_the_member() {
        let dir = temp_dir("meetings");
        let mut m = Meetings::default();
        m.rota = rota::join(&m.rota, 1, &names()).rota;
        m.rota = rota::join(&m.rota, 2, &names()).rota;
        let starts = Utc.with_ymd_and_hms(2027, 1, 7, 18, 0, 0).unwrap();
        let present: BTreeSet<u64> = [1, 2].into_iter().collect();
        m.rota = rota::allocate(&m.rota, starts, 1, &present, &names()).rota;
        {
            let store = Store::open(&dir, None).unwrap();
            assert_eq!(store.meetings(7).unwrap(), Meetings::default());
            store.set_meetings(7, &Meetings::default(), &m).unwrap();
            store
                .set_meetings(8, &Meetings::default(), &Meetings::default())
                .unwrap();
        }
        let store = Store::open(&dir, None).unwrap();
        assert_eq!(store.meetings(7).unwrap(), m);
        assert_eq!(store.all_meetings().unwrap().len(), 2);
        assert!(store.holds_anything_of(1).unwrap());
        store.forget_member(1, Utc::now()).unwrap();
        let after = store.meetings(7).unwrap();
        assert!(!after.rota.knows(1));
        assert!(after.rota.knows(2));
        assert!(!store.holds_anything_of(1).unwrap());
        // A later change is kept under the new generation.
        store.set_meetings(7, &after, &Meetings::default()).unwrap();
        assert_eq!(store.all_meetings().unwrap().len(), 2);
        assert_eq!(store.meetings(7).unwrap(), Meetings::default());
        store.close(Utc::now()).unwrap();
    }

    #[test]
    fn a_change_worked_out_from_a_record_that_has_since_changed_is_not_kept() {
        let dir = temp_dir("meetings-changed");
        let store = Store::open(&dir, None).unwrap();
        let joined = |m: &Meetings, who: u64| {
            let mut next = m.clone();
            next.rota = rota::join(&m.rota, who, &names()).rota;
            next
        };
        let empty = Meetings::default();
        // No record yet, and the change was worked out from one.
        let ana = joined(&empty, 1);
        assert!(matches!(
            store.set_meetings(7, &ana, &joined(&ana, 2)),
            Err(StoreError::MeetingsChanged)
        ));
        assert_eq!(store.meetings(7).unwrap(), empty, "nothing was written");
        store.set_meetings(7, &empty, &ana).unwrap();
        // Read before another change was kept.
        let read = store.meetings(7).unwrap();
        store.set_meetings(7, &read, &joined(&read, 2)).unwrap();
        let both = store.meetings(7).unwrap();
        assert!(matches!(
            store.set_meetings(7, &read, &empty),
            Err(StoreError::MeetingsChanged)
        ));
        assert_eq!(store.meetings(7).unwrap(), both, "nothing was written");
        // Read before a forget-me: writing it whole would bring Ana back.
        let before = store.meetings(7).unwrap();
        store.forget_member(1, Utc::now()).unwrap();
        let forgotten = store.meetings(7).unwrap();
        assert!(!forgotten.rota.knows(1));
        assert!(matches!(
            store.set_meetings(7, &before, &joined(&before, 3)),
            Err(StoreError::MeetingsChanged)
        ));
        assert!(
            !store.meetings(7).unwrap().rota.knows(1),
            "Ana stays forgotten"
        );
        // Worked out again from the record as it is now, the change is kept.
        store.set_meetings(7, &forgotten, &empty).unwrap();
        assert_eq!(store.meetings(7).unwrap(), empty);
        store.close(Utc::now()).unwrap();
    }

    /// Every file under `dir` holding `needle`.
    fn holding(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if std::fs::read(&path)
                    .unwrap()
                    .windows(needle.len())
                    .any(|w| w == needle)
                {
                    found.push(path);
                }
            }
        }
        found
    }

    /// The bytes stored for `guild`'s latest record.
    fn stored(store: &Store, guild: u64) -> Vec<u8> {
        store
            .with(|live| {
                let (_, v) = live
                    .t
                    .meetings
                    .scan_prefix(guild.to_be_bytes())
                    .last()
                    .expect("a record")?;
                Ok(v.to_vec())
            })
            .unwrap()
    }

    #[test]
    fn a_forgotten_member_leaves_no_version_of_any_rota_in_the_files_or_the_backups() {
        let dir = temp_dir("meetings-forget");
        let forgotten: u64 = 918_273_645_546_372_819;
        let names: Names = [(forgotten, "F".to_string()), (2, "B".to_string())]
            .into_iter()
            .collect();
        let store = Store::open(&dir, None).unwrap();
        let now = Utc::now();
        let mut m = Meetings::default();
        let mut versions = Vec::new();
        for (i, who) in [forgotten, 2].into_iter().enumerate() {
            let was = m.clone();
            m.rota = rota::join(&m.rota, who, &names).rota;
            store.set_meetings(7, &was, &m).unwrap();
            versions.push(stored(&store, 7));
            // A backup holding each version.
            store
                .maintain(now + crate::store::BACKUP_EVERY * (i as i32 + 1))
                .unwrap();
        }
        // Each version is sealed: its last 32 bytes (ciphertext and tag,
        // under a random nonce) are found only where that version is kept.
        let probes: Vec<&[u8]> = versions.iter().map(|v| &v[v.len() - 32..]).collect();
        for probe in &probes {
            assert!(!holding(&dir, probe).is_empty(), "the probe finds it first");
        }
        store.forget_member(forgotten, now).unwrap();
        store
            .maintain(now + crate::store::ERASE_WITHIN + crate::store::BACKUP_EVERY * 3)
            .unwrap();
        for probe in &probes {
            assert_eq!(holding(&dir, probe), Vec::<std::path::PathBuf>::new());
        }
        assert!(store.meetings(7).unwrap().rota.knows(2), "the others stay");
        store.close(Utc::now()).unwrap();
    }

    #[test]
    fn a_record_is_sealed_in_the_files_and_one_kept_before_sealing_still_reads() {
        let dir = temp_dir("meetings-sealed");
        let member: u64 = 918_273_645_546_372_820;
        let names: Names = [(member, "Ottoline Quist".to_string())]
            .into_iter()
            .collect();
        let mut m = Meetings::default();
        m.rota = rota::join(&m.rota, member, &names).rota;
        let store = Store::open(&dir, None).unwrap();
        store.set_meetings(7, &Meetings::default(), &m).unwrap();
        let sealed = stored(&store, 7);
        assert_ne!(sealed.first(), Some(&b'{'));
        store.close(Utc::now()).unwrap();
        drop(store);
        for needle in [member.to_string(), "rota".to_string()] {
            assert_eq!(
                holding(&dir, needle.as_bytes()),
                Vec::<std::path::PathBuf>::new(),
                "{needle} is in the clear"
            );
        }
        let store = Store::open(&dir, None).unwrap();
        assert_eq!(store.meetings(7).unwrap(), m);
        // Sealed for its own key: moved under another server's, it does
        // not open, and is not taken as that server's.
        store
            .with(|live| {
                live.t.meetings.insert(&key(8, 0)[..], &sealed[..])?;
                Ok(())
            })
            .unwrap();
        assert!(matches!(store.meetings(8), Err(StoreError::Corrupt(_))));
        // A record kept as plain JSON before records were sealed reads,
        // and is sealed when it next changes.
        let plain = serde_json::to_vec(&m).unwrap();
        store
            .with(|live| {
                live.t.meetings.insert(&key(9, 0)[..], &plain[..])?;
                Ok(())
            })
            .unwrap();
        assert_eq!(store.meetings(9).unwrap(), m);
        store.set_meetings(9, &m, &Meetings::default()).unwrap();
        assert_ne!(stored(&store, 9).first(), Some(&b'{'));
        assert_eq!(store.meetings(9).unwrap(), Meetings::default());
        store.close(Utc::now()).unwrap();
    }
}
