//! Redis's glob patterns (`stringmatchlen` in util.c), shared by KEYS, SCAN MATCH, CONFIG GET
//! and, later, PSUBSCRIBE.
//!
//! Syntax, byte-oriented:
//! - `*` any run of bytes (possibly empty); consecutive stars count as one.
//! - `?` exactly one byte.
//! - `[abc]` one byte of the set, `[^abc]` one byte not in it, `[a-z]` a range (the ends may
//!   be given in either order), `\x` inside a class a literal `x`. A class missing its `]`
//!   ends with the pattern (`[ab` is the set `a`, `b`); `[]` matches nothing, `[^]` any byte.
//! - `\x` outside a class matches `x` literally; a trailing lone `\` matches a `\`.
//! - any other byte matches itself (ignoring ASCII case in the `nocase` variant).
//!
//! Like Redis, the matcher gives up (no match) when a pattern nests more than 1000 star
//! groups deep, and once the part after a star has failed at every later position it does
//! not retry earlier stars with longer runs, which keeps hostile patterns such as
//! `*a*a*a*a*...b` linear per star instead of exponential.

/// Star groups deeper than this fail to match, as in Redis (a guard against stack exhaustion).
const MAX_NESTING: usize = 1000;

/// True if `s` matches the glob `pattern`, case-sensitively.
pub fn matches(pattern: &[u8], s: &[u8]) -> bool {
    match_impl(pattern, s, false, &mut false, 0)
}

/// True if `s` matches the glob `pattern`, ignoring ASCII case (CONFIG GET).
pub fn matches_nocase(pattern: &[u8], s: &[u8]) -> bool {
    match_impl(pattern, s, true, &mut false, 0)
}

#[inline]
fn fold(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

/// Matches `s` against `pat`. `give_up` is set when a star's tail failed at every position:
/// no earlier star can then succeed by consuming more, so every caller returns at once.
fn match_impl(pat: &[u8], s: &[u8], nocase: bool, give_up: &mut bool, depth: usize) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    let (mut p, mut i) = (0usize, 0usize);
    while p < pat.len() && i < s.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                let rest = &pat[p + 1..];
                while i < s.len() {
                    if match_impl(rest, &s[i..], nocase, give_up, depth + 1) {
                        return true;
                    }
                    if *give_up {
                        return false;
                    }
                    i += 1;
                }
                *give_up = true;
                return false;
            }
            b'?' => i += 1,
            b'[' => {
                let (hit, end) = class(pat, p + 1, s[i], nocase);
                if !hit {
                    return false;
                }
                // `end` is the index of the closing `]`, or the last byte of the pattern.
                p = end;
                i += 1;
            }
            c => {
                let lit = if c == b'\\' && p + 1 < pat.len() {
                    p += 1;
                    pat[p]
                } else {
                    c
                };
                if fold(lit, nocase) != fold(s[i], nocase) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
        if i == s.len() {
            while p < pat.len() && pat[p] == b'*' {
                p += 1;
            }
        }
    }
    p == pat.len() && i == s.len()
}

