//! Directive values: parsing arguments into a [`Value`] with Redis's error
//! texts, formatting a value for CONFIG GET, and the lines CONFIG REWRITE
//! writes for it.

use std::path::{Path, PathBuf};

use crate::table::{Directive, Kind};
use crate::text::{
    bare_or_repr, format_memory, parse_i64_lenient, parse_i64_strict, parse_memory, repr, strerror,
};
use crate::{notify, OutputBufferLimit};

/// The current value of one directive.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    /// `Int`, `Octal` and `MemoryOrPercent` (a negative number is a percentage).
    Int(i64),
    Mem(u64),
    /// Index of the canonical name in the enum's list.
    Enum(usize),
    /// Bit `i - 1` set for the `i`-th name of a `Flags` list.
    Flags(u32),
    /// `None` is "unset" for strings where empty means unset.
    Str(Option<Vec<u8>>),
    Save(Vec<(u64, u64)>),
    Bind(Vec<Vec<u8>>),
    /// Limits for the normal, replica and pubsub classes.
    Obuf([OutputBufferLimit; 3]),
    Notify(u32),
    ReplicaOf(Option<(Vec<u8>, u16)>),
    Oom([i32; 3]),
    Percentiles(Vec<f64>),
}

/// What CONFIG REWRITE does for one directive.
pub(crate) enum Rewrite {
    /// Write nothing, and blank the directive's old lines.
    Remove,
    /// Write these lines; `true` marks a line that must be appended when the
    /// file has no old line left to reuse (the value differs from the default).
    Lines(Vec<(String, bool)>),
}

const WRONG_ARGS: &str = "wrong number of arguments";
const CLASS_NAMES: [&str; 3] = ["normal", "slave", "pubsub"];
const MAX_BIND_ADDRESSES: usize = 16;

fn one(args: &[Vec<u8>]) -> Result<&[u8], String> {
    match args {
        [arg] => Ok(arg),
        _ => Err(WRONG_ARGS.to_string()),
    }
}

