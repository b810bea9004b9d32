//! A member's supervision log and case presentations at rest: each record
//! sealed with the member's own data key, as their reflections are, so the
//! key's destruction at forget-me leaves nothing of them readable.
//!
//! Each kind has its tree, keyed `member id (8 bytes BE) ‖ number (8 bytes
//! BE)`; number 0 holds the member's sealed header for that kind (the last
//! number given, and for the log the monthly minimum they set). Every
//! change is synced before the call returns; every deletion is
//! fingerprinted in the erasure record first.

use super::engine::Transactional;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::crypto::SecretKey;
use super::envelope::Envelope;
use super::envelope::Fingerprint;
use super::reflections::Readable;
use super::{Live, Report, Store, StoreError, Trees, trees};
use crate::reflections::SharedPost;
use crate::supervision::case::CasePresentation;
use crate::supervision::log::LogEntry;

/// A kind of record this module keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Book {
    /// The supervision log.
    Log,
    /// Case presentations.
    Cases,
}

impl Book {
    pub(super) const ALL: [Book; 2] = [Book::Log, Book::Cases];

    pub(super) fn tree(self, live: &Live) -> &super::engine::Tree {
        self.of(&live.t)
    }

    fn of(self, t: &Trees) -> &super::engine::Tree {
        match self {
            Book::Log => &t.supervision_log,
            Book::Cases => &t.case_presentations,
        }
    }

    /// What a check calls a record of this kind.
    fn called(self) -> &'static str {
        match self {
            Book::Log => "supervision log entry",
            Book::Cases => "case presentation",
        }
    }

    /// Whether `sealed` opens as a record of this kind (its header at 0).
    fn opens(self, envelope: &Envelope, key: &SecretKey, rk: &[u8], sealed: &[u8]) -> bool {
        let header = id_of(rk) == HEADER;
        let kind = self.kind(header);
        match (self, header) {
            (_, true) => envelope
                .open_record::<Header>(key, kind, rk, sealed)
                .is_ok(),
            (Book::Log, false) => envelope
                .open_record::<LogEntry>(key, kind, rk, sealed)
                .is_ok(),
            (Book::Cases, false) => envelope
                .open_record::<CasePresentation>(key, kind, rk, sealed)
                .is_ok(),
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Book::Log => trees::SUPERVISION_LOG,
            Book::Cases => trees::CASE_PRESENTATIONS,
        }
    }

    /// What a record is bound to when sealed, besides its key.
    fn kind(self, header: bool) -> &'static str {
        match (self, header) {
            (Book::Log, false) => "supervision log entry",
            (Book::Log, true) => "supervision log header",
            (Book::Cases, false) => "case presentation",
            (Book::Cases, true) => "case presentations header",
        }
    }
}

/// The number that holds a member's header.
const HEADER: u64 = 0;

/// A member's header for one kind of record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Header {
    /// The last number given.
    last: u64,
    /// The log's monthly minimum the member set, in minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    monthly_minimum: Option<u32>,
    /// The competences the member and their supervisor agreed matter most
    /// now, in the member's order (kept in the log's header).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    priorities: Vec<crate::framework::CompetenceId>,
    /// How often the member asked to review their priorities, and when the
    /// last review was asked for or made (kept in the log's header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    review: Option<crate::reflections::review::Review>,
    /// Where the member's case presentations are posted in a group's
    /// thread, each by its presentation's number (kept in the case
    /// presentations' header). Only numbers: a presentation's words are
    /// never sealed again for it, so deleting the presentation erases
    /// every sealing of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    posts: Vec<PostOf>,
}

/// One post of a case presentation in a group's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct PostOf {
    /// The presentation's number.
    presentation: u64,
    /// Where it is.
    post: SharedPost,
}

fn record_key(member: u64, id: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&member.to_be_bytes());
    key[8..].copy_from_slice(&id.to_be_bytes());
    key
}

fn id_of(key: &[u8]) -> u64 {
    key.get(8..16)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(HEADER, u64::from_be_bytes)
}

