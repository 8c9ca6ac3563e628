//! Tests of the HyperLogLog representation and commands.
