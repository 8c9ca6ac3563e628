//! The Lua engine: one Lua 5.1 state with Redis's script environment (the `redis` and `cjson`
//! libraries, protected globals), its compiled-function cache, and the script client that
//! `redis.call` runs commands as.
//!
//! Library functions written in Rust return `(ok, value)` pairs and thin Lua wrappers raise the
//! errors, so errors carry Lua's usual `user_script:<line>:` position and `redis.call` raises
//! `{err=...}` tables as Redis does. A message handler (`xpcall`) turns any error into an
//! `{err=..., source=..., line=...}` table, the line being the innermost frame of user code;
//! the reply is then "<err> script: <sha>, on @user_script:<line>." as in Redis 7.0.

use super::{cjson, convert, Busy, Job};
use crate::ctx::Client;
use crate::server::Server;
use crate::table::{arity_ok, find_sub, flags};
use mlua::{
    ChunkMode, Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, Variadic,
    VmState,
};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tern_resp::{Frame, ReplyWriter};

/// The chunk name of every script: errors read `user_script:<line>: ...` as in Redis.
const CHUNK_NAME: &str = "@user_script";
/// Instructions between two checks for SCRIPT KILL (Redis uses the same count).
const HOOK_EVERY: u32 = 100_000;

/// The Lua side of the environment. Runs once per state with the private table as argument.
const PRELUDE: &str = r#"
local priv = ...
local dbg, error, type, tostring, xpcall, pcall, setmetatable =
    debug, error, type, tostring, xpcall, pcall, setmetatable
local G = _G

-- call, pcall and setresp are set by the engine for each run (they see the running script).
local redis = {}
priv.redis = redis
redis.sha1hex = priv.sha1hex
redis.log = priv.log
redis.set_repl = priv.set_repl
redis.error_reply = priv.error_reply
redis.status_reply = priv.status_reply
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL =
    0, 1, 2, 2, 3
redis.REDIS_VERSION = priv.version
redis.REDIS_VERSION_NUM = priv.version_num

local cjson = {
  encode = priv.json_encode,
  decode = priv.json_decode,
  null = priv.json_null,
}

-- Errors raised by the Rust functions arrive as userdata; turn them into what Redis raises:
-- a {err=...} table for redis.call, an "ERR "-less message string otherwise.
local function lua_error(e)
  if type(e) == 'userdata' then
    local is_table, text = priv.errinfo(e)
    if is_table then return {err = text} end
    return text
  end
  return e
end

-- The message handler: every error becomes {err=..., source=..., line=...}, the position
-- being the innermost frame of the user's script.
local function handler(err)
  local at
  local level = 2
  while true do
    local i = dbg.getinfo(level, 'Sl')
    if not i then break end
    if i.source == '@user_script' then at = i break end
    level = level + 1
  end
  err = lua_error(err)
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if at then
    err.source = at.source
    err.line = at.currentline
  end
  return err
end
priv.run = function(f) return xpcall(f, handler) end

-- pcall as Redis 7.0 defines it: an error table comes back as its `err` string.
local function fix(ok, ...)
  if ok then return ok, ... end
  local e = lua_error((...))
  if type(e) == 'table' and type(e.err) == 'string' then e = e.err end
  return false, e
end
G.pcall = function(f, ...) return fix(pcall(f, ...)) end

-- Read-only views of the libraries, so a script cannot change them for the next one.
local function readonly(t)
  return setmetatable({}, {
    __index = t,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
    __metatable = false,
  })
end
G.redis = readonly(redis)
G.cjson = readonly(cjson)
G.dofile, G.loadfile, G.print, G.debug = nil, nil, nil, nil
G.getfenv, G.setfenv, G.newproxy = nil, nil, nil

