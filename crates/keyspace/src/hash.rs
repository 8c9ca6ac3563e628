//! The hash type. Placeholder: replaced by the real implementation (compact small encoding,
//! big encoding with the right complexity).

/// A hash value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hash {
    _private: (),
}

impl Hash {
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

    /// The value of `field`, if present (used by SORT BY/GET hash-field patterns).
    pub fn get_field(&self, _field: &[u8]) -> Option<Vec<u8>> {
        None
    }
}
