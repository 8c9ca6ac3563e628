//! Placeholder: the lists integration tests land here.
