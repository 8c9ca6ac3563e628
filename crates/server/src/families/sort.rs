//! SORT and SORT_RO (Redis's sort.c): sorting lists, sets and sorted sets numerically or
//! lexicographically, by their own values or by external keys (`BY weight_*`, `BY h_*->f`),
//! fetching external keys (`GET #`, `GET data_*`), LIMIT, and STORE into a list.
//!
//! Replies follow Redis 7.0 exactly, including its quirks: numeric sorting parses with
//! `strtod` rules (leading spaces allowed, the empty string is 0), ties are broken by
//! comparing the elements as byte strings, `BY` without `*` means "don't sort", and a set
//! sorted into a STORE destination is always sorted (alphabetically) so replicas agree.
//!
//! Propagated form: SORT ... STORE is propagated as sent (it is deterministic given the
//! data set, as in Redis). With several shards, the keys read by BY and GET patterns are each
//! read under their own shard's lock, not under one lock for the whole command.

use crate::args::is;
use crate::ctx::Ctx;
use crate::errors::{CmdError, CmdResult, NOT_INTEGER, SYNTAX, WRONG_TYPE};
use crate::table::{flags::*, CommandTable, Group, Spec};
use std::cmp::Ordering;
use tern_keyspace::{Entry, Value};

/// Registers SORT and SORT_RO.
pub fn register(t: &mut CommandTable) {
    t.add(
        Spec::new("sort", -2, WRITE | DENYOOM | MOVABLE_KEYS)
            .group(Group::Generic)
            .keys(1, 1, 1)
            .acl(&["@set", "@sortedset", "@list", "@dangerous"])
            .doc(
                "1.0.0",
                "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
            )
            .handler(sort),
    );
    t.add(
        Spec::new("sort_ro", -2, READONLY | MOVABLE_KEYS)
            .group(Group::Generic)
            .keys(1, 1, 1)
            .acl(&["@set", "@sortedset", "@list", "@dangerous"])
            .doc(
                "7.0.0",
                "Returns the sorted elements of a list, a set, or a sorted set.",
            )
            .handler(sort_ro),
    );
}

/// The parsed options.
struct Opts<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    by: Option<&'a [u8]>,
    dontsort: bool,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

/// `full_keys`: the user may read every key; BY and GET patterns name keys that ACL rules
/// cannot check in advance, so Redis refuses them otherwise.
fn parse<'a>(args: &[&'a [u8]], readonly: bool, full_keys: bool) -> Result<Opts<'a>, CmdError> {
    let mut o = Opts {
        desc: false,
        alpha: false,
        limit: None,
        by: None,
        dontsort: false,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args[j];
        if is(a, "asc") {
            o.desc = false;
        } else if is(a, "desc") {
            o.desc = true;
        } else if is(a, "alpha") {
            o.alpha = true;
        } else if is(a, "limit") && left >= 2 {
            let start = tern_resp::request::parse_i64(args[j + 1]).ok_or(NOT_INTEGER)?;
            let count = tern_resp::request::parse_i64(args[j + 2]).ok_or(NOT_INTEGER)?;
            o.limit = Some((start, count));
            j += 2;
        } else if is(a, "store") && left >= 1 && !readonly {
            o.store = Some(args[j + 1]);
            j += 1;
        } else if is(a, "by") && left >= 1 {
            o.by = Some(args[j + 1]);
            o.dontsort = !args[j + 1].contains(&b'*');
            if !o.dontsort && !full_keys {
                return Err(
                    "ERR BY option of SORT denied due to insufficient ACL permissions.".into(),
                );
            }
            j += 1;
        } else if is(a, "get") && left >= 1 {
            if !full_keys {
                return Err(
                    "ERR GET option of SORT denied due to insufficient ACL permissions.".into(),
                );
            }
            o.gets.push(args[j + 1]);
            j += 1;
        } else {
            return Err(SYNTAX.into());
        }
        j += 1;
    }
    Ok(o)
}

fn sort(cx: &mut Ctx) -> CmdResult {
    sort_generic(cx, false)
}

fn sort_ro(cx: &mut Ctx) -> CmdResult {
    sort_generic(cx, true)
}

/// What kind of value is being sorted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// Parses a sort weight as Redis does with C's `strtod`: leading whitespace allowed, nothing
/// after the number, no ERANGE (overflow or underflow), no NaN; the empty string is 0.
fn strtod_weight(b: &[u8]) -> Option<f64> {
    let (v, used, erange) = crate::args::strtod(b);
    if used != b.len() || erange || v.is_nan() {
        return None;
    }
    Some(v)
}