-- Globals are protected as in Redis 7: reading an unknown global and creating (or changing)
-- any global are errors. Scripts run with `priv.env` as their environment.
setmetatable(G, {
  __index = function(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __metatable = false,
})
priv.env = setmetatable({}, {
  __index = G,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __metatable = false,
})
"#;

thread_local! {
    /// A bare Lua state used to check that a script compiles (EVAL, SCRIPT LOAD) on threads
    /// that do not run scripts.
    static CHECKER: Lua = Lua::new_with(StdLib::NONE, LuaOptions::new()).expect("a Lua state");
}

/// Checks that `body` compiles; the error is Redis's "Error compiling script" reply.
pub fn compile_check(body: &[u8]) -> Result<(), String> {
    CHECKER.with(|lua| {
        lua.load(body)
            .set_name(CHUNK_NAME)
            .set_mode(ChunkMode::Text)
            .into_function()
            .map(|_| ())
            .map_err(|e| compile_error(&e))
    })
}

fn compile_error(e: &mlua::Error) -> String {
    let msg = match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    format!("ERR Error compiling script (new function): {msg}")
}

/// One Lua state and what goes with it.
pub struct Engine {
    lua: Lua,
    /// Compiled scripts by SHA1.
    funcs: HashMap<String, Function>,
    /// `Scripts::epoch` when `funcs` was last valid.
    epoch: u64,
    /// The private table the Lua wrappers call into.
    private: Table,
    /// The scripts' environment (protected globals).
    env: Table,
    /// The real globals (KEYS and ARGV are set there).
    globals: Table,
    /// The script client: `redis.call` runs commands as this client.
    pub cl: Client,
    /// The line a killed script was at.
    killed_line: Arc<AtomicI64>,
    busy: Arc<Busy>,
}

impl Engine {
    /// A fresh state for `srv`'s scripts.
    pub fn new(srv: &Server) -> Engine {
        // SAFETY: the debug library is loaded for the message handler only; the prelude
        // removes it from the globals before any script runs.
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::new(),
            )
        };
        let private = lua.create_table().expect("table");
        install_library(&lua, &private).expect("the scripting library installs");
        lua.load(PRELUDE)
            .set_name("=tern_prelude")
            .call::<()>(private.clone())
            .expect("the prelude runs");
        let env: Table = private.raw_get("env").expect("prelude sets env");
        let globals = lua.globals();
        let busy = srv.scripts.busy.clone();
        let killed_line = Arc::new(AtomicI64::new(0));
        {
            let busy = busy.clone();
            let killed_line = killed_line.clone();
            lua.set_hook(
                HookTriggers::new().every_nth_instruction(HOOK_EVERY),
                move |_lua, dbg| {
                    if busy.kill.load(Ordering::Acquire) {
                        killed_line.store(dbg.curr_line() as i64, Ordering::Relaxed);
                        return Err(mlua::Error::runtime(
                            "Script killed by user with SCRIPT KILL...",
                        ));
                    }
                    Ok(VmState::Continue)
                },
            );
        }
        // Redis's Lua client: not a connection, not in CLIENT LIST, shown as "lua" by MONITOR.
        let info = srv.clients.register("lua".into(), String::new(), -1);
        srv.clients.unregister(info.id);
        let stats = srv.stats.new_worker(srv.table.ids());
        let cl = Client::new(info, stats, true);
        Engine {
            lua,
            funcs: HashMap::new(),
            epoch: srv.scripts.epoch.load(Ordering::Acquire),
            private,
            env,
            globals,
            cl,
            killed_line,
            busy,
        }
    }

    /// Runs `job` and writes its reply (or error) to `out`. The caller holds the keyspace.
    pub fn run(&mut self, srv: &Server, job: &Job, out: &mut ReplyWriter) {
        let epoch = srv.scripts.epoch.load(Ordering::Acquire);
        if epoch != self.epoch {
            self.funcs.clear();
            self.epoch = epoch;
        }
        let f = match self.funcs.get(&job.sha) {
            Some(f) => f.clone(),
            None => {
                let compiled = self
                    .lua
                    .load(&job.body[..])
                    .set_name(CHUNK_NAME)
                    .set_mode(ChunkMode::Text)
                    .set_environment(self.env.clone())
                    .into_function();
                match compiled {
                    Ok(f) => {
                        self.funcs.insert(job.sha.clone(), f.clone());
                        f
                    }
                    Err(e) => return out.error(&compile_error(&e)),
                }
            }
        };
        if let Err(e) = self.set_keys_argv(job) {
            return out.error(&format!("ERR {e}"));
        }
        let resp3 = Cell::new(false);
        let Engine {
            lua,
            private,
            cl,
            busy,
            ..
        } = self;
        let redis: Table = match private.raw_get("redis") {
            Ok(t) => t,
            Err(e) => return out.error(&format!("ERR {e}")),
        };
        // redis.call, redis.pcall and redis.setresp borrow this run's client and state, so
        // they are scoped to the run.
        let cl = std::cell::RefCell::new(cl);
        let result = lua.scope(|scope| {
            let call = scope.create_function(|lua, args: Variadic<Value>| {
                let mut cl = cl.borrow_mut();
                match run_command(lua, srv, &mut cl, job, busy, resp3.get(), args)? {
                    Ok(v) => Ok(v),
                    Err(text) => Err(raise(true, text)),
                }
            })?;
            let pcall = scope.create_function(|lua, args: Variadic<Value>| {
                let mut cl = cl.borrow_mut();
                match run_command(lua, srv, &mut cl, job, busy, resp3.get(), args)? {
                    Ok(v) => Ok(v),
                    Err(text) => Ok(Value::Table(convert::error_table(lua, &text)?)),
                }
            })?;
            let setresp = scope.create_function(|_, args: Variadic<Value>| {
                match (args.len(), args.first()) {
                    (1, Some(Value::Integer(2))) => resp3.set(false),
                    (1, Some(Value::Integer(3))) => resp3.set(true),
                    (1, _) => return Err(raise(true, "ERR RESP version must be 2 or 3.".into())),
                    _ => {
                        return Err(raise(
                            true,
                            "ERR redis.setresp() requires one argument.".into(),
                        ))
                    }
                }
                Ok(())
            })?;
            redis.raw_set("call", call)?;
            redis.raw_set("pcall", pcall)?;
            redis.raw_set("setresp", setresp)?;
            let run: Function = private.raw_get("run")?;
            let (ok, v): (bool, Value) = run.call(f)?;
            if ok {
                convert::lua_to_reply(&v, out, resp3.get());
            } else {
                write_error(&v, &job.sha, out);
            }
            Ok(())
        });
        for name in ["call", "pcall", "setresp"] {
            let _ = redis.raw_remove(name);
        }
        if busy.kill.load(Ordering::Acquire) {
            // The script stopped at the hook's error (or a later one it caused): whatever it
            // was about to reply, the caller gets Redis's text for a killed script.
            out.buf.clear();
            out.error(&format!(
                "ERR Script killed by user with SCRIPT KILL... script: {}, on @user_script:{}.",
                job.sha,
                self.killed_line.load(Ordering::Relaxed)
            ));
        } else if let Err(e) = result {
            out.buf.clear();
            out.error(&format!("ERR Error running script {}, {e}", job.sha));
        }
    }

    fn set_keys_argv(&self, job: &Job) -> mlua::Result<()> {
        let keys = self.lua.create_table_with_capacity(job.keys.len(), 0)?;
        for (i, k) in job.keys.iter().enumerate() {
            keys.raw_set(i + 1, self.lua.create_string(k)?)?;
        }
        let argv = self.lua.create_table_with_capacity(job.argv.len(), 0)?;
        for (i, a) in job.argv.iter().enumerate() {
            argv.raw_set(i + 1, self.lua.create_string(a)?)?;
        }
        self.globals.raw_set("KEYS", keys)?;
        self.globals.raw_set("ARGV", argv)?;
        Ok(())
    }
}

