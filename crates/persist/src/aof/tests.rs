use super::manifest::*;
use super::reader::*;
use proptest::prelude::*;
use std::io::Read;

// ---------------------------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------------------------

/// Written by Debian's redis-server 7.0.15 (`--appendonly yes`, defaults).
const REDIS_MANIFEST: &[u8] =
    b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";

/// Written by redis-server 7.0.15 with `--appendfilename 'my "odd" file.aof'
/// --aof-use-rdb-preamble no` after two BGREWRITEAOFs.
const REDIS_QUOTED_MANIFEST: &[u8] = b"file \"my \\\"odd\\\" file.aof.3.base.aof\" seq 3 type b\n\
file \"my \\\"odd\\\" file.aof.3.incr.aof\" seq 3 type i\n";

fn err_of(text: &[u8]) -> ManifestError {
    Manifest::parse(text).unwrap_err()
}

fn info(name: &str, seq: i64, file_type: FileType) -> AofInfo {
    AofInfo {
        name: name.as_bytes().to_vec(),
        seq,
        file_type,
    }
}

#[test]
fn redis_manifest_parses_and_serializes_byte_identical() {
    let m = Manifest::parse(REDIS_MANIFEST).unwrap();
    assert_eq!(
        m.base,
        Some(info("appendonly.aof.1.base.rdb", 1, FileType::Base))
    );
    assert_eq!(
        m.incr,
        vec![info("appendonly.aof.1.incr.aof", 1, FileType::Incr)]
    );
    assert!(m.history.is_empty());
    assert_eq!((m.curr_base_seq, m.curr_incr_seq), (1, 1));
    assert_eq!(m.to_bytes(), REDIS_MANIFEST);

    let q = Manifest::parse(REDIS_QUOTED_MANIFEST).unwrap();
    assert_eq!(
        q.base.as_ref().unwrap().name,
        b"my \"odd\" file.aof.3.base.aof"
    );
    assert_eq!(q.to_bytes(), REDIS_QUOTED_MANIFEST);
}

#[test]
fn keys_in_any_order_any_case_with_comments_and_unknown_keys() {
    let text = b"# a comment\n  TYPE h Seq 7 FILE old.rdb  \r\n\
seq 2 file a.2.incr.aof type i extra x\nfile 'b c' seq 3 type incr\n";
    let m = Manifest::parse(text).unwrap();
    assert_eq!(m.history, vec![info("old.rdb", 7, FileType::History)]);
    assert_eq!(
        m.incr,
        vec![
            info("a.2.incr.aof", 2, FileType::Incr),
            info("b c", 3, FileType::Incr)
        ]
    );
    assert_eq!(m.curr_incr_seq, 3);
    assert_eq!(m.curr_base_seq, 0);
    // Written back in Redis's order and quoting.
    assert_eq!(
        m.to_bytes(),
        b"file old.rdb seq 7 type h\nfile a.2.incr.aof seq 2 type i\nfile \"b c\" seq 3 type i\n"
    );
}

#[test]
fn only_comments_is_an_empty_but_valid_manifest() {
    let m = Manifest::parse(b"# nothing\n").unwrap();
    assert!(m.is_empty());
}

