//! Placeholder: the zsets integration tests land here.
