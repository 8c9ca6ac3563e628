//! Tests of the bitmap helpers (against a bit-vector model) and commands.
