//! The store's seam: named trees of byte keys and byte values, below the
//! typed methods and above the two engines, sled (embedded, the default)
//! and PostgreSQL ([`super::postgres`]).
//!
//! A tree offers get, insert, remove, prefix scans in key order (both
//! ways), compare-and-swap, an atomic batch, and transactions over several
//! trees whose closure may run again when another writer conflicts (sled's
//! optimistic transactions; PostgreSQL's serializable ones). What a typed
//! method hands down is already sealed by the [`super::envelope`]; the
//! PostgreSQL engine adds its own layer (ids and values unreadable to the
//! server's administrator), which the typed methods never see.

use super::StoreError;
use super::postgres::{PgTree, PgTx};

/// A key and its value.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// A scan's entries in key order; `.rev()` walks them backwards.
pub(crate) type Entries = Box<dyn DoubleEndedIterator<Item = Result<Entry, StoreError>>>;

/// One named tree of one engine.
#[derive(Clone)]
pub(crate) enum Tree {
    /// A sled tree.
    Sled(sled::Tree),
    /// A PostgreSQL table.
    Pg(PgTree),
}

fn sled_entries(iter: sled::Iter) -> Entries {
    Box::new(iter.map(|e| {
        e.map(|(k, v)| (k.to_vec(), v.to_vec()))
            .map_err(StoreError::from)
    }))
}

impl Tree {
    /// The sled tree, on sled.
    pub(crate) fn as_sled(&self) -> Option<&sled::Tree> {
        match self {
            Tree::Sled(t) => Some(t),
            Tree::Pg(_) => None,
        }
    }

    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Tree::Sled(t) => Ok(t.get(key)?.map(|v| v.to_vec())),
            Tree::Pg(t) => t.get(key.as_ref()),
        }
    }

    pub(crate) fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, StoreError> {
        match self {
            Tree::Sled(t) => Ok(t.contains_key(key)?),
            Tree::Pg(t) => Ok(t.get(key.as_ref())?.is_some()),
        }
    }

    pub(crate) fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), StoreError> {
        match self {
            Tree::Sled(t) => t.insert(key.as_ref(), value.as_ref()).map(drop)?,
            Tree::Pg(t) => t.insert(key.as_ref(), value.as_ref())?,
        }
        Ok(())
    }

    pub(crate) fn remove(&self, key: impl AsRef<[u8]>) -> Result<(), StoreError> {
        match self {
            Tree::Sled(t) => t.remove(key).map(drop)?,
            Tree::Pg(t) => t.remove(key.as_ref())?,
        }
        Ok(())
    }

    /// Every entry whose key starts with `prefix`, in key order.
    pub(crate) fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Entries {
        match self {
            Tree::Sled(t) => sled_entries(t.scan_prefix(prefix)),
            Tree::Pg(t) => t.scan_prefix(prefix.as_ref()),
        }
    }

    /// Every entry, in key order.
    pub(crate) fn iter(&self) -> Entries {
        self.scan_prefix([])
    }

    /// The keys that start with `prefix`, in order.
    pub(crate) fn scan_keys<P: AsRef<[u8]>>(
        &self,
        prefix: P,
    ) -> impl DoubleEndedIterator<Item = Result<Vec<u8>, StoreError>> + use<P> {
        self.scan_prefix(prefix).map(|e| e.map(|(k, _)| k))
    }

    /// Every key, in order.
    pub(crate) fn keys(
        &self,
    ) -> impl DoubleEndedIterator<Item = Result<Vec<u8>, StoreError>> + use<> {
        self.scan_keys([0u8; 0])
    }

    pub(crate) fn len(&self) -> Result<usize, StoreError> {
        match self {
            Tree::Sled(t) => Ok(t.len()),
            Tree::Pg(t) => t.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Sets `key` to `new` only if it holds `old` now (`None`: absent);
    /// otherwise says what it holds.
    pub(crate) fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<Result<(), Option<Vec<u8>>>, StoreError> {
        match self {
            Tree::Sled(t) => Ok(t
                .compare_and_swap(key, old, new)?
                .map_err(|lost| lost.current.map(|v| v.to_vec()))),
            Tree::Pg(t) => t.compare_and_swap(key.as_ref(), old, new),
        }
    }

    /// Applies every change of `batch` at once.
    pub(crate) fn apply_batch(&self, batch: Batch) -> Result<(), StoreError> {
        match self {
            Tree::Sled(t) => {
                let mut b = sled::Batch::default();
                for (k, v) in batch.0 {
                    match v {
                        Some(v) => b.insert(k, v),
                        None => b.remove(k),
                    }
                }
                Ok(t.apply_batch(b)?)
            }
            Tree::Pg(t) => t.apply_batch(batch.0),
        }
    }
}

/// Two values read together, each `None` where its key is absent.
pub(crate) type Both = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The values of two keys, each in its tree, read together: on PostgreSQL
/// in one round-trip (each its own statement, as [`Tree::get`] reads it).
pub(crate) fn get_both(
    (a, a_key): (&Tree, &[u8]),
    (b, b_key): (&Tree, &[u8]),
) -> Result<Both, StoreError> {
    match (a, b) {
        (Tree::Pg(a), Tree::Pg(b)) => super::postgres::get_both((a, a_key), (b, b_key)),
        _ => Ok((a.get(a_key)?, b.get(b_key)?)),
    }
}

/// Changes to one tree, applied together by [`Tree::apply_batch`].
#[derive(Default)]
pub(crate) struct Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>);

impl Batch {
    pub(crate) fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.0
            .push((key.as_ref().to_vec(), Some(value.as_ref().to_vec())));
    }

    pub(crate) fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.0.push((key.as_ref().to_vec(), None));
    }
}

