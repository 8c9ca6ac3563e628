//! Redis's conversions between RESP replies and Lua values (script_lua.c
//! `redisProtocolToLuaType` and `luaReplyToRedisReply`).
//!
//! RESP -> Lua (what `redis.call` returns; done on the Lua stack by `call.rs`): integer -> number, bulk -> string, null -> false
//! (RESP2) or nil (RESP3), status -> `{ok=...}`, error -> `{err=...}`, array -> table; after
//! `redis.setresp(3)` also map -> `{map={...}}`, set -> `{set={k=true}}`, double ->
//! `{double=n}`, boolean -> boolean, big number -> `{big_number=s}`, verbatim ->
//! `{verbatim_string={format=..., string=...}}`.
//!
//! Lua -> RESP (what a script returns): number -> integer (truncated as C does), string ->
//! bulk, true -> 1 and false -> null (RESP2 scripts) or booleans (RESP3 scripts), table with
//! `err`/`ok`/`double`/`big_number`/`map`/`set`/`verbatim_string` -> that reply, other tables
//! -> array up to the first nil, anything else -> null.

use mlua::{Lua, Table, Value};
use tern_resp::ReplyWriter;

/// Deepest table nesting converted; deeper (or self-referencing) tables become an error.
const MAX_DEPTH: usize = 200;

/// A Lua number as Redis turns it into an integer: C's `(long long)` cast on x86, where
/// anything out of range (and NaN) becomes `i64::MIN`.
pub fn number_to_int(n: f64) -> i64 {
    if n.is_finite() && n > -9.223_372_036_854_775e18 && n < 9.223_372_036_854_775e18 {
        n as i64
    } else {
        i64::MIN
    }
}

/// The text Redis stores in an `{err=...}` table for an error string (`luaPushErrorBuff`):
/// "-CODE msg" keeps its code, a bare "msg" gets "ERR", and trailing CR/LF are trimmed.
pub fn error_text(s: &str) -> String {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (code, msg) = if s.starts_with('-') {
        match body.find(' ') {
            Some(i) => (&body[..i], &body[i + 1..]),
            None => ("ERR", body),
        }
    } else {
        ("ERR", body)
    };
    format!("{code} {}", msg.trim_matches(|c| c == '\r' || c == '\n'))
}

/// An `{err=...}` table.
pub fn error_table(lua: &Lua, text: &str) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", text)?;
    Ok(t)
}

/// Writes a script's return value as a reply. `resp3` is the *script's* protocol (after
/// `redis.setresp(3)`), which decides how booleans are written; the reply itself is in the
/// caller's protocol (`out.proto`).
pub fn lua_to_reply(v: &Value, out: &mut ReplyWriter, resp3: bool) {
    write_value(v, out, resp3, 0)
}

fn write_value(v: &Value, out: &mut ReplyWriter, resp3: bool, depth: usize) {
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if resp3 {
                out.boolean(*b);
            } else if *b {
                out.int(1);
            } else {
                out.null();
            }
        }
        Value::Integer(n) => out.int(*n),
        Value::Number(n) => out.int(number_to_int(*n)),
        Value::Table(t) => {
            if depth >= MAX_DEPTH {
                out.error("ERR reached lua stack limit");
                return;
            }
            write_table(t, out, resp3, depth)
        }
        _ => out.null(),
    }
}

fn write_table(t: &Table, out: &mut ReplyWriter, resp3: bool, depth: usize) {
    let field = |name: &str| t.raw_get::<Value>(name).unwrap_or(Value::Nil);
    if let Value::String(e) = field("err") {
        out.error(&e.to_string_lossy());
        return;
    }
    if let Value::String(s) = field("ok") {
        out.simple_bytes(&s.as_bytes());
        return;
    }
    match field("double") {
        Value::Number(d) => return out.double(d),
        Value::Integer(d) => return out.double(d as f64),
        _ => {}
    }
    if let Value::String(s) = field("big_number") {
        // RESP3 `(`; written as a bulk string in RESP2, as Redis does.
        if out.resp3() {
            out.raw(b"(");
            out.raw(&s.as_bytes());
            out.raw(b"\r\n");
        } else {
            out.bulk(&s.as_bytes());
        }
        return;
    }
    if let Value::Table(m) = field("map") {
        let pairs: Vec<(Value, Value)> = m.pairs::<Value, Value>().filter_map(|p| p.ok()).collect();
        out.map(pairs.len());
        for (k, v) in &pairs {
            write_value(k, out, resp3, depth + 1);
            write_value(v, out, resp3, depth + 1);
        }
        return;
    }
    if let Value::Table(s) = field("set") {
        let keys: Vec<Value> = s
            .pairs::<Value, Value>()
            .filter_map(|p| p.ok().map(|p| p.0))
            .collect();
        out.set(keys.len());
        for k in &keys {
            write_value(k, out, resp3, depth + 1);
        }
        return;
    }
    if let Value::Table(vs) = field("verbatim_string") {
        let format: String = vs.raw_get("format").unwrap_or_else(|_| "txt".into());
        let text: mlua::String = match vs.raw_get("string") {
            Ok(s) => s,
            Err(_) => return out.null(),
        };
        out.verbatim(&format, &text.as_bytes());
        return;
    }
    // An array: elements 1, 2, ... up to the first nil.
    let mut items = Vec::new();
    loop {
        match t.raw_get::<Value>(items.len() + 1) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for v in &items {
        write_value(v, out, resp3, depth + 1);
    }
}
