//! Each server's weekly schedule, the slots it has claimed and posted, and
//! the group's reflection counts (counts only, never content) that the `gaps`
//! order reads.
//!
//! A slot is claimed with compare-and-swap before anything is sent, so two
//! ticks (or a tick racing `/schedule post-now`) cannot both post it, and the
//! claim survives a crash: after a restart the same slot is retried with the
//! same message nonce rather than posted afresh.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::framework::{Code, CompetenceId, DomainId};
pub use crate::schedule::{ScheduleRecord, Week};

/// A slot's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlotState {
    /// Claimed for this competence; the post may or may not have reached Discord.
    Claimed {
        /// The competence it carries.
        competence: CompetenceId,
    },
    /// Posted.
    Posted {
        /// The competence it carried.
        competence: CompetenceId,
        /// The message id.
        message: u64,
    },
}

/// Meta key of the console's personal rotation.
const PERSONAL_ROTATION: &[u8] = b"personal_rotation";

fn guild_key(guild: u64) -> [u8; 8] {
    guild.to_be_bytes()
}

fn slot_key(guild: u64, slot: DateTime<Utc>) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&guild.to_be_bytes());
    key[8..].copy_from_slice(&slot.timestamp().to_be_bytes());
    key
}

/// How a change of reflection moves its server's counts: one per tag, taken
/// from where the old version counted and added where the new one does.
pub(super) fn count_changes(
    old: Option<&crate::reflections::Reflection>,
    new: Option<&crate::reflections::Reflection>,
) -> Vec<([u8; 11], i64)> {
    let mut changes: Vec<([u8; 11], i64)> = Vec::new();
    let mut add = |r: Option<&crate::reflections::Reflection>, by: i64| {
        let Some(r) = r else { return };
        let Some(guild) = r.guild else { return };
        for id in &r.competences {
            let key = count_key(guild, *id);
            match changes.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += by,
                None => changes.push((key, by)),
            }
        }
    };
    add(old, -1);
    add(new, 1);
    changes.retain(|(_, n)| *n != 0);
    changes
}

/// Applies [`count_changes`] inside a transaction; a count never goes below
/// zero, and a zero count is removed.
pub(super) fn apply_counts(
    tree: &super::engine::TxTree<'_>,
    changes: &[([u8; 11], i64)],
) -> Result<(), StoreError> {
    for (key, by) in changes {
        let now = tree
            .get(key)?
            .and_then(|b| <[u8; 4]>::try_from(b.as_ref()).ok())
            .map_or(0, u32::from_be_bytes);
        let next = (i64::from(now) + by).clamp(0, i64::from(u32::MAX)) as u32;
        if next == 0 {
            tree.remove(&key[..])?;
        } else {
            tree.insert(&key[..], &next.to_be_bytes()[..])?;
        }
    }
    Ok(())
}

