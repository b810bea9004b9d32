//! A member's own settings: the weekly reminder. Removed with everything
//! else by forget-me.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::schedule::Rule;

/// A member's weekly reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// When, in the member's own time zone.
    pub rule: Rule,
    /// The server whose competence of the week it points to.
    pub guild: u64,
    /// The last reminder slot dealt with (sent or skipped).
    pub last_slot: DateTime<Utc>,
    /// A slot the member asked to skip.
    pub skip: Option<DateTime<Utc>>,
}

impl Store {
    /// A member's reminder, if they set one.
    pub fn reminder(&self, member: u64) -> Result<Option<Reminder>, StoreError> {
        self.with(|live| {
            live.t
                .member_settings
                .get(member.to_be_bytes())?
                .map(|b| {
                    serde_json::from_slice(&b)
                        .map_err(|e| StoreError::Corrupt(format!("a reminder: {e}")))
                })
                .transpose()
        })
    }

    /// Saves (or, with `None`, removes) a member's reminder.
    pub fn set_reminder(&self, member: u64, reminder: Option<&Reminder>) -> Result<(), StoreError> {
        let _member = self.member_lock(member)?;
        self.with(|live| {
            match reminder {
                Some(r) => {
                    let bytes =
                        serde_json::to_vec(r).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    live.t.member_settings.insert(member.to_be_bytes(), bytes)?;
                }
                None => {
                    live.t.member_settings.remove(member.to_be_bytes())?;
                }
            }
            self.commit(live)
        })
    }

    /// Every member's reminder.
    pub fn reminders(&self) -> Result<Vec<(u64, Reminder)>, StoreError> {
        self.with(|live| {
            live.t
                .member_settings
                .iter()
                .map(|entry| {
                    let (k, v) = entry?;
                    let member = <[u8; 8]>::try_from(k.as_ref())
                        .map(u64::from_be_bytes)
                        .map_err(|_| StoreError::Corrupt("a member key".into()))?;
                    let r = serde_json::from_slice(&v)
                        .map_err(|e| StoreError::Corrupt(format!("a reminder: {e}")))?;
                    Ok((member, r))
                })
                .collect()
        })
    }
}