/// Writes a failed script's error: "<err> script: <sha>, on <source>:<line>." (Redis 7.0's
/// `luaCallFunction`).
fn write_error(v: &Value, sha: &str, out: &mut ReplyWriter) {
    let Value::Table(t) = v else {
        let msg = match v {
            Value::String(s) => s.to_string_lossy(),
            _ => "execution failure".into(),
        };
        return out.error(&format!("ERR Error running script {sha}, {msg}"));
    };
    let err: String = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => s.to_string_lossy(),
        _ => "ERR unknown error".into(),
    };
    let source: Option<String> = t.raw_get("source").ok();
    let line: Option<i64> = t.raw_get("line").ok();
    match (source, line) {
        (Some(s), Some(l)) => out.error(&format!("{err} script: {sha}, on {s}:{l}.")),
        _ => out.error(&err),
    }
}

/// An error raised by a library function: a `{err=...}` table (redis.call) or a message.
#[derive(Debug)]
struct ScriptErr {
    table: bool,
    text: String,
}

impl std::fmt::Display for ScriptErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for ScriptErr {}

fn raise(table: bool, text: String) -> mlua::Error {
    mlua::Error::external(ScriptErr { table, text })
}

/// An error as C's `luaL_error` raises it: prefixed with the caller's `source:line: `.
fn raise_at(lua: &Lua, msg: &str) -> mlua::Error {
    let at = lua
        .inspect_stack(1)
        .and_then(|d| {
            let line = d.curr_line();
            let src = d.source().short_src.map(|s| s.into_owned())?;
            (line > 0).then(|| format!("{src}:{line}: "))
        })
        .unwrap_or_default();
    raise(false, format!("{at}{msg}"))
}

