//! Forms held for their member: what a member submitted in a form that could
//! not be kept whole (a new reflection without text, a field refused), as
//! typed, so reopening the form brings every word back.
//!
//! One per member, keyed by member id; the value is the moment it was held
//! (seconds, i64 BE) followed by the form sealed with the member's data key.
//! A held form is erased like a deleted reflection (fingerprinted in the
//! erasure record, its bytes gone at the next rewrite) when it is replaced,
//! when the member submits the reopened form, when [`HOLD_FORM_FOR`] has
//! passed ([`Store::maintain`]), and by forget-me.

use super::engine::Transactional;
use chrono::{DateTime, Utc};

use super::envelope::Envelope;
use super::{ERASURE_PENDING, Live, Report, Store, StoreError, Trees, trees};
use crate::reflections::form::{HOLD_FORM_FOR, Held, HeldFor};

fn member_key(member: u64) -> [u8; 8] {
    member.to_be_bytes()
}

/// When a stored held form was held, if its value is well formed.
fn held_at(value: &[u8]) -> Option<DateTime<Utc>> {
    let secs = i64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    DateTime::from_timestamp(secs, 0)
}

/// For `db check`: names every held form that does not open (damaged, or
/// its member's key gone).
pub(super) fn check(t: &Trees, envelope: &Envelope, report: &mut Report) -> Result<(), StoreError> {
    for entry in t.held_forms.iter() {
        let (k, value) = entry?;
        let Ok(member) = <[u8; 8]>::try_from(k.as_slice()).map(u64::from_be_bytes) else {
            report
                .problems
                .push("a held form has a malformed key".into());
            continue;
        };
        let opens = t
            .member_keys
            .get(k)?
            .and_then(|w| envelope.unwrap_member_key(member, &w).ok())
            .is_some_and(|key| {
                held_at(&value).is_some()
                    && envelope
                        .open_held_form(&key, member, value.get(8..).unwrap_or_default())
                        .is_ok()
            });
        if !opens {
            report
                .problems
                .push(format!("member {member}'s held form cannot be read"));
        }
    }
    Ok(())
}

impl Store {
    /// Holds `held` for `member`, sealed, replacing (and erasing) any form
    /// held before; durable when this returns.
    pub fn hold_form(
        &self,
        member: u64,
        held: &Held,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let _member = self.member_lock(member)?;
        self.with(|live| {
            let key = self
                .data_key(live, member, true)?
                .ok_or_else(|| StoreError::Corrupt("a member key".into()))?;
            let sealed = self.shared.envelope.seal_held_form(&key, member, held)?;
            let value = [&now.timestamp().to_be_bytes()[..], &sealed].concat();
            self.let_go(live, member, Some(value), now)?;
            self.commit(live)
        })
    }

    /// The form held for `member`, unless there is none or it is older than
    /// [`HOLD_FORM_FOR`].
    pub fn held_form(&self, member: u64, now: DateTime<Utc>) -> Result<Option<Held>, StoreError> {
        self.with(|live| {
            let Some(value) = live.t.held_forms.get(member_key(member))? else {
                return Ok(None);
            };
            if held_at(&value).is_none_or(|at| now - at > HOLD_FORM_FOR) {
                return Ok(None);
            }
            let Some(key) = self.data_key(live, member, false)? else {
                return Ok(None);
            };
            let sealed = value.get(8..).unwrap_or_default();
            self.shared
                .envelope
                .open_held_form(&key, member, sealed)
                .map(Some)
        })
    }

    /// Erases the form held for `member` if it is for `purpose` (a form
    /// held since for something else is kept); true if it was.
    pub fn let_go_of_form(
        &self,
        member: u64,
        purpose: &HeldFor,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let _member = self.member_lock(member)?;
        self.with(|live| {
            let gone = self.let_go_if(live, member, now, |p| p == purpose)?;
            if gone {
                self.commit(live)?;
            }
            Ok(gone)
        })
    }

    /// Erases the form held for `member` if `about` says its purpose is one
    /// to let go (a reflection deleted or edited: the form held to correct
    /// it holds words it no longer has). Not yet committed.
    pub(super) fn let_go_if(
        &self,
        live: &Live,
        member: u64,
        now: DateTime<Utc>,
        about: impl Fn(&HeldFor) -> bool,
    ) -> Result<bool, StoreError> {
        let Some(value) = live.t.held_forms.get(member_key(member))? else {
            return Ok(false);
        };
        let Some(key) = self.data_key(live, member, false)? else {
            return Ok(false);
        };
        let opened =
            self.shared
                .envelope
                .open_held_form(&key, member, value.get(8..).unwrap_or_default());
        match opened {
            Ok(held) if about(&held.purpose) => self.let_go(live, member, None, now),
            _ => Ok(false),
        }
    }

