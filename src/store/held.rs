//! Forms held for their member: what a member submitted in a form that could
//! not be kept whole (a new reflection without text, a field refused), as
//! typed, so reopening the form brings every word back.
//!
//! One per member and kind of form ([`HeldKind`]: a reflection's, a log
//! entry's, a case presentation's), keyed `member ‖ slot` (the slot a byte:
//! the kind's, or [`GIVEN_BACK`] with it for a replaced form whose words a
//! reply is giving back); a record from before kinds were held apart is
//! keyed by the member alone and read as the slot of its own kind. The
//! value is the moment it was held (seconds, i64 BE) followed by the form
//! sealed with the member's data key. A held form is erased like a deleted
//! reflection (fingerprinted in the erasure record, its bytes gone at the
//! next rewrite) when the same form is held again, when the member submits
//! the reopened form, when [`HOLD_FORM_FOR`] has passed
//! ([`Store::maintain`]), and by forget-me; one replaced by a form of the
//! same kind held for something else is moved to its given-back slot and
//! erased once the reply giving its words back was sent
//! ([`Store::let_go_of_given_back`]), or when its time has passed.

use super::engine::Transactional;
use chrono::{DateTime, Utc};

use super::envelope::Envelope;
use super::{ERASURE_PENDING, Live, Report, Store, StoreError, Trees, trees};
use crate::reflections::form::{HOLD_FORM_FOR, Held, HeldFor, HeldKind, Holding};

/// Added to a kind's slot byte for the form of that kind given back.
const GIVEN_BACK: u8 = 0x80;

fn member_key(member: u64) -> [u8; 8] {
    member.to_be_bytes()
}

fn slot_byte(kind: HeldKind) -> u8 {
    match kind {
        HeldKind::Reflection => 1,
        HeldKind::Log => 2,
        HeldKind::Case => 3,
    }
}

/// The key of `member`'s form of `kind` (given back, or held).
fn slot_key(member: u64, kind: HeldKind, given_back: bool) -> [u8; 9] {
    let mut k = [0; 9];
    k[..8].copy_from_slice(&member_key(member));
    k[8] = slot_byte(kind) | if given_back { GIVEN_BACK } else { 0 };
    k
}

