//! `redis.call` and `redis.pcall` (script_lua.c's `luaRedisGenericCommand`), written against
//! Lua's C API.
//!
//! They are the inner loop of every script, so they avoid what a Rust callback through mlua
//! costs per call: the arguments are read straight off the Lua stack (strings are borrowed,
//! not copied), the command's reply is written into a buffer kept between calls, and the
//! reply is converted by pushing values onto the stack. The conversions are Redis's
//! (`redisProtocolToLuaType`); see `convert.rs` for the other direction.
//!
//! Lua errors unwind with `longjmp`, which must not skip Rust values that own memory: the work
//! happens in [`call`], which has returned (dropping everything) before [`generic`] raises the
//! error. Inside it only memory errors could unwind (Lua's allocator failing; no memory limit
//! is set on the scripting state), as in mlua's own callbacks.

use super::engine::RunCtx;
use super::{convert, Busy};
use crate::table::{arity_ok, find_sub, flags};
use mlua::ffi;
use std::ffi::{c_int, c_void};
use std::sync::atomic::Ordering;
use tern_resp::{Frame, ReplyWriter};

/// Creates `redis.call` (`pcall` false) or `redis.pcall`: a C closure whose upvalues point at
/// the engine's run context and busy state, which the engine keeps alive with its Lua state.
pub(super) fn create(
    lua: &mlua::Lua,
    ctx: *const RunCtx,
    busy: *const Busy,
    pcall: bool,
) -> mlua::Result<mlua::Function> {
    let f: ffi::lua_CFunction = if pcall { redis_pcall } else { redis_call };
    // SAFETY: the closure pushes three values and leaves one, the function.
    unsafe {
        lua.exec_raw((), |state| {
            ffi::lua_pushlightuserdata(state, ctx as *mut c_void);
            ffi::lua_pushlightuserdata(state, busy as *mut c_void);
            ffi::lua_pushcclosure(state, f, 2);
        })
    }
}

/// What a command that panicked replies (the panic itself goes to the server's log).
pub(super) const INTERNAL_ERROR: &str = "ERR internal error (a bug in tern, see the server log)";

unsafe extern "C-unwind" fn redis_call(state: *mut ffi::lua_State) -> c_int {
    generic(state, false)
}

unsafe extern "C-unwind" fn redis_pcall(state: *mut ffi::lua_State) -> c_int {
    generic(state, true)
}

/// Runs the command; on an error pushes `{err=...}` and raises it (`redis.call`) or returns
/// it (`redis.pcall`). A panic in the command (a bug) is caught here, as mlua catches its
/// callbacks' panics, so it never unwinds through Lua's C frames: the script gets an error.
unsafe fn generic(state: *mut ffi::lua_State, pcall: bool) -> c_int {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(state)))
        .unwrap_or_else(|_| Err(INTERNAL_ERROR.to_string()));
    match result {
        Ok(n) => n,
        Err(text) => {
            push_error_table(state, text.as_bytes());
            drop(text);
            if pcall {
                1
            } else {
                // Nothing owning memory is alive in this frame any more.
                ffi::lua_error(state)
            }
        }
    }
}

