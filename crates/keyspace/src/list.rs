//! The list type: always Redis 7.0's quicklist (see [`crate::quicklist`]), reported by
//! `OBJECT ENCODING` as "quicklist" whatever its size, as Redis 7.0 does.
//!
//! The quicklist sits behind a box so that a list costs one pointer inside [`crate::Value`]
//! (which every key carries), like Redis's `robj->ptr`.

use crate::listpack::{Listpack, LpValue};
use crate::quicklist::{End, Iter, Quicklist};
use crate::value::SmallBytes;

/// A list value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    ql: Box<Quicklist>,
}

impl List {
    /// An empty list whose nodes follow `list-max-listpack-size` = `fill`.
    pub fn new(fill: i64) -> List {
        List {
            ql: Box::new(Quicklist::new(fill)),
        }
    }

    /// An empty list whose fill is set by the first [`List::ensure_fill`] (RESTORE).
    pub fn new_unset() -> List {
        List {
            ql: Box::new(Quicklist::new_unset()),
        }
    }

    /// Assigns the node fill if the list has none yet (a restored list takes the server's
    /// `list-max-listpack-size` on its first write).
    pub fn ensure_fill(&mut self, fill: i64) {
        self.ql.ensure_fill(fill)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.ql.len()
    }

    /// True when empty (an empty collection is never stored: the key is deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Calls `f` with each element, head to tail (used by SORT and other families).
    pub fn for_each(&self, f: impl FnMut(&[u8])) {
        self.ql.for_each(f)
    }

    /// The quicklist itself.
    pub fn quicklist(&self) -> &Quicklist {
        &self.ql
    }

    /// The quicklist itself, for changes.
    pub fn quicklist_mut(&mut self) -> &mut Quicklist {
        &mut self.ql
    }

    /// Pushes at the head.
    pub fn push_front(&mut self, v: &[u8]) {
        self.ql.push(End::Head, v)
    }

    /// Pushes at the tail.
    pub fn push_back(&mut self, v: &[u8]) {
        self.ql.push(End::Tail, v)
    }

    /// Pops from the head.
    pub fn pop_front(&mut self) -> Option<SmallBytes> {
        self.ql.pop(End::Head)
    }

    /// Pops from the tail.
    pub fn pop_back(&mut self) -> Option<SmallBytes> {
        self.ql.pop(End::Tail)
    }

    /// The element at Redis index `index` (negative counts from the tail).
    pub fn get(&self, index: i64) -> Option<LpValue<'_>> {
        self.ql.get(index)
    }

    /// Iterates head to tail.
    pub fn iter(&self) -> Iter<'_> {
        self.ql.iter()
    }

    /// The listpack nodes, head first (DUMP).
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &Listpack> + '_ {
        self.ql.nodes()
    }

    /// Appends a whole listpack node (RESTORE); empty ones are skipped.
    pub fn append_node(&mut self, lp: Listpack) {
        self.ql.append_node(lp)
    }
}
