//! Reflections at rest: each member's records sealed with that member's own
//! data key, the key wrapped by the master key (see [`super::envelope`]).
//!
//! Keys are `member id (8 bytes BE) ‖ reflection id (8 bytes BE)`, so a prefix
//! scan lists one member's reflections in the order they were written, and a
//! lookup always names its author: another member's id is simply not found.
//! Each member's counter holds their last number and how many reflections
//! they have, updated in the same transaction as the record, so a page needs
//! no walk over everything to count. Every change is synced before the call
//! returns; every erasure is fingerprinted in the erasure record first.

use super::engine::Transactional;
use chrono::{DateTime, Utc};

use super::crypto::SecretKey;
use super::schedules::{apply_counts, count_changes};
use super::{Live, Store, StoreError, trees};
use crate::framework::CompetenceId;
use crate::reflections::form::HeldFor;
use crate::reflections::{Reflection, Summary};

/// Meta key: every reflection has its summary (set by [`Store::fill_summaries`]).
const SUMMARIES_COMPLETE: &[u8] = b"summaries_complete";

fn member_key(member: u64) -> [u8; 8] {
    member.to_be_bytes()
}

fn record_key(member: u64, id: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&member.to_be_bytes());
    key[8..].copy_from_slice(&id.to_be_bytes());
    key
}

fn id_of(record_key: &[u8]) -> u64 {
    record_key
        .get(8..16)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

/// Meta key prefix of a forgotten member's high-water mark (see
/// [`Store::forget_member`]): followed by a keyed fingerprint of the member
/// id, never the id itself.
const RETIRED: &[u8] = b"retired:";

/// A forgotten member's next numbers start above their old ones, rounded up
/// to a multiple of this, so the mark tells little about how many there were.
const RETIRED_ROUNDING: u64 = 100;

/// The fingerprints kept in a [`trees::SUPERSEDED`] record.
fn split_prints(bytes: &[u8]) -> Vec<super::envelope::Fingerprint> {
    bytes
        .chunks_exact(super::envelope::FINGERPRINT_LEN)
        .filter_map(|c| c.try_into().ok())
        .collect()
}

/// A member's counter: the last number given and how many they have now.
#[derive(Debug, Clone, Copy, Default)]
struct Counter {
    last: u64,
    count: u64,
}

impl Counter {
    fn bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.last.to_be_bytes());
        out[8..].copy_from_slice(&self.count.to_be_bytes());
        out
    }
}

/// One page of a member's reflections, newest first: their summaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The reflections on this page.
    pub items: Vec<Summary>,
    /// Numbers on this page whose records could not be read (damaged).
    pub unreadable: Vec<u64>,
    /// The page number (from 1).
    pub page: usize,
    /// How many pages there are.
    pub pages: usize,
    /// How many reflections match in all.
    pub total: usize,
}

/// Every reflection (or summary) of a member that could be read, and the
/// numbers of any that could not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readable<T = Reflection> {
    /// Oldest first.
    pub items: Vec<T>,
    /// Numbers of damaged records, skipped.
    pub unreadable: Vec<u64>,
}

impl<T> Default for Readable<T> {
    fn default() -> Self {
        Readable {
            items: Vec::new(),
            unreadable: Vec::new(),
        }
    }
}

impl Store {
    /// The member's data key; with `create`, made on first use and stored
    /// wrapped by compare-and-swap, so two first saves at once share one key.
    pub(super) fn data_key(
        &self,
        live: &Live,
        member: u64,
        create: bool,
    ) -> Result<Option<SecretKey>, StoreError> {
        let wrapped = live.t.member_keys.get(member_key(member))?;
        self.data_key_from(live, member, wrapped, create)
    }

    /// [`Store::data_key`] from `wrapped`, the member's wrapped key as just
    /// read (under the member's lock, so no forget-me came between).
    fn data_key_from(
        &self,
        live: &Live,
        member: u64,
        wrapped: Option<Vec<u8>>,
        create: bool,
    ) -> Result<Option<SecretKey>, StoreError> {
        let envelope = &self.shared.envelope;
        if let Some(wrapped) = wrapped {
            return Ok(Some(envelope.unwrap_member_key(member, &wrapped)?));
        }
        if !create {
            return Ok(None);
        }
        let key = SecretKey::generate();
        let wrapped = envelope.wrap_member_key(member, &key)?;
        match live
            .t
            .member_keys
            .compare_and_swap(member_key(member), None, Some(&wrapped))?
        {
            Ok(()) => Ok(Some(key)),
            Err(current) => match current {
                Some(theirs) => Ok(Some(envelope.unwrap_member_key(member, &theirs)?)),
                None => Err(StoreError::Corrupt("a member key".into())),
            },
        }
    }

    /// The meta key of `member`'s high-water mark once forgotten.
    fn retired_key(&self, member: u64) -> Vec<u8> {
        let print = self
            .shared
            .envelope
            .fingerprint(RETIRED, &member_key(member), b"");
        [RETIRED, &print[..]].concat()
    }

    /// One erasure-record entry per hundred numbers a forgotten member had
    /// used: the record outlives every restore, so the numbers stay retired
    /// even when the database comes back from a backup made before.
    fn retired_prints(&self, member: u64, up_to: u64) -> Vec<super::envelope::Fingerprint> {
        (1..=up_to / RETIRED_ROUNDING)
            .map(|block| {
                self.shared
                    .envelope
                    .fingerprint(RETIRED, &member_key(member), &block.to_be_bytes())
            })
            .collect()
    }