/// One tree inside a transaction.
pub(crate) enum TxTree<'a> {
    Sled(&'a sled::transaction::TransactionalTree),
    Pg(&'a PgTx, &'a PgTree),
}

fn unabortable(e: sled::transaction::UnabortableTransactionError) -> StoreError {
    match e {
        sled::transaction::UnabortableTransactionError::Conflict => StoreError::Conflict,
        sled::transaction::UnabortableTransactionError::Storage(e) => StoreError::Db(e),
    }
}

impl TxTree<'_> {
    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            TxTree::Sled(t) => Ok(t.get(key).map_err(unabortable)?.map(|v| v.to_vec())),
            TxTree::Pg(tx, t) => tx.get(t, key.as_ref()),
        }
    }

    pub(crate) fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), StoreError> {
        match self {
            TxTree::Sled(t) => t
                .insert(key.as_ref(), value.as_ref())
                .map(drop)
                .map_err(unabortable),
            TxTree::Pg(tx, t) => tx.insert(t, key.as_ref(), value.as_ref()),
        }
    }

    pub(crate) fn remove(&self, key: impl AsRef<[u8]>) -> Result<(), StoreError> {
        match self {
            TxTree::Sled(t) => t.remove(key.as_ref()).map(drop).map_err(unabortable),
            TxTree::Pg(tx, t) => tx.remove(t, key.as_ref()),
        }
    }

    /// Writes `key` = `value` into `other`, a PostgreSQL table this
    /// transaction was not begun over, as part of this transaction (the
    /// erasure record's entries, written with the erasure they record).
    pub(crate) fn insert_beside(
        &self,
        other: &Tree,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<(), StoreError> {
        match (self, other) {
            (TxTree::Pg(tx, _), Tree::Pg(other)) => tx.insert(other, key.as_ref(), value.as_ref()),
            _ => Err(StoreError::Corrupt(
                "a write beside a transaction outside PostgreSQL".into(),
            )),
        }
    }
}

/// Runs `f` over `trees` in one transaction, again if another writer
/// conflicted; what `f` returns `Err` with aborts it and changes nothing.
pub(crate) fn run<R>(
    trees: &[&Tree],
    f: &dyn Fn(&[TxTree<'_>]) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let sled: Vec<&sled::Tree> = trees
        .iter()
        .filter_map(|t| match t {
            Tree::Sled(t) => Some(t),
            Tree::Pg(_) => None,
        })
        .collect();
    if sled.len() == trees.len() {
        use sled::transaction::{
            ConflictableTransactionError as C, TransactionError, Transactional,
        };
        return sled[..]
            .transaction(|views| {
                let txs: Vec<TxTree<'_>> = views.iter().map(TxTree::Sled).collect();
                f(&txs).map_err(|e| match e {
                    StoreError::Conflict => C::Conflict,
                    StoreError::Db(e) => C::Storage(e),
                    e => C::Abort(e),
                })
            })
            .map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => StoreError::Db(e),
            });
    }
    let pg: Vec<&PgTree> = trees
        .iter()
        .filter_map(|t| match t {
            Tree::Pg(t) => Some(t),
            Tree::Sled(_) => None,
        })
        .collect();
    if pg.len() != trees.len() {
        return Err(StoreError::Corrupt(
            "a transaction over trees of two engines".into(),
        ));
    }
    super::postgres::transaction(&pg, &|tx| {
        let txs: Vec<TxTree<'_>> = pg.iter().map(|t| TxTree::Pg(tx, t)).collect();
        f(&txs)
    })
}

/// Trees that can be changed together: one tree or a tuple of them.
pub(crate) trait Transactional {
    /// What the closure is given: one [`TxTree`] per tree, in order.
    type View<'a>;
    /// Runs `f` in one transaction over these trees.
    fn transaction<R>(
        &self,
        f: impl Fn(Self::View<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError>;
}

impl Transactional for &Tree {
    type View<'a> = &'a TxTree<'a>;

    fn transaction<R>(
        &self,
        f: impl Fn(Self::View<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        run(&[*self], &|txs| f(&txs[0]))
    }
}

/// What one tree of a tuple is inside a transaction.
pub(crate) trait Slot {
    type Tx<'a>;
}

impl Slot for Tree {
    type Tx<'a> = &'a TxTree<'a>;
}

macro_rules! tuple_transactional {
    ($($t:ident $i:tt),+) => {
        impl Transactional for ($(&$t,)+) {
            type View<'a> = ($(<$t as Slot>::Tx<'a>,)+);

            fn transaction<R>(
                &self,
                f: impl Fn(Self::View<'_>) -> Result<R, StoreError>,
            ) -> Result<R, StoreError> {
                run(&[$(self.$i),+], &|txs| f(($(&txs[$i],)+)))
            }
        }
    };
}

tuple_transactional!(Tree 0, Tree 1);
tuple_transactional!(Tree 0, Tree 1, Tree 2);
tuple_transactional!(Tree 0, Tree 1, Tree 2, Tree 3);
tuple_transactional!(Tree 0, Tree 1, Tree 2, Tree 3, Tree 4);
tuple_transactional!(Tree 0, Tree 1, Tree 2, Tree 3, Tree 4, Tree 5);
tuple_transactional!(Tree 0, Tree 1, Tree 2, Tree 3, Tree 4, Tree 5, Tree 6);
tuple_transactional!(Tree 0, Tree 1, Tree 2, Tree 3, Tree 4, Tree 5, Tree 6, Tree 7);
tuple_transactional!(Tree 0, Tree 1, Tree 2, Tree 3, Tree 4, Tree 5, Tree 6, Tree 7, Tree 8);
tuple_transactional!(Tree 0, Tree 1, Tree 2, Tree 3, Tree 4, Tree 5, Tree 6, Tree 7, Tree 8, Tree 9);