/// The name an `Enum` list entry is written as, and the index of the entry it
/// stands for (`alias=name` entries stand for `name`).
fn enum_entry(list: &[&'static str], i: usize) -> (&'static str, usize) {
    let entry = list[i];
    match entry.split_once('=') {
        Some((alias, target)) => (alias, list.iter().position(|e| *e == target).unwrap_or(i)),
        None => (entry, i),
    }
}

fn enum_error(list: &[&'static str]) -> String {
    let names: Vec<&str> = (0..list.len()).map(|i| enum_entry(list, i).0).collect();
    format!(
        "argument(s) must be one of the following: {}",
        names.join(", ")
    )
}

fn enum_lookup(list: &[&'static str], arg: &[u8]) -> Option<usize> {
    (0..list.len()).find_map(|i| {
        let (name, target) = enum_entry(list, i);
        name.as_bytes().eq_ignore_ascii_case(arg).then_some(target)
    })
}

/// Canonical name of an enum value.
pub(crate) fn enum_name(list: &[&'static str], index: usize) -> &'static str {
    enum_entry(list, index).0
}

fn range_error(min: impl std::fmt::Display, max: impl std::fmt::Display) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

fn parse_octal(s: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(s).ok()?;
    let (neg, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if body.is_empty() || !body.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let v = i64::from_str_radix(body, 8).ok()?;
    Some(if neg { -v } else { v })
}

fn parse_f64(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with(char::is_whitespace) {
        return None;
    }
    let v: f64 = text.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

/// Parses a directive's arguments into a value. `current` is the value being
/// replaced (client-output-buffer-limit only changes the classes it names).
pub(crate) fn parse(kind: Kind, args: &[Vec<u8>], current: &Value) -> Result<Value, String> {
    match kind {
        Kind::Bool => {
            let arg = one(args)?;
            if arg.eq_ignore_ascii_case(b"yes") {
                Ok(Value::Bool(true))
            } else if arg.eq_ignore_ascii_case(b"no") {
                Ok(Value::Bool(false))
            } else {
                Err("argument must be 'yes' or 'no'".to_string())
            }
        }
        Kind::Int { min, max } => {
            let v = parse_i64_strict(one(args)?)
                .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
            if v < min || v > max {
                return Err(range_error(min, max));
            }
            Ok(Value::Int(v))
        }
        Kind::Memory { min, max } => {
            let v = parse_memory(one(args)?)
                .ok_or_else(|| "argument must be a memory value".to_string())?;
            if v < min || v > max {
                return Err(range_error(min, max));
            }
            Ok(Value::Mem(v))
        }
        Kind::MemoryOrPercent { max_percent, max } => {
            let arg = one(args)?;
            if let Some(v) = parse_memory(arg) {
                if v > max {
                    return Err(range_error(-max_percent, max));
                }
                return Ok(Value::Int(v as i64));
            }
            let percent = arg
                .strip_suffix(b"%")
                .filter(|n| !n.is_empty())
                .and_then(parse_i64_strict)
                .filter(|n| *n >= 0)
                .ok_or_else(|| "argument must be a memory or percent value".to_string())?;
            if percent > max_percent {
                return Err(format!(
                    "percentage argument must be less or equal to {max_percent}"
                ));
            }
            Ok(Value::Int(-percent))
        }
        Kind::Octal { max } => {
            let v = parse_octal(one(args)?)
                .ok_or_else(|| "argument couldn't be parsed as an octal number".to_string())?;
            if !(0..=max).contains(&v) {
                return Err(format!(
                    "argument must be between {:o} and {:o} inclusive",
                    0, max
                ));
            }
            Ok(Value::Int(v))
        }
        Kind::Enum(list) => {
            let arg = one(args)?;
            enum_lookup(list, arg)
                .map(Value::Enum)
                .ok_or_else(|| enum_error(list))
        }
        Kind::Flags(list) => {
            if args.is_empty() {
                return Err(enum_error(list));
            }
            let mut bits = 0u32;
            for arg in args {
                let i = enum_lookup(list, arg).ok_or_else(|| enum_error(list))?;
                if i > 0 {
                    bits |= 1 << (i - 1);
                }
            }
            let bit_of = |name: &str| {
                list.iter()
                    .position(|n| *n == name)
                    .map(|i| 1u32 << (i - 1))
            };
            if let (Some(save), Some(nosave)) = (bit_of("save"), bit_of("nosave")) {
                if bits & save != 0 && bits & nosave != 0 {
                    return Err(
                        "shutdown options SAVE and NOSAVE can't be used simultaneously".to_string(),
                    );
                }
            }
            Ok(Value::Flags(bits))
        }
        Kind::Str {
            null_if_empty,
            check,
        } => {
            let arg = one(args)?;
            if let Some(check) = check {
                check(arg).map_err(str::to_string)?;
            }
            if null_if_empty && arg.is_empty() {
                Ok(Value::Str(None))
            } else {
                Ok(Value::Str(Some(arg.to_vec())))
            }
        }
        Kind::Dir => {
            let arg = one(args)?;
            // Stored absolute, as a `chdir` would pin it.
            let abs = std::fs::canonicalize(path_from_bytes(arg)).map_err(|e| strerror(&e))?;
            if !abs.is_dir() {
                return Err("Not a directory".to_string());
            }
            Ok(Value::Str(Some(path_to_bytes(&abs))))
        }
        Kind::Save => {
            let args: &[Vec<u8>] = if args.len() == 1 && args[0].is_empty() {
                &[]
            } else {
                args
            };
            const BAD: &str = "Invalid save parameters";
            if args.len() & 1 != 0 {
                return Err(BAD.to_string());
            }
            let mut params = Vec::with_capacity(args.len() / 2);
            for pair in args.chunks(2) {
                let seconds = parse_i64_lenient(&pair[0]).filter(|s| *s >= 1);
                let changes = parse_i64_lenient(&pair[1]).filter(|c| *c >= 0);
                match (seconds, changes) {
                    (Some(s), Some(c)) => params.push((s as u64, c as u64)),
                    _ => return Err(BAD.to_string()),
                }
            }
            Ok(Value::Save(params))
        }
        Kind::Bind => {
            if args.len() > MAX_BIND_ADDRESSES {
                return Err("Too many bind addresses specified.".to_string());
            }
            if args.len() == 1 && args[0].is_empty() {
                return Ok(Value::Bind(Vec::new()));
            }
            Ok(Value::Bind(args.to_vec()))
        }
        Kind::ClientOutputBufferLimit => {
            if args.len() & 3 != 0 {
                return Err("Wrong number of arguments in buffer limit configuration.".to_string());
            }
            let mut limits = match current {
                Value::Obuf(l) => *l,
                _ => [OutputBufferLimit::default(); 3],
            };
            for group in args.chunks(4) {
                let class = match group[0].to_ascii_lowercase().as_slice() {
                    b"normal" => 0,
                    b"slave" | b"replica" => 1,
                    b"pubsub" => 2,
                    _ => {
                        return Err(
                            "Invalid client class specified in buffer limit configuration."
                                .to_string(),
                        )
                    }
                };
                let hard = parse_memory(&group[1]);
                let soft = parse_memory(&group[2]);
                let seconds = parse_i64_lenient(&group[3]).filter(|s| *s >= 0);
                match (hard, soft, seconds) {
                    (Some(hard), Some(soft), Some(seconds)) => {
                        limits[class] = OutputBufferLimit {
                            hard,
                            soft,
                            soft_seconds: seconds as u64,
                        }
                    }
                    _ => {
                        return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string())
                    }
                }
            }
            Ok(Value::Obuf(limits))
        }
        Kind::NotifyKeyspaceEvents => notify::parse(one(args)?)
            .map(Value::Notify)
            .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string()),
        Kind::ReplicaOf => {
            let [host, port] = args else {
                return Err(WRONG_ARGS.to_string());
            };
            if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
                return Ok(Value::ReplicaOf(None));
            }
            let port = parse_i64_lenient(port)
                .filter(|p| (0..=65535).contains(p))
                .ok_or_else(|| "Invalid master port".to_string())?;
            Ok(Value::ReplicaOf(Some((host.clone(), port as u16))))
        }
        Kind::OomScoreAdjValues => {
            if args.len() != 3 {
                return Err(WRONG_ARGS.to_string());
            }
            let mut values = [0i32; 3];
            for (slot, arg) in values.iter_mut().zip(args) {
                *slot = parse_i64_lenient(arg)
                    .filter(|v| (-2000..=2000).contains(v))
                    .ok_or_else(|| {
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
                            .to_string()
                    })? as i32;
            }
            Ok(Value::Oom(values))
        }
        Kind::Percentiles => {
            if args.len() == 1 && args[0].is_empty() {
                return Ok(Value::Percentiles(Vec::new()));
            }
            let mut out = Vec::with_capacity(args.len());
            for arg in args {
                let p = parse_f64(arg).ok_or_else(|| {
                    "Invalid latency-tracking-info-percentiles parameters".to_string()
                })?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(
                        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                            .to_string(),
                    );
                }
                out.push(p);
            }
            Ok(Value::Percentiles(out))
        }
    }
}

/// Turns raw bytes into a path (bytes that are not UTF-8 are kept on Unix).
pub(crate) fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
    }
}

fn path_to_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy().into_owned().into_bytes()
    }
}