    /// The numbers a member had used before being forgotten, as the erasure
    /// record holds them (0 if never forgotten).
    fn retired_in_erasures(&self, member: u64) -> Result<u64, StoreError> {
        let log = self.erasures();
        let all = log.all();
        let mut block = 0u64;
        while all.contains(&self.shared.envelope.fingerprint(
            RETIRED,
            &member_key(member),
            &(block + 1).to_be_bytes(),
        )) {
            block += 1;
        }
        Ok(block * RETIRED_ROUNDING)
    }

    fn counter(&self, live: &Live, member: u64) -> Result<Counter, StoreError> {
        let stored = live.t.counters.get(member_key(member))?;
        self.counter_from(live, member, stored)
    }

    /// [`Store::counter`] from `stored`, the member's counter as just read.
    fn counter_from(
        &self,
        live: &Live,
        member: u64,
        stored: Option<Vec<u8>>,
    ) -> Result<Counter, StoreError> {
        match stored {
            // A member with nothing yet, or forgotten: numbers carry on above
            // the forgotten ones, so an old button never reaches a new record.
            None => {
                let mut last = super::be_u64(live.t.meta.get(self.retired_key(member))?.as_deref());
                if last == 0 {
                    last = self.retired_in_erasures(member)?;
                }
                Ok(Counter { last, count: 0 })
            }
            Some(b) if b.len() == 16 => Ok(Counter {
                last: u64::from_be_bytes(b[..8].try_into().unwrap_or_default()),
                count: u64::from_be_bytes(b[8..].try_into().unwrap_or_default()),
            }),
            // A counter from before counts were kept: count once.
            Some(b) => Ok(Counter {
                last: <[u8; 8]>::try_from(b.as_ref())
                    .map(u64::from_be_bytes)
                    .map_err(|_| StoreError::Corrupt("a reflection counter".into()))?,
                count: live.t.reflections.scan_prefix(member_key(member)).count() as u64,
            }),
        }
    }

    fn open_record(
        &self,
        key: &SecretKey,
        rk: &[u8],
        sealed: &[u8],
    ) -> Result<Reflection, StoreError> {
        self.shared.envelope.open_reflection(key, rk, sealed)
    }

    /// Saves a new reflection, numbered next for `author`; `make` builds it
    /// from its number. Returns it once it is on the disk.
    pub fn add_reflection(
        &self,
        author: u64,
        make: impl FnOnce(u64) -> Reflection,
    ) -> Result<Reflection, StoreError> {
        let _member = self.member_lock(author)?;
        self.with(|live| {
            // The member's key and counter, read together (one round-trip
            // on PostgreSQL), under the member's lock.
            let (wrapped, stored) = super::engine::get_both(
                (&live.t.member_keys, &member_key(author)),
                (&live.t.counters, &member_key(author)),
            )?;
            let key = self
                .data_key_from(live, author, wrapped, true)?
                .ok_or_else(|| StoreError::Corrupt("member key".into()))?;
            let counter = self.counter_from(live, author, stored)?;
            let id = counter.last.saturating_add(1);
            let reflection = make(id);
            let rk = record_key(author, id);
            let envelope = &self.shared.envelope;
            let sealed = envelope.seal_reflection(&key, &rk, &reflection)?;
            let summary = envelope.seal_summary(&key, &rk, &Summary::of(&reflection))?;
            let next = Counter {
                last: id,
                count: counter.count + 1,
            };
            let counts = count_changes(None, Some(&reflection));
            let mut carried = super::Carried::none();
            if (id - 1) % RETIRED_ROUNDING == 0 {
                // The first number of a new hundred: the hundred is reserved
                // in the erasure record, which no restore rolls back, so the
                // numbers never go back (see `raise_counters_to_reservations`).
                let block = id.div_ceil(RETIRED_ROUNDING);
                let print = self.shared.envelope.fingerprint(
                    RETIRED,
                    &member_key(author),
                    &block.to_be_bytes(),
                );
                carried = self.reserve_numbers(live, print)?;
            }
            let done = (
                &live.t.reflections,
                &live.t.summaries,
                &live.t.counters,
                &live.t.group_counts,
            )
                .transaction(|(r, sums, c, g)| {
                    carried.write(r)?;
                    r.insert(&rk[..], sealed.as_slice())?;
                    sums.insert(&rk[..], summary.as_slice())?;
                    c.insert(&member_key(author)[..], &next.bytes()[..])?;
                    apply_counts(g, &counts)?;
                    Ok::<(), StoreError>(())
                });
            carried.settle(done)?;
            self.commit(live)?;
            Ok(reflection)
        })
    }

    /// A short tag of what a reflection shows (title, text, tags), keyed so
    /// that it tells nothing about the text to anyone without the master
    /// key. A share button carries it and acts only while the reflection
    /// still shows exactly what was previewed.
    pub fn content_tag(&self, r: &Reflection) -> u64 {
        let mut content = Vec::with_capacity(r.title.len() + r.text.len() + 64);
        for part in [r.title.as_bytes(), r.text.as_bytes()] {
            content.extend_from_slice(&(part.len() as u64).to_be_bytes());
            content.extend_from_slice(part);
        }
        for tag in &r.competences {
            content.extend_from_slice(tag.to_string().as_bytes());
            content.push(0);
        }
        let print =
            self.shared
                .envelope
                .fingerprint(b"shown", &record_key(r.author, r.id), &content);
        u64::from_be_bytes(print[..8].try_into().unwrap_or_default())
    }

