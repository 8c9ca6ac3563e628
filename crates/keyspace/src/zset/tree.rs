//! An order-statistic B+tree of `(score, member)` elements: the ordered half of a big sorted
//! set (Redis uses a skiplist with spans; this gives the same bounds with fewer pointers).
//!
//! Leaves hold up to [`LEAF_MAX`] elements in one allocation; inner nodes hold separators
//! (`seps[i]` is a lower bound of child `i + 1` and an upper bound, exclusive, of child `i`)
//! and the element count of every child, so rank, select and range-by-rank are O(log n).
//! A separator is a copy of an element that may since have been deleted: the invariant only
//! needs it to sit between its neighbours, which deletions never break.
//!
//! Inserting at either end of a full leaf splits off one element instead of half, so the
//! common append-in-order pattern (timestamps) leaves leaves full, not half full.

use std::cmp::Ordering;

use crate::value::SmallBytes;

/// Most elements a leaf holds (one more fits transiently before a split; the capacity is 64
/// elements of 32 bytes, one 2 KiB allocation).
const LEAF_MAX: usize = 63;
/// A leaf with fewer elements borrows from or merges with a sibling.
const LEAF_MIN: usize = 16;
/// Most children of an inner node.
const INNER_MAX: usize = 64;
/// An inner node with fewer children borrows from or merges with a sibling.
const INNER_MIN: usize = 16;

/// One element: its score and member.
#[derive(Clone, Debug, PartialEq)]
pub struct Elem {
    /// The score (never NaN).
    pub score: f64,
    /// The member's bytes.
    pub member: SmallBytes,
}

/// The sorted set order: by score, then by member bytes (memcmp, shorter first on a tie),
/// as Redis's `zslInsert` compares (`-0` and `0` are equal scores).
#[inline]
pub fn cmp(sa: f64, ma: &[u8], sb: f64, mb: &[u8]) -> Ordering {
    if sa < sb {
        Ordering::Less
    } else if sa > sb {
        Ordering::Greater
    } else {
        ma.cmp(mb)
    }
}

#[inline]
fn elem_lt(e: &Elem, score: f64, member: &[u8]) -> bool {
    cmp(e.score, &e.member, score, member) == Ordering::Less
}

#[derive(Clone, Debug)]
struct Inner {
    seps: Vec<Elem>,
    counts: Vec<usize>,
    children: Vec<Node>,
}

#[derive(Clone, Debug)]
enum Node {
    Leaf(Vec<Elem>),
    Inner(Box<Inner>),
}

fn new_leaf() -> Vec<Elem> {
    Vec::with_capacity(LEAF_MAX + 1)
}

impl Node {
    fn len(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(n) => n.counts.iter().sum(),
        }
    }

    /// Number of items (elements or children) directly in this node.
    fn width(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Inner(n) => n.children.len(),
        }
    }

    fn underfull(&self) -> bool {
        match self {
            Node::Leaf(v) => v.len() < LEAF_MIN,
            Node::Inner(n) => n.children.len() < INNER_MIN,
        }
    }
}

impl Inner {
    /// The child that holds (or would hold) `(score, member)`.
    #[inline]
    fn child_for(&self, score: f64, member: &[u8]) -> usize {
        self.seps
            .partition_point(|s| cmp(s.score, &s.member, score, member) != Ordering::Greater)
    }
}

/// Inserts into `node`; on overflow returns the separator and the new right sibling.
fn insert(node: &mut Node, e: Elem) -> Option<(Elem, Node)> {
    match node {
        Node::Leaf(v) => {
            let pos = v.partition_point(|x| elem_lt(x, e.score, &e.member));
            v.insert(pos, e);
            if v.len() <= LEAF_MAX {
                return None;
            }
            let at = if pos == v.len() - 1 {
                v.len() - 1
            } else if pos == 0 {
                1
            } else {
                v.len() / 2
            };
            let mut right = new_leaf();
            right.extend(v.drain(at..));
            let sep = right[0].clone();
            Some((sep, Node::Leaf(right)))
        }
        Node::Inner(n) => {
            let i = n.child_for(e.score, &e.member);
            let split = insert(&mut n.children[i], e);
            n.counts[i] += 1;
            if let Some((sep, right)) = split {
                let rlen = right.len();
                n.counts[i] -= rlen;
                n.seps.insert(i, sep);
                n.counts.insert(i + 1, rlen);
                n.children.insert(i + 1, right);
            }
            if n.children.len() <= INNER_MAX {
                return None;
            }
            let mid = n.children.len() / 2;
            let children = n.children.split_off(mid);
            let counts = n.counts.split_off(mid);
            let mut seps = n.seps.split_off(mid - 1);
            let sep = seps.remove(0);
            Some((
                sep,
                Node::Inner(Box::new(Inner {
                    seps,
                    counts,
                    children,
                })),
            ))
        }
    }
}