/// For `db check`: every log entry and case presentation, and each
/// member's header for them, opens with its member's key.
pub(super) fn check(t: &Trees, envelope: &Envelope, report: &mut Report) -> Result<(), StoreError> {
    for book in Book::ALL {
        for entry in book.of(t).iter() {
            let (rk, sealed) = entry?;
            let Some(m) = rk.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) else {
                report
                    .problems
                    .push(format!("a {} record has a malformed key", book.called()));
                continue;
            };
            let m = u64::from_be_bytes(m);
            let key = t
                .member_keys
                .get(m.to_be_bytes())?
                .and_then(|w| envelope.unwrap_member_key(m, &w).ok());
            let opens = key
                .as_ref()
                .is_some_and(|key| book.opens(envelope, key, &rk, &sealed));
            if !opens {
                let id = id_of(&rk);
                report.problems.push(if id == HEADER {
                    format!("member {m}'s {} numbering cannot be read", book.called())
                } else {
                    format!("member {m}'s {} #{id} cannot be read", book.called())
                });
            }
        }
    }
    Ok(())
}

/// Whether `sealed`, stored in `tree` under `rk`, opens under `key` as a
/// record of that tree; `None` when `tree` is not one of this module's.
pub(super) fn opens_in(
    tree: &[u8],
    envelope: &Envelope,
    key: &SecretKey,
    rk: &[u8],
    sealed: &[u8],
) -> Option<bool> {
    Book::ALL
        .into_iter()
        .find(|b| b.name().as_bytes() == tree)
        .map(|b| b.opens(envelope, key, rk, sealed))
}

/// A stored record's key.
type RecordKey = Vec<u8>;