    /// For each member who wrote a reflection in `guild` between `from`
    /// and `to`, the areas of the competences they tagged (members with
    /// none left out), in no particular order and naming no one: what a
    /// convenor's view of the group counts. Read from the reflections
    /// themselves, so nothing is kept for it and a forgotten member's are
    /// gone. Unreadable records are skipped.
    pub(crate) fn areas_reflected_on(
        &self,
        guild: u64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<std::collections::BTreeSet<crate::meetings::coverage::AreaId>>, StoreError>
    {
        let members: Vec<u64> = self.with(|live| {
            live.t
                .counters
                .keys()
                .map(|k| Ok(super::be_u64(Some(&k?[..]))))
                .collect::<Result<_, StoreError>>()
        })?;
        let mut out = Vec::new();
        for member in members {
            let areas: std::collections::BTreeSet<_> = self
                .reflections_of(member)?
                .items
                .iter()
                .filter(|r| r.guild == Some(guild) && r.created >= from && r.created < to)
                .flat_map(|r| r.competences.iter().map(|c| (c.domain, c.code.area)))
                .collect();
            if !areas.is_empty() {
                out.push(areas);
            }
        }
        Ok(out)
    }

    /// One of `author`'s reflections; `None` if they have no such reflection.
    pub fn reflection(&self, author: u64, id: u64) -> Result<Option<Reflection>, StoreError> {
        self.with(|live| {
            let Some(key) = self.data_key(live, author, false)? else {
                return Ok(None);
            };
            let rk = record_key(author, id);
            match live.t.reflections.get(rk)? {
                Some(sealed) => Ok(Some(self.open_record(&key, &rk, &sealed)?)),
                None => Ok(None),
            }
        })
    }

    /// All of `author`'s reflections that can be read, oldest first, and the
    /// numbers of any that cannot.
    pub fn reflections_of(&self, author: u64) -> Result<Readable, StoreError> {
        self.with(|live| {
            let mut out = Readable::default();
            let key = match self.data_key(live, author, false) {
                Ok(Some(key)) => key,
                Ok(None) => return Ok(out),
                Err(_) => {
                    // The member's key itself is damaged: nothing of theirs opens.
                    for entry in live.t.reflections.scan_prefix(member_key(author)) {
                        out.unreadable.push(id_of(&entry?.0));
                    }
                    return Ok(out);
                }
            };
            for entry in live.t.reflections.scan_prefix(member_key(author)) {
                let (rk, sealed) = entry?;
                match self.open_record(&key, &rk, &sealed) {
                    Ok(r) => out.items.push(r),
                    Err(_) => out.unreadable.push(id_of(&rk)),
                }
            }
            Ok(out)
        })
    }

    /// The summaries of all of `author`'s reflections, oldest first (what a
    /// map needs: dates and tags, no texts), and the numbers of any that
    /// cannot be read.
    pub fn summaries_of(&self, author: u64) -> Result<Readable<Summary>, StoreError> {
        self.with(|live| {
            let mut out = Readable::default();
            let key = self.data_key(live, author, false).ok().flatten();
            for entry in live.t.summaries.scan_prefix(member_key(author)) {
                let (rk, sealed) = entry?;
                match key
                    .as_ref()
                    .map(|k| self.shared.envelope.open_summary(k, &rk, &sealed))
                {
                    Some(Ok(s)) => out.items.push(s),
                    _ => out.unreadable.push(id_of(&rk)),
                }
            }
            Ok(out)
        })
    }

    /// A page of `author`'s reflections, newest first, optionally only those
    /// tagged with `tag`. Pages count from 1; a page past the end is empty.
    /// Unreadable records are skipped and their numbers reported.
    pub fn page_of(
        &self,
        author: u64,
        tag: Option<CompetenceId>,
        page: usize,
        per_page: usize,
    ) -> Result<Page, StoreError> {
        let per_page = per_page.max(1);
        let page = page.max(1);
        let skip = (page - 1).saturating_mul(per_page);
        self.with(|live| {
            let key = self.data_key(live, author, false).ok().flatten();
            let open = |entry: Result<super::engine::Entry, StoreError>| -> Result<Result<Summary, u64>, StoreError> {
                let (rk, sealed) = entry?;
                Ok(match key.as_ref().map(|k| self.shared.envelope.open_summary(k, &rk, &sealed)) {
                    Some(Ok(s)) => Ok(s),
                    _ => Err(id_of(&rk)),
                })
            };
            let summaries = live.t.summaries.scan_prefix(member_key(author)).rev();
            let mut out = Page {
                items: Vec::new(),
                unreadable: Vec::new(),
                page,
                pages: 0,
                total: 0,
            };
            if let Some(tag) = tag {
                // Only summaries are opened, never the texts.
                let mut matching = Vec::new();
                for entry in summaries {
                    match open(entry)? {
                        Ok(s) if s.competences.contains(&tag) => matching.push(s),
                        Ok(_) => {}
                        Err(id) => out.unreadable.push(id),
                    }
                }
                out.total = matching.len();
                out.items = matching.into_iter().skip(skip).take(per_page).collect();
            } else {
                out.total =
                    usize::try_from(self.counter(live, author)?.count).unwrap_or(usize::MAX);
                for entry in summaries.skip(skip).take(per_page) {
                    match open(entry)? {
                        Ok(s) => out.items.push(s),
                        Err(id) => out.unreadable.push(id),
                    }
                }
            }
            out.pages = out.total.div_ceil(per_page);
            Ok(out)
        })
    }

    /// Changes one of `author`'s reflections in place: opened once, changed
    /// by `change`, sealed once. The version it replaces is fingerprinted in
    /// the erasure record and leaves the data directory at the next rewrite.
    /// `None` if there is no such reflection.
    pub fn update_reflection(
        &self,
        author: u64,
        id: u64,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut Reflection),
    ) -> Result<Option<Reflection>, StoreError> {
        self.update(author, id, Some(now), change)
    }

