//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) through the same entry points the
//! cargo-fuzz targets call (`tern_server::fuzzing`), on the stable toolchain and without
//! libFuzzer, so every input the fuzzer kept (crashes it found included, once fixed) stays a
//! regression test of `cargo test`.

use std::path::PathBuf;

fn replay(target: &str, f: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    for path in &files {
        let data = std::fs::read(path).unwrap();
        let r = std::panic::catch_unwind(|| f(&data));
        assert!(r.is_ok(), "{target}: {} panicked", path.display());
    }
}

#[test]
fn resp_request_corpus_replays() {
    replay("resp_request", tern_server::fuzzing::resp_request);
}

#[test]
fn commands_corpus_replays() {
    replay("commands", tern_server::fuzzing::commands);
}

#[test]
fn rdb_load_corpus_replays() {
    replay("rdb_load", tern_server::fuzzing::rdb_load);
}

#[test]
fn restore_corpus_replays() {
    replay("restore", tern_server::fuzzing::restore);
}

#[test]
fn replica_stream_corpus_replays() {
    replay("replica_stream", tern_server::fuzzing::replica_stream);
}

#[test]
fn scripts_corpus_replays() {
    replay("scripts", tern_server::fuzzing::scripts);
}
