//! Redis 7.0's quicklist: a deque of listpack nodes, the one encoding of list values.
//!
//! Each node is a [`Listpack`] holding a run of consecutive elements. A node may take another
//! element while it stays within `list-max-listpack-size` (the quicklist's *fill*): a negative
//! fill limits a node's bytes (-1 = 4 KiB ... -5 = 64 KiB, -2 = 8 KiB by default), a positive
//! fill limits its element count (and its bytes to 8 KiB). The node-layout rules (when a push
//! opens a new node, how LINSERT splits a full node and merges neighbours, that deletions never
//! merge) follow `quicklist.c` of Redis 7.0 exactly, so that a list built by the same commands
//! has the same nodes as in Redis and DUMPs to the same bytes.
//!
//! Costs: push and pop at either end are O(1); access by index is O(number of nodes) plus
//! O(node size), walking from the nearer end and skipping whole nodes by their counts (a
//! listpack keeps its element count in its header). Memory is the listpacks' bytes (about
//! element length + 2 bytes per element) plus 24 bytes per node.
//!
//! Not implemented: LZF compression of inner nodes (`list-compress-depth` is accepted but
//! ignored) and "plain" nodes for elements of 1 GiB or more (they get a packed node of their
//! own instead).

use crate::listpack::{Listpack, LpValue};
use crate::value::SmallBytes;
use std::collections::VecDeque;

/// Node byte limits for fill -1..-5 (`optimization_level` in quicklist.c).
const OPTIMIZATION_LEVEL: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// The byte limit of a node when the fill is an element count (`SIZE_SAFETY_LIMIT`).
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Over-estimate of one entry's overhead when deciding whether it fits a node.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Elements this large get a node of their own (Redis makes them "plain" nodes).
const PACKED_THRESHOLD: usize = 1 << 30;
/// The largest positive fill (`FILL_MAX`: 15-bit signed field in quicklist.h).
const FILL_MAX: i32 = (1 << 15) - 1;
/// The fill a list gets before one is assigned (Redis's default, -2).
pub const DEFAULT_FILL: i32 = -2;
/// Marks a list whose fill has not been set yet (restored from a payload).
const FILL_UNSET: i32 = i32::MIN;

/// Clamps a `list-max-listpack-size` value as `quicklistSetFill` does.
pub fn clamp_fill(fill: i64) -> i32 {
    fill.clamp(-5, FILL_MAX as i64) as i32
}

/// Would a node `node` of bytes `sz` and `count` elements take an element of `len` bytes?
/// (`_quicklistNodeAllowInsert`.)
fn allow_insert(node: &Listpack, fill: i32, len: usize) -> bool {
    if len >= PACKED_THRESHOLD {
        return false;
    }
    let new_sz = node.bytes_len() + len + SIZE_ESTIMATE_OVERHEAD;
    size_ok(fill, new_sz, node.len() + 1)
}

/// Would two nodes fit in one? (`_quicklistNodeAllowMerge`. Redis 7.0 still subtracts 11, a
/// ziplist's header and terminator, where a listpack's are 7: checked against its DUMPs.)
fn allow_merge(a: &Listpack, b: &Listpack, fill: i32) -> bool {
    let merge_sz = a.bytes_len() + b.bytes_len() - 11;
    size_ok(fill, merge_sz, a.len() + b.len())
}

/// True if a node of `sz` bytes and `count` elements is within the fill limits.
fn size_ok(fill: i32, sz: usize, count: usize) -> bool {
    if fill < 0 {
        let level = (-(fill as i64) - 1) as usize;
        if level < OPTIMIZATION_LEVEL.len() && sz <= OPTIMIZATION_LEVEL[level] {
            return true;
        }
    }
    if sz > SIZE_SAFETY_LIMIT {
        return false;
    }
    (count as i64) <= fill as i64
}

/// A copy of a listpack value as bytes (inline up to 23 bytes).
pub fn to_small(v: LpValue<'_>) -> SmallBytes {
    v.with_bytes(SmallBytes::new)
}

/// The list: listpack nodes in order, the total element count and the node fill.
#[derive(Clone, PartialEq)]
pub struct Quicklist {
    nodes: VecDeque<Listpack>,
    count: usize,
    fill: i32,
}

impl std::fmt::Debug for Quicklist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quicklist")
            .field("count", &self.count)
            .field("fill", &self.fill)
            .field("nodes", &self.nodes)
            .finish()
    }
}

impl Default for Quicklist {
    fn default() -> Self {
        Quicklist::new(DEFAULT_FILL as i64)
    }
}

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// The head (left, index 0).
    Head,
    /// The tail (right, index -1).
    Tail,
}