    /// Records where a reflection is shared (or that a post was withdrawn):
    /// what the member wrote is unchanged, so the version it replaces is not
    /// erased, and a restore from an earlier backup still brings the
    /// reflection back. `change` may touch only `shared` and `discussed`.
    pub fn update_shares(
        &self,
        author: u64,
        id: u64,
        change: impl FnOnce(&mut Vec<crate::reflections::SharedPost>, &mut bool),
    ) -> Result<Option<Reflection>, StoreError> {
        self.update(author, id, None, |r| {
            change(&mut r.shared, &mut r.discussed)
        })
    }

    /// Replaces a reflection with `change` applied; with `erase_at`, the
    /// replaced version is fingerprinted and erased at the next rewrite.
    fn update(
        &self,
        author: u64,
        id: u64,
        erase_at: Option<DateTime<Utc>>,
        change: impl FnOnce(&mut Reflection),
    ) -> Result<Option<Reflection>, StoreError> {
        let _member = self.member_lock(author)?;
        self.with(|live| {
            let rk = record_key(author, id);
            let Some(old) = live.t.reflections.get(rk)? else {
                return Ok(None);
            };
            let Some(key) = self.data_key(live, author, false)? else {
                return Ok(None);
            };
            let mut reflection = self.open_record(&key, &rk, &old)?;
            let before = reflection.clone();
            change(&mut reflection);
            let counts = count_changes(Some(&before), Some(&reflection));
            let envelope = &self.shared.envelope;
            let sealed = envelope.seal_reflection(&key, &rk, &reflection)?;
            let summary = envelope.seal_summary(&key, &rk, &Summary::of(&reflection))?;
            let mut prints = vec![envelope.fingerprint(trees::REFLECTIONS.as_bytes(), &rk, &old)];
            if let Some(old) = live.t.summaries.get(rk)? {
                prints.push(envelope.fingerprint(trees::SUMMARIES.as_bytes(), &rk, &old));
            }
            // Earlier sealings of the same words (a share, a withdrawal).
            let earlier = live
                .t
                .superseded
                .get(rk)?
                .map(|v| v.to_vec())
                .unwrap_or_default();
            let mut carried = super::Carried::none();
            let superseded = if erase_at.is_some() {
                prints.extend(split_prints(&earlier));
                carried = self.erase(live, &prints)?;
                None
            } else {
                // What the member wrote is unchanged: the replaced sealing
                // is kept in mind, to be erased with the words it holds.
                let mut all = earlier;
                all.extend(prints.iter().flatten());
                Some(all)
            };
            let pending = erase_at.map(|now| now.timestamp().to_be_bytes());
            let done = (
                &live.t.reflections,
                &live.t.summaries,
                &live.t.meta,
                &live.t.group_counts,
                &live.t.superseded,
            )
                .transaction(|(r, sums, meta, g, sup)| {
                    carried.write(meta)?;
                    r.insert(&rk[..], sealed.as_slice())?;
                    sums.insert(&rk[..], summary.as_slice())?;
                    apply_counts(g, &counts)?;
                    match &superseded {
                        Some(all) => sup.insert(&rk[..], all.as_slice()).map(|_| ())?,
                        None => sup.remove(&rk[..]).map(|_| ())?,
                    }
                    if let Some(pending) = pending
                        && meta.get(super::ERASURE_PENDING)?.is_none()
                    {
                        meta.insert(super::ERASURE_PENDING, &pending[..])?;
                    }
                    Ok::<(), StoreError>(())
                });
            carried.settle(done)?;
            if let Some(now) = erase_at {
                // A form held to correct this reflection holds the words
                // the edit replaced: it goes with them.
                self.let_go_if(live, author, now, |p| *p == HeldFor::Edit(id))?;
            }
            self.commit(live)?;
            Ok(Some(reflection))
        })
    }