/// Runs the command named by the arguments on the stack and pushes its converted reply.
/// Returns the number of results, or the text of the error to raise.
unsafe fn call(state: *mut ffi::lua_State) -> Result<c_int, String> {
    // SAFETY: `create` set these upvalues to the engine's context and busy state, which live
    // as long as the Lua state that calls this function.
    let ctx = &*(ffi::lua_touserdata(state, ffi::lua_upvalueindex(1)) as *const RunCtx);
    let busy = &*(ffi::lua_touserdata(state, ffi::lua_upvalueindex(2)) as *const Busy);
    let Some((srv, cl, job)) = ctx.get() else {
        return Err("ERR redis.call can only be called inside a script".into());
    };
    let fail = |msg: &str| Err(format!("ERR {msg}"));
    let n = ffi::lua_gettop(state);
    if n == 0 {
        return fail("Please specify at least one argument for this redis lib call");
    }
    // Numbers become strings as Redis 7.0 writes them (`%.17g`, where Lua's own conversion
    // would give 14 digits); they replace the argument in this function's stack frame.
    ffi::luaL_checkstack(state, 2, std::ptr::null());
    for i in 1..=n {
        match ffi::lua_type(state, i) {
            ffi::LUA_TSTRING => {}
            ffi::LUA_TNUMBER => {
                let s = tern_resp::reply::format_g(ffi::lua_tonumber(state, i), 17);
                ffi::lua_pushlstring(state, s.as_ptr().cast(), s.len());
                ffi::lua_replace(state, i);
            }
            _ => return fail("Lua redis lib command arguments must be strings or integers"),
        }
    }
    let mut args: smallvec::SmallVec<[&[u8]; 8]> = smallvec::SmallVec::with_capacity(n as usize);
    for i in 1..=n {
        let mut len = 0usize;
        let p = ffi::lua_tolstring(state, i, &mut len);
        // SAFETY: the strings are on this function's stack, so Lua keeps them alive (and in
        // place) until it returns; nothing below runs Lua code.
        args.push(std::slice::from_raw_parts(p.cast::<u8>(), len));
    }
    let Some(mut spec) = srv.table.get(args[0]) else {
        return fail("Unknown Redis command called from script");
    };
    if !spec.subcommands.is_empty() && args.len() >= 2 {
        if let Some(sub) = find_sub(spec, args[1]) {
            spec = sub;
        }
    }
    if spec.handler.is_some() && !arity_ok(spec.arity, args.len()) {
        return fail("Wrong number of args calling Redis command from script");
    }
    if spec.has(flags::NOSCRIPT) {
        return fail("This Redis command is not allowed from script");
    }
    if let Some(user) = &job.user {
        if let Err(d) = user.check(spec, &args) {
            if let Some((info, cmd)) = &job.caller {
                let object = match d {
                    crate::acl::Denied::Command => spec.name.as_bytes(),
                    crate::acl::Denied::Key(i) | crate::acl::Denied::Channel(i) => args[i],
                };
                let cur = crate::families::client::Current {
                    db: job.db,
                    cmd: srv.table.name_of(*cmd).unwrap_or("eval"),
                    argv_mem: 0,
                };
                crate::acl::log_event_for(
                    srv,
                    info,
                    &cur,
                    d.reason(),
                    "lua",
                    object,
                    &user.name,
                    job.now_ms,
                );
            }
            return Err(d.script_error().to_string());
        }
    }
    if spec.has(flags::WRITE) {
        if job.readonly {
            return fail("Write commands are not allowed from read-only scripts.");
        }
        // From here on the script cannot be killed (its effects would be half applied).
        busy.wrote.store(true, Ordering::Release);
    }
    let resp3 = ctx.resp3.get();
    let mut w = ReplyWriter::new();
    w.buf = ctx.reply.take();
    w.buf.clear();
    if resp3 {
        w.proto = tern_resp::Proto::Resp3;
    }
    crate::dispatch::execute(srv, cl, &mut w, &args, job.now_ms);
    let r = push_reply(state, &w.buf, resp3);
    ctx.reply.set(w.buf);
    r.map(|()| 1)
}

/// Pushes the Lua value for a reply, or returns the error text of an error reply. The common
/// replies (integer, bulk string, null, status) are converted without decoding a [`Frame`].
unsafe fn push_reply(state: *mut ffi::lua_State, reply: &[u8], resp3: bool) -> Result<(), String> {
    ffi::luaL_checkstack(state, 4, std::ptr::null());
    let head = reply
        .iter()
        .position(|&b| b == b'\r')
        .map_or(&[][..], |end| &reply[1.min(end)..end]);
    match reply.first() {
        Some(b':') => {
            if let Some(n) = tern_resp::request::parse_i64(head) {
                ffi::lua_pushnumber(state, n as f64);
                return Ok(());
            }
        }
        Some(b'$') => match tern_resp::request::parse_i64(head) {
            Some(-1) => {
                push_null(state, resp3);
                return Ok(());
            }
            Some(len) if len >= 0 => {
                let start = 1 + head.len() + 2;
                if let Some(data) = reply.get(start..start + len as usize) {
                    push_bytes(state, data);
                    return Ok(());
                }
            }
            _ => {}
        },
        Some(b'+') => {
            push_wrapped(state, c"ok", |state| push_bytes(state, head));
            return Ok(());
        }
        Some(b'_') => {
            push_null(state, resp3);
            return Ok(());
        }
        _ => {}
    }
    match Frame::decode(reply) {
        Ok((Frame::Error(e), _)) => Err(convert::error_text(&format!("-{e}"))),
        Ok((f, _)) => {
            push_frame(state, f, resp3);
            Ok(())
        }
        Err(_) => {
            ffi::lua_pushnil(state);
            Ok(())
        }
    }
}

