//! Placeholder: the hashes integration tests land here.
