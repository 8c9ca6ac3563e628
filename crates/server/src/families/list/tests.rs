//! Unit tests of the list commands.