/// A null: false in RESP2, nil after `redis.setresp(3)`.
unsafe fn push_null(state: *mut ffi::lua_State, nil: bool) {
    if nil {
        ffi::lua_pushnil(state);
    } else {
        ffi::lua_pushboolean(state, 0);
    }
}

/// Pushes a decoded reply as Redis converts it. `nil_nulls` (RESP3 scripts) makes nulls nil
/// at the top and inside arrays; inside maps, sets and pushes they stay false, as Redis's
/// conversion does.
unsafe fn push_frame(state: *mut ffi::lua_State, f: Frame, nil_nulls: bool) {
    ffi::luaL_checkstack(state, 4, std::ptr::null());
    match f {
        Frame::Simple(s) => push_wrapped(state, c"ok", |state| push_bytes(state, s.as_bytes())),
        Frame::Error(e) => {
            let text = convert::error_text(&format!("-{e}"));
            push_error_table(state, text.as_bytes());
        }
        Frame::Integer(n) => ffi::lua_pushnumber(state, n as f64),
        Frame::Bulk(b) => push_bytes(state, &b),
        Frame::Null => push_null(state, nil_nulls),
        Frame::Array(items) => push_array(state, items, nil_nulls),
        Frame::Push(items) => push_array(state, items, false),
        Frame::Map(pairs) => push_wrapped(state, c"map", |state| {
            ffi::lua_createtable(state, 0, pairs.len().min(1 << 24) as c_int);
            for (k, v) in pairs {
                push_frame(state, k, false);
                push_frame(state, v, false);
                ffi::lua_rawset(state, -3);
            }
        }),
        Frame::Set(items) => push_wrapped(state, c"set", |state| {
            ffi::lua_createtable(state, 0, items.len().min(1 << 24) as c_int);
            for item in items {
                push_frame(state, item, false);
                ffi::lua_pushboolean(state, 1);
                ffi::lua_rawset(state, -3);
            }
        }),
        Frame::Double(d) => push_wrapped(state, c"double", |state| ffi::lua_pushnumber(state, d)),
        Frame::Boolean(b) => ffi::lua_pushboolean(state, b as c_int),
        Frame::BigNumber(s) => push_wrapped(state, c"big_number", |state| {
            push_bytes(state, s.as_bytes())
        }),
        Frame::Verbatim(format, text) => push_wrapped(state, c"verbatim_string", |state| {
            ffi::lua_createtable(state, 0, 2);
            ffi::lua_pushstring(state, c"format".as_ptr());
            push_bytes(state, format.as_bytes());
            ffi::lua_rawset(state, -3);
            ffi::lua_pushstring(state, c"string".as_ptr());
            push_bytes(state, &text);
            ffi::lua_rawset(state, -3);
        }),
    }
}

/// Pushes `{name = <what push_value pushes>}`.
unsafe fn push_wrapped(
    state: *mut ffi::lua_State,
    name: &std::ffi::CStr,
    push_value: impl FnOnce(*mut ffi::lua_State),
) {
    ffi::lua_createtable(state, 0, 1);
    ffi::lua_pushstring(state, name.as_ptr());
    push_value(state);
    ffi::lua_rawset(state, -3);
}

/// Pushes an array reply's table: elements 1..n (a nil element leaves a hole).
unsafe fn push_array(state: *mut ffi::lua_State, items: Vec<Frame>, nil_nulls: bool) {
    ffi::lua_createtable(state, items.len().min(1 << 24) as c_int, 0);
    for (i, item) in items.into_iter().enumerate() {
        push_frame(state, item, nil_nulls);
        ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
    }
}

/// Pushes `{err = text}`.
unsafe fn push_error_table(state: *mut ffi::lua_State, text: &[u8]) {
    push_wrapped(state, c"err", |state| push_bytes(state, text));
}

unsafe fn push_bytes(state: *mut ffi::lua_State, b: &[u8]) {
    ffi::lua_pushlstring(state, b.as_ptr().cast(), b.len());
}
