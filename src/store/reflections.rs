//! Reflections at rest: each member's records sealed with that member's own
//! data key, the key wrapped by the master key.
//!
//! Keys are `member id (8 bytes BE) ‖ reflection id (8 bytes BE)`, so a prefix
//! scan lists one member's reflections in the order they were written, and a
//! lookup always names its author: another member's id is simply not found.
//! Every write is flushed before the call returns, so what the caller confirms
//! to the member survives a crash.

use chrono::{DateTime, Utc};

use super::crypto::SecretKey;
use super::{Store, StoreError};
use crate::framework::{CompetenceId, Framework};
use crate::reflections::{Draft, Reflection};

fn member_key(member: u64) -> [u8; 8] {
    member.to_be_bytes()
}

fn record_key(member: u64, id: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&member.to_be_bytes());
    key[8..].copy_from_slice(&id.to_be_bytes());
    key
}

fn record_aad(key: &[u8]) -> Vec<u8> {
    let mut aad = b"reflection:".to_vec();
    aad.extend_from_slice(key);
    aad
}

fn member_key_aad(member: u64) -> Vec<u8> {
    let mut aad = b"member-key:".to_vec();
    aad.extend_from_slice(&member.to_be_bytes());
    aad
}

/// One page of a member's reflections, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The reflections on this page.
    pub items: Vec<Reflection>,
    /// The page number (from 1).
    pub page: usize,
    /// How many pages there are.
    pub pages: usize,
    /// How many reflections match in all.
    pub total: usize,
}

impl Store {
    /// The member's data key, created (and stored wrapped) on first use.
    fn data_key(&self, member: u64, create: bool) -> Result<Option<SecretKey>, StoreError> {
        let aad = member_key_aad(member);
        if let Some(wrapped) = self.member_keys.get(member_key(member))? {
            return Ok(Some(self.master.unwrap_key(&aad, &wrapped)?));
        }
        if !create {
            return Ok(None);
        }
        let key = SecretKey::generate();
        self.member_keys
            .insert(member_key(member), self.master.wrap(&aad, &key)?)?;
        Ok(Some(key))
    }