impl Quicklist {
    /// An empty list whose nodes follow `list-max-listpack-size` = `fill`.
    pub fn new(fill: i64) -> Quicklist {
        Quicklist {
            nodes: VecDeque::new(),
            count: 0,
            fill: clamp_fill(fill),
        }
    }

    /// An empty list whose fill is assigned later by [`Quicklist::ensure_fill`] (RESTORE:
    /// the payload does not carry it; the server's config does).
    pub fn new_unset() -> Quicklist {
        Quicklist {
            nodes: VecDeque::new(),
            count: 0,
            fill: FILL_UNSET,
        }
    }

    /// Assigns the fill if none was assigned yet.
    pub fn ensure_fill(&mut self, fill: i64) {
        if self.fill == FILL_UNSET {
            self.fill = clamp_fill(fill);
        }
    }

    /// True once the list has a fill of its own.
    pub fn has_fill(&self) -> bool {
        self.fill != FILL_UNSET
    }

    /// The fill in force (the default if none was assigned).
    pub fn fill(&self) -> i32 {
        if self.fill == FILL_UNSET {
            DEFAULT_FILL
        } else {
            self.fill
        }
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when there are no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The nodes, head first (for DUMP and tests).
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &Listpack> + '_ {
        self.nodes.iter()
    }

    /// Appends a whole node (RESTORE); empty listpacks are skipped, as Redis does.
    pub fn append_node(&mut self, lp: Listpack) {
        let n = lp.len();
        if n > 0 {
            self.count += n;
            self.reserve_node();
            self.nodes.push_back(lp);
        }
    }

    /// Pushes `v` at `end`.
    pub fn push(&mut self, end: End, v: &[u8]) {
        let fill = self.fill();
        match end {
            End::Head => match self.nodes.front_mut() {
                Some(n) if allow_insert(n, fill, v.len()) => n.push_front(v),
                _ => {
                    let mut n = Listpack::new();
                    n.push_back(v);
                    self.reserve_node();
                    self.nodes.push_front(n);
                }
            },
            End::Tail => match self.nodes.back_mut() {
                Some(n) if allow_insert(n, fill, v.len()) => n.push_back(v),
                _ => {
                    let mut n = Listpack::new();
                    n.push_back(v);
                    self.reserve_node();
                    self.nodes.push_back(n);
                }
            },
        }
        self.count += 1;
    }

    /// Most lists have one node: the first gets a table of exactly one slot (a `VecDeque`
    /// would start with four), which saves 64 bytes per small list.
    #[inline]
    fn reserve_node(&mut self) {
        if self.nodes.capacity() == 0 {
            self.nodes.reserve_exact(1);
        }
    }

    /// Pushes `v` at the tail.
    #[inline]
    pub fn push_back(&mut self, v: &[u8]) {
        self.push(End::Tail, v)
    }

    /// Pushes `v` at the head.
    #[inline]
    pub fn push_front(&mut self, v: &[u8]) {
        self.push(End::Head, v)
    }

    /// Removes and returns the element at `end`.
    pub fn pop(&mut self, end: End) -> Option<SmallBytes> {
        let ni = match end {
            End::Head => 0,
            End::Tail => self.nodes.len().checked_sub(1)?,
        };
        let node = self.nodes.get_mut(ni)?;
        let p = match end {
            End::Head => node.first()?,
            End::Tail => node.last()?,
        };
        let v = to_small(node.get(p));
        node.delete(p);
        self.count -= 1;
        if node.is_empty() {
            self.nodes.remove(ni);
        }
        Some(v)
    }