/// What an error raised by a library function carries: (is a table error, text).
fn error_info(e: &mlua::Error) -> (bool, String) {
    match e {
        mlua::Error::CallbackError { cause, .. } => error_info(cause),
        mlua::Error::ExternalError(x) => match x.downcast_ref::<ScriptErr>() {
            Some(se) => (se.table, se.text.clone()),
            None => (false, x.to_string()),
        },
        mlua::Error::RuntimeError(s) => (false, s.clone()),
        other => (false, other.to_string()),
    }
}

/// Runs one command for `redis.call` / `redis.pcall`: the converted reply, or the error text
/// of an `{err=...}` table (the command's error reply or a refusal).
fn run_command(
    lua: &Lua,
    srv: &Server,
    cl: &mut Client,
    job: &Job,
    busy: &Busy,
    resp3: bool,
    args: Variadic<Value>,
) -> mlua::Result<Result<Value, String>> {
    let fail = |msg: &str| Ok(Err(format!("ERR {msg}")));
    if args.is_empty() {
        return fail("Please specify at least one argument for this redis lib call");
    }
    let mut argv: Vec<Vec<u8>> = Vec::with_capacity(args.len());
    for a in args.iter() {
        match a {
            Value::String(s) => argv.push(s.as_bytes().to_vec()),
            Value::Integer(_) | Value::Number(_) => match lua.coerce_string(a.clone())? {
                Some(s) => argv.push(s.as_bytes().to_vec()),
                None => return fail("Lua redis lib command arguments must be strings or integers"),
            },
            _ => return fail("Lua redis lib command arguments must be strings or integers"),
        }
    }
    let Some(mut spec) = srv.table.get(&argv[0]) else {
        return fail("Unknown Redis command called from script");
    };
    if !spec.subcommands.is_empty() && argv.len() >= 2 {
        if let Some(sub) = find_sub(spec, &argv[1]) {
            spec = sub;
        }
    }
    if spec.handler.is_some() && !arity_ok(spec.arity, argv.len()) {
        return fail("Wrong number of args calling Redis command from script");
    }
    if spec.has(flags::NOSCRIPT) {
        return fail("This Redis command is not allowed from script");
    }
    if spec.has(flags::WRITE) {
        if job.readonly {
            return fail("Write commands are not allowed from read-only scripts.");
        }
        // From here on the script cannot be killed (its effects would be half applied).
        busy.wrote.store(true, Ordering::Release);
    }
    let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let mut w = ReplyWriter::new();
    if resp3 {
        w.proto = tern_resp::Proto::Resp3;
    }
    crate::dispatch::execute(srv, cl, &mut w, &refs, job.now_ms);
    let frame = match Frame::decode(&w.buf) {
        Ok((f, _)) => f,
        Err(_) => return Ok(Ok(Value::Nil)),
    };
    if let Frame::Error(e) = &frame {
        return Ok(Err(convert::error_text(&format!("-{e}"))));
    }
    let v = if resp3 {
        convert::frame_to_lua3(lua, frame)?
    } else {
        convert::frame_to_lua(lua, frame)?
    };
    Ok(Ok(v))
}