fn count_key(guild: u64, id: CompetenceId) -> [u8; 11] {
    let mut key = [0u8; 11];
    key[..8].copy_from_slice(&guild.to_be_bytes());
    key[8] = match id.domain {
        DomainId::Core => 0,
        DomainId::Integration => 1,
    };
    key[9] = id.code.area;
    key[10] = id.code.number;
    key
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: for<'de> Deserialize<'de>>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

impl Store {
    /// A server's schedule, if it has one.
    pub fn schedule(&self, guild: u64) -> Result<Option<ScheduleRecord>, StoreError> {
        self.with(|live| {
            live.t
                .schedules
                .get(guild_key(guild))?
                .map(|b| from_json(&b, "a schedule"))
                .transpose()
        })
    }

    /// Saves a server's schedule durably.
    pub fn set_schedule(&self, guild: u64, record: &ScheduleRecord) -> Result<(), StoreError> {
        let bytes = json(record)?;
        self.with(|live| {
            live.t.schedules.insert(guild_key(guild), bytes)?;
            self.commit(live)
        })
    }

    /// The console's personal rotation (a member practising alone): which
    /// competences it has shown, one a week. Kept apart from the servers'
    /// schedules, so no scheduler ever posts it.
    pub fn personal_rotation(&self) -> Result<Option<ScheduleRecord>, StoreError> {
        self.with(|live| {
            live.t
                .meta
                .get(PERSONAL_ROTATION)?
                .map(|b| from_json(&b, "the personal rotation"))
                .transpose()
        })
    }

    /// Saves the console's personal rotation durably.
    pub fn set_personal_rotation(&self, record: &ScheduleRecord) -> Result<(), StoreError> {
        let bytes = json(record)?;
        self.with(|live| {
            live.t.meta.insert(PERSONAL_ROTATION, bytes)?;
            self.commit(live)
        })
    }

    /// Every server's schedule.
    pub fn schedules(&self) -> Result<Vec<(u64, ScheduleRecord)>, StoreError> {
        self.with(|live| {
            live.t
                .schedules
                .iter()
                .map(|entry| {
                    let (k, v) = entry?;
                    let guild = <[u8; 8]>::try_from(k.as_ref())
                        .map(u64::from_be_bytes)
                        .map_err(|_| StoreError::Corrupt("a schedule key".into()))?;
                    Ok((guild, from_json(&v, "a schedule")?))
                })
                .collect()
        })
    }

    /// Claims `slot` for `competence`. Returns `None` if this call claimed it,
    /// or the state someone else (an earlier run) left it in.
    pub fn claim_slot(
        &self,
        guild: u64,
        slot: DateTime<Utc>,
        competence: CompetenceId,
    ) -> Result<Option<SlotState>, StoreError> {
        let claim = json(&SlotState::Claimed { competence })?;
        self.with(|live| {
            match live
                .t
                .slots
                .compare_and_swap(slot_key(guild, slot), None, Some(&claim))?
            {
                Ok(()) => {
                    self.commit(live)?;
                    Ok(None)
                }
                Err(existing) => existing.map(|b| from_json(&b, "a slot")).transpose(),
            }
        })
    }

    /// Records that `slot` was posted as `message`.
    pub fn mark_posted(
        &self,
        guild: u64,
        slot: DateTime<Utc>,
        competence: CompetenceId,
        message: u64,
    ) -> Result<(), StoreError> {
        let bytes = json(&SlotState::Posted {
            competence,
            message,
        })?;
        self.with(|live| {
            live.t.slots.insert(slot_key(guild, slot), bytes)?;
            self.commit(live)
        })
    }

    /// The group's reflection counts per competence.
    pub fn group_counts(&self, guild: u64) -> Result<HashMap<CompetenceId, u32>, StoreError> {
        self.with(|live| self.counts_in(live, guild))
    }

    fn counts_in(
        &self,
        live: &super::Live,
        guild: u64,
    ) -> Result<HashMap<CompetenceId, u32>, StoreError> {
        let mut counts = HashMap::new();
        for entry in live.t.group_counts.scan_prefix(guild_key(guild)) {
            let (k, v) = entry?;
            if k.len() != 11 {
                continue;
            }
            let domain = if k[8] == 0 {
                DomainId::Core
            } else {
                DomainId::Integration
            };
            let n = <[u8; 4]>::try_from(v.as_ref())
                .map(u32::from_be_bytes)
                .unwrap_or(0);
            counts.insert(CompetenceId::new(domain, Code::new(k[9], k[10])), n);
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::super::tests::temp_dir;
    use super::*;

    #[test]
    fn a_slot_is_claimed_once_and_the_claim_survives_a_reopen() {
        let dir = temp_dir("slots");
        let id: CompetenceId = "core:3.5".parse().unwrap();
        let slot = Utc::now();
        {
            let store = Store::open(&dir, None).unwrap();
            assert_eq!(store.claim_slot(9, slot, id).unwrap(), None);
            assert_eq!(
                store.claim_slot(9, slot, id).unwrap(),
                Some(SlotState::Claimed { competence: id })
            );
            assert_eq!(
                store.claim_slot(10, slot, id).unwrap(),
                None,
                "another server's slot"
            );
        }
        let store = Store::open(&dir, None).unwrap();
        assert_eq!(
            store.claim_slot(9, slot, id).unwrap(),
            Some(SlotState::Claimed { competence: id })
        );
        store.mark_posted(9, slot, id, 77).unwrap();
        assert_eq!(
            store.claim_slot(9, slot, id).unwrap(),
            Some(SlotState::Posted {
                competence: id,
                message: 77
            })
        );
    }

    #[test]
    fn a_slot_counts_as_claimed_or_posted_only_once_synced() {
        let dir = temp_dir("slot-syncs");
        let store = Store::open(&dir, None).unwrap();
        let id: CompetenceId = "core:1.1".parse().unwrap();
        let slot = Utc::now();
        let before = store.syncs();
        assert_eq!(store.claim_slot(3, slot, id).unwrap(), None);
        assert!(store.syncs() > before, "a claim is synced before it counts");
        let before = store.syncs();
        store.mark_posted(3, slot, id, 9).unwrap();
        assert!(store.syncs() > before, "a post is synced before it counts");
    }

    #[test]
    fn group_counts_follow_saves_edits_deletes_and_forget_me() {
        use crate::framework::Framework;
        use crate::reflections::Draft;
        let dir = temp_dir("counts");
        let store = Store::open(&dir, None).unwrap();
        let f = Framework::builtin().unwrap();
        let a: CompetenceId = "core:3.5".parse().unwrap();
        let b: CompetenceId = "integration:2.1".parse().unwrap();
        let save = |member: u64, guild: Option<u64>, tags: Vec<CompetenceId>| {
            let draft = Draft {
                text: "x".into(),
                competences: tags,
                ..Draft::default()
            };
            store
                .add_reflection(member, |id| {
                    let mut r = draft.into_reflection(id, member, Utc::now(), &f);
                    r.guild = guild;
                    r
                })
                .unwrap()
                .id
        };
        let counts = |guild| store.group_counts(guild).unwrap();
        save(1, Some(1), vec![a, b]);
        let second = save(1, Some(1), vec![a]);
        save(2, Some(2), vec![a]);
        save(3, None, vec![a, b]);
        assert_eq!(counts(1).get(&a), Some(&2));
        assert_eq!(counts(1).get(&b), Some(&1));
        assert_eq!(counts(2).get(&a), Some(&1));
        // An edit moves its tags; a share (metadata) moves nothing.
        store
            .update_reflection(1, second, Utc::now(), |r| r.competences = vec![b])
            .unwrap();
        store.update_shares(1, second, |_, d| *d = true).unwrap();
        assert_eq!(counts(1).get(&a), Some(&1));
        assert_eq!(counts(1).get(&b), Some(&2));
        // A delete takes its tags out of its own server only.
        store.delete_reflection(1, second, Utc::now()).unwrap();
        assert_eq!(counts(1).get(&b), Some(&1));
        assert_eq!(counts(2).get(&a), Some(&1));
        // Forget-me takes every tag of the member out.
        store.forget_member(1, Utc::now()).unwrap();
        assert!(counts(1).is_empty(), "{:?}", counts(1));
        assert_eq!(counts(2).get(&a), Some(&1));
    }
}