    fn next_id(&self, member: u64) -> Result<u64, StoreError> {
        let next = self.counters.update_and_fetch(member_key(member), |old| {
            let current = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_be_bytes);
            Some(current.saturating_add(1).to_be_bytes().to_vec())
        })?;
        next.and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| StoreError::Corrupt("a reflection counter".into()))
    }

    fn seal_record(&self, key: &SecretKey, reflection: &Reflection) -> Result<Vec<u8>, StoreError> {
        let plaintext = zeroize::Zeroizing::new(
            serde_json::to_vec(reflection).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        );
        let rk = record_key(reflection.author, reflection.id);
        Ok(key.seal(&record_aad(&rk), &plaintext)?)
    }

    fn open_record(
        &self,
        key: &SecretKey,
        rk: &[u8],
        sealed: &[u8],
    ) -> Result<Reflection, StoreError> {
        let plaintext = key.open(&record_aad(rk), sealed)?;
        serde_json::from_slice(&plaintext)
            .map_err(|e| StoreError::Corrupt(format!("a reflection: {e}")))
    }

    /// Saves a new reflection (a validated draft) and returns it once it is on disk.
    pub fn save_reflection(
        &self,
        author: u64,
        draft: Draft,
        framework: &Framework,
        now: DateTime<Utc>,
    ) -> Result<Reflection, StoreError> {
        let key = self
            .data_key(author, true)?
            .ok_or_else(|| StoreError::Corrupt("member key".into()))?;
        let id = self.next_id(author)?;
        let reflection = Reflection {
            id,
            author,
            created: now,
            edited: None,
            title: draft.title,
            text: draft.text,
            competences: draft.competences,
            model: draft.model,
            framework: framework.name.clone(),
            framework_version: framework.version.clone(),
            mode: draft.mode,
        };
        let sealed = self.seal_record(&key, &reflection)?;
        self.reflections.insert(record_key(author, id), sealed)?;
        self.flush()?;
        Ok(reflection)
    }

    /// One of `author`'s reflections; `None` if they have no such reflection.
    pub fn reflection(&self, author: u64, id: u64) -> Result<Option<Reflection>, StoreError> {
        let Some(key) = self.data_key(author, false)? else {
            return Ok(None);
        };
        let rk = record_key(author, id);
        match self.reflections.get(rk)? {
            Some(sealed) => Ok(Some(self.open_record(&key, &rk, &sealed)?)),
            None => Ok(None),
        }
    }

    /// All of `author`'s reflections, oldest first.
    pub fn reflections_of(&self, author: u64) -> Result<Vec<Reflection>, StoreError> {
        let Some(key) = self.data_key(author, false)? else {
            return Ok(Vec::new());
        };
        self.reflections
            .scan_prefix(member_key(author))
            .map(|entry| {
                let (rk, sealed) = entry?;
                self.open_record(&key, &rk, &sealed)
            })
            .collect()
    }

    /// A page of `author`'s reflections, newest first, optionally only those
    /// tagged with `tag`. Pages count from 1; a page past the end is empty.
    pub fn page_of(
        &self,
        author: u64,
        tag: Option<CompetenceId>,
        page: usize,
        per_page: usize,
    ) -> Result<Page, StoreError> {
        let Some(key) = self.data_key(author, false)? else {
            return Ok(Page {
                items: Vec::new(),
                page,
                pages: 0,
                total: 0,
            });
        };
        let per_page = per_page.max(1);
        let page = page.max(1);
        let skip = (page - 1) * per_page;
        let mut items = Vec::new();
        let mut total = 0;
        for entry in self.reflections.scan_prefix(member_key(author)).rev() {
            let (rk, sealed) = entry?;
            if tag.is_none() && (total < skip || total >= skip + per_page) {
                // Counting only: no need to decrypt what is not shown.
                total += 1;
                continue;
            }
            let r = self.open_record(&key, &rk, &sealed)?;
            if tag.is_some_and(|t| !r.competences.contains(&t)) {
                continue;
            }
            if total >= skip && total < skip + per_page {
                items.push(r);
            }
            total += 1;
        }
        Ok(Page {
            items,
            page,
            pages: total.div_ceil(per_page),
            total,
        })
    }

    /// Replaces the text, title, tags, model and mode of one of `author`'s
    /// reflections; `None` if there is no such reflection.
    pub fn edit_reflection(
        &self,
        author: u64,
        id: u64,
        draft: Draft,
        now: DateTime<Utc>,
    ) -> Result<Option<Reflection>, StoreError> {
        let Some(mut reflection) = self.reflection(author, id)? else {
            return Ok(None);
        };
        let Some(key) = self.data_key(author, false)? else {
            return Ok(None);
        };
        reflection.title = draft.title;
        reflection.text = draft.text;
        reflection.competences = draft.competences;
        reflection.model = draft.model;
        reflection.mode = draft.mode;
        reflection.edited = Some(now);
        let sealed = self.seal_record(&key, &reflection)?;
        self.reflections.insert(record_key(author, id), sealed)?;
        self.flush()?;
        Ok(Some(reflection))
    }

    /// Deletes one of `author`'s reflections; false if there was none.
    pub fn delete_reflection(&self, author: u64, id: u64) -> Result<bool, StoreError> {
        let removed = self.reflections.remove(record_key(author, id))?.is_some();
        self.flush()?;
        Ok(removed)
    }

    /// Removes every trace of a member: their data key first (so whatever
    /// bytes sled still holds can no longer be decrypted), then their
    /// reflections and counter. Returns how many reflections there were.
    pub fn forget_member(&self, member: u64) -> Result<usize, StoreError> {
        self.member_keys.remove(member_key(member))?;
        self.flush()?;
        let keys: Vec<sled::IVec> = self
            .reflections
            .scan_prefix(member_key(member))
            .keys()
            .collect::<Result<_, _>>()?;
        for k in &keys {
            self.reflections.remove(k)?;
        }
        self.counters.remove(member_key(member))?;
        self.member_settings.remove(member_key(member))?;
        self.flush()?;
        Ok(keys.len())
    }

    /// Whether anything of `member` remains (for tests and `forget-me`'s confirmation).
    pub fn holds_anything_of(&self, member: u64) -> Result<bool, StoreError> {
        let prefix = member_key(member);
        Ok(self.member_keys.contains_key(prefix)?
            || self.counters.contains_key(prefix)?
            || self.member_settings.contains_key(prefix)?
            || self.reflections.scan_prefix(prefix).next().is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp_dir;
    use super::*;
    use crate::reflections::Mode;

    fn draft(text: &str, tags: &[&str]) -> Draft {
        Draft {
            title: "t".into(),
            text: text.into(),
            competences: tags.iter().map(|t| t.parse().unwrap()).collect(),
            model: "free".into(),
            mode: Mode::Coaching,
        }
    }

    #[test]
    fn reflections_round_trip_in_order_and_are_scoped_to_their_author() {
        let dir = temp_dir("refl");
        let f = Framework::builtin().unwrap();
        let store = Store::open(&dir, None).unwrap();
        let now = Utc::now();
        let a1 = store
            .save_reflection(1, draft("first", &["core:3.5"]), &f, now)
            .unwrap();
        let a2 = store
            .save_reflection(1, draft("second", &[]), &f, now)
            .unwrap();
        let b1 = store
            .save_reflection(2, draft("bob's", &[]), &f, now)
            .unwrap();
        assert_eq!((a1.id, a2.id, b1.id), (1, 2, 1));
        assert_eq!(a1.framework, "Coaching competence framework");
        let texts: Vec<String> = store
            .reflections_of(1)
            .unwrap()
            .into_iter()
            .map(|r| r.text)
            .collect();
        assert_eq!(texts, ["first", "second"]);
        assert_eq!(store.reflection(2, 2).unwrap(), None, "bob has no #2");
        assert_eq!(store.reflection(2, 1).unwrap().unwrap().text, "bob's");
        assert_eq!(store.reflection(3, 1).unwrap(), None);

        let page = store.page_of(1, None, 1, 1).unwrap();
        assert_eq!(
            (page.items[0].text.as_str(), page.pages, page.total),
            ("second", 2, 2)
        );
        let tagged = store
            .page_of(1, Some("core:3.5".parse().unwrap()), 1, 10)
            .unwrap();
        assert_eq!(tagged.total, 1);
        assert_eq!(store.page_of(1, None, 9, 10).unwrap().items, vec![]);

        let edited = store
            .edit_reflection(1, 1, draft("first, revised", &[]), now)
            .unwrap()
            .unwrap();
        assert!(edited.edited.is_some());
        assert_eq!(
            store.edit_reflection(2, 2, draft("x", &[]), now).unwrap(),
            None
        );
        assert!(store.delete_reflection(1, 2).unwrap());
        assert!(!store.delete_reflection(1, 2).unwrap());
        assert!(!store.delete_reflection(2, 2).unwrap());
    }

    #[test]
    fn forget_me_leaves_nothing_of_the_member_and_nothing_else_is_touched() {
        let dir = temp_dir("forget");
        let f = Framework::builtin().unwrap();
        let store = Store::open(&dir, None).unwrap();
        store
            .save_reflection(1, draft("mine", &[]), &f, Utc::now())
            .unwrap();
        store
            .save_reflection(2, draft("bob's", &[]), &f, Utc::now())
            .unwrap();
        assert_eq!(store.forget_member(1).unwrap(), 1);
        assert!(!store.holds_anything_of(1).unwrap());
        assert_eq!(store.reflections_of(1).unwrap(), vec![]);
        assert_eq!(store.reflections_of(2).unwrap().len(), 1);
        // A new reflection after forgetting starts afresh with a new key.
        assert_eq!(
            store
                .save_reflection(1, draft("again", &[]), &f, Utc::now())
                .unwrap()
                .id,
            1
        );
    }

    #[test]
    fn a_record_moved_to_another_member_does_not_open() {
        let dir = temp_dir("swap");
        let f = Framework::builtin().unwrap();
        let store = Store::open(&dir, None).unwrap();
        store
            .save_reflection(1, draft("alice's secret", &[]), &f, Utc::now())
            .unwrap();
        store
            .save_reflection(2, draft("bob's", &[]), &f, Utc::now())
            .unwrap();
        let sealed = store.reflections.get(record_key(1, 1)).unwrap().unwrap();
        store.reflections.insert(record_key(2, 2), sealed).unwrap();
        assert!(
            store.reflection(2, 2).is_err(),
            "sealed for alice, bound to her record key"
        );
    }
}