    /// Finds the node and the offset within it of element `index` (0-based from the head),
    /// walking from the nearer end of the list.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.count {
            return None;
        }
        if index <= (self.count - 1) / 2 {
            let mut acc = 0;
            for (i, n) in self.nodes.iter().enumerate() {
                let len = n.len();
                if index < acc + len {
                    return Some((i, index - acc));
                }
                acc += len;
            }
        } else {
            // Counting from the tail: `back` elements lie after `index`.
            let back = self.count - 1 - index;
            let mut acc = 0;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                let len = n.len();
                if back < acc + len {
                    return Some((i, len - 1 - (back - acc)));
                }
                acc += len;
            }
        }
        None
    }

    /// Resolves a Redis index (negative counts from the tail) to a 0-based one.
    pub fn resolve(&self, index: i64) -> Option<usize> {
        let i = if index < 0 {
            (self.count as i64).checked_add(index)?
        } else {
            index
        };
        if i < 0 || i as usize >= self.count {
            None
        } else {
            Some(i as usize)
        }
    }

    /// The element at Redis index `index` (negative counts from the tail).
    pub fn get(&self, index: i64) -> Option<LpValue<'_>> {
        let (ni, off) = self.locate(self.resolve(index)?)?;
        let n = &self.nodes[ni];
        Some(n.get(n.seek(off as i64)?))
    }

    /// Replaces the element at Redis index `index`; false if out of range. The node keeps
    /// the element in place whatever its new size, as Redis 7.0's `quicklistReplaceEntry`.
    pub fn set(&mut self, index: i64, v: &[u8]) -> bool {
        let Some((ni, off)) = self.resolve(index).and_then(|i| self.locate(i)) else {
            return false;
        };
        let n = &mut self.nodes[ni];
        match n.seek(off as i64) {
            Some(p) => {
                n.replace(p, v);
                true
            }
            None => false,
        }
    }

    /// Iterates from 0-based `start` towards the tail (`rev` false) or the head (`rev`
    /// true), starting at `start` in both cases.
    pub fn iter_from(&self, start: usize, rev: bool) -> Iter<'_> {
        let (node, pos) = match self.locate(start) {
            Some((ni, off)) => (ni, self.nodes[ni].seek(off as i64)),
            None => (0, None),
        };
        Iter {
            ql: self,
            node,
            pos,
            rev,
        }
    }

    /// Iterates head to tail.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0, false)
    }

    /// Iterates tail to head.
    pub fn iter_rev(&self) -> Iter<'_> {
        self.iter_from(self.count.saturating_sub(1), true)
    }

    /// Deletes `n` elements starting at 0-based `start` (clamped to the list), dropping
    /// nodes that become empty and merging nothing (`quicklistDelRange`).
    pub fn del_range(&mut self, start: usize, n: usize) {
        if start >= self.count || n == 0 {
            return;
        }
        let mut left = n.min(self.count - start);
        let Some((mut ni, mut off)) = self.locate(start) else {
            return;
        };
        while left > 0 && ni < self.nodes.len() {
            let node = &mut self.nodes[ni];
            let len = node.len();
            let del = left.min(len - off);
            if off == 0 && del == len {
                self.nodes.remove(ni);
            } else {
                if let Some(p) = node.seek(off as i64) {
                    node.delete_range(p, del);
                }
                ni += 1;
            }
            self.count -= del;
            left -= del;
            off = 0;
        }
    }

    /// Removes up to `limit` elements equal to `v` (0 = all), scanning from `from`
    /// (`LREM`). Returns how many went. Emptied nodes are dropped; nothing is merged.
    pub fn remove(&mut self, v: &[u8], limit: usize, from: End) -> usize {
        let mut removed = 0;
        match from {
            End::Head => {
                let mut ni = 0;
                while ni < self.nodes.len() {
                    let node = &mut self.nodes[ni];
                    let mut p = node.first();
                    while let Some(q) = p {
                        if node.get(q).eq_bytes(v) {
                            p = node.delete(q);
                            removed += 1;
                            self.count -= 1;
                            if removed == limit && limit != 0 {
                                break;
                            }
                        } else {
                            p = node.next(q);
                        }
                    }
                    if node.is_empty() {
                        self.nodes.remove(ni);
                    } else {
                        ni += 1;
                    }
                    if removed == limit && limit != 0 {
                        break;
                    }
                }
            }
            End::Tail => {
                let mut ni = self.nodes.len();
                while ni > 0 {
                    ni -= 1;
                    let node = &mut self.nodes[ni];
                    let mut p = node.last();
                    while let Some(q) = p {
                        // Entries before `q` keep their positions when `q` is deleted.
                        let prev = node.prev(q);
                        if node.get(q).eq_bytes(v) {
                            node.delete(q);
                            removed += 1;
                            self.count -= 1;
                            if removed == limit && limit != 0 {
                                break;
                            }
                        }
                        p = prev;
                    }
                    if node.is_empty() {
                        self.nodes.remove(ni);
                    }
                    if removed == limit && limit != 0 {
                        break;
                    }
                }
            }
        }
        removed
    }

    /// Inserts `v` before (or `after`) the first element equal to `pivot`, scanning from
    /// the head. Returns false if there is no such element (`LINSERT`).
    pub fn insert_at_pivot(&mut self, pivot: &[u8], v: &[u8], after: bool) -> bool {
        for ni in 0..self.nodes.len() {
            let node = &self.nodes[ni];
            let mut p = node.first();
            let mut off = 0;
            while let Some(q) = p {
                if node.get(q).eq_bytes(pivot) {
                    self.insert_at(ni, off, q, v, after);
                    return true;
                }
                p = node.next(q);
                off += 1;
            }
        }
        false
    }

    /// Inserts `v` next to the entry at position `p` (offset `off`) of node `ni`, with
    /// `_quicklistInsert`'s choice between the node itself, a neighbour, a new node or a
    /// split of the node followed by merges around it.
    fn insert_at(&mut self, ni: usize, off: usize, p: usize, v: &[u8], after: bool) {
        let fill = self.fill();
        let sz = v.len();
        let node = &self.nodes[ni];
        let count = node.len();
        let full = !allow_insert(node, fill, sz);
        let at_tail = after && off == count - 1;
        let at_head = !after && off == 0;
        let has_next = ni + 1 < self.nodes.len();
        let has_prev = ni > 0;
        let avail_next = at_tail && has_next && allow_insert(&self.nodes[ni + 1], fill, sz);
        let avail_prev = at_head && has_prev && allow_insert(&self.nodes[ni - 1], fill, sz);
        self.count += 1;
        if !full {
            let node = &mut self.nodes[ni];
            let at = if after {
                node.next(p).unwrap_or_else(|| node.end())
            } else {
                p
            };
            node.insert_before(at, v);
        } else if avail_next {
            self.nodes[ni + 1].push_front(v);
        } else if avail_prev {
            self.nodes[ni - 1].push_back(v);
        } else if (at_tail && !has_next) || (at_head && !has_prev) {
            let mut n = Listpack::new();
            n.push_back(v);
            self.nodes.insert(if after { ni + 1 } else { ni }, n);
        } else {
            // Split: with `after`, the node keeps [0, off] and the new node gets the rest;
            // otherwise the node keeps [off, len) and the new node gets [0, off).
            let node = &mut self.nodes[ni];
            let mut new = node.clone();
            if after {
                trim(node, off + 1, count - off - 1);
                trim(&mut new, 0, off + 1);
                new.push_front(v);
                self.nodes.insert(ni + 1, new);
                self.merge_around(ni);
            } else {
                trim(node, 0, off);
                trim(&mut new, off, count - off);
                new.push_back(v);
                self.nodes.insert(ni, new);
                self.merge_around(ni + 1);
            }
        }
    }

    /// `_quicklistMergeNodes`: tries prev-prev with prev, next with next-next, then the
    /// center with prev, then the result with its next.
    fn merge_around(&mut self, mut c: usize) {
        let fill = self.fill();
        if c >= 2 && allow_merge(&self.nodes[c - 2], &self.nodes[c - 1], fill) {
            self.merge(c - 2);
            c -= 1;
        }
        if c + 2 < self.nodes.len() && allow_merge(&self.nodes[c + 1], &self.nodes[c + 2], fill) {
            self.merge(c + 1);
        }
        let target = if c >= 1 && allow_merge(&self.nodes[c - 1], &self.nodes[c], fill) {
            self.merge(c - 1);
            c - 1
        } else {
            c
        };
        if target + 1 < self.nodes.len()
            && allow_merge(&self.nodes[target], &self.nodes[target + 1], fill)
        {
            self.merge(target);
        }
    }

    /// Appends node `i + 1`'s elements to node `i` and removes node `i + 1`.
    fn merge(&mut self, i: usize) {
        let Some(b) = self.nodes.remove(i + 1) else {
            return;
        };
        let a = &mut self.nodes[i];
        for v in b.iter() {
            match v {
                LpValue::Int(n) => a.push_back_int(n),
                LpValue::Str(s) => a.push_back(s),
            }
        }
    }

    /// Calls `f` with each element, head to tail.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        for n in &self.nodes {
            for v in n.iter() {
                v.with_bytes(&mut f);
            }
        }
    }
}

/// Deletes the elements [start, start + n) of one listpack.
fn trim(lp: &mut Listpack, start: usize, n: usize) {
    if n == 0 {
        return;
    }
    if let Some(p) = lp.seek(start as i64) {
        lp.delete_range(p, n);
    }
}

/// Iterates a quicklist's elements in one direction from a starting element.
pub struct Iter<'a> {
    ql: &'a Quicklist,
    node: usize,
    pos: Option<usize>,
    rev: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    fn next(&mut self) -> Option<LpValue<'a>> {
        let p = self.pos?;
        let n = &self.ql.nodes[self.node];
        let v = n.get(p);
        self.pos = if self.rev { n.prev(p) } else { n.next(p) };
        if self.pos.is_none() {
            if self.rev {
                if self.node > 0 {
                    self.node -= 1;
                    self.pos = self.ql.nodes[self.node].last();
                }
            } else if self.node + 1 < self.ql.nodes.len() {
                self.node += 1;
                self.pos = self.ql.nodes[self.node].first();
            }
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests;
