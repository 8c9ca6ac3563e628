//! Placeholder, replaced by the dict helper.
