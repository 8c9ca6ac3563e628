//! The set type. Placeholder: replaced by the real implementation (compact small encoding,
//! big encoding with the right complexity).

/// A set value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Set {
    _private: (),
}

impl Set {
    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }

    /// True when empty (an empty collection is never stored: the key is deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        "placeholder"
    }

    /// Calls `f` with each member, in the set's internal order (used by SORT, ZUNIONSTORE...).
    pub fn for_each(&self, _f: impl FnMut(&[u8])) {}

    /// True if `member` is in the set.
    pub fn contains(&self, _member: &[u8]) -> bool {
        false
    }
}