/// The member a key is for, if it is well formed (a slot, or the single
/// slot of a record from before kinds were held apart).
fn member_of(key: &[u8]) -> Option<u64> {
    let member = u64::from_be_bytes(key.get(..8)?.try_into().ok()?);
    match key.get(8..)? {
        [] => Some(member),
        [slot] if [1, 2, 3].contains(&(slot & !GIVEN_BACK)) => Some(member),
        _ => None,
    }
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
        let Some(member) = member_of(&k) else {
            report
                .problems
                .push("a held form has a malformed key".into());
            continue;
        };
        let opens = t
            .member_keys
            .get(member_key(member))?
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

/// A stored record: its key and its value.
type Record = (Vec<u8>, Vec<u8>);

/// Where a member's form of one kind is: its key, its value and the form.
struct Found {
    key: Vec<u8>,
    value: Vec<u8>,
    held: Result<Held, StoreError>,
}

impl Store {
    /// Holds `held` for `member`, sealed, in the slot of its kind (a form of
    /// another kind held is kept); durable when this returns. A form of the
    /// same kind held for the same purpose, and carried on by this one, is
    /// replaced and erased; one held for something else, or any when
    /// `held` was begun afresh, is returned, for the reply to give its words
    /// back, and kept in its kind's given-back slot until
    /// [`Store::let_go_of_given_back`] (or its time passes).
    pub fn hold_form(
        &self,
        member: u64,
        held: &Held,
        holding: Holding,
        now: DateTime<Utc>,
    ) -> Result<Option<Held>, StoreError> {
        let kind = held.purpose.kind();
        let _member = self.member_lock(member)?;
        self.with(|live| {
            let key = self
                .data_key(live, member, true)?
                .ok_or_else(|| StoreError::Corrupt("a member key".into()))?;
            let sealed = self.shared.envelope.seal_held_form(&key, member, held)?;
            let value = [&now.timestamp().to_be_bytes()[..], &sealed].concat();
            let before = self.find(live, member, kind)?;
            let mut given_back = None;
            if let Some(found) = before {
                match found.held {
                    Ok(old) if old.purpose != held.purpose || holding == Holding::Afresh => {
                        let moved =
                            [&now.timestamp().to_be_bytes()[..], &found.value[8..]].concat();
                        self.put(live, &slot_key(member, kind, true), Some(moved), now)?;
                        given_back = Some(old);
                    }
                    _ => {}
                }
                if found.key.len() == 8 {
                    // A record from before kinds were held apart: its slot
                    // is the new key's now.
                    self.put(live, &found.key, None, now)?;
                }
            }
            self.put(live, &slot_key(member, kind, false), Some(value), now)?;
            self.commit(live)?;
            Ok(given_back)
        })
    }

    /// The form of `kind` held for `member`, unless there is none or it is
    /// older than [`HOLD_FORM_FOR`].
    pub fn held_form(
        &self,
        member: u64,
        kind: HeldKind,
        now: DateTime<Utc>,
    ) -> Result<Option<Held>, StoreError> {
        self.with(|live| {
            let Some(found) = self.find(live, member, kind)? else {
                return Ok(None);
            };
            if held_at(&found.value).is_none_or(|at| now - at > HOLD_FORM_FOR) {
                return Ok(None);
            }
            found.held.map(Some)
        })
    }

    /// `member`'s form of `kind`, in its slot or, from before kinds were
    /// held apart, in the member's single slot when it is of that kind.
    fn find(&self, live: &Live, member: u64, kind: HeldKind) -> Result<Option<Found>, StoreError> {
        let Some(data_key) = self.data_key(live, member, false)? else {
            return Ok(None);
        };
        let open = |value: &[u8]| {
            self.shared.envelope.open_held_form(
                &data_key,
                member,
                value.get(8..).unwrap_or_default(),
            )
        };
        let key = slot_key(member, kind, false);
        if let Some(value) = live.t.held_forms.get(key)? {
            let held = open(&value);
            return Ok(Some(Found {
                key: key.to_vec(),
                value: value.to_vec(),
                held,
            }));
        }
        let legacy = member_key(member);
        let Some(value) = live.t.held_forms.get(legacy)? else {
            return Ok(None);
        };
        Ok(match open(&value) {
            Ok(held) if held.purpose.kind() == kind => Some(Found {
                key: legacy.to_vec(),
                value: value.to_vec(),
                held: Ok(held),
            }),
            _ => None,
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

    /// Erases `member`'s form of `kind` given back, now that the reply
    /// giving its words back was sent; true if there was one.
    pub fn let_go_of_given_back(
        &self,
        member: u64,
        kind: HeldKind,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let _member = self.member_lock(member)?;
        self.with(|live| {
            let gone = self.put(live, &slot_key(member, kind, true), None, now)?;
            if gone {
                self.commit(live)?;
            }
            Ok(gone)
        })
    }

    /// Erases each form held for `member` (given back ones aside) that
    /// `about` says is for a purpose to let go (a reflection deleted or
    /// edited: the form held to correct it holds words it no longer has).
    /// Not yet committed.
    pub(super) fn let_go_if(
        &self,
        live: &Live,
        member: u64,
        now: DateTime<Utc>,
        about: impl Fn(&HeldFor) -> bool,
    ) -> Result<bool, StoreError> {
        let mut gone = false;
        for kind in HeldKind::ALL {
            if let Some(found) = self.find(live, member, kind)?
                && found.held.is_ok_and(|h| about(&h.purpose))
            {
                gone |= self.put(live, &found.key, None, now)?;
            }
        }
        Ok(gone)
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
                let Some(member) = member_of(&k) else {
                    continue;
                };
                match held_at(&v) {
                    Some(at) if now - at <= HOLD_FORM_FOR => {
                        let due = at + HOLD_FORM_FOR;
                        next = Some(next.map_or(due, |n| n.min(due)));
                    }
                    _ => old.push((member, k.to_vec())),
                }
            }
            Ok((old, next))
        })?;
        for (member, key) in &old {
            let _member = self.member_lock(*member)?;
            self.with(|live| {
                // Held again meanwhile: that one is kept.
                let again = live
                    .t
                    .held_forms
                    .get(key)?
                    .and_then(|v| held_at(&v))
                    .is_some_and(|at| now - at <= HOLD_FORM_FOR);
                if !again {
                    self.put(live, key, None, now)?;
                }
                Ok(())
            })?;
        }
        if !old.is_empty() {
            self.with(|live| self.commit(live))?;
        }
        Ok(next)
    }

    /// Every held form's key of `member`, given back ones too (forget-me).
    pub(super) fn held_keys(&self, live: &Live, member: u64) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for entry in live.t.held_forms.scan_prefix(member_key(member)) {
            let (k, v) = entry?;
            if member_of(&k) == Some(member) {
                out.push((k.to_vec(), v.to_vec()));
            }
        }
        Ok(out)
    }

    /// Puts `value` (or nothing) at `key`, erasing what was there; true if
    /// there was something. Not yet committed.
    fn put(
        &self,
        live: &Live,
        key: &[u8],
        value: Option<Vec<u8>>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let before = live.t.held_forms.get(key)?;
        let carried = match &before {
            Some(old) => {
                let print =
                    self.shared
                        .envelope
                        .fingerprint(trees::HELD_FORMS.as_bytes(), key, old);
                self.erase(live, &[print])?
            }
            None => super::Carried::none(),
        };
        if before.is_none() && value.is_none() {
            return Ok(false);
        }
        let pending = now.timestamp().to_be_bytes();
        let done = (&live.t.held_forms, &live.t.meta).transaction(|(held, meta)| {
            carried.write(meta)?;
            match &value {
                Some(v) => held.insert(key, v.as_slice())?,
                None => held.remove(key)?,
            };
            if before.is_some() && meta.get(ERASURE_PENDING)?.is_none() {
                meta.insert(ERASURE_PENDING, &pending[..])?;
            }
            Ok::<(), StoreError>(())
        });
        carried.settle(done)?;
        Ok(before.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp_dir;
    use super::*;
    use crate::reflections::form::Typed;
    use crate::supervision::case::{Field, Frame};
    use crate::supervision::log::{Kind, LogChoices};

    /// A form of `kind` holding `words`, for one of two purposes (`other`
    /// picks the second).
    fn form_of(kind: HeldKind, other: bool, words: &str) -> Held {
        let purpose = match (kind, other) {
            (HeldKind::Reflection, false) => HeldFor::New("free".into()),
            (HeldKind::Reflection, true) => HeldFor::Edit(7),
            (HeldKind::Log, _) => HeldFor::Log(LogChoices {
                date: chrono::NaiveDate::from_ymd_opt(2026, 3, if other { 11 } else { 10 })
                    .unwrap(),
                attended: true,
                minutes: 90,
                kind: Kind::Group,
                functions: Vec::new(),
            }),
            (HeldKind::Case, false) => HeldFor::Case(Frame::SevenEyed),
            (HeldKind::Case, true) => HeldFor::Case(Frame::Short),
        };
        let typed = match kind {
            HeldKind::Case => Typed {
                fields: vec![Field {
                    key: "question".into(),
                    text: words.into(),
                }],
                ..Typed::default()
            },
            _ => Typed {
                text: Some(words.into()),
                ..Typed::default()
            },
        };
        Held { purpose, typed }
    }

    fn words(held: Option<Held>) -> Option<String> {
        held.map(|h| match h.purpose.kind() {
            HeldKind::Case => h.typed.fields[0].text.clone(),
            _ => h.typed.text.unwrap_or_default(),
        })
    }

    /// Every pair of kinds, in both orders: holding the second keeps the
    /// first whole, and each reads back its own words.
    #[test]
    fn holding_one_kind_never_replaces_another() {
        let dir = temp_dir("held-kinds");
        let now = Utc::now();
        let store = Store::open(&dir, None).unwrap();
        let mut member = 10;
        for first in HeldKind::ALL {
            for second in HeldKind::ALL.into_iter().filter(|k| *k != first) {
                member += 1;
                let a = form_of(first, false, "first kind's words");
                let b = form_of(second, false, "second kind's words");
                assert_eq!(
                    store
                        .hold_form(member, &a, Holding::CarriedOn, now)
                        .unwrap(),
                    None
                );
                assert_eq!(
                    store
                        .hold_form(member, &b, Holding::CarriedOn, now)
                        .unwrap(),
                    None,
                    "{first:?} then {second:?}: nothing replaced"
                );
                assert_eq!(
                    store.held_form(member, first, now).unwrap(),
                    Some(a),
                    "{first:?} kept after {second:?}"
                );
                assert_eq!(store.held_form(member, second, now).unwrap(), Some(b));
                let third = HeldKind::ALL
                    .into_iter()
                    .find(|k| *k != first && *k != second)
                    .unwrap();
                assert_eq!(store.held_form(member, third, now).unwrap(), None);
            }
        }
    }

    /// A form of the same kind held for something else replaces the one
    /// held, which is kept given back until let go of; the same form held
    /// again simply replaces it.
    #[test]
    fn a_replaced_form_is_given_back_until_let_go_of() {
        let dir = temp_dir("held-given-back");
        let now = Utc::now();
        let store = Store::open(&dir, None).unwrap();
        for (i, kind) in HeldKind::ALL.into_iter().enumerate() {
            let member = 20 + i as u64;
            let slots = || {
                store
                    .with(|live| Ok(store.held_keys(live, member)?.len()))
                    .unwrap()
            };
            let first = form_of(kind, false, "first");
            store
                .hold_form(member, &first, Holding::CarriedOn, now)
                .unwrap();
            let again = form_of(kind, false, "first, typed again");
            assert_eq!(
                store
                    .hold_form(member, &again, Holding::CarriedOn, now)
                    .unwrap(),
                None
            );
            assert_eq!(slots(), 1, "{kind:?}: the same form is replaced");
            let other = form_of(kind, true, "second");
            assert_eq!(
                words(
                    store
                        .hold_form(member, &other, Holding::CarriedOn, now)
                        .unwrap()
                ),
                Some("first, typed again".into()),
                "{kind:?}"
            );
            assert_eq!(
                words(store.held_form(member, kind, now).unwrap()),
                Some("second".into())
            );
            assert_eq!(
                slots(),
                2,
                "{kind:?}: the replaced one is given back, not yet erased"
            );
            assert!(store.let_go_of_given_back(member, kind, now).unwrap());
            assert_eq!(slots(), 1, "{kind:?}: erased once given back");
            assert!(!store.let_go_of_given_back(member, kind, now).unwrap());
        }
    }

    /// A form begun afresh gives back the one held of its kind, whatever
    /// it was for (the same purpose too): a Start afresh never replaces a
    /// held form unseen. Carried on, the same form replaces it.
    #[test]
    fn a_form_begun_afresh_gives_back_the_one_held_even_for_the_same_thing() {
        let dir = temp_dir("held-afresh");
        let now = Utc::now();
        let store = Store::open(&dir, None).unwrap();
        for (i, kind) in HeldKind::ALL.into_iter().enumerate() {
            let member = 40 + i as u64;
            for other in [false, true] {
                let held = form_of(kind, false, "held before");
                store
                    .hold_form(member, &held, Holding::CarriedOn, now)
                    .unwrap();
                let fresh = form_of(kind, other, "begun afresh");
                assert_eq!(
                    words(
                        store
                            .hold_form(member, &fresh, Holding::Afresh, now)
                            .unwrap()
                    ),
                    Some("held before".into()),
                    "{kind:?}, for something else: {other}"
                );
                assert_eq!(
                    words(store.held_form(member, kind, now).unwrap()),
                    Some("begun afresh".into())
                );
                assert!(store.let_go_of_given_back(member, kind, now).unwrap());
            }
            // Nothing held: nothing to give back.
            let last = form_of(kind, true, "");
            assert!(store.let_go_of_form(member, &last.purpose, now).unwrap());
            let alone = form_of(kind, false, "alone");
            assert_eq!(
                store
                    .hold_form(member, &alone, Holding::Afresh, now)
                    .unwrap(),
                None,
                "{kind:?}"
            );
        }
    }

    /// Forget-me erases every kind held, and every form given back.
    #[test]
    fn forget_me_erases_every_kind_held() {
        let dir = temp_dir("held-forget");
        let now = Utc::now();
        let store = Store::open(&dir, None).unwrap();
        for kind in HeldKind::ALL {
            store
                .hold_form(5, &form_of(kind, false, "a"), Holding::CarriedOn, now)
                .unwrap();
            store
                .hold_form(5, &form_of(kind, true, "b"), Holding::CarriedOn, now)
                .unwrap();
        }
        store
            .hold_form(
                6,
                &form_of(HeldKind::Log, false, "kept"),
                Holding::CarriedOn,
                now,
            )
            .unwrap();
        store.forget_member(5, now).unwrap();
        assert!(!store.holds_anything_of(5).unwrap());
        let left = store
            .with(|live| Ok(store.held_keys(live, 5)?.len()))
            .unwrap();
        assert_eq!(left, 0);
        assert_eq!(
            words(store.held_form(6, HeldKind::Log, now).unwrap()),
            Some("kept".into()),
            "another member's form stays"
        );
    }

    /// Each kind is let go of a day after it was held, by itself: a form
    /// held later, of another kind, stays.
    #[test]
    fn each_kind_is_let_go_of_a_day_after_it_was_held() {
        let dir = temp_dir("held-day");
        let now = Utc::now();
        let store = Store::open(&dir, None).unwrap();
        let hour = chrono::Duration::hours(1);
        for (i, kind) in HeldKind::ALL.into_iter().enumerate() {
            let at = now + hour * i as i32;
            store
                .hold_form(8, &form_of(kind, false, "w"), Holding::CarriedOn, at)
                .unwrap();
        }
        for (i, kind) in HeldKind::ALL.into_iter().enumerate() {
            let later = now + HOLD_FORM_FOR + hour * i as i32 + chrono::Duration::minutes(1);
            store.let_go_of_old_forms(later).unwrap();
            assert_eq!(store.held_form(8, kind, later).unwrap(), None, "{kind:?}");
            for kept in &HeldKind::ALL[i + 1..] {
                assert!(
                    store.held_form(8, *kept, later).unwrap().is_some(),
                    "{kept:?} kept when {kind:?} went"
                );
            }
            let left = store
                .with(|live| Ok(store.held_keys(live, 8)?.len()))
                .unwrap();
            assert_eq!(left, HeldKind::ALL.len() - i - 1, "erased, not only hidden");
        }
    }

    /// A record from before kinds were held apart (keyed by the member
    /// alone) is read as the form of its kind, and holding that kind again
    /// replaces it rather than leaving it behind; other kinds leave it.
    #[test]
    fn a_single_slot_record_stays_readable_as_its_kind() {
        let dir = temp_dir("held-legacy");
        let now = Utc::now();
        let store = Store::open(&dir, None).unwrap();
        for (i, kind) in HeldKind::ALL.into_iter().enumerate() {
            let member = 30 + i as u64;
            let old = form_of(kind, false, "typed before kinds");
            store
                .hold_form(member, &old, Holding::CarriedOn, now)
                .unwrap();
            store
                .with(|live| {
                    let k = slot_key(member, kind, false);
                    let v = live.t.held_forms.get(k)?.unwrap();
                    live.t.held_forms.remove(k)?;
                    live.t.held_forms.insert(member_key(member), v)?;
                    store.commit(live)
                })
                .unwrap();
            assert_eq!(
                store.held_form(member, kind, now).unwrap(),
                Some(old.clone())
            );
            for other in HeldKind::ALL.into_iter().filter(|k| *k != kind) {
                assert_eq!(store.held_form(member, other, now).unwrap(), None);
                store
                    .hold_form(
                        member,
                        &form_of(other, false, "new kind"),
                        Holding::CarriedOn,
                        now,
                    )
                    .unwrap();
            }
            assert_eq!(
                store.held_form(member, kind, now).unwrap(),
                Some(old.clone()),
                "{kind:?}: kept while other kinds are held"
            );
            let replaced = store
                .hold_form(member, &form_of(kind, true, "new"), Holding::CarriedOn, now)
                .unwrap();
            assert_eq!(replaced, Some(old), "{kind:?}: given back");
            let legacy = store
                .with(|live| live.t.held_forms.get(member_key(member)))
                .unwrap();
            assert_eq!(legacy, None, "{kind:?}: the single slot is gone");
            assert_eq!(
                words(store.held_form(member, kind, now).unwrap()),
                Some("new".into())
            );
        }
    }

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
            store.hold_form(3, &held, Holding::CarriedOn, now).unwrap();
            store
                .hold_form(4, &held, Holding::CarriedOn, later)
                .unwrap();
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
                    .filter_map(|k| member_of(&k))
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
        store.hold_form(3, &held, Holding::CarriedOn, now).unwrap();
        store
            .with(|live| {
                let k = slot_key(3, HeldKind::Reflection, false);
                let mut v = live.t.held_forms.get(k)?.unwrap().to_vec();
                let at = v.len() - 2;
                v[at] ^= 0x55;
                live.t.held_forms.insert(k, v)?;
                store.commit(live)
            })
            .unwrap();
        assert!(
            store.held_form(3, HeldKind::Reflection, now).is_err(),
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