/// The absolute form of the `dir` value, as CONFIG GET and REWRITE show it.
pub(crate) fn absolute_dir(raw: &[u8]) -> Vec<u8> {
    match std::fs::canonicalize(path_from_bytes(raw)) {
        Ok(abs) => path_to_bytes(&abs),
        Err(_) => raw.to_vec(),
    }
}

fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Formats a value as CONFIG GET returns it.
pub(crate) fn format(kind: Kind, value: &Value) -> Vec<u8> {
    match (kind, value) {
        (Kind::Octal { .. }, Value::Int(v)) => format!("{v:o}").into_bytes(),
        (_, Value::Int(v)) if *v < 0 && matches!(kind, Kind::MemoryOrPercent { .. }) => {
            format!("{}%", -v).into_bytes()
        }
        (_, Value::Int(v)) => v.to_string().into_bytes(),
        (_, Value::Bool(b)) => if *b { "yes" } else { "no" }.as_bytes().to_vec(),
        (_, Value::Mem(v)) => v.to_string().into_bytes(),
        (Kind::Enum(list), Value::Enum(i)) => enum_name(list, *i).as_bytes().to_vec(),
        (Kind::Flags(list), Value::Flags(bits)) => flags_names(list, *bits).into_bytes(),
        (Kind::Dir, Value::Str(Some(raw))) => absolute_dir(raw),
        (_, Value::Str(s)) => s.clone().unwrap_or_default(),
        (_, Value::Save(params)) => join(params.iter().flat_map(|(s, c)| [*s, *c])).into_bytes(),
        (_, Value::Bind(addrs)) => addrs.join(&b' '),
        (_, Value::Obuf(limits)) => join(
            limits
                .iter()
                .zip(CLASS_NAMES)
                .map(|(l, name)| format!("{name} {} {} {}", l.hard, l.soft, l.soft_seconds)),
        )
        .into_bytes(),
        (_, Value::Notify(bits)) => notify::format(*bits).into_bytes(),
        (_, Value::ReplicaOf(None)) => Vec::new(),
        (_, Value::ReplicaOf(Some((host, port)))) => {
            let mut out = host.clone();
            out.extend_from_slice(format!(" {port}").as_bytes());
            out
        }
        (_, Value::Oom(values)) => join(values).into_bytes(),
        (_, Value::Percentiles(ps)) => join(ps).into_bytes(),
        (_, Value::Enum(i)) => i.to_string().into_bytes(),
        (_, Value::Flags(bits)) => bits.to_string().into_bytes(),
    }
}

