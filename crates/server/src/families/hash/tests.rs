//! Hash command tests.