#[test]
fn every_parse_error_has_redis_text_and_line() {
    use ManifestErrorKind::*;
    type Case<'a> = (&'a [u8], ManifestErrorKind, Option<(usize, &'a [u8])>);
    let cases: &[Case] = &[
        (b"", Empty, None),
        (b"file a seq 1 type b", TooLongLine, None),
        (b"file a seq 1 type b\x00\n", TooLongLine, None),
        (b"\n", InvalidFormat, Some((1, b""))),
        (b"# c\n  \t \n", InvalidFormat, Some((2, b""))),
        (b"file a seq 1\n", InvalidFormat, Some((1, b"file a seq 1"))),
        (
            b"file a seq 1 type b x\n",
            InvalidFormat,
            Some((1, b"file a seq 1 type b x")),
        ),
        (
            b"file \"a b seq 1 type b\n",
            InvalidFormat,
            Some((1, b"file \"a b seq 1 type b")),
        ),
        (
            b"file \"a\"b seq 1 type b\n",
            InvalidFormat,
            Some((1, b"file \"a\"b seq 1 type b")),
        ),
        (
            b"file a seq abc type b\n",
            InvalidFormat,
            Some((1, b"file a seq abc type b")),
        ),
        (
            b"file a seq 0 type b\n",
            InvalidFormat,
            Some((1, b"file a seq 0 type b")),
        ),
        (
            b"file a seq 1 type \"\"\n",
            InvalidFormat,
            Some((1, b"file a seq 1 type \"\"")),
        ),
        (
            b"name a seq 1 type b\n",
            InvalidFormat,
            Some((1, b"name a seq 1 type b")),
        ),
        (
            b"file a/b seq 1 type b\n",
            FileIsPath,
            Some((1, b"file a/b seq 1 type b")),
        ),
        (
            b"file a\\b seq 1 type b\n",
            FileIsPath,
            Some((1, b"file a\\b seq 1 type b")),
        ),
        (
            b"file a seq 1 type b\nfile b seq 2 type b\n",
            DuplicateBase,
            Some((2, b"file b seq 2 type b")),
        ),
        (
            b"file a seq 2 type i\nfile b seq 2 type i\n",
            NonMonotonicSeq,
            Some((2, b"file b seq 2 type i")),
        ),
        (
            b"file a seq -1 type i\n",
            NonMonotonicSeq,
            Some((1, b"file a seq -1 type i")),
        ),
        (
            b"file a seq 1 type x\n",
            UnknownType,
            Some((1, b"file a seq 1 type x")),
        ),
    ];
    for (text, kind, line) in cases {
        let e = err_of(text);
        assert_eq!(e.kind, *kind, "{:?}", String::from_utf8_lossy(text));
        assert_eq!(
            e.line.as_ref().map(|(n, l)| (*n, l.as_slice())),
            *line,
            "{:?}",
            String::from_utf8_lossy(text)
        );
    }
    assert_eq!(
        err_of(b"file a seq 1 type x\n").to_string(),
        "Reading the manifest file, at line 1\n>>> 'file a seq 1 type x'\nUnknown AOF file type"
    );
    assert_eq!(err_of(b"").to_string(), "Found an empty AOF manifest");
}

#[test]
fn long_lines_are_cut_at_1024_bytes_like_fgets() {
    // 1023 bytes + newline fits; 1024 + newline does not.
    let mut ok = b"file a seq 1 type b".to_vec();
    ok.resize(1023, b' ');
    ok.push(b'\n');
    assert!(Manifest::parse(&ok).is_ok());
    let mut long = b"file a seq 1 type b".to_vec();
    long.resize(1024, b' ');
    long.push(b'\n');
    assert_eq!(err_of(&long).kind, ManifestErrorKind::TooLongLine);
    // A long comment: its first 1024 bytes are skipped, the rest is read as a line.
    let mut comment = vec![b'#'; 1024];
    comment.extend_from_slice(b" file a seq 1 type b\n");
    let m = Manifest::parse(&comment).unwrap();
    assert_eq!(m.base.unwrap().name, b"a");
}

#[test]
fn seq_is_read_with_atoll() {
    let m = Manifest::parse(b"file a seq 12abc type b\nfile i seq 99999999999999999999 type i\n")
        .unwrap();
    assert_eq!(m.curr_base_seq, 12);
    assert_eq!(m.curr_incr_seq, i64::MAX);
    assert_eq!(atoll(b"  -42x"), -42);
    assert_eq!(atoll(b"-99999999999999999999"), i64::MIN);
    assert_eq!(atoll(b"x1"), 0);
}

#[test]
fn split_args_matches_sdssplitargs() {
    let s = |l: &[u8]| split_args(l);
    assert_eq!(s(b"  a  b "), Some(vec![b"a".to_vec(), b"b".to_vec()]));
    assert_eq!(
        s(b"\"\\x41\\n\\\"\" 'it\\'s' x\"y z\""),
        Some(vec![b"A\n\"".to_vec(), b"it's".to_vec(), b"xy z".to_vec()])
    );
    assert_eq!(s(b"\"\\xZZ\""), Some(vec![b"xZZ".to_vec()]));
    assert_eq!(s(b"\"abc"), None);
    assert_eq!(s(b"'abc"), None);
    assert_eq!(s(b"\"a\"b"), None);
    assert_eq!(s(b""), Some(vec![]));
}

#[test]
fn rewrite_moves_old_base_and_incr_files_to_history_keeping_the_new_incr() {
    let name = DEFAULT_FILE_NAME_FOR_TESTS;
    let mut m = Manifest::parse(REDIS_MANIFEST).unwrap();
    // BGREWRITEAOF with AOF on: a new incr file first...
    let incr = m.start_rewrite(name).clone();
    assert_eq!(incr, info("appendonly.aof.2.incr.aof", 2, FileType::Incr));
    // ...then, when the child is done, the new base.
    let base = m.finish_rewrite(name, BaseFormat::Rdb, true);
    assert_eq!(base, b"appendonly.aof.2.base.rdb");
    assert_eq!(
        m.to_bytes(),
        b"file appendonly.aof.2.base.rdb seq 2 type b\n\
file appendonly.aof.1.incr.aof seq 1 type h\n\
file appendonly.aof.1.base.rdb seq 1 type h\n\
file appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    let hist = m.take_history();
    assert_eq!(hist.len(), 2);
    // What redis-server 7.0.15 left after BGREWRITEAOF on a fresh AOF.
    assert_eq!(
        m.to_bytes(),
        b"file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    // With AOF off every incr file goes.
    let mut off = Manifest::parse(REDIS_MANIFEST).unwrap();
    off.new_incr(name);
    let b = off.finish_rewrite(name, BaseFormat::Aof, false);
    assert_eq!(b, b"appendonly.aof.2.base.aof");
    assert!(off.incr.is_empty());
    assert_eq!(
        off.history.iter().map(|i| i.seq).collect::<Vec<_>>(),
        vec![1, 2, 1]
    );
    assert_eq!(off.curr_incr_seq, 2, "the incr seq never goes back");
}

const DEFAULT_FILE_NAME_FOR_TESTS: &str = super::DEFAULT_FILE_NAME;

#[test]
fn names_are_quoted_when_redis_needs_it_and_a_single_quote_too() {
    let line = |n: &[u8]| {
        let mut out = Vec::new();
        AofInfo {
            name: n.to_vec(),
            seq: 1,
            file_type: FileType::Incr,
        }
        .format_into(&mut out);
        out
    };
    assert_eq!(line(b"plain.aof"), b"file plain.aof seq 1 type i\n");
    assert_eq!(
        line(b"a\tb\x01\xff"),
        b"file \"a\\tb\\x01\\xff\" seq 1 type i\n"
    );
    // Redis 7.0 writes `file it's.aof ...` bare and then refuses it ("Invalid AOF manifest
    // file format"); quoted, both Redis and Tern read it back.
    assert_eq!(line(b"it's.aof"), b"file \"it's.aof\" seq 1 type i\n");
    assert_eq!(
        err_of(b"file it's.aof seq 1 type i\n").kind,
        ManifestErrorKind::InvalidFormat
    );
    let m = Manifest::parse(&line(b"it's.aof")).unwrap();
    assert_eq!(m.incr[0].name, b"it's.aof");
}

#[test]
fn file_names_follow_redis() {
    assert_eq!(manifest_name("appendonly.aof"), "appendonly.aof.manifest");
    assert_eq!(temp_manifest_name("x.aof"), "temp-x.aof.manifest");
    assert_eq!(temp_incr_name("x.aof"), "temp-x.aof.incr");
    assert_eq!(base_name("x.aof", 3, BaseFormat::Rdb), "x.aof.3.base.rdb");
    assert_eq!(base_name("x.aof", 3, BaseFormat::Aof), "x.aof.3.base.aof");
    assert_eq!(incr_name("x.aof", 4), "x.aof.4.incr.aof");
}

#[test]
fn persist_writes_atomically_and_loads_back() {
    let dir = std::env::temp_dir().join(format!("tern-aof-manifest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let m = Manifest::parse(REDIS_QUOTED_MANIFEST).unwrap();
    m.persist(&dir, "appendonly.aof").unwrap();
    assert!(!dir.join("temp-appendonly.aof.manifest").exists());
    let path = dir.join("appendonly.aof.manifest");
    assert_eq!(std::fs::read(&path).unwrap(), REDIS_QUOTED_MANIFEST);
    assert_eq!(Manifest::load(&path).unwrap(), m);
    assert!(matches!(
        Manifest::load(&dir.join("missing")),
        Err(LoadManifestError::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn name_strategy() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>().prop_filter("not a path", |b| !b"/\\\0".contains(b)),
        1..40,
    )
}

proptest! {
    #[test]
    fn any_name_round_trips_through_the_manifest(
        base in proptest::option::of((name_strategy(), 1i64..1000)),
        incr in proptest::collection::vec(name_strategy(), 0..5),
        hist in proptest::collection::vec((name_strategy(), -5i64..1000), 0..3),
    ) {
        let mut m = Manifest::new();
        if let Some((n, s)) = base {
            m.base = Some(AofInfo { name: n, seq: s, file_type: FileType::Base });
            m.curr_base_seq = s;
        }
        for (i, n) in incr.into_iter().enumerate() {
            let seq = i as i64 * 3 + 1;
            m.incr.push(AofInfo { name: n, seq, file_type: FileType::Incr });
            m.curr_incr_seq = seq;
        }
        for (n, s) in hist {
            let s = if s == 0 { 1 } else { s };
            m.history.push(AofInfo { name: n, seq: s, file_type: FileType::History });
        }
        let bytes = m.to_bytes();
        if bytes.is_empty() {
            prop_assert_eq!(Manifest::parse(&bytes).unwrap_err().kind, ManifestErrorKind::Empty);
        } else if bytes.split(|&b| b == b'\n').any(|l| l.len() >= MANIFEST_MAX_LINE) {
            prop_assert!(Manifest::parse(&bytes).is_err());
        } else {
            let back = Manifest::parse(&bytes).unwrap();
            prop_assert_eq!(&back.to_bytes(), &bytes);
            prop_assert_eq!(back, m);
        }
    }

    #[test]
    fn manifest_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Manifest::parse(&bytes);
    }
}

// ---------------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------------

/// The incr file redis-server 7.0.15 wrote for: SET a 1; SET b 2 EX 100; EXPIRE a 50;
/// SET x y (db 2); INCRBYFLOAT f 1.5; MULTI; SET m 1; INCR m; EXEC.
const REDIS_INCR: &[u8] = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n*5\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n$4\r\nPXAT\r\n$13\r\n1796120847220\r\n*3\r\n$9\r\nPEXPIREAT\r\n$1\r\na\r\n$13\r\n1796120797224\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$3\r\nset\r\n$1\r\nx\r\n$1\r\ny\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*4\r\n$3\r\nSET\r\n$1\r\nf\r\n$3\r\n1.5\r\n$7\r\nKEEPTTL\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nm\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$1\r\nm\r\n*1\r\n$4\r\nEXEC\r\n";

fn words(c: &Command) -> Vec<String> {
    c.args
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[test]
fn redis_incr_file_reads_as_its_commands() {
    for mode in [Mode::Load, Mode::Check] {
        let (cmds, r, end) = read_all(REDIS_INCR, mode);
        end.unwrap();
        let w: Vec<Vec<String>> = cmds.iter().map(words).collect();
        assert_eq!(w.len(), 12);
        assert_eq!(w[2], ["SET", "b", "2", "PXAT", "1796120847220"]);
        assert_eq!(w[3], ["PEXPIREAT", "a", "1796120797224"]);
        assert_eq!(w[7], ["SET", "f", "1.5", "KEEPTTL"]);
        assert_eq!(w[11], ["EXEC"]);
        assert_eq!(cmds[0].start, 0);
        assert_eq!(cmds.last().unwrap().end, REDIS_INCR.len() as u64);
        for pair in cmds.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        assert_eq!(r.unfinished_multi(), None);
        assert_eq!(r.valid_up_to(), REDIS_INCR.len() as u64);
        if mode == Mode::Check {
            // redis-check-aof says ok_up_to_line=75 for this file: 74 newlines + 1.
            assert_eq!(r.newlines(), 74);
        }
    }
}

/// Command boundaries of `bytes` (all complete).
fn boundaries(bytes: &[u8]) -> Vec<(u64, u64, bool)> {
    let (cmds, _, end) = read_all(bytes, Mode::Load);
    end.unwrap();
    cmds.iter()
        .map(|c| (c.start, c.end, c.args[0].eq_ignore_ascii_case(b"multi")))
        .collect()
}

#[test]
fn every_prefix_is_clean_or_truncated_at_the_right_offset() {
    let bounds = boundaries(REDIS_INCR);
    let multi = bounds.iter().find(|b| b.2).unwrap();
    let exec_end = bounds.last().unwrap().1;
    for n in 0..=REDIS_INCR.len() {
        let prefix = &REDIS_INCR[..n];
        let n64 = n as u64;
        let last_end = bounds
            .iter()
            .map(|b| b.1)
            .filter(|&e| e <= n64)
            .max()
            .unwrap_or(0);
        let at_boundary = n == 0 || bounds.iter().any(|b| b.1 == n64);
        let in_multi = n64 >= multi.1 && n64 < exec_end;
        // Load mode.
        let (cmds, r, end) = read_all(prefix, Mode::Load);
        assert_eq!(r.valid_up_to(), last_end, "prefix {n}");
        assert_eq!(cmds.last().map_or(0, |c| c.end), last_end);
        if at_boundary {
            assert!(end.is_ok(), "prefix {n}: {end:?}");
        } else {
            assert!(
                matches!(end, Err(ReadError::Truncated { .. })),
                "prefix {n}: {end:?}"
            );
        }
        let open = n64 >= multi.1 && last_end < exec_end;
        assert_eq!(r.unfinished_multi(), open.then_some(multi.0), "prefix {n}");
        // Check mode: the cut is before the MULTI while inside the transaction.
        let (_, r, end) = read_all(prefix, Mode::Check);
        let ok_up_to = if in_multi { multi.0 } else { last_end };
        assert_eq!(r.ok_up_to(), ok_up_to, "prefix {n}");
        assert_eq!(end.is_ok(), at_boundary && !in_multi, "prefix {n}: {end:?}");
        if let Err(e) = end {
            assert!(
                matches!(e, ReadError::Truncated { .. }),
                "prefix {n}: {e:?}"
            );
        }
    }
}

/// A reader that hands out at most `n` bytes per read.
struct Trickle<'a>(&'a [u8], usize);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(buf.len()).min(self.1);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fn read_stream(r: impl Read, mode: Mode) -> (Vec<Item>, Option<String>) {
    let mut rd = AofReader::new(r, mode);
    let mut items = Vec::new();
    loop {
        match rd.next_item() {
            Ok(Some(i)) => items.push(i),
            Ok(None) => return (items, None),
            Err(e) => return (items, Some(e.to_string())),
        }
    }
}

#[test]
fn annotations_are_skipped_and_reported() {
    let mut f = b"#TS:1700000000\r\n".to_vec();
    encode_command(&["SET", "k", "v"], &mut f);
    f.extend_from_slice(b"#TS:1700000001\r\n");
    for mode in [Mode::Load, Mode::Check] {
        let (items, err) = read_stream(&f[..], mode);
        assert_eq!(err, None);
        assert_eq!(items.len(), 3);
        assert!(
            matches!(&items[0], Item::Annotation { line, start: 0, end: 16 } if line == b"#TS:1700000000\r\n")
        );
        let (cmds, r, _) = read_all(&f, mode);
        assert_eq!(cmds.len(), 1);
        // The loader cuts after the last command; redis-check-aof keeps the annotation.
        assert_eq!(r.valid_up_to(), 16 + 27);
        assert_eq!(r.ok_up_to(), f.len() as u64);
    }
}

#[test]
fn corruption_is_reported_at_its_offset() {
    let cases: &[(&[u8], Mode, u64, Problem)] = &[
        (
            b"+OK\r\n",
            Mode::Load,
            0,
            Problem::ExpectedPrefix {
                expected: b'*',
                got: b'+',
            },
        ),
        (b"+OK\r\n", Mode::Check, 0, Problem::FormatError),
        (b"*0\r\n", Mode::Load, 0, Problem::BadArgc(0)),
        (b"*\r\n", Mode::Load, 0, Problem::BadArgc(0)),
        (b"*\0\r\n", Mode::Load, 0, Problem::NulAfterStar),
        (
            b"*1\r\nX3\r\nfoo\r\n",
            Mode::Load,
            4,
            Problem::ExpectedPrefix {
                expected: b'$',
                got: b'X',
            },
        ),
        (b"*1\r\n$-1\r\n", Mode::Load, 4, Problem::BadLength(-1)),
        (b"*1\r\n$-1\r\n", Mode::Check, 4, Problem::BadLength(-1)),
        (
            b"*1\r\n$3\r\nfooXY",
            Mode::Check,
            8,
            Problem::ExpectedNewline { got: *b"XY" },
        ),
        (
            b"*1x\r\n",
            Mode::Check,
            0,
            Problem::ExpectedNewline { got: *b"x\r" },
        ),
        (
            b"*1\r\n$5\r\nMULTI\r\n*1\r\n$5\r\nMULTI\r\n",
            Mode::Check,
            23,
            Problem::UnexpectedMulti,
        ),
        (
            b"*1\r\n$4\r\nEXEC\r\n",
            Mode::Check,
            8,
            Problem::UnexpectedExec,
        ),
    ];
    for (bytes, mode, offset, problem) in cases {
        let (_, _, end) = read_all(bytes, *mode);
        match end {
            Err(ReadError::Corrupt {
                offset: o,
                problem: p,
            }) => {
                assert_eq!(
                    (o, &p),
                    (*offset, problem),
                    "{:?} {mode:?}",
                    String::from_utf8_lossy(bytes)
                );
            }
            other => panic!("{:?} {mode:?}: {other:?}", String::from_utf8_lossy(bytes)),
        }
    }
    // The loader does not look at the two bytes after an argument; redis-check-aof does.
    let (cmds, _, end) = read_all(b"*1\r\n$3\r\nfooXY", Mode::Load);
    end.unwrap();
    assert_eq!(cmds[0].args, vec![b"foo".to_vec()]);
    // redis-check-aof accepts *0; the loader calls it a bad format.
    let (_, _, end) = read_all(b"*0\r\n", Mode::Check);
    end.unwrap();
    // A lone "*" at the end of the file is a short read for the loader.
    let (_, _, end) = read_all(b"*", Mode::Load);
    assert!(matches!(end, Err(ReadError::Truncated { .. })));
}

#[test]
fn reader_counts_offsets_from_its_start_offset() {
    let mut tail = Vec::new();
    encode_command(&["PING"], &mut tail);
    let mut r = AofReader::with_offset(&tail[..], Mode::Load, 1000);
    let c = r.next_command().unwrap().unwrap();
    assert_eq!((c.start, c.end), (1000, 1000 + tail.len() as u64));
    assert!(r.next_command().unwrap().is_none());
    assert!(starts_with_rdb(b"REDIS0010"));
    assert!(!starts_with_rdb(b"*1\r\n"));
    assert!(!starts_with_rdb(b"RED"));
}

#[test]
fn a_large_argument_streams_in() {
    let big = vec![b'x'; 300_000];
    let mut f = Vec::new();
    encode_command(&[&b"SET"[..], b"k", &big], &mut f);
    let (items, err) = read_stream(Trickle(&f, 7000), Mode::Load);
    assert_eq!(err, None);
    let Item::Command(c) = &items[0] else {
        panic!()
    };
    assert_eq!(c.args[2], big);
}

#[test]
fn a_command_with_many_arguments_streams_in_without_quadratic_reparsing() {
    let mut args: Vec<Vec<u8>> = vec![b"RPUSH".to_vec(), b"l".to_vec()];
    args.extend((0..200_000).map(|i: u32| i.to_string().into_bytes()));
    let mut f = Vec::new();
    encode_command(&args, &mut f);
    let t = std::time::Instant::now();
    let (items, err) = read_stream(Trickle(&f, 4096), Mode::Load);
    assert_eq!(err, None);
    let Item::Command(c) = &items[0] else {
        panic!()
    };
    assert_eq!(c.args, args);
    // Re-parsing once per 4 KiB read would take minutes in a debug build.
    assert!(
        t.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        t.elapsed()
    );
}

fn arb_commands() -> impl Strategy<Value = Vec<(Vec<Vec<u8>>, bool)>> {
    let arg = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..20),
        proptest::collection::vec(any::<u8>(), 1000..3000),
        Just(b"MULTI".to_vec()),
        Just(b"\r\n".to_vec()),
    ];
    proptest::collection::vec((proptest::collection::vec(arg, 1..5), any::<bool>()), 0..12)
}

proptest! {
    #[test]
    fn random_commands_round_trip_in_any_chunking(
        cmds in arb_commands(),
        chunk in 1usize..5000,
    ) {
        // Keep MULTI only as an argument, never as a command name, so the check-mode
        // transaction rules don't apply.
        let cmds: Vec<(Vec<Vec<u8>>, bool)> = cmds
            .into_iter()
            .map(|(mut a, ann)| {
                if a[0].eq_ignore_ascii_case(b"multi") || a[0].eq_ignore_ascii_case(b"exec") {
                    a[0] = b"SET".to_vec();
                }
                (a, ann)
            })
            .collect();
        let mut f = Vec::new();
        for (args, ann) in &cmds {
            if *ann {
                f.extend_from_slice(b"#TS:12345\r\n");
            }
            encode_command(args, &mut f);
        }
        for mode in [Mode::Load, Mode::Check] {
            let (items, err) = read_stream(Trickle(&f, chunk), mode);
            prop_assert_eq!(err, None);
            let got: Vec<Vec<Vec<u8>>> = items
                .into_iter()
                .filter_map(|i| match i {
                    Item::Command(c) => Some(c.args),
                    Item::Annotation { .. } => None,
                })
                .collect();
            let want: Vec<Vec<Vec<u8>>> = cmds.iter().map(|c| c.0.clone()).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn any_prefix_or_mutation_never_panics_and_stays_in_bounds(
        cmds in arb_commands(),
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let mut f = Vec::new();
        for (args, ann) in &cmds {
            if *ann {
                f.extend_from_slice(b"#x\n");
            }
            encode_command(args, &mut f);
        }
        if !f.is_empty() {
            for (i, b) in &flips {
                let i = i.index(f.len());
                f[i] = *b;
            }
            let n = cut.index(f.len() + 1);
            f.truncate(n);
        }
        for mode in [Mode::Load, Mode::Check] {
            let (cmds, r, _) = read_all(&f, mode);
            prop_assert!(r.valid_up_to() <= f.len() as u64);
            prop_assert!(r.ok_up_to() <= f.len() as u64);
            if let Some(c) = cmds.last() {
                prop_assert_eq!(c.end, r.valid_up_to());
            }
        }
    }
}