/// Removes `(score, member)` from `node`; true if it was there.
fn remove(node: &mut Node, score: f64, member: &[u8]) -> bool {
    match node {
        Node::Leaf(v) => {
            let pos = v.partition_point(|x| elem_lt(x, score, member));
            if pos < v.len() && v[pos].score == score && *v[pos].member == *member {
                v.remove(pos);
                true
            } else {
                false
            }
        }
        Node::Inner(n) => {
            let i = n.child_for(score, member);
            if !remove(&mut n.children[i], score, member) {
                return false;
            }
            n.counts[i] -= 1;
            if n.children[i].underfull() && n.children.len() > 1 {
                rebalance(n, i);
            }
            true
        }
    }
}

/// Fixes the underfull child `i` of `n` by merging it with a neighbour or moving one item
/// over from the neighbour.
fn rebalance(n: &mut Inner, i: usize) {
    let l = if i + 1 < n.children.len() { i } else { i - 1 };
    let r = l + 1;
    let combined = n.children[l].width() + n.children[r].width();
    let max = match n.children[l] {
        Node::Leaf(_) => LEAF_MAX,
        Node::Inner(_) => INNER_MAX,
    };
    if combined <= max {
        // Merge r into l.
        let right = n.children.remove(r);
        let rcount = n.counts.remove(r);
        let sep = n.seps.remove(l);
        n.counts[l] += rcount;
        match (&mut n.children[l], right) {
            (Node::Leaf(a), Node::Leaf(b)) => a.extend(b),
            (Node::Inner(a), Node::Inner(b)) => {
                let b = *b;
                a.seps.push(sep);
                a.seps.extend(b.seps);
                a.counts.extend(b.counts);
                a.children.extend(b.children);
            }
            _ => unreachable!("siblings have the same height"),
        }
        return;
    }
    // Move one item from the fuller sibling to the underfull one.
    let (left_part, right_part) = n.children.split_at_mut(r);
    let (a, b) = (&mut left_part[l], &mut right_part[0]);
    let moved;
    if i == l {
        // Take b's first item.
        match (a, b) {
            (Node::Leaf(a), Node::Leaf(b)) => {
                a.push(b.remove(0));
                moved = 1;
                n.seps[l] = b[0].clone();
            }
            (Node::Inner(a), Node::Inner(b)) => {
                let child = b.children.remove(0);
                let c = b.counts.remove(0);
                let new_sep = b.seps.remove(0);
                a.seps.push(std::mem::replace(&mut n.seps[l], new_sep));
                a.children.push(child);
                a.counts.push(c);
                moved = c;
            }
            _ => unreachable!("siblings have the same height"),
        }
        n.counts[l] += moved;
        n.counts[r] -= moved;
    } else {
        // Take a's last item.
        match (a, b) {
            (Node::Leaf(a), Node::Leaf(b)) => {
                b.insert(0, a.pop().expect("sibling has items"));
                moved = 1;
                n.seps[l] = b[0].clone();
            }
            (Node::Inner(a), Node::Inner(b)) => {
                let child = a.children.pop().expect("sibling has children");
                let c = a.counts.pop().expect("counts match children");
                let new_sep = a.seps.pop().expect("seps match children");
                b.seps.insert(0, std::mem::replace(&mut n.seps[l], new_sep));
                b.children.insert(0, child);
                b.counts.insert(0, c);
                moved = c;
            }
            _ => unreachable!("siblings have the same height"),
        }
        n.counts[l] -= moved;
        n.counts[r] += moved;
    }
}

/// The ordered elements of a big sorted set.
#[derive(Clone, Debug)]
pub struct Tree {
    root: Node,
    len: usize,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree {
            root: Node::Leaf(Vec::new()),
            len: 0,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Inserts an element that is not present (the caller checks with its dict).
    pub fn insert(&mut self, score: f64, member: SmallBytes) {
        if let Node::Leaf(v) = &mut self.root {
            if v.capacity() == 0 {
                *v = new_leaf();
            }
        }
        let e = Elem { score, member };
        if let Some((sep, right)) = insert(&mut self.root, e) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let counts = vec![left.len(), right.len()];
            self.root = Node::Inner(Box::new(Inner {
                seps: vec![sep],
                counts,
                children: vec![left, right],
            }));
        }
        self.len += 1;
    }