    /// Deletes one of `author`'s reflections; false if there was none. Its
    /// sealed bytes are fingerprinted in the erasure record and leave the
    /// data directory at the next rewrite.
    pub fn delete_reflection(
        &self,
        author: u64,
        id: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let _member = self.member_lock(author)?;
        self.with(|live| {
            let rk = record_key(author, id);
            let Some(old) = live.t.reflections.get(rk)? else {
                return Ok(false);
            };
            let envelope = &self.shared.envelope;
            let mut prints = vec![envelope.fingerprint(trees::REFLECTIONS.as_bytes(), &rk, &old)];
            if let Some(old) = live.t.summaries.get(rk)? {
                prints.push(envelope.fingerprint(trees::SUMMARIES.as_bytes(), &rk, &old));
            }
            if let Some(earlier) = live.t.superseded.get(rk)? {
                prints.extend(split_prints(&earlier));
            }
            let counter = self.counter(live, author)?;
            let next = Counter {
                last: counter.last,
                count: counter.count.saturating_sub(1),
            };
            // Its tags leave its server's counts (if it can still be read).
            let counts = self
                .data_key(live, author, false)?
                .and_then(|key| self.open_record(&key, &rk, &old).ok())
                .map_or_else(Vec::new, |r| count_changes(Some(&r), None));
            // Last before the transaction: the record is held from here
            // until it is settled.
            let carried = self.erase(live, &prints)?;
            let pending = now.timestamp().to_be_bytes();
            let done = (
                &live.t.reflections,
                &live.t.summaries,
                &live.t.counters,
                &live.t.meta,
                &live.t.group_counts,
                &live.t.superseded,
            )
                .transaction(|(r, sums, c, meta, g, sup)| {
                    carried.write(meta)?;
                    // Counted from the counter as it is now, and only if the
                    // reflection is still there: the upkeep healing a
                    // database put back may have removed it meanwhile.
                    let there = r.get(&rk[..])?.is_some();
                    let now_held = c.get(&member_key(author)[..])?;
                    let next = match now_held.as_deref() {
                        Some(b) if b.len() == 16 => {
                            let at = |i: usize| {
                                u64::from_be_bytes(b[i..i + 8].try_into().unwrap_or_default())
                            };
                            Some(Counter {
                                last: at(0).max(next.last),
                                count: at(8).saturating_sub(u64::from(there)),
                            })
                        }
                        // Gone with the reflection: the member was
                        // forgotten meanwhile, and keeps no counter.
                        None if !there => None,
                        _ => Some(next),
                    };
                    r.remove(&rk[..])?;
                    sums.remove(&rk[..])?;
                    sup.remove(&rk[..])?;
                    apply_counts(g, &counts)?;
                    if let Some(next) = next {
                        c.insert(&member_key(author)[..], &next.bytes()[..])?;
                    }
                    if meta.get(super::ERASURE_PENDING)?.is_none() {
                        meta.insert(super::ERASURE_PENDING, &pending[..])?;
                    }
                    Ok::<(), StoreError>(())
                });
            carried.settle(done)?;
            // A form held to correct it holds its words: it goes too.
            self.let_go_if(live, author, now, |p| *p == HeldFor::Edit(id))?;
            self.commit(live)?;
            Ok(true)
        })
    }

    /// Removes every trace of a member: every record of theirs (data key,
    /// reflections, counter, reminder, supervision log, case presentations) is
    /// fingerprinted in the erasure record and removed in one transaction;
    /// the rewrite that takes their sealed bytes out of the data directory
    /// and its automatic backups follows within [`super::ERASE_WITHIN`]. Returns how many reflections
    /// there were. Records that still open are read once, only to take their
    /// tags out of their servers' anonymous counts; one that does not open
    /// is erased all the same.
    ///
    /// One thing is kept: under a keyed fingerprint of the member id (not
    /// the id), the number their reflections had reached, rounded up to a
    /// multiple of 100, so that numbers are never reused and a button from
    /// before cannot act on a later reflection.
    pub fn forget_member(&self, member: u64, now: DateTime<Utc>) -> Result<usize, StoreError> {
        // Nothing held: nothing to erase, and no rewrite of the database.
        if !self.holds_anything_of(member)? {
            return Ok(0);
        }
        let n = {
            let _member = self.member_lock(member)?;
            self.with(|live| {
                let envelope = &self.shared.envelope;
                let mk = member_key(member);
                let mut prints = Vec::new();
                let mut reflections = Vec::new();
                // The member's tags leave their servers' counts: the one
                // reading forget-me does, of each record that still opens.
                let key = self.data_key(live, member, false).ok().flatten();
                let mut counts: Vec<([u8; 11], i64)> = Vec::new();
                for entry in live.t.reflections.scan_prefix(mk) {
                    let (k, v) = entry?;
                    prints.push(envelope.fingerprint(trees::REFLECTIONS.as_bytes(), &k, &v));
                    if let Some(r) = key
                        .as_ref()
                        .and_then(|key| self.open_record(key, &k, &v).ok())
                    {
                        counts.extend(count_changes(Some(&r), None));
                    }
                    reflections.push(k);
                }
                for entry in live.t.superseded.scan_prefix(mk) {
                    let (_, v) = entry?;
                    prints.extend(split_prints(&v));
                }
                let mut summaries = Vec::new();
                for entry in live.t.summaries.scan_prefix(mk) {
                    let (k, v) = entry?;
                    prints.push(envelope.fingerprint(trees::SUMMARIES.as_bytes(), &k, &v));
                    summaries.push(k);
                }
                for (name, tree) in [
                    (trees::MEMBER_KEYS, &live.t.member_keys),
                    (trees::COUNTERS, &live.t.counters),
                ] {
                    if let Some(v) = tree.get(mk)? {
                        prints.push(envelope.fingerprint(name.as_bytes(), &mk, &v));
                    }
                }
                // Every form held for the member goes too, of every kind.
                let held = self.held_keys(live, member)?;
                for (k, v) in &held {
                    prints.push(envelope.fingerprint(trees::HELD_FORMS.as_bytes(), k, v));
                }
                // The supervision log and case presentations, headers too.
                let (more, [log, cases]) = self.supervision_records(live, member)?;
                prints.extend(more);
                // A reminder changes every week: older copies in backups
                // are named by the member alone.
                prints.push(envelope.fingerprint(trees::MEMBER_SETTINGS.as_bytes(), &mk, b""));
                // Every server's rota that names the member, at every version.
                let (rota_prints, rotas) = self.rotas_without(live, member)?;
                prints.extend(rota_prints);
                let retired_key = self.retired_key(member);
                let last = self.counter(live, member)?.last;
                let retired = last
                    .div_ceil(RETIRED_ROUNDING)
                    .saturating_mul(RETIRED_ROUNDING);
                prints.extend(self.retired_prints(member, retired));
                let carried = self.erase(live, &prints)?;
                let pending = now.timestamp().to_be_bytes();
                let done = (
                    &live.t.member_keys,
                    &live.t.reflections,
                    &live.t.summaries,
                    &live.t.counters,
                    &live.t.member_settings,
                    &live.t.meta,
                    &live.t.group_counts,
                    &live.t.superseded,
                    &live.t.supervision_log,
                    &live.t.case_presentations,
                )
                    .transaction(
                        |(keys, records, sums, counters, settings, meta, g, sup, l, c)| {
                            carried.write(meta)?;
                            apply_counts(g, &counts)?;
                            for k in &log {
                                l.remove(k)?;
                            }
                            for k in &cases {
                                c.remove(k)?;
                            }
                            keys.remove(&mk[..])?;
                            for k in &reflections {
                                records.remove(k)?;
                                sup.remove(k)?;
                            }
                            for k in &summaries {
                                sums.remove(k)?;
                            }
                            counters.remove(&mk[..])?;
                            settings.remove(&mk[..])?;
                            if retired > 0 {
                                meta.insert(retired_key.as_slice(), &retired.to_be_bytes()[..])?;
                            }
                            if meta.get(super::ERASURE_PENDING)?.is_none() {
                                meta.insert(super::ERASURE_PENDING, &pending[..])?;
                            }
                            Ok::<(), StoreError>(())
                        },
                    );
                carried.settle(done)?;
                for (k, _) in &held {
                    live.t.held_forms.remove(k)?;
                }
                super::meetings::apply(live, rotas)?;
                self.commit(live)?;
                Ok(reflections.len())
            })?
        };
        // The records are gone from the live database now; their last sealed
        // bytes leave its files and the automatic backups at the next
        // rewrite, within [`super::ERASE_WITHIN`] (`Store::maintain`), as a
        // delete's do. The member's reply does not wait for everyone's data
        // to be copied.
        Ok(n)
    }

