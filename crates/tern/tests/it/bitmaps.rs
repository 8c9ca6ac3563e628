//! Placeholder: the bitmaps integration tests land here.