    /// Removes an element; true if it was present.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        if !remove(&mut self.root, score, member) {
            return false;
        }
        self.len -= 1;
        // Collapse a root left with a single child.
        loop {
            match &mut self.root {
                Node::Inner(n) if n.children.len() == 1 => {
                    let child = n.children.pop().expect("one child");
                    self.root = child;
                }
                _ => break,
            }
        }
        true
    }

    /// Number of elements for which `f` holds, where `f` holds on a prefix of the order
    /// (for every key of the order, not just the elements present).
    pub fn partition_point(&self, f: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut node = &self.root;
        let mut acc = 0;
        loop {
            match node {
                Node::Leaf(v) => return acc + v.partition_point(|e| f(e.score, &e.member)),
                Node::Inner(n) => {
                    let i = n.seps.partition_point(|s| f(s.score, &s.member));
                    acc += n.counts[..i].iter().sum::<usize>();
                    node = &n.children[i];
                }
            }
        }
    }

    /// The 0-based rank of `(score, member)` if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let r = self.partition_point(|s, m| cmp(s, m, score, member) == Ordering::Less);
        let e = self.get(r)?;
        (e.score == score && *e.member == *member).then_some(r)
    }

    /// The element at rank `r`.
    pub fn get(&self, mut r: usize) -> Option<&Elem> {
        if r >= self.len {
            return None;
        }
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf(v) => return v.get(r),
                Node::Inner(n) => {
                    let mut i = 0;
                    while r >= n.counts[i] {
                        r -= n.counts[i];
                        i += 1;
                    }
                    node = &n.children[i];
                }
            }
        }
    }

    /// Calls `f` for the elements of ranks `start..end`, in order or (with `rev`) from
    /// `end - 1` down to `start`.
    pub fn for_range(&self, start: usize, end: usize, rev: bool, f: &mut impl FnMut(&Elem)) {
        let end = end.min(self.len);
        if start >= end {
            return;
        }
        for_range(&self.root, start, end, rev, f);
    }

    /// Checks the structural invariants (tests).
    #[cfg(test)]
    pub fn check(&self) {
        fn walk(n: &Node, lo: Option<&Elem>, hi: Option<&Elem>, root: bool) -> usize {
            match n {
                Node::Leaf(v) => {
                    assert!(root || !v.is_empty(), "empty leaf");
                    assert!(v.len() <= LEAF_MAX);
                    for w in v.windows(2) {
                        assert_eq!(
                            cmp(w[0].score, &w[0].member, w[1].score, &w[1].member),
                            Ordering::Less
                        );
                    }
                    for e in v {
                        if let Some(lo) = lo {
                            assert!(!elem_lt(e, lo.score, &lo.member));
                        }
                        if let Some(hi) = hi {
                            assert!(elem_lt(e, hi.score, &hi.member));
                        }
                    }
                    v.len()
                }
                Node::Inner(inner) => {
                    assert!(root || inner.children.len() >= INNER_MIN);
                    assert!(inner.children.len() <= INNER_MAX);
                    assert!(inner.children.len() >= 2);
                    assert_eq!(inner.seps.len() + 1, inner.children.len());
                    assert_eq!(inner.counts.len(), inner.children.len());
                    let mut total = 0;
                    for (i, c) in inner.children.iter().enumerate() {
                        let l = if i == 0 { lo } else { Some(&inner.seps[i - 1]) };
                        let h = if i == inner.seps.len() {
                            hi
                        } else {
                            Some(&inner.seps[i])
                        };
                        let got = walk(c, l, h, false);
                        assert_eq!(got, inner.counts[i]);
                        total += got;
                    }
                    total
                }
            }
        }
        assert_eq!(walk(&self.root, None, None, true), self.len);
    }
}

fn for_range(node: &Node, start: usize, end: usize, rev: bool, f: &mut impl FnMut(&Elem)) {
    match node {
        Node::Leaf(v) => {
            if rev {
                v[start..end].iter().rev().for_each(f);
            } else {
                v[start..end].iter().for_each(f);
            }
        }
        Node::Inner(n) => {
            // Visit the children overlapping start..end; offsets are computed forwards and
            // the visit order reversed when needed.
            let mut spans: smallvec::SmallVec<[(usize, usize, usize); 8]> =
                smallvec::SmallVec::new();
            let mut off = 0;
            for (i, &c) in n.counts.iter().enumerate() {
                let (lo, hi) = (off, off + c);
                off = hi;
                if hi <= start {
                    continue;
                }
                if lo >= end {
                    break;
                }
                spans.push((i, start.max(lo) - lo, end.min(hi) - lo));
            }
            if rev {
                for &(i, s, e) in spans.iter().rev() {
                    for_range(&n.children[i], s, e, rev, f);
                }
            } else {
                for &(i, s, e) in spans.iter() {
                    for_range(&n.children[i], s, e, rev, f);
                }
            }
        }
    }
}
