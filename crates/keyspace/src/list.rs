//! The list type. Placeholder: replaced by the real implementation (compact small encoding,
//! big encoding with the right complexity).

/// A list value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct List {
    _private: (),
}

impl List {
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

    /// Calls `f` with each element, head to tail (used by SORT and other families).
    pub fn for_each(&self, _f: impl FnMut(&[u8])) {}
}