/// Installs the Rust halves of the library in the private table.
fn install_library(lua: &Lua, private: &Table) -> mlua::Result<()> {
    private.raw_set("version", crate::server::REDIS_VERSION)?;
    let num = crate::server::REDIS_VERSION
        .split('.')
        .fold(0i64, |acc, p| (acc << 8) | p.parse::<i64>().unwrap_or(0));
    private.raw_set("version_num", num)?;
    private.raw_set("json_null", cjson::null())?;
    private.raw_set(
        "errinfo",
        lua.create_function(|_, v: Value| {
            Ok(match v {
                Value::Error(e) => error_info(&e),
                Value::String(s) => (false, s.to_string_lossy()),
                _ => (false, "unknown error".to_string()),
            })
        })?,
    )?;
    private.raw_set(
        "sha1hex",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.len() != 1 {
                return Err(raise(true, "ERR wrong number of arguments".into()));
            }
            let s = lua.coerce_string(args[0].clone())?;
            let bytes = s.map(|s| s.as_bytes().to_vec()).unwrap_or_default();
            Ok(super::sha1hex(&bytes))
        })?,
    )?;
    private.raw_set(
        "log",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.len() < 2 {
                return Err(raise(
                    true,
                    "ERR redis.log() requires two arguments or more.".into(),
                ));
            }
            let level = match args[0] {
                Value::Integer(l) if (0..=3).contains(&l) => l,
                Value::Integer(_) => return Err(raise(true, "ERR Invalid debug level.".into())),
                _ => {
                    return Err(raise(
                        true,
                        "ERR First argument must be a number (log level).".into(),
                    ))
                }
            };
            let mut msg = String::new();
            for (i, a) in args[1..].iter().enumerate() {
                if i > 0 {
                    msg.push(' ');
                }
                if let Some(s) = lua.coerce_string(a.clone())? {
                    msg.push_str(&s.to_string_lossy());
                }
            }
            match level {
                0 | 1 => tracing::debug!(target: "tern::script", "{msg}"),
                2 => tracing::info!(target: "tern::script", "{msg}"),
                _ => tracing::warn!(target: "tern::script", "{msg}"),
            }
            Ok(())
        })?,
    )?;
    private.raw_set(
        "set_repl",
        lua.create_function(|_, args: Variadic<Value>| {
            // Effects replication is the only mode: the flags are checked, then ignored.
            if args.len() != 1 {
                return Err(raise(
                    true,
                    "ERR redis.set_repl() requires one argument.".into(),
                ));
            }
            match args[0] {
                Value::Integer(f) if (0..=3).contains(&f) => Ok(()),
                _ => Err(raise(
                    true,
                    "ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or \
                     REPL_NONE."
                        .into(),
                )),
            }
        })?,
    )?;
    private.raw_set(
        "error_reply",
        lua.create_function(|lua, args: Variadic<Value>| -> mlua::Result<Table> {
            match (args.len(), args.first()) {
                (1, Some(Value::String(s))) => {
                    let s = s.to_string_lossy();
                    let s = if s.starts_with('-') {
                        s
                    } else {
                        format!("-{s}")
                    };
                    convert::error_table(lua, &convert::error_text(&s))
                }
                _ => convert::error_table(lua, "ERR wrong number or type of arguments"),
            }
        })?,
    )?;
    private.raw_set(
        "status_reply",
        lua.create_function(|lua, args: Variadic<Value>| -> mlua::Result<Table> {
            match (args.len(), args.first()) {
                (1, Some(Value::String(s))) => {
                    let t = lua.create_table()?;
                    t.raw_set("ok", s.clone())?;
                    Ok(t)
                }
                _ => convert::error_table(lua, "ERR wrong number or type of arguments"),
            }
        })?,
    )?;
    private.raw_set(
        "json_encode",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(raise_at(
                    lua,
                    "bad argument #1 to 'encode' (expected 1 argument)",
                ));
            }
            match cjson::encode(&args[0]) {
                Ok(s) => lua.create_string(&s),
                Err(e) => Err(raise_at(lua, &e)),
            }
        })?,
    )?;
    private.raw_set(
        "json_decode",
        lua.create_function(|lua, args: MultiValue| {
            let text = match (args.len(), args.front()) {
                (1, Some(Value::String(s))) => s.as_bytes().to_vec(),
                _ => {
                    return Err(raise_at(
                        lua,
                        "bad argument #1 to 'decode' (string expected)",
                    ))
                }
            };
            cjson::decode(lua, &text).map_err(|e| raise_at(lua, &e))
        })?,
    )?;
    Ok(())
}