    /// Erases every held form older than [`HOLD_FORM_FOR`]; returns when
    /// the next of those kept will be.
    pub(super) fn let_go_of_old_forms(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let (old, next) = self.with(|live| {
            let (mut old, mut next) = (Vec::new(), None::<DateTime<Utc>>);
            for entry in live.t.held_forms.iter() {
                let (k, v) = entry?;
                let Ok(member) = <[u8; 8]>::try_from(k.as_slice()).map(u64::from_be_bytes) else {
                    continue;
                };
                match held_at(&v) {
                    Some(at) if now - at <= HOLD_FORM_FOR => {
                        let due = at + HOLD_FORM_FOR;
                        next = Some(next.map_or(due, |n| n.min(due)));
                    }
                    _ => old.push(member),
                }
            }
            Ok((old, next))
        })?;
        for member in &old {
            let _member = self.member_lock(*member)?;
            self.with(|live| {
                // Held again meanwhile: that one is kept.
                let again = live
                    .t
                    .held_forms
                    .get(member_key(*member))?
                    .and_then(|v| held_at(&v))
                    .is_some_and(|at| now - at <= HOLD_FORM_FOR);
                if !again {
                    self.let_go(live, *member, None, now)?;
                }
                Ok(())
            })?;
        }
        if !old.is_empty() {
            self.with(|live| self.commit(live))?;
        }
        Ok(next)
    }

    /// Puts `value` (or nothing) where `member`'s held form is, erasing the
    /// one there; true if there was one. Not yet committed.
    fn let_go(
        &self,
        live: &Live,
        member: u64,
        value: Option<Vec<u8>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mk = member_key(member);
        let before = live.t.held_forms.get(mk)?;
        if let Some(old) = &before {
            let print = self
                .shared
                .envelope
                .fingerprint(trees::HELD_FORMS.as_bytes(), &mk, old);
            self.erase(live, &[print])?;
        }
        let pending = now.timestamp().to_be_bytes();
        (&live.t.held_forms, &live.t.meta).transaction(|(held, meta)| {
            match &value {
                Some(v) => held.insert(&mk[..], v.as_slice())?,
                None => held.remove(&mk[..])?,
            };
            if before.is_some() && meta.get(ERASURE_PENDING)?.is_none() {
                meta.insert(ERASURE_PENDING, &pending[..])?;
            }
            Ok::<(), StoreError>(())
        })?;
        Ok(before.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp_dir;
    use super::*;
    use crate::reflections::form::Typed;

    /// A store used only by the console or the `db` commands (no bot's
    /// upkeep) still lets go of a held form past its time: at the close.
    #[test]
    fn a_close_lets_go_of_a_held_form_past_its_time() {
        let dir = temp_dir("held-close");
        let now = Utc::now();
        let later = now + HOLD_FORM_FOR + chrono::Duration::minutes(1);
        let held = Held {
            purpose: HeldFor::New("free".into()),
            typed: Typed {
                text: Some("Words kept a day".into()),
                ..Typed::default()
            },
        };
        {
            let store = Store::open(&dir, None).unwrap();
            store.hold_form(3, &held, now).unwrap();
            store.hold_form(4, &held, later).unwrap();
            store.close(later).unwrap();
        }
        let store = Store::open(&dir, None).unwrap();
        let held_members: Vec<u64> = store
            .with(|live| {
                Ok(live
                    .t
                    .held_forms
                    .keys()
                    .flatten()
                    .filter_map(|k| {
                        <[u8; 8]>::try_from(k.as_slice())
                            .ok()
                            .map(u64::from_be_bytes)
                    })
                    .collect())
            })
            .unwrap();
        assert_eq!(
            held_members,
            [4],
            "the expired one went, the fresh one stayed"
        );
        assert!(
            store.erasure_pending_since().unwrap().is_none(),
            "erased at the close"
        );
    }

    #[test]
    fn the_check_names_a_held_form_that_does_not_open() {
        let dir = temp_dir("held-check");
        let now = Utc::now();
        let store = Store::open(&dir, None).unwrap();
        let held = Held {
            purpose: HeldFor::New("free".into()),
            typed: Typed {
                text: Some("Words".into()),
                ..Typed::default()
            },
        };
        store.hold_form(3, &held, now).unwrap();
        store
            .with(|live| {
                let mut v = live.t.held_forms.get(member_key(3))?.unwrap().to_vec();
                let at = v.len() - 2;
                v[at] ^= 0x55;
                live.t.held_forms.insert(member_key(3), v)?;
                store.commit(live)
            })
            .unwrap();
        assert!(
            store.held_form(3, now).is_err(),
            "a damaged form is not opened"
        );
        store.close(now).unwrap();
        drop(store);
        let report = super::super::check_dir(&dir, None).unwrap();
        assert!(
            report
                .problems
                .iter()
                .any(|p| p == "member 3's held form cannot be read"),
            "{:?}",
            report.problems
        );
    }
}
