//! Tests of the bitmap helpers (against a bit-vector model) and commands.

use super::*;
use crate::testkit::frames::{bulk, err, int};
use crate::testkit::TestDb;

#[test]
fn setbit_far_offset_reads_back_zero_first() {
    let mut t = TestDb::new();
    assert_eq!(t.run(&["SETBIT", "k", "100", "1"]), int(0));
    assert_eq!(t.run(&["SETBIT", "k", "4294967295", "1"]), int(0));
    assert_eq!(t.run(&["GETBIT", "k", "4294967295"]), int(1));
    let _ = (bulk(""), err(""));
}