    /// After a restore, an import or a salvage: every member's next number
    /// starts above the hundreds the erasure record says they reserved, so
    /// a number given before the database went back is never given again
    /// (and a stale button never reaches a new reflection).
    pub(super) fn raise_counters_to_reservations(&self) -> Result<(), StoreError> {
        self.with(|live| {
            let mut raised = false;
            for entry in live.t.counters.iter() {
                let (k, v) = entry?;
                let Some(member) = k.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) else {
                    continue;
                };
                let reserved = self.retired_in_erasures(u64::from_be_bytes(member))?;
                let mut counter = self.counter(live, u64::from_be_bytes(member))?;
                if v.len() == 16 && counter.last < reserved {
                    counter.last = reserved;
                    live.t.counters.insert(k, &counter.bytes()[..])?;
                    raised = true;
                }
            }
            if raised {
                self.commit(live)?;
            }
            Ok(())
        })
    }

    /// Gives every reflection without a summary one (a database from before
    /// summaries, or restored from a backup of one): once, and then marked
    /// done, so later starts touch nothing (a walk over every record would
    /// pull the whole database through sled's cache).
    pub(super) fn fill_summaries(&self) -> Result<(), StoreError> {
        if self.with(|live| live.t.meta.contains_key(SUMMARIES_COMPLETE))? {
            return Ok(());
        }
        let differ = self.with(|live| {
            let bodies = live.t.reflections.keys();
            let sums = live.t.summaries.keys();
            Ok(!bodies
                .zip(sums)
                .all(|(a, b)| matches!((a, b), (Ok(a), Ok(b)) if a == b))
                || live.t.summaries.len()? != live.t.reflections.len()?)
        })?;
        self.with(|live| {
            let envelope = &self.shared.envelope;
            let mut changed = false;
            if !differ {
                live.t.meta.insert(SUMMARIES_COMPLETE, &[1u8][..])?;
                return self.commit(live);
            }
            for rk in live.t.summaries.keys() {
                let rk = rk?;
                if !live.t.reflections.contains_key(&rk)? {
                    live.t.summaries.remove(&rk)?;
                    changed = true;
                }
            }
            for entry in live.t.reflections.iter() {
                let (rk, sealed) = entry?;
                if live.t.summaries.contains_key(&rk)? {
                    continue;
                }
                let member = rk.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok());
                let Some(member) = member.map(u64::from_be_bytes) else {
                    continue;
                };
                let Ok(Some(key)) = self.data_key(live, member, false) else {
                    continue;
                };
                if let Ok(r) = envelope.open_reflection(&key, &rk, &sealed) {
                    live.t
                        .summaries
                        .insert(&rk, envelope.seal_summary(&key, &rk, &Summary::of(&r))?)?;
                    changed = true;
                }
            }
            if changed {
                self.commit(live)?;
            }
            live.t.meta.insert(SUMMARIES_COMPLETE, &[1u8][..])?;
            self.commit(live)
        })
    }

    /// Whether `dir` holds a database (without opening or creating anything).
    pub fn exists_in(dir: &std::path::Path) -> bool {
        super::database().is_some() || super::disk::holds_database(dir)
    }

    /// Whether `author` has reflection `id`, without decrypting it.
    pub fn has_reflection(&self, author: u64, id: u64) -> Result<bool, StoreError> {
        self.with(|live| live.t.reflections.contains_key(record_key(author, id)))
    }

    /// How many reflections `member` has, without decrypting any.
    pub fn reflection_count(&self, member: u64) -> Result<usize, StoreError> {
        self.with(|live| {
            Ok(usize::try_from(self.counter(live, member)?.count).unwrap_or(usize::MAX))
        })
    }

    /// Flips one byte of a stored reflection, as a damaged disk would (tests).
    #[cfg(test)]
    pub(crate) fn damage_for_test(&self, member: u64, id: u64) {
        self.with(|live| {
            let rk = record_key(member, id);
            for tree in [&live.t.reflections, &live.t.summaries] {
                if let Some(v) = tree.get(rk)? {
                    let mut v = v.to_vec();
                    let at = v.len() / 2;
                    v[at] ^= 0x55;
                    tree.insert(rk, v)?;
                }
            }
            Ok(())
        })
        .expect("test store");
    }

    /// Whether anything of `member` remains that could be read (for tests
    /// and `forget-me`'s confirmation): a key, a reflection, a reminder, a
    /// held form, a supervision log entry or a case presentation.
    pub fn holds_anything_of(&self, member: u64) -> Result<bool, StoreError> {
        self.with(|live| {
            let prefix = member_key(member);
            Ok(live.t.member_keys.contains_key(prefix)?
                || live.t.counters.contains_key(prefix)?
                || live.t.member_settings.contains_key(prefix)?
                || live.t.held_forms.scan_prefix(prefix).next().is_some()
                || live.t.reflections.scan_prefix(prefix).next().is_some()
                || self.holds_supervision_of(live, member)
                || self.on_any_rota(live, member)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp_dir;
    use super::*;
    use crate::framework::Framework;
    use crate::reflections::{Draft, Mode};

    fn draft(text: &str, tags: &[&str]) -> Draft {
        Draft {
            title: "t".into(),
            text: text.into(),
            competences: tags.iter().map(|t| t.parse().unwrap()).collect(),
            model: "free".into(),
            mode: Mode::Coaching,
            minutes: None,
        }
    }

    fn save(store: &Store, author: u64, d: Draft) -> Reflection {
        let f = Framework::builtin().unwrap();
        store
            .add_reflection(author, |id| d.into_reflection(id, author, Utc::now(), &f))
            .unwrap()
    }

    #[test]
    fn reflections_round_trip_in_order_and_are_scoped_to_their_author() {
        let dir = temp_dir("refl");
        let store = Store::open(&dir, None).unwrap();
        let now = Utc::now();
        let a1 = save(&store, 1, draft("first", &["core:3.5"]));
        let a2 = save(&store, 1, draft("second", &[]));
        let b1 = save(&store, 2, draft("bob's", &[]));
        assert_eq!((a1.id, a2.id, b1.id), (1, 2, 1));
        assert_eq!(a1.framework, "Coaching competence framework");
        let texts: Vec<String> = store
            .reflections_of(1)
            .unwrap()
            .items
            .into_iter()
            .map(|r| r.text)
            .collect();
        assert_eq!(texts, ["first", "second"]);
        assert_eq!(store.reflection(2, 2).unwrap(), None, "bob has no #2");
        assert_eq!(store.reflection(2, 1).unwrap().unwrap().text, "bob's");
        assert_eq!(store.reflection(3, 1).unwrap(), None);

        let page = store.page_of(1, None, 1, 1).unwrap();
        assert_eq!(
            (
                page.items[0].id,
                page.items[0].heading.as_str(),
                page.pages,
                page.total
            ),
            (2, "t", 2, 2)
        );
        let tagged = store
            .page_of(1, Some("core:3.5".parse().unwrap()), 1, 10)
            .unwrap();
        assert_eq!(tagged.total, 1);
        assert_eq!(store.page_of(1, None, 9, 10).unwrap().items, vec![]);

        let edited = store
            .update_reflection(1, 1, now, |r| r.revise(draft("first, revised", &[]), now))
            .unwrap()
            .unwrap();
        assert!(edited.edited.is_some());
        assert_eq!(
            store.reflection(1, 1).unwrap().unwrap().text,
            "first, revised"
        );
        assert_eq!(store.update_reflection(2, 2, now, |_| {}).unwrap(), None);
        assert!(store.delete_reflection(1, 2, now).unwrap());
        assert!(!store.delete_reflection(1, 2, now).unwrap());
        assert!(!store.delete_reflection(2, 2, now).unwrap());
        assert_eq!(store.page_of(1, None, 1, 10).unwrap().total, 1);
    }

    #[test]
    fn forget_me_leaves_nothing_of_the_member_and_nothing_else_is_touched() {
        let dir = temp_dir("forget");
        let store = Store::open(&dir, None).unwrap();
        save(&store, 1, draft("mine", &[]));
        save(&store, 2, draft("bob's", &[]));
        assert_eq!(store.forget_member(1, Utc::now()).unwrap(), 1);
        assert!(!store.holds_anything_of(1).unwrap());
        assert_eq!(store.reflections_of(1).unwrap(), Readable::default());
        assert_eq!(store.reflections_of(2).unwrap().items.len(), 1);
        // A new reflection after forgetting has a new key, and a number
        // above every old one (rounded up to a hundred), so no old button
        // or remembered number reaches it.
        assert_eq!(save(&store, 1, draft("again", &[])).id, 101);
        assert_eq!(save(&store, 2, draft("bob's second", &[])).id, 2);
        // Forgotten again: the numbers still only climb.
        assert_eq!(store.forget_member(1, Utc::now()).unwrap(), 1);
        assert_eq!(save(&store, 1, draft("third life", &[])).id, 201);
        // The mark names no member: the member's id appears in no key.
        let meta: Vec<Vec<u8>> = store
            .with(|live| Ok(live.t.meta.keys().flatten().map(|k| k.to_vec()).collect()))
            .unwrap();
        assert!(meta.iter().any(|k| k.starts_with(RETIRED)));
        assert!(
            meta.iter()
                .all(|k| !k.windows(8).any(|w| w == 1u64.to_be_bytes())),
            "no meta key holds the member id"
        );
    }

    #[test]
    fn a_record_moved_to_another_member_does_not_open_and_hides_nothing_else() {
        let dir = temp_dir("swap");
        let store = Store::open(&dir, None).unwrap();
        save(&store, 1, draft("alice's secret", &[]));
        save(&store, 2, draft("bob's", &[]));
        save(&store, 2, draft("bob's second", &[]));
        store
            .with(|live| {
                for tree in [&live.t.reflections, &live.t.summaries] {
                    let sealed = tree.get(record_key(1, 1))?.unwrap();
                    tree.insert(record_key(2, 1), sealed)?;
                }
                Ok(())
            })
            .unwrap();
        assert!(
            store.reflection(2, 1).is_err(),
            "sealed for alice, bound to her record key"
        );
        let all = store.reflections_of(2).unwrap();
        assert_eq!(all.unreadable, vec![1]);
        assert_eq!(all.items.len(), 1, "the good record is still listed");
        let page = store.page_of(2, None, 1, 10).unwrap();
        assert_eq!((page.items.len(), page.unreadable.clone()), (1, vec![1]));
    }

    #[test]
    fn the_check_names_a_reflection_whose_summary_is_gone() {
        let dir = temp_dir("check-summary");
        let store = Store::open(&dir, None).unwrap();
        save(&store, 1, draft("kept", &[]));
        assert!(store.check().unwrap().problems.is_empty());
        store
            .with(|live| {
                live.t.summaries.remove(record_key(1, 1))?;
                live.t.meta.remove(SUMMARIES_COMPLETE)?;
                Ok(())
            })
            .unwrap();
        let report = store.check().unwrap();
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains("#1 has no readable summary")),
            "{report:?}"
        );
        let syncs = store.syncs();
        store.fill_summaries().unwrap();
        assert!(store.syncs() > syncs, "the missing one was made");
        let syncs = store.syncs();
        store.fill_summaries().unwrap();
        assert_eq!(store.syncs(), syncs, "nothing to do, nothing written");
    }

    #[test]
    fn a_database_from_before_summaries_gets_them_once() {
        let dir = temp_dir("fill");
        let store = Store::open(&dir, None).unwrap();
        save(&store, 1, draft("older", &["core:3.5"]));
        save(&store, 1, draft("newer", &[]));
        store
            .with(|live| {
                for k in live.t.summaries.keys() {
                    live.t.summaries.remove(k?)?;
                }
                live.t.meta.remove(SUMMARIES_COMPLETE)?;
                Ok(())
            })
            .unwrap();
        assert_eq!(store.page_of(1, None, 1, 10).unwrap().items, vec![]);
        store.fill_summaries().unwrap();
        let page = store.page_of(1, None, 1, 10).unwrap();
        let ids: Vec<u64> = page.items.iter().map(|s| s.id).collect();
        assert_eq!(ids, [2, 1]);
        let tagged = store
            .page_of(1, Some("core:3.5".parse().unwrap()), 1, 10)
            .unwrap();
        assert_eq!(tagged.items[0].id, 1);
    }

    #[test]
    fn two_first_saves_at_once_share_one_member_key() {
        let dir = temp_dir("race");
        let store = Store::open(&dir, None).unwrap();
        std::thread::scope(|s| {
            for i in 0..8 {
                let store = store.clone();
                s.spawn(move || save(&store, 42, draft(&format!("r{i}"), &[])));
            }
        });
        let all = store.reflections_of(42).unwrap();
        assert_eq!((all.items.len(), all.unreadable.len()), (8, 0));
        // The compare-and-swap itself, raced without the member lock: every
        // caller ends up with the one key that was stored.
        let start = std::sync::Barrier::new(8);
        let keys: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let store = store.clone();
                    let start = &start;
                    s.spawn(move || {
                        start.wait();
                        store
                            .with(|live| Ok(store.data_key(live, 43, true)?.unwrap()))
                            .unwrap()
                            .expose()
                            .to_vec()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            keys.windows(2).all(|w| w[0] == w[1]),
            "one key for member 43"
        );
        let stored = store
            .with(|live| Ok(store.data_key(live, 43, false)?.unwrap()))
            .unwrap();
        assert_eq!(stored.expose(), keys[0].as_slice());
    }
}
