use super::*;
use proptest::prelude::*;

fn args(p: &RequestParser, buf: &[u8]) -> Vec<Vec<u8>> {
    (0..p.request.len())
        .map(|i| p.request.arg(buf, i).to_vec())
        .collect()
}

fn parse_all(buf: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ParseError> {
    let mut p = RequestParser::new();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        match p.parse(&buf[pos..], &RequestLimits::default())? {
            Parsed::Complete(n) => {
                out.push(args(&p, &buf[pos..]));
                pos += n;
            }
            Parsed::Incomplete { .. } => break,
        }
    }
    Ok(out)
}

#[test]
fn multibulk_request_parses_to_its_arguments() {
    let got = parse_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n").unwrap();
    assert_eq!(
        got,
        vec![vec![b"SET".to_vec(), b"k".to_vec(), b"".to_vec()]]
    );
}

#[test]
fn pipelined_requests_parse_one_after_another() {
    let one = b"*1\r\n$4\r\nPING\r\n";
    let buf: Vec<u8> = one.iter().copied().cycle().take(one.len() * 100).collect();
    assert_eq!(parse_all(&buf).unwrap().len(), 100);
}

#[test]
fn a_request_split_at_every_byte_is_incomplete_until_whole() {
    let whole = b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n";
    let mut p = RequestParser::new();
    for cut in 0..whole.len() {
        let r = p.parse(&whole[..cut], &RequestLimits::default()).unwrap();
        assert!(
            matches!(r, Parsed::Incomplete { .. }),
            "cut at {cut}: {r:?}"
        );
    }
    assert_eq!(
        p.parse(whole, &RequestLimits::default()).unwrap(),
        Parsed::Complete(whole.len())
    );
}

#[test]
fn inline_requests_split_on_spaces_and_honour_quotes() {
    assert_eq!(
        parse_all(b"SET k  v\r\n").unwrap(),
        vec![vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]]
    );
    assert_eq!(parse_all(b"PING\n").unwrap(), vec![vec![b"PING".to_vec()]]);
    assert_eq!(
        parse_all(b"SET \"a b\" 'c\\'d' \"\\x41\\n\"\r\n").unwrap(),
        vec![vec![
            b"SET".to_vec(),
            b"a b".to_vec(),
            b"c'd".to_vec(),
            b"A\n".to_vec()
        ]]
    );
    assert_eq!(parse_all(b"\r\n").unwrap(), vec![Vec::<Vec<u8>>::new()]);
}

#[test]
fn protocol_errors_carry_redis_texts() {
    let e = |b: &[u8]| parse_all(b).unwrap_err().to_string();
    assert_eq!(e(b"*abc\r\n"), "Protocol error: invalid multibulk length");
    assert_eq!(
        e(b"*3000000000\r\n"),
        "Protocol error: invalid multibulk length"
    );
    assert_eq!(e(b"*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
    assert_eq!(
        e(b"*1\r\n$999999999999\r\n"),
        "Protocol error: invalid bulk length"
    );
    assert_eq!(e(b"*1\r\nfoo\r\n"), "Protocol error: expected '$', got 'f'");
    assert_eq!(
        e(b"SET \"a\r\n"),
        "Protocol error: unbalanced quotes in request"
    );
    assert_eq!(
        e(&vec![b'a'; INLINE_MAX_SIZE + 1]),
        "Protocol error: too big inline request"
    );
    let mut big = b"*".to_vec();
    big.extend(vec![b'1'; INLINE_MAX_SIZE + 1]);
    assert_eq!(e(&big), "Protocol error: too big mbulk count string");
}

#[test]
fn bulk_length_limit_is_configurable() {
    let mut p = RequestParser::new();
    let limits = RequestLimits {
        max_bulk_len: 4,
        unauthenticated: false,
    };
    assert!(p.parse(b"*1\r\n$4\r\nPING\r\n", &limits).is_ok());
    assert_eq!(
        p.parse(b"*1\r\n$5\r\nHELLO\r\n", &limits),
        Err(ParseError::InvalidBulkLength)
    );
}

#[test]
fn unauthenticated_clients_get_stricter_limits() {
    let mut p = RequestParser::new();
    let limits = RequestLimits {
        unauthenticated: true,
        ..Default::default()
    };
    assert_eq!(
        p.parse(b"*11\r\n", &limits),
        Err(ParseError::UnauthenticatedMultibulk)
    );
    assert_eq!(
        p.parse(b"*1\r\n$16385\r\n", &limits),
        Err(ParseError::UnauthenticatedBulk)
    );
}

#[test]
fn huge_declared_lengths_do_not_allocate() {
    let mut p = RequestParser::new();
    let r = p
        .parse(b"*2147483647\r\n$536870912\r\n", &RequestLimits::default())
        .unwrap();
    assert_eq!(
        r,
        Parsed::Incomplete {
            hint: 13 + 12 + 536870912 + 2
        }
    );
    assert!(p.request.ranges.capacity() <= 1024);
}

#[test]
fn string2ll_rules() {
    assert_eq!(parse_i64(b"0"), Some(0));
    assert_eq!(parse_i64(b"-5"), Some(-5));
    assert_eq!(parse_i64(b"007"), None);
    assert_eq!(parse_i64(b"-0"), None);
    assert_eq!(parse_i64(b"+5"), None);
    assert_eq!(parse_i64(b""), None);
    assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    assert_eq!(parse_i64(b"9223372036854775808"), None);
}

fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend(format!("${}\r\n", a.len()).bytes());
        out.extend(a);
        out.extend(b"\r\n");
    }
    out
}

proptest! {
    #[test]
    fn any_encoded_pipeline_parses_back(reqs in proptest::collection::vec(
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..6), 1..10)) {
        let mut buf = Vec::new();
        for r in &reqs { buf.extend(encode(r)); }
        prop_assert_eq!(parse_all(&buf).unwrap(), reqs);
    }

    #[test]
    fn garbage_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_all(&buf);
    }
}

proptest! {
    /// What `encode_command` writes parses back to the same arguments.
    #[test]
    fn encoded_commands_parse_back(argv in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..40), 1..8)) {
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        let mut buf = Vec::new();
        encode_command(&mut buf, &refs);
        prop_assert_eq!(parse_all(&buf).unwrap(), vec![argv.clone()]);
    }
}