impl Store {
    /// `member`'s header for `book`. Its last number is never below a
    /// record present (a restore or salvage may add some), so a new one
    /// never overwrites one; a header that does not open counts as empty
    /// (its minimum and priorities unset) rather than block everything else.
    fn header(
        &self,
        live: &Live,
        book: Book,
        member: u64,
        key: &SecretKey,
    ) -> Result<Header, StoreError> {
        let rk = record_key(member, HEADER);
        let mut header = match book.tree(live).get(rk)? {
            Some(sealed) => self
                .shared
                .envelope
                .open_record(key, book.kind(true), &rk, &sealed)
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "a {} header does not open; counted as empty", book.called());
                    Header::default()
                }),
            None => Header::default(),
        };
        let highest = book
            .tree(live)
            .scan_keys(member.to_be_bytes())
            .next_back()
            .transpose()?
            .map_or(0, |k| id_of(&k));
        header.last = header.last.max(highest);
        Ok(header)
    }

    /// Saves a new record numbered next for `member`; `make` builds it from
    /// its number. Returns it once it is on the disk.
    fn add_to<T: Serialize>(
        &self,
        book: Book,
        member: u64,
        make: impl FnOnce(u64) -> T,
    ) -> Result<T, StoreError> {
        let _member = self.member_lock(member)?;
        self.with(|live| {
            let key = self
                .data_key(live, member, true)?
                .ok_or_else(|| StoreError::Corrupt("member key".into()))?;
            let mut header = self.header(live, book, member, &key)?;
            header.last = header.last.saturating_add(1);
            let value = make(header.last);
            let envelope = &self.shared.envelope;
            let rk = record_key(member, header.last);
            let hk = record_key(member, HEADER);
            let sealed = envelope.seal_record(&key, book.kind(false), &rk, &value)?;
            let sealed_header = envelope.seal_record(&key, book.kind(true), &hk, &header)?;
            book.tree(live).transaction(|t| {
                t.insert(&rk[..], sealed.as_slice())?;
                t.insert(&hk[..], sealed_header.as_slice())?;
                Ok::<(), StoreError>(())
            })?;
            self.commit(live)?;
            Ok(value)
        })
    }

    /// Every record of `member`'s of one kind that can be read, oldest
    /// first, and the numbers of any that cannot.
    fn all_of<T: DeserializeOwned>(
        &self,
        book: Book,
        member: u64,
    ) -> Result<Readable<T>, StoreError> {
        self.with(|live| {
            let mut out = Readable::default();
            let key = self.data_key(live, member, false).ok().flatten();
            for entry in book.tree(live).scan_prefix(member.to_be_bytes()) {
                let (rk, sealed) = entry?;
                if id_of(&rk) == HEADER {
                    continue;
                }
                let opened = key.as_ref().map(|k| {
                    self.shared
                        .envelope
                        .open_record::<T>(k, book.kind(false), &rk, &sealed)
                });
                match opened {
                    Some(Ok(r)) => out.items.push(r),
                    _ => out.unreadable.push(id_of(&rk)),
                }
            }
            Ok(out)
        })
    }

    /// One record of `member`'s; `None` if they have no such record.
    fn one_of<T: DeserializeOwned>(
        &self,
        book: Book,
        member: u64,
        id: u64,
    ) -> Result<Option<T>, StoreError> {
        if id == HEADER {
            return Ok(None);
        }
        self.with(|live| {
            let rk = record_key(member, id);
            let Some(sealed) = book.tree(live).get(rk)? else {
                return Ok(None);
            };
            let Some(key) = self.data_key(live, member, false)? else {
                return Ok(None);
            };
            self.shared
                .envelope
                .open_record(&key, book.kind(false), &rk, &sealed)
                .map(Some)
        })
    }

    /// Deletes one record; false if there was none. Its sealed bytes are
    /// fingerprinted in the erasure record and leave the data directory at
    /// the next rewrite.
    fn delete_from(
        &self,
        book: Book,
        member: u64,
        id: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if id == HEADER {
            return Ok(false);
        }
        let _member = self.member_lock(member)?;
        self.with(|live| {
            let rk = record_key(member, id);
            let Some(old) = book.tree(live).get(rk)? else {
                return Ok(false);
            };
            let print = self
                .shared
                .envelope
                .fingerprint(book.name().as_bytes(), &rk, &old);
            let carried = self.erase(live, &[print])?;
            // Its posts, if any, are no longer on record (they were
            // withdrawn first, or the member chose to leave them).
            let hk = record_key(member, HEADER);
            let header = match self.data_key(live, member, false)? {
                Some(key) => {
                    let mut header = self.header(live, book, member, &key)?;
                    let before = header.posts.len();
                    header.posts.retain(|p| p.presentation != id);
                    (header.posts.len() != before)
                        .then(|| {
                            self.shared
                                .envelope
                                .seal_record(&key, book.kind(true), &hk, &header)
                        })
                        .transpose()?
                }
                None => None,
            };
            let pending = now.timestamp().to_be_bytes();
            let done = (book.tree(live), &live.t.meta).transaction(|(t, meta)| {
                carried.write(meta)?;
                t.remove(&rk[..])?;
                if let Some(sealed) = &header {
                    t.insert(&hk[..], sealed.as_slice())?;
                }
                if meta.get(super::ERASURE_PENDING)?.is_none() {
                    meta.insert(super::ERASURE_PENDING, &pending[..])?;
                }
                Ok::<(), StoreError>(())
            });
            carried.settle(done)?;
            self.commit(live)?;
            Ok(true)
        })
    }

    /// For forget-me: the fingerprint of every record of `member`'s in
    /// these trees, headers too, and their keys by kind.
    pub(super) fn supervision_records(
        &self,
        live: &Live,
        member: u64,
    ) -> Result<(Vec<Fingerprint>, [Vec<RecordKey>; 2]), StoreError> {
        let mut prints = Vec::new();
        let mut keys: [Vec<RecordKey>; 2] = [Vec::new(), Vec::new()];
        for (i, book) in Book::ALL.into_iter().enumerate() {
            for entry in book.tree(live).scan_prefix(member.to_be_bytes()) {
                let (k, v) = entry?;
                prints.push(
                    self.shared
                        .envelope
                        .fingerprint(book.name().as_bytes(), &k, &v),
                );
                keys[i].push(k);
            }
        }
        Ok((prints, keys))
    }

    /// Whether `member` has any record in these trees.
    pub(super) fn holds_supervision_of(&self, live: &Live, member: u64) -> bool {
        Book::ALL.into_iter().any(|b| {
            b.tree(live)
                .scan_prefix(member.to_be_bytes())
                .next()
                .is_some()
        })
    }

    /// How many log entries and case presentations `member` has, without
    /// decrypting any.
    pub fn supervision_counts(&self, member: u64) -> Result<(usize, usize), StoreError> {
        self.with(|live| {
            let count = |book: Book| {
                book.tree(live)
                    .scan_keys(member.to_be_bytes())
                    .flatten()
                    .filter(|k| id_of(k) != HEADER)
                    .count()
            };
            Ok((count(Book::Log), count(Book::Cases)))
        })
    }

    /// Flips one byte of a stored log entry or presentation, as a damaged
    /// disk would (tests).
    #[cfg(test)]
    pub(crate) fn damage_supervision_for_test(&self, member: u64, id: u64) {
        self.with(|live| {
            for book in Book::ALL {
                if let Some(v) = book.tree(live).get(record_key(member, id))? {
                    let mut v = v.to_vec();
                    let at = v.len() / 2;
                    v[at] ^= 0x55;
                    book.tree(live).insert(record_key(member, id), v)?;
                }
            }
            Ok(())
        })
        .expect("test store");
    }

    /// Saves a new supervision log entry, numbered next for `member`.
    pub fn add_log_entry(
        &self,
        member: u64,
        make: impl FnOnce(u64) -> LogEntry,
    ) -> Result<LogEntry, StoreError> {
        self.add_to(Book::Log, member, make)
    }

    /// Every log entry of `member`'s that can be read, in the order written.
    pub fn log_of(&self, member: u64) -> Result<Readable<LogEntry>, StoreError> {
        self.all_of(Book::Log, member)
    }

    /// One of `member`'s log entries.
    pub fn log_entry(&self, member: u64, id: u64) -> Result<Option<LogEntry>, StoreError> {
        self.one_of(Book::Log, member, id)
    }

    /// Deletes one of `member`'s log entries; false if there was none.
    pub fn delete_log_entry(
        &self,
        member: u64,
        id: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.delete_from(Book::Log, member, id, now)
    }

    /// The monthly minimum `member` set for themselves, in minutes.
    pub fn log_minimum(&self, member: u64) -> Result<Option<u32>, StoreError> {
        self.with(|live| match self.data_key(live, member, false)? {
            Some(key) => Ok(self.header(live, Book::Log, member, &key)?.monthly_minimum),
            None => Ok(None),
        })
    }

    /// Sets (or, with `None`, unsets) `member`'s monthly minimum. The
    /// header it replaces held no words, only numbers, and is left to
    /// the next rewrite.
    pub fn set_log_minimum(&self, member: u64, minutes: Option<u32>) -> Result<(), StoreError> {
        self.change_log_header(member, |h| h.monthly_minimum = minutes)
    }

    /// The competences `member` marked as their development priorities.
    pub fn priorities(
        &self,
        member: u64,
    ) -> Result<Vec<crate::framework::CompetenceId>, StoreError> {
        self.with(|live| match self.data_key(live, member, false)? {
            Some(key) => Ok(self.header(live, Book::Log, member, &key)?.priorities),
            None => Ok(Vec::new()),
        })
    }

    /// Sets `member`'s development priorities (replacing them). Like the
    /// minimum, the header it replaces holds codes, not words, and is left
    /// to the next rewrite; forget-me erases it.
    pub fn set_priorities(
        &self,
        member: u64,
        ids: &[crate::framework::CompetenceId],
    ) -> Result<(), StoreError> {
        self.change_log_header(member, |h| h.priorities = ids.to_vec())
    }

    /// How often `member` asked to review their priorities, if they did.
    pub fn priority_review(
        &self,
        member: u64,
    ) -> Result<Option<crate::reflections::review::Review>, StoreError> {
        self.with(|live| match self.data_key(live, member, false)? {
            Some(key) => Ok(self.header(live, Book::Log, member, &key)?.review),
            None => Ok(None),
        })
    }

    /// Sets (or, with `None`, turns off) `member`'s review of priorities.
    pub fn set_priority_review(
        &self,
        member: u64,
        review: Option<crate::reflections::review::Review>,
    ) -> Result<(), StoreError> {
        self.change_log_header(member, |h| h.review = review)
    }

    /// The members whose review of priorities is due at `now`, and when
    /// the next one not yet due falls. Their headers are opened one by one;
    /// one that does not open is passed by.
    pub fn priority_reviews_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Vec<u64>, Option<DateTime<Utc>>), StoreError> {
        self.with(|live| {
            let mut due = Vec::new();
            let mut next: Option<DateTime<Utc>> = None;
            for entry in live.t.supervision_log.iter() {
                let (k, _) = entry?;
                if id_of(&k) != HEADER || k.len() != 16 {
                    continue;
                }
                let Some(member) = k.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) else {
                    continue;
                };
                let member = u64::from_be_bytes(member);
                let Ok(Some(key)) = self.data_key(live, member, false) else {
                    continue;
                };
                let header = self.header(live, Book::Log, member, &key)?;
                match header.review {
                    Some(r) if r.is_due(!header.priorities.is_empty(), now) => due.push(member),
                    Some(r) if r.next() > now => {
                        next = Some(next.map_or(r.next(), |n| n.min(r.next())));
                    }
                    _ => {}
                }
            }
            Ok((due, next))
        })
    }

    fn change_log_header(
        &self,
        member: u64,
        change: impl FnOnce(&mut Header),
    ) -> Result<(), StoreError> {
        let _member = self.member_lock(member)?;
        self.with(|live| {
            let key = self
                .data_key(live, member, true)?
                .ok_or_else(|| StoreError::Corrupt("member key".into()))?;
            let mut header = self.header(live, Book::Log, member, &key)?;
            change(&mut header);
            self.put_header(live, Book::Log, member, &key, &header)
        })
    }

    /// Seals and keeps `member`'s header for `book`, synced.
    fn put_header(
        &self,
        live: &Live,
        book: Book,
        member: u64,
        key: &SecretKey,
        header: &Header,
    ) -> Result<(), StoreError> {
        let hk = record_key(member, HEADER);
        let sealed = self
            .shared
            .envelope
            .seal_record(key, book.kind(true), &hk, header)?;
        book.tree(live).insert(hk, sealed)?;
        self.commit(live)
    }

    /// Saves a new case presentation, numbered next for `member`.
    pub fn add_presentation(
        &self,
        member: u64,
        make: impl FnOnce(u64) -> CasePresentation,
    ) -> Result<CasePresentation, StoreError> {
        self.add_to(Book::Cases, member, make)
    }

    /// Every case presentation of `member`'s that can be read, oldest first.
    pub fn presentations_of(&self, member: u64) -> Result<Readable<CasePresentation>, StoreError> {
        self.all_of(Book::Cases, member)
    }

    /// One of `member`'s case presentations.
    pub fn presentation(
        &self,
        member: u64,
        id: u64,
    ) -> Result<Option<CasePresentation>, StoreError> {
        self.one_of(Book::Cases, member, id)
    }

    /// Where `member`'s case presentation `id` is posted in a group's
    /// thread; none if it is not (or there is no such presentation).
    pub fn presentation_posts(&self, member: u64, id: u64) -> Result<Vec<SharedPost>, StoreError> {
        Ok(self
            .all_presentation_posts(member)?
            .into_iter()
            .filter(|(p, _)| *p == id)
            .map(|(_, post)| post)
            .collect())
    }

    /// Every post of `member`'s case presentations in a group's thread,
    /// each with its presentation's number.
    pub fn all_presentation_posts(
        &self,
        member: u64,
    ) -> Result<Vec<(u64, SharedPost)>, StoreError> {
        self.with(|live| match self.data_key(live, member, false)? {
            Some(key) => Ok(self
                .header(live, Book::Cases, member, &key)?
                .posts
                .into_iter()
                .map(|p| (p.presentation, p.post))
                .collect()),
            None => Ok(Vec::new()),
        })
    }

    /// Records where `member`'s case presentation `id` is posted (or that
    /// a post was withdrawn): `change` is given its posts. False, with
    /// nothing changed, if there is no such presentation. The header it
    /// replaces holds numbers, not words, and is left to the next rewrite.
    pub fn update_presentation_posts(
        &self,
        member: u64,
        id: u64,
        change: impl FnOnce(&mut Vec<SharedPost>),
    ) -> Result<bool, StoreError> {
        if id == HEADER {
            return Ok(false);
        }
        let _member = self.member_lock(member)?;
        self.with(|live| {
            if Book::Cases
                .tree(live)
                .get(record_key(member, id))?
                .is_none()
            {
                return Ok(false);
            }
            let Some(key) = self.data_key(live, member, false)? else {
                return Ok(false);
            };
            let mut header = self.header(live, Book::Cases, member, &key)?;
            let mut posts: Vec<SharedPost> = header
                .posts
                .iter()
                .filter(|p| p.presentation == id)
                .map(|p| p.post)
                .collect();
            change(&mut posts);
            header.posts.retain(|p| p.presentation != id);
            header.posts.extend(posts.into_iter().map(|post| PostOf {
                presentation: id,
                post,
            }));
            self.put_header(live, Book::Cases, member, &key, &header)?;
            Ok(true)
        })
    }

    /// A short tag of what case presentation `p` of `member`'s shows (its
    /// frame and every field), keyed so that it tells nothing about the
    /// words to anyone without the master key. A share button carries it
    /// and acts only while the presentation still shows exactly what was
    /// previewed.
    pub fn presentation_tag(&self, member: u64, p: &CasePresentation) -> u64 {
        let mut content = Vec::new();
        let frame = p.frame.as_str().as_bytes();
        let parts = std::iter::once(frame).chain(
            p.fields
                .iter()
                .flat_map(|f| [f.key.as_bytes(), f.text.as_bytes()]),
        );
        for part in parts {
            content.extend_from_slice(&(part.len() as u64).to_be_bytes());
            content.extend_from_slice(part);
        }
        let print = self.shared.envelope.fingerprint(
            b"shown presentation",
            &record_key(member, p.id),
            &content,
        );
        u64::from_be_bytes(print[..8].try_into().unwrap_or_default())
    }

    /// Deletes one of `member`'s case presentations; false if there was
    /// none. Its posts leave the record with it: a front-end withdraws
    /// them first.
    pub fn delete_presentation(
        &self,
        member: u64,
        id: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.delete_from(Book::Cases, member, id, now)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::super::tests::temp_dir;
    use super::*;
    use crate::supervision::case::{CaseDraft, Field, Frame};
    use crate::supervision::log::{Kind, LogDraft};

    fn entry(note: &str) -> LogDraft {
        LogDraft {
            date: NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
            attended: true,
            minutes: 90,
            kind: Kind::Group,
            took_away: note.into(),
            competences: vec![],
            functions: vec![],
        }
    }

    fn case(question: &str) -> CaseDraft {
        CaseDraft {
            frame: Frame::Short,
            fields: vec![Field {
                key: "question".into(),
                text: question.into(),
            }],
        }
    }

    #[test]
    fn records_round_trip_numbered_per_member_and_scoped_to_them() {
        let dir = temp_dir("supervision");
        let store = Store::open(&dir, None).unwrap();
        let now = Utc::now();
        let a1 = store
            .add_log_entry(1, |id| entry("first").into_entry(id, now))
            .unwrap();
        let a2 = store
            .add_log_entry(1, |id| entry("second").into_entry(id, now))
            .unwrap();
        let b1 = store
            .add_log_entry(2, |id| entry("bob's").into_entry(id, now))
            .unwrap();
        assert_eq!((a1.id, a2.id, b1.id), (1, 2, 1));
        let p = store
            .add_presentation(1, |id| case("Why?").into_presentation(id, now))
            .unwrap();
        assert_eq!(p.id, 1, "each kind is numbered on its own");
        assert_eq!(store.log_of(1).unwrap().items, vec![a1.clone(), a2]);
        assert_eq!(store.log_entry(2, 2).unwrap(), None, "bob has no #2");
        assert_eq!(store.presentation(2, 1).unwrap(), None);
        assert_eq!(
            store.log_entry(1, 0).unwrap(),
            None,
            "the header is no entry"
        );
        assert_eq!(store.supervision_counts(1).unwrap(), (2, 1));
        assert!(store.delete_log_entry(1, 2, now).unwrap());
        assert!(!store.delete_log_entry(1, 2, now).unwrap());
        assert!(!store.delete_log_entry(1, 0, now).unwrap());
        let a3 = store
            .add_log_entry(1, |id| entry("third").into_entry(id, now))
            .unwrap();
        assert_eq!(a3.id, 3, "a deleted number is not given again");
        assert!(store.delete_presentation(1, 1, now).unwrap());
        assert_eq!(store.presentations_of(1).unwrap().items, vec![]);

        assert_eq!(store.log_minimum(1).unwrap(), None);
        store.set_log_minimum(1, Some(90)).unwrap();
        assert_eq!(store.log_minimum(1).unwrap(), Some(90));
        assert_eq!(store.log_minimum(2).unwrap(), None);
        let a4 = store
            .add_log_entry(1, |id| entry("fourth").into_entry(id, now))
            .unwrap();
        assert_eq!(a4.id, 4);
        assert_eq!(
            store.log_minimum(1).unwrap(),
            Some(90),
            "kept by every save"
        );
        store.set_log_minimum(1, None).unwrap();
        assert_eq!(store.log_minimum(1).unwrap(), None);
    }

    #[test]
    fn forget_me_erases_them_and_a_reopened_store_reads_nothing_of_the_member() {
        let dir = temp_dir("supervision-forget");
        let now = Utc::now();
        {
            let store = Store::open(&dir, None).unwrap();
            store
                .add_log_entry(1, |id| entry("mine").into_entry(id, now))
                .unwrap();
            store.set_log_minimum(1, Some(60)).unwrap();
            store
                .add_presentation(1, |id| case("Mine?").into_presentation(id, now))
                .unwrap();
            store
                .add_log_entry(2, |id| entry("bob's").into_entry(id, now))
                .unwrap();
            // Only these records: forget-me still finds something to erase.
            assert!(store.holds_anything_of(1).unwrap());
            store.forget_member(1, now).unwrap();
            assert!(!store.holds_anything_of(1).unwrap());
            store.close(now).unwrap();
        }
        let store = Store::open(&dir, None).unwrap();
        assert_eq!(store.log_of(1).unwrap(), Readable::default());
        assert_eq!(store.presentations_of(1).unwrap(), Readable::default());
        assert_eq!(store.log_minimum(1).unwrap(), None);
        assert_eq!(store.supervision_counts(1).unwrap(), (0, 0));
        assert_eq!(
            store.log_of(2).unwrap().items.len(),
            1,
            "bob's is untouched"
        );
    }

    #[test]
    fn a_record_moved_to_another_member_or_kind_does_not_open() {
        let dir = temp_dir("supervision-move");
        let store = Store::open(&dir, None).unwrap();
        let now = Utc::now();
        store
            .add_log_entry(1, |id| entry("alice's").into_entry(id, now))
            .unwrap();
        store
            .add_log_entry(2, |id| entry("bob's").into_entry(id, now))
            .unwrap();
        store
            .add_presentation(2, |id| case("Bob's?").into_presentation(id, now))
            .unwrap();
        store
            .with(|live| {
                let alices = live.t.supervision_log.get(record_key(1, 1))?.unwrap();
                live.t.supervision_log.insert(record_key(2, 2), alices)?;
                let bobs = live.t.supervision_log.get(record_key(2, 1))?.unwrap();
                live.t.case_presentations.insert(record_key(2, 2), bobs)?;
                Ok(())
            })
            .unwrap();
        let log = store.log_of(2).unwrap();
        assert_eq!((log.items.len(), log.unreadable.clone()), (1, vec![2]));
        assert!(store.log_entry(2, 2).is_err());
        assert_eq!(store.presentations_of(2).unwrap().unreadable, vec![2]);
    }

    #[test]
    fn a_backup_made_before_a_delete_or_forget_me_never_brings_them_back() {
        let dir = temp_dir("supervision-restore");
        let target = temp_dir("supervision-restore-target");
        let file = temp_dir("supervision-restore-file").with_extension("bak");
        let key = SecretKey::generate();
        let now = Utc::now();
        {
            let store = Store::open(&dir, Some(key.clone())).unwrap();
            store
                .add_log_entry(1, |id| entry("forgotten").into_entry(id, now))
                .unwrap();
            store
                .add_presentation(1, |id| case("Forgotten?").into_presentation(id, now))
                .unwrap();
            store
                .add_log_entry(2, |id| entry("kept").into_entry(id, now))
                .unwrap();
            store
                .add_log_entry(2, |id| entry("deleted").into_entry(id, now))
                .unwrap();
            store.export_to(&file).unwrap();
            store.forget_member(1, now).unwrap();
            assert!(store.delete_log_entry(2, 2, now).unwrap());
            store.close(now).unwrap();
        }
        let (store, _) = Store::import_from(
            &file,
            &target,
            Some(key),
            Some(&dir.join("erasures")),
            false,
        )
        .unwrap();
        assert!(!store.holds_anything_of(1).unwrap());
        assert_eq!(store.supervision_counts(1).unwrap(), (0, 0));
        let kept: Vec<String> = store
            .log_of(2)
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.took_away)
            .collect();
        assert_eq!(kept, ["kept"]);
    }

    fn post(message: u64) -> SharedPost {
        SharedPost {
            guild: Some(9),
            channel: 7,
            message,
            anonymous: true,
            at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        }
    }

    #[test]
    fn a_presentations_posts_are_kept_beside_it_and_leave_with_it() {
        let dir = temp_dir("supervision-posts");
        let now = Utc::now();
        let store = Store::open(&dir, None).unwrap();
        let one = store
            .add_presentation(1, |id| case("First?").into_presentation(id, now))
            .unwrap();
        store
            .add_presentation(1, |id| case("Second?").into_presentation(id, now))
            .unwrap();
        assert!(
            !store
                .update_presentation_posts(1, 3, |p| p.push(post(1)))
                .unwrap(),
            "no such presentation: nothing recorded"
        );
        assert!(
            !store
                .update_presentation_posts(2, 1, |p| p.push(post(1)))
                .unwrap()
        );
        assert!(
            store
                .update_presentation_posts(1, 1, |p| p.push(post(11)))
                .unwrap()
        );
        assert!(
            store
                .update_presentation_posts(1, 2, |p| p.push(post(22)))
                .unwrap()
        );
        assert_eq!(store.presentation_posts(1, 1).unwrap(), vec![post(11)]);
        assert_eq!(store.presentation_posts(2, 1).unwrap(), vec![]);
        // A new presentation keeps the posts of the others.
        store
            .add_presentation(1, |id| case("Third?").into_presentation(id, now))
            .unwrap();
        assert_eq!(store.all_presentation_posts(1).unwrap().len(), 2);
        // The presentation itself is not sealed again for its posts.
        assert_eq!(store.presentation(1, 1).unwrap(), Some(one));
        assert!(store.update_presentation_posts(1, 1, Vec::clear).unwrap());
        assert_eq!(store.presentation_posts(1, 1).unwrap(), vec![]);
        assert!(store.delete_presentation(1, 2, now).unwrap());
        assert_eq!(store.all_presentation_posts(1).unwrap(), vec![]);
        store.close(now).unwrap();
    }

    #[test]
    fn a_presentations_tag_follows_its_words_and_its_number() {
        let dir = temp_dir("supervision-tag");
        let now = Utc::now();
        let store = Store::open(&dir, None).unwrap();
        let a = store
            .add_presentation(1, |id| case("Same?").into_presentation(id, now))
            .unwrap();
        let b = store
            .add_presentation(1, |id| case("Same?").into_presentation(id, now))
            .unwrap();
        let tag = store.presentation_tag(1, &a);
        assert_eq!(tag, store.presentation_tag(1, &a.clone()));
        assert_ne!(tag, store.presentation_tag(1, &b), "another number");
        assert_ne!(tag, store.presentation_tag(2, &a), "another member");
        let mut changed = a.clone();
        changed.fields[0].text.push('!');
        assert_ne!(tag, store.presentation_tag(1, &changed));
        let mut framed = a;
        framed.frame = Frame::SevenEyed;
        assert_ne!(tag, store.presentation_tag(1, &framed));
    }

    #[test]
    fn the_check_names_a_damaged_entry_or_presentation() {
        let dir = temp_dir("supervision-check");
        let store = Store::open(&dir, None).unwrap();
        let now = Utc::now();
        store
            .add_log_entry(1, |id| entry("fine").into_entry(id, now))
            .unwrap();
        store
            .add_presentation(1, |id| case("Fine?").into_presentation(id, now))
            .unwrap();
        assert!(store.check().unwrap().problems.is_empty());
        store.damage_supervision_for_test(1, 1);
        let problems = store.check().unwrap().problems;
        assert!(
            problems.contains(&"member 1's supervision log entry #1 cannot be read".to_string()),
            "{problems:?}"
        );
        assert!(
            problems.contains(&"member 1's case presentation #1 cannot be read".to_string()),
            "{problems:?}"
        );
    }
}