/// Looks up what a BY/GET pattern names for element `elem`: `#` is the element itself;
/// otherwise the first `*` is replaced by the element, and `key->field` reads a hash field.
/// A pattern without `*`, a missing key or a key of the wrong type gives None.
fn lookup_pattern(cx: &Ctx, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let after = &pattern[star + 1..];
    let (post, field) = match after.windows(2).position(|w| w == b"->") {
        Some(i) if i + 2 < after.len() => (&after[..i], Some(&after[i + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(post);
    let db = cx.db();
    let (mut lk, h) = cx.lock_key(&key);
    let e: &mut Entry = lk.lookup(db, h, &key, cx.now_ms)?;
    match (&e.value, field) {
        (Value::Str(s), None) => Some(s.to_vec()),
        (Value::Hash(hash), Some(f)) => hash.get_field(f),
        _ => None,
    }
}

/// One element being sorted and its sort key.
struct Item {
    elem: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

fn sort_generic(cx: &mut Ctx, readonly: bool) -> CmdResult {
    let full_keys = cx.cl.acl_all || cx.cl.user.reads_every_key(cx.spec, cx.args);
    let mut o = parse(cx.args, readonly, full_keys)?;
    let key = cx.arg(1);
    let db = cx.db();
    // Load the elements (a missing key sorts as an empty list).
    let (kind, mut elems) = {
        let (mut lk, h) = cx.lock_key(key);
        match lk.lookup(db, h, key, cx.now_ms).map(|e| &e.value) {
            None => (Kind::List, Vec::new()),
            Some(Value::List(l)) => {
                let mut v = Vec::with_capacity(l.len());
                l.for_each(|e| v.push(e.to_vec()));
                (Kind::List, v)
            }
            Some(Value::Set(s)) => {
                let mut v = Vec::with_capacity(s.len());
                s.for_each(|e| v.push(e.to_vec()));
                (Kind::Set, v)
            }
            Some(Value::ZSet(z)) => {
                let mut v = Vec::with_capacity(z.len());
                z.for_each(|e, _| v.push(e.to_vec()));
                (Kind::ZSet, v)
            }
            Some(_) => return Err(WRONG_TYPE.into()),
        }
    };
    // A set's order is arbitrary: when storing it unsorted (BY without `*`), sort it
    // alphabetically so that replicas get the same list.
    if kind == Kind::Set && o.store.is_some() && o.dontsort {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = elems.len() as i64;
    let (lstart, lcount) = o.limit.unwrap_or((0, -1));
    let mut start = lstart.max(0);
    let mut end = if lcount < 0 {
        len - 1
    } else {
        start + lcount - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    if o.dontsort && kind != Kind::Set && o.desc {
        // Lists and sorted sets keep their order, reversed for DESC.
        elems.reverse();
    }
    let mut items: Vec<Item> = elems
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            cmp: None,
        })
        .collect();
    if !o.dontsort {
        let by = o.by;
        let mut conversion_error = false;
        for it in &mut items {
            let byval = match by {
                Some(p) => match lookup_pattern(cx, p, &it.elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.elem.clone(),
            };
            if o.alpha {
                if by.is_some() {
                    it.cmp = Some(byval);
                }
            } else {
                match strtod_weight(&byval) {
                    Some(s) => it.score = s,
                    None => conversion_error = true,
                }
            }
        }
        if conversion_error {
            return Err("ERR One or more scores can't be converted into double".into());
        }
        let (alpha, bypattern, desc) = (o.alpha, by.is_some(), o.desc);
        items.sort_by(|a, b| {
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.elem.cmp(&b.elem))
            } else if bypattern {
                match (&a.cmp, &b.cmp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.elem.cmp(&b.elem)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    let range: &[Item] = if start <= end && end >= 0 {
        &items[start as usize..=end as usize]
    } else {
        &[]
    };
    // The output: each element, or what each GET pattern names for it.
    let mut out: Vec<Option<Vec<u8>>> = Vec::new();
    for it in range {
        if o.gets.is_empty() {
            out.push(Some(it.elem.clone()));
        }
        for g in &o.gets {
            out.push(lookup_pattern(cx, g, &it.elem));
        }
    }
    match o.store {
        None => {
            cx.out.array(out.len());
            for v in &out {
                match v {
                    Some(b) => cx.out.bulk(b),
                    None => cx.out.null(),
                }
            }
        }
        Some(dst) => {
            let n = out.len();
            let (mut lk, h) = cx.lock_key(dst);
            if n > 0 {
                let mut list = tern_keyspace::List::new(cx.limits().list_max_listpack_size);
                for v in &out {
                    list.push_back(v.as_deref().unwrap_or(b""));
                }
                lk.db(db).remove(h, dst);
                lk.db(db).insert(h, dst, Entry::new(Value::List(list)));
                cx.propagate(&mut lk, cx.args);
            } else if lk.db(db).remove(h, dst).is_some() {
                cx.propagate(&mut lk, cx.args);
            }
            cx.out.int(n as i64);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_parse_like_strtod() {
        assert_eq!(strtod_weight(b"1.5"), Some(1.5));
        assert_eq!(strtod_weight(b" 5"), Some(5.0));
        assert_eq!(strtod_weight(b""), Some(0.0));
        assert_eq!(strtod_weight(b"5 "), None);
        assert_eq!(strtod_weight(b"x"), None);
        assert_eq!(strtod_weight(b"nan"), None);
        assert_eq!(strtod_weight(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(strtod_weight(b"1e400"), None);
        assert_eq!(strtod_weight(b"1e-400"), None);
        assert_eq!(strtod_weight(b"0e5"), Some(0.0));
        assert_eq!(strtod_weight(b"   "), None);
    }

    #[test]
    fn options_parse_in_redis_order() {
        let p = |s: &str, ro| {
            let v: Vec<&[u8]> = s.split(' ').map(|a| a.as_bytes()).collect();
            parse(&v, ro, true).map(|o| {
                (
                    o.desc,
                    o.alpha,
                    o.limit,
                    o.dontsort,
                    o.gets.len(),
                    o.store.is_some(),
                )
            })
        };
        assert_eq!(
            p("SORT k", false).unwrap(),
            (false, false, None, false, 0, false)
        );
        assert_eq!(
            p(
                "SORT k BY nosort DESC ALPHA LIMIT 1 2 GET # GET x_* STORE d",
                false
            )
            .unwrap(),
            (true, true, Some((1, 2)), true, 2, true)
        );
        assert!(!p("SORT k BY w_* ASC", false).unwrap().3);
        assert!(p("SORT k STORE d", true).is_err());
        assert!(p("SORT k LIMIT 0", false).is_err());
        assert!(
            matches!(p("SORT k LIMIT a 1", false), Err(CmdError::Static(e)) if e == NOT_INTEGER)
        );
        assert!(p("SORT k GET", false).is_err());
    }
}