fn flags_names(list: &[&'static str], bits: u32) -> String {
    if bits == 0 {
        return list[0].to_string();
    }
    join(
        (1..list.len())
            .filter(|i| bits & (1 << (i - 1)) != 0)
            .map(|i| list[i]),
    )
}

/// The lines CONFIG REWRITE writes for `row` holding `value`.
pub(crate) fn rewrite(row: &Directive, value: &Value, default: &Value) -> Rewrite {
    let name = row.name;
    let differs = value != default;
    let line = |text: String| Rewrite::Lines(vec![(format!("{name} {text}"), differs)]);
    match (row.kind, value) {
        (Kind::Octal { .. }, Value::Int(v)) => line(format!("{v:o}")),
        (Kind::MemoryOrPercent { .. }, Value::Int(v)) if *v < 0 => line(format!("{}%", -v)),
        (Kind::MemoryOrPercent { .. }, Value::Int(v)) => line(format_memory(*v as u64)),
        (_, Value::Int(v)) => line(v.to_string()),
        (_, Value::Bool(b)) => line(if *b { "yes" } else { "no" }.to_string()),
        (_, Value::Mem(v)) => line(format_memory(*v)),
        (Kind::Enum(list), Value::Enum(i)) => line(enum_name(list, *i).to_string()),
        (Kind::Flags(list), Value::Flags(bits)) => line(flags_names(list, *bits)),
        (Kind::Dir, Value::Str(Some(raw))) => {
            Rewrite::Lines(vec![(format!("{name} {}", repr(&absolute_dir(raw))), true)])
        }
        (_, Value::Str(None)) => Rewrite::Remove,
        (_, Value::Str(Some(s))) => line(repr(s)),
        (_, Value::Save(params)) if params.is_empty() => {
            Rewrite::Lines(vec![(format!("{name} \"\""), true)])
        }
        (_, Value::Save(params)) => Rewrite::Lines(
            params
                .iter()
                .map(|(s, c)| (format!("{name} {s} {c}"), true))
                .collect(),
        ),
        (_, Value::Bind(_)) if !differs => Rewrite::Remove,
        (_, Value::Bind(addrs)) if addrs.is_empty() => {
            Rewrite::Lines(vec![(format!("{name} \"\""), true)])
        }
        (_, Value::Bind(addrs)) => Rewrite::Lines(vec![(
            format!("{name} {}", join(addrs.iter().map(|a| bare_or_repr(a)))),
            true,
        )]),
        (_, Value::Obuf(limits)) => {
            let defaults = match default {
                Value::Obuf(d) => *d,
                _ => [OutputBufferLimit::default(); 3],
            };
            Rewrite::Lines(
                limits
                    .iter()
                    .zip(defaults)
                    .zip(["normal", "replica", "pubsub"])
                    .map(|((l, d), class)| {
                        (
                            format!(
                                "{name} {class} {} {} {}",
                                format_memory(l.hard),
                                format_memory(l.soft),
                                l.soft_seconds
                            ),
                            *l != d,
                        )
                    })
                    .collect(),
            )
        }
        (_, Value::Notify(bits)) => Rewrite::Lines(vec![(
            format!("{name} {}", repr(notify::format(*bits).as_bytes())),
            *bits != 0,
        )]),
        (_, Value::ReplicaOf(None)) => Rewrite::Remove,
        (_, Value::ReplicaOf(Some((host, port)))) => Rewrite::Lines(vec![(
            format!("{name} {} {port}", bare_or_repr(host)),
            true,
        )]),
        (_, Value::Oom(values)) => line(join(values)),
        (_, Value::Percentiles(ps)) if ps.is_empty() => {
            Rewrite::Lines(vec![(format!("{name} \"\""), true)])
        }
        (_, Value::Percentiles(ps)) => Rewrite::Lines(vec![(format!("{name} {}", join(ps)), true)]),
        (_, Value::Enum(i)) => line(i.to_string()),
        (_, Value::Flags(bits)) => line(bits.to_string()),
    }
}