/// Evaluates the class starting at `start` (just after `[`) against byte `c`. Returns whether
/// it matched and the index the class ends on (its `]`, or the pattern's last byte when the
/// class is not closed).
fn class(pat: &[u8], start: usize, c: u8, nocase: bool) -> (bool, usize) {
    let mut p = start;
    let negate = pat.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let raw = c;
    let c = fold(c, nocase);
    let mut hit = false;
    loop {
        if p >= pat.len() {
            // Unterminated: the class runs to the end of the pattern.
            p = pat.len() - 1;
            break;
        }
        let b = pat[p];
        if b == b'\\' && p + 1 < pat.len() {
            p += 1;
            // Escaped bytes compare exactly, even in the nocase variant (as in Redis).
            if pat[p] == raw {
                hit = true;
            }
        } else if b == b']' {
            break;
        } else if p + 2 < pat.len() && pat[p + 1] == b'-' {
            // Ends are ordered before case folding, as Redis does.
            let (lo, hi) = (b.min(pat[p + 2]), b.max(pat[p + 2]));
            if (fold(lo, nocase)..=fold(hi, nocase)).contains(&c) {
                hit = true;
            }
            p += 2;
        } else if fold(b, nocase) == c {
            hit = true;
        }
        p += 1;
    }
    (hit != negate, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        matches(p.as_bytes(), s.as_bytes())
    }

    #[test]
    fn literals_and_question_marks() {
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(!m("a", ""));
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abd"));
        assert!(!m("abc", "ab"));
        assert!(!m("ab", "abc"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("???", "xyz"));
        assert!(!m("?", ""));
        assert!(!m("A", "a"));
    }

    #[test]
    fn stars() {
        // As in Redis, a pattern only matches the empty string if it is empty: the loop that
        // consumes stars never runs without input (KEYS and SCAN special-case a lone `*`).
        assert!(!m("*", ""));
        assert!(!m("**", ""));
        assert!(m("*", "anything"));
        assert!(m("a*", "a"));
        assert!(m("a*", "abc"));
        assert!(m("a**", "a"));
        assert!(m("*c", "abc"));
        assert!(!m("*c", "abd"));
        assert!(m("a*c", "ac"));
        assert!(m("a*c", "abbbc"));
        assert!(!m("a*c", "abbbd"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b*", "xxbxxaxx"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("*?", "a"));
        assert!(!m("*?", ""));
        assert!(m("user:*:name", "user:1000:name"));
        assert!(!m("user:*:name", "user:1000:names"));
        assert!(m("*.*", "a.b.c"));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(!m("h[a-b]llo", "hcllo"));
        // Reversed ranges work like forward ones.
        assert!(m("[z-a]", "q"));
        assert!(m("[0-9][0-9]", "42"));
        assert!(!m("[0-9]", "a"));
        // `-` first is literal; `a-]` is a range up to `]`, leaving the class unterminated.
        assert!(m("[-a]", "-"));
        assert!(m("[a-]", "]"));
        assert!(m("[a-]", "_"));
        assert!(!m("[a-]", "-"));
        // Escapes inside a class.
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(!m("[\\-]", "a"));
        assert!(m("[a\\]b]", "b"));
        // Empty class matches nothing; `[^]` anything.
        assert!(!m("[]", "a"));
        assert!(!m("[]a]", "]"));
        assert!(!m("[]a]", "]a]"));
        assert!(m("[^]", "x"));
        // Unterminated classes run to the end of the pattern.
        assert!(m("[abc", "a"));
        assert!(m("[abc", "c"));
        assert!(!m("[abc", "d"));
        assert!(!m("[abc", "ab"));
        assert!(!m("x[", "x"));
        assert!(!m("x[", "xa"));
        assert!(!m("[", ""));
        assert!(!m("[", "a"));
        assert!(m("[^", "a"));
        assert!(m("[a-", "a"));
        assert!(m("[a-", "-"));
        // A range needs a byte after the dash.
        assert!(m("[a-c]x", "bx"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
        assert!(m("\\?", "?"));
        assert!(!m("\\?", "a"));
        assert!(m("a\\[b", "a[b"));
        assert!(m("\\\\", "\\"));
        // A trailing backslash matches itself.
        assert!(m("a\\", "a\\"));
        assert!(!m("a\\", "a"));
        assert!(m("\\a", "a"));
    }

    #[test]
    fn binary_safe() {
        assert!(matches(b"a\0*", b"a\0zz"));
        assert!(matches(b"[\x00-\x10]", b"\x05"));
        assert!(matches(b"?", &[0xff]));
        assert!(!matches(b"a\0", b"a"));
    }

    #[test]
    fn nocase() {
        assert!(matches_nocase(b"MAXMEMORY*", b"maxmemory-policy"));
        assert!(matches_nocase(b"[A-C]x", b"bX"));
        assert!(matches_nocase(b"[^A]", b"b"));
        assert!(!matches_nocase(b"[^A]", b"a"));
        assert!(!matches(b"[A-C]", b"b"));
        // Escaped class members compare exactly; mixed-case ranges are ordered first.
        assert!(!matches_nocase(b"[\\A]", b"a"));
        assert!(matches_nocase(b"[\\A]", b"A"));
        assert!(!matches_nocase(b"[a-Z]", b"m"));
    }

    #[test]
    fn hostile_patterns_finish_quickly() {
        let s = "a".repeat(5000);
        let p = format!("{}b", "*a".repeat(50));
        let t = std::time::Instant::now();
        assert!(!m(&p, &s));
        assert!(t.elapsed().as_secs() < 2);
        // More than 1000 nested stars give up, as in Redis.
        let deep = "a*".repeat(1100);
        assert!(!m(&deep, &"a".repeat(1100)));
        let ok = "a*".repeat(900);
        assert!(m(&ok, &"a".repeat(900)));
    }

    /// A straightforward exponential matcher, used as an oracle for the real one, with
    /// Redis's one quirk: empty input only matches the empty pattern.
    fn oracle(p: &[u8], s: &[u8]) -> bool {
        (p.is_empty() || !s.is_empty()) && naive(p, s)
    }

    fn naive(p: &[u8], s: &[u8]) -> bool {
        if p.is_empty() {
            return s.is_empty();
        }
        match p[0] {
            b'*' => (0..=s.len()).any(|k| naive(&p[1..], &s[k..])),
            b'?' => !s.is_empty() && naive(&p[1..], &s[1..]),
            b'\\' if p.len() >= 2 => !s.is_empty() && s[0] == p[1] && naive(&p[2..], &s[1..]),
            c => !s.is_empty() && s[0] == c && naive(&p[1..], &s[1..]),
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_a_naive_matcher_without_classes(
            p in "[ab*?\\\\]{0,8}",
            s in "[ab*?\\\\]{0,8}",
        ) {
            proptest::prop_assert_eq!(matches(p.as_bytes(), s.as_bytes()), oracle(p.as_bytes(), s.as_bytes()));
        }

        #[test]
        fn never_panics(p in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20),
                        s in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20)) {
            let _ = matches(&p, &s);
            let _ = matches_nocase(&p, &s);
        }
    }
}
