//! Placeholder: the sets integration tests land here.
