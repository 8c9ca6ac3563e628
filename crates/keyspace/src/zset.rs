//! The zset type. Placeholder: replaced by the real implementation (compact small encoding,
//! big encoding with the right complexity).

/// A zset value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSet {
    _private: (),
}

impl ZSet {
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

    /// Calls `f` with each member and its score, in rank order (used by SORT and others).
    pub fn for_each(&self, _f: impl FnMut(&[u8], f64)) {}
}
