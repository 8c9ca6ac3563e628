//! The Lua engine: one Lua 5.1 state with Redis's script environment (the `redis`, `cjson`,
//! `bit`, `struct` and `cmsgpack` libraries, protected globals), its compiled-function cache,
//! and the script client that `redis.call` runs commands as.
//!
//! Library functions written in Rust return `(ok, value)` pairs and thin Lua wrappers raise the
//! errors, so errors carry Lua's usual `user_script:<line>:` position and `redis.call` raises
//! `{err=...}` tables as Redis does. A message handler (`xpcall`) turns any error into an
//! `{err=..., source=..., line=...}` table, the line being the innermost frame of user code;
//! the reply is then "<err> script: <sha>, on @user_script:<line>." as in Redis 7.0.

use super::functions::FunctionMeta;
use super::{cjson, convert, Busy, Job};
use crate::ctx::Client;
use crate::server::Server;
use mlua::{
    ChunkMode, Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value, Variadic,
    VmState,
};
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tern_resp::ReplyWriter;

/// The chunk name of every script: errors read `user_script:<line>: ...` as in Redis.
const CHUNK_NAME: &str = "@user_script";
/// Instructions between two checks for SCRIPT KILL (Redis uses the same count).
pub(super) const HOOK_EVERY: u32 = 100_000;

/// The Lua side of the environment. Runs once per state with the private table as argument.
const PRELUDE: &str = r#"
local priv = ...
local dbg, error, type, tostring, xpcall, pcall, setmetatable, select, next, rawget =
    debug, error, type, tostring, xpcall, pcall, setmetatable, select, next, rawget
local lower, find = string.lower, string.find
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
    if i.source == '@user_script' or i.source == '@user_function' then at = i break end
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
priv.handler = handler

-- Functions (FUNCTION LOAD / FCALL, Redis 7.0's function_lua.c) ------------------------------
-- Library code runs with `priv.fenv` as its environment. While FUNCTION LOAD runs the code,
-- its globals are only the library API (`redis` with register_function, log and the
-- constants); when a function runs, they are the usual script globals without KEYS and ARGV
-- (functions get keys and args as parameters) and without the debugger's redis.breakpoint.
local function nonexistent(k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 3)
end
local function protected(get)
  return setmetatable({}, {
    __index = get,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
    __metatable = false,
  })
end
local function reg_error(msg) error({err = 'ERR ' .. msg}) end
local function isstring(v) local t = type(v) return t == 'string' or t == 'number' end
local FLAGS = {['no-writes'] = 1, ['allow-oom'] = 2, ['allow-stale'] = 4, ['no-cluster'] = 8,
  ['allow-cross-slot-keys'] = 16}

local function register_function(...)
  local regs = priv.loading
  if not regs then
    reg_error('redis.register_function can only be called on FUNCTION LOAD command')
  end
  local n = select('#', ...)
  if n < 1 or n > 2 then reg_error('wrong number of arguments to redis.register_function') end
  local name, callback, desc, flags = nil, nil, nil, 0
  if n == 2 then
    local a, b = ...
    if not isstring(a) then
      reg_error('first argument to redis.register_function must be a string')
    end
    if type(b) ~= 'function' then
      reg_error('second argument to redis.register_function must be a function')
    end
    name, callback = tostring(a), b
  else
    local t = ...
    if type(t) ~= 'table' then
      reg_error('calling redis.register_function with a single argument is only applicable to ' ..
        'Lua table (representing named arguments).')
    end
    for k, v in next, t do
      if not isstring(k) then
        reg_error('named argument key given to redis.register_function is not a string')
      end
      local key = lower(tostring(k))
      if key == 'function_name' then
        if not isstring(v) then
          reg_error('function_name argument given to redis.register_function must be a string')
        end
        name = tostring(v)
      elseif key == 'description' then
        if not isstring(v) then
          reg_error('description argument given to redis.register_function must be a string')
        end
        desc = tostring(v)
      elseif key == 'callback' then
        if type(v) ~= 'function' then
          reg_error('callback argument given to redis.register_function must be a function')
        end
        callback = v
      elseif key == 'flags' then
        if type(v) ~= 'table' then
          reg_error('flags argument to redis.register_function must be a table representing ' ..
            'function flags')
        end
        local j = 1
        while true do
          local f = v[j]
          if f == nil then break end
          local bit = isstring(f) and FLAGS[lower(tostring(f))]
          if not bit then reg_error('unknown flag given') end
          if flags % (2 * bit) < bit then flags = flags + bit end
          j = j + 1
        end
      else
        reg_error('unknown argument given to redis.register_function')
      end
    end
    if not name then reg_error('redis.register_function must get a function name argument') end
    if not callback then reg_error('redis.register_function must get a callback argument') end
  end
  if not find(name, '^[a-zA-Z0-9_]+$') then
    reg_error('Library names can only contain letters, numbers, or underscores(_) and must ' ..
      'be at least one character long')
  end
  -- Within a library names are case-sensitive (FCALL then finds the first of `f` and `F`).
  if regs.names[name] then reg_error('Function already exists in the library') end
  regs.names[name] = true
  regs[#regs + 1] = {name = name, desc = desc, flags = flags, callback = callback}
end

local libredis_fields = {
  register_function = register_function, log = priv.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = priv.version, REDIS_VERSION_NUM = priv.version_num,
}
local libredis = protected(function(_, k)
  local v = libredis_fields[k]
  if v == nil then nonexistent(k) end
  return v
end)
local function load_index(_, k)
  if k == 'redis' then return libredis end
  nonexistent(k)
end
local fredis = protected(function(_, k)
  if k == 'breakpoint' or k == 'debug' then return nil end
  return redis[k]
end)
local function run_index(_, k)
  if k == 'redis' then return fredis end
  local v = nil
  if k ~= 'KEYS' and k ~= 'ARGV' then v = rawget(G, k) end
  if v == nil then nonexistent(k) end
  return v
end
local fmeta = {
  __index = run_index,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __metatable = false,
}
priv.fenv = setmetatable({}, fmeta)

-- Runs a compiled library: (true, registrations) or (false, error text).
priv.load_library = function(f)
  local regs = {names = {}}
  priv.loading = regs
  fmeta.__index = load_index
  local ok, err = pcall(f)
  fmeta.__index = run_index
  priv.loading = nil
  if not ok then
    local e = lua_error(err)
    if type(e) == 'table' then
      e = tostring(e.err)
    else
      e = 'ERR ' .. tostring(e)
    end
    return false, e
  end
  local out = {}
  for i = 1, #regs do out[i] = regs[i] end
  return true, out
end
priv.run_function = function(f, keys, args)
  return xpcall(function() return f(keys, args) end, handler)
end

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
G.bit = readonly(priv.bit)
G.struct = readonly(priv.struct)
G.cmsgpack = readonly(priv.cmsgpack)
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
    funcs: HashMap<String, Function, foldhash::fast::RandomState>,
    /// `Scripts::epoch` when `funcs` was last valid.
    epoch: u64,
    /// The scripts' environment (protected globals).
    env: Table,
    /// The script client: `redis.call` runs commands as this client.
    pub cl: Client,
    /// The line a killed script was at.
    killed_line: Arc<AtomicI64>,
    busy: Arc<Busy>,
    /// The state's parts (shared handles with the fields above).
    st: State,
    /// FCALL's callbacks by lowercased function name, loaded from the registry.
    fns: HashMap<String, Function, foldhash::fast::RandomState>,
    /// `Functions::epoch` when `fns` was loaded.
    fepoch: u64,
    /// The running job, for `redis.call` and friends.
    ctx: Rc<RunCtx>,
    /// EVAL's runner ([`eval_entry`]) and the prelude's message handler it runs scripts with.
    eval_entry: Function,
    handler: Function,
    /// FCALL's runner, `priv.run_function` (in the prelude).
    run_function: Function,
}

thread_local! {
    /// The job [`eval_entry`] runs (set around the call by [`Engine::run`]).
    static EVAL_JOB: Cell<*const Job> = const { Cell::new(std::ptr::null()) };
}

/// EVAL's runner, a C function called (protected, by mlua) with the message handler and the
/// compiled script: sets KEYS and ARGV from [`EVAL_JOB`], runs the script under the handler as
/// Redis's `luaCallFunction` does (`lua_pcall` with the handler below it) and returns
/// `(ok, value)`. Building the tables here, in one call through the C API, avoids a protected
/// call per value, and calling the script here avoids a Lua frame and `xpcall` in between.
///
/// Nothing in it owns memory a Lua error could skip: the job is borrowed through a raw pointer
/// that the caller keeps alive, and a memory error unwinds to mlua's protected call.
unsafe extern "C-unwind" fn eval_entry(state: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    use mlua::ffi;
    let job = EVAL_JOB.get();
    if job.is_null() {
        ffi::lua_pushboolean(state, 0);
        ffi::lua_pushstring(state, c"ERR no script to run".as_ptr());
        return 2;
    }
    // SAFETY: `Engine::run` set the pointer to a job that outlives this call.
    let job = &*job;
    // The stack: the handler (1), the script (2).
    ffi::luaL_checkstack(state, 4, std::ptr::null());
    for (name, keys) in [(c"KEYS", true), (c"ARGV", false)] {
        let items = job.args.part(keys);
        ffi::lua_pushstring(state, name.as_ptr());
        ffi::lua_createtable(state, items.len().min(1 << 24) as i32, 0);
        for (i, a) in items.enumerate() {
            ffi::lua_pushlstring(state, a.as_ptr().cast(), a.len());
            ffi::lua_rawseti(state, -2, (i + 1) as ffi::lua_Integer);
        }
        ffi::lua_rawset(state, ffi::LUA_GLOBALSINDEX);
    }
    let ok = ffi::lua_pcall(state, 0, 1, 1) == 0;
    // The stack: the handler, the result (or the handler's error table).
    ffi::lua_pushboolean(state, ok as std::ffi::c_int);
    ffi::lua_insert(state, -2);
    2
}

/// A Lua state with the scripting environment, before it is bound to a server.
struct State {
    lua: Lua,
    private: Table,
    env: Table,
    /// The line a killed script was at.
    killed_line: Arc<AtomicI64>,
    /// FUNCTION LOAD's deadline (Unix ms; 0 when no library code runs under a timeout).
    deadline: Arc<AtomicI64>,
}

/// Builds a state. With `busy`, the instruction-count hook also stops the running script on
/// SCRIPT KILL / FUNCTION KILL.
fn new_state(busy: Option<Arc<Busy>>) -> State {
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
    let killed_line = Arc::new(AtomicI64::new(0));
    let deadline = Arc::new(AtomicI64::new(0));
    {
        let killed_line = killed_line.clone();
        let deadline = deadline.clone();
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_lua, dbg| {
                // A busy script on a worker lets the worker's other connections in.
                super::on_hook();
                let dl = deadline.load(Ordering::Relaxed);
                if dl != 0 && crate::server::now_ms() > dl {
                    return Err(raise(true, "ERR FUNCTION LOAD timeout".into()));
                }
                if let Some(busy) = &busy {
                    if busy.kill.load(Ordering::Acquire) {
                        killed_line.store(dbg.curr_line() as i64, Ordering::Relaxed);
                        return Err(mlua::Error::runtime(
                            "Script killed by user with SCRIPT KILL...",
                        ));
                    }
                }
                Ok(VmState::Continue)
            },
        );
    }
    State {
        lua,
        private,
        env,
        killed_line,
        deadline,
    }
}

/// What `redis.call`, `redis.pcall` and `redis.setresp` act on: the running job, set by
/// [`Engine::run`] for the duration of a run (null pointers between runs). The functions are
/// created once per state instead of once per run.
#[derive(Default)]
pub(super) struct RunCtx {
    srv: Cell<Option<std::ptr::NonNull<Server>>>,
    cl: Cell<Option<std::ptr::NonNull<Client>>>,
    job: Cell<Option<std::ptr::NonNull<Job>>>,
    /// The script speaks RESP3 (`redis.setresp(3)`).
    pub(super) resp3: Cell<bool>,
    /// `redis.call`'s reply buffer, kept between calls.
    pub(super) reply: Cell<Vec<u8>>,
}

impl RunCtx {
    /// The running job's server, client and job.
    ///
    /// SAFETY (of the dereferences): the pointers are set by `Engine::run` from references that
    /// outlive the Lua call it makes, and cleared before it returns; Lua runs on this thread
    /// only, and no command run by `redis.call` re-enters the engine (scripts and functions
    /// are NOSCRIPT), so the client is not aliased while a callback uses it.
    #[allow(clippy::mut_from_ref)]
    pub(super) fn get(&self) -> Option<(&Server, &mut Client, &Job)> {
        let (srv, cl, job) = (self.srv.get()?, self.cl.get()?, self.job.get()?);
        // SAFETY: see above.
        unsafe { Some((srv.as_ref(), &mut *cl.as_ptr(), job.as_ref())) }
    }
}

/// Creates `redis.call`, `redis.pcall` and `redis.setresp` in the private `redis` table.
fn install_run_functions(st: &State, ctx: &Rc<RunCtx>, busy: &Arc<Busy>) -> mlua::Result<()> {
    let redis: Table = st.private.raw_get("redis")?;
    let call = super::call::create(&st.lua, Rc::as_ptr(ctx), Arc::as_ptr(busy), false)?;
    let pcall = super::call::create(&st.lua, Rc::as_ptr(ctx), Arc::as_ptr(busy), true)?;
    let c = ctx.clone();
    let setresp = st.lua.create_function(move |_, args: Variadic<Value>| {
        match (args.len(), args.first()) {
            (1, Some(Value::Integer(2))) => c.resp3.set(false),
            (1, Some(Value::Integer(3))) => c.resp3.set(true),
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
    Ok(())
}

/// The chunk name of library code: errors read `user_function:<line>: ...`.
const FUNCTION_CHUNK: &str = "@user_function";

/// Compiles and runs one library's code in `st` (FUNCTION LOAD's `luaEngineCreate`): the
/// functions it registered with their callbacks, or Redis's error text (without "ERR ").
fn load_library(
    st: &State,
    body: &[u8],
    timeout_ms: i64,
) -> Result<Vec<(FunctionMeta, Function)>, String> {
    let fenv: Table = st.private.raw_get("fenv").map_err(|e| e.to_string())?;
    let f = st
        .lua
        .load(body)
        .set_name(FUNCTION_CHUNK)
        .set_mode(ChunkMode::Text)
        .set_environment(fenv)
        .into_function()
        .map_err(|e| {
            let msg = match &e {
                mlua::Error::SyntaxError { message, .. } => message.clone(),
                other => other.to_string(),
            };
            format!("Error compiling function: {msg}")
        })?;
    let loader: Function = st
        .private
        .raw_get("load_library")
        .map_err(|e| e.to_string())?;
    if timeout_ms > 0 {
        st.deadline
            .store(crate::server::now_ms() + timeout_ms, Ordering::Relaxed);
    }
    let result = loader.call::<(bool, Value)>(f);
    st.deadline.store(0, Ordering::Relaxed);
    let (ok, v) = result.map_err(|e| format!("Error registering functions: ERR {e}"))?;
    if !ok {
        let text = match v {
            Value::String(s) => s.to_string_lossy(),
            _ => "ERR unknown error".into(),
        };
        return Err(format!("Error registering functions: {text}"));
    }
    let Value::Table(list) = v else {
        return Err("Error registering functions".into());
    };
    let mut out = Vec::new();
    for entry in list.sequence_values::<Table>() {
        let t = entry.map_err(|e| e.to_string())?;
        let name: String = t.raw_get("name").map_err(|e| e.to_string())?;
        let desc: Option<mlua::String> = t.raw_get("desc").map_err(|e| e.to_string())?;
        let flags: u32 = t.raw_get("flags").map_err(|e| e.to_string())?;
        let callback: Function = t.raw_get("callback").map_err(|e| e.to_string())?;
        let meta = FunctionMeta {
            name,
            desc: desc.map(|d| d.as_bytes().to_vec()),
            flags,
        };
        out.push((meta, callback));
    }
    Ok(out)
}

thread_local! {
    /// A Lua state for validating libraries (FUNCTION LOAD, RESTORE) on the calling thread.
    static LOADER: std::cell::RefCell<Option<State>> = const { std::cell::RefCell::new(None) };
}

/// Runs a library's code (without its metadata line) once in a throwaway state and returns
/// the functions it registers, or FUNCTION LOAD's error text (without "ERR ").
pub fn validate_library(body: &[u8], timeout_ms: i64) -> Result<Vec<FunctionMeta>, String> {
    LOADER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let st = slot.get_or_insert_with(|| new_state(None));
        let r = load_library(st, body, timeout_ms).map(|v| v.into_iter().map(|(m, _)| m).collect());
        // The callbacks are garbage now; collect them with the rest.
        let _ = st.lua.gc_collect();
        r
    })
}

impl Engine {
    /// A fresh state for `srv`'s scripts.
    pub fn new(srv: &Server) -> Engine {
        let busy = srv.scripts.busy.clone();
        let st = new_state(Some(busy.clone()));
        let ctx = Rc::new(RunCtx::default());
        install_run_functions(&st, &ctx, &busy).expect("redis.call installs");
        let handler: Function = st.private.raw_get("handler").expect("prelude sets handler");
        // SAFETY: `eval_entry` follows the C API's rules (see its comment).
        let eval_entry = unsafe { st.lua.create_c_function(eval_entry) }.expect("a C function");
        let run_function: Function = st
            .private
            .raw_get("run_function")
            .expect("prelude sets run_function");
        // Redis's Lua client: not a connection, not in CLIENT LIST, shown as "lua" by MONITOR.
        let info = srv.clients.register("lua".into(), String::new(), -1);
        srv.clients.unregister(info.id);
        let stats = srv.stats.new_worker(srv.table.ids());
        let cl = Client::new(info, stats, true).internal();
        Engine {
            funcs: HashMap::default(),
            epoch: srv.scripts.epoch.load(Ordering::Acquire),
            env: st.env.clone(),
            killed_line: st.killed_line.clone(),
            lua: st.lua.clone(),
            st,
            fns: HashMap::default(),
            fepoch: u64::MAX,
            ctx,
            eval_entry,
            handler,
            run_function,
            cl,
            busy,
        }
    }

    /// Loads the server's libraries into this state if they changed since the last FCALL.
    fn sync_functions(&mut self, srv: &Server) -> Result<(), String> {
        let (epoch, libs) = srv.scripts.functions.snapshot();
        if epoch == self.fepoch {
            return Ok(());
        }
        self.fns.clear();
        for lib in libs {
            for (meta, f) in load_library(&self.st, lib.body(), 0)? {
                self.fns.insert(meta.name.to_ascii_lowercase(), f);
            }
        }
        self.fepoch = epoch;
        Ok(())
    }

    /// Runs `job` and writes its reply (or error) to `out`. The caller holds the keyspace.
    pub fn run(&mut self, srv: &Server, job: &Job, out: &mut ReplyWriter) {
        // The script's client runs as its caller (ACL WHOAMI, SORT's BY/GET rule); a caller
        // allowed everything leaves it unchecked. `run_command` checks each redis.call first.
        match &job.user {
            Some(u) => {
                self.cl.user = u.clone();
                self.cl.acl_all = false;
            }
            None => {
                self.cl.user = crate::acl::superuser();
                self.cl.acl_all = true;
            }
        }
        let epoch = srv.scripts.epoch.load(Ordering::Acquire);
        if epoch != self.epoch {
            self.funcs.clear();
            self.epoch = epoch;
        }
        // FCALL: the function's callback and its (keys, args) tables; EVAL: the compiled script,
        // with KEYS and ARGV set as globals.
        let mut call_args: Option<(Table, Table)> = None;
        let callback: Function;
        let f: &Function = if job.fcall.is_some() {
            if let Err(e) = self.sync_functions(srv) {
                return out.error(&format!("ERR {e}"));
            }
            let Some(f) = self.fns.get(&job.name.to_ascii_lowercase()).cloned() else {
                return out.error("ERR Function not found");
            };
            match self.keys_args_tables(job) {
                Ok(t) => call_args = Some(t),
                Err(e) => return out.error(&format!("ERR {e}")),
            }
            callback = f;
            &callback
        } else {
            if !self.funcs.contains_key(&job.name) {
                let compiled = self
                    .lua
                    .load(&job.body[..])
                    .set_name(CHUNK_NAME)
                    .set_mode(ChunkMode::Text)
                    .set_environment(self.env.clone())
                    .into_function();
                match compiled {
                    Ok(f) => {
                        self.funcs.insert(job.name.clone(), f);
                    }
                    Err(e) => return out.error(&compile_error(&e)),
                }
            }
            &self.funcs[&job.name]
        };
        self.ctx.resp3.set(false);
        self.ctx.srv.set(Some(std::ptr::NonNull::from(srv)));
        self.ctx.cl.set(Some(std::ptr::NonNull::from(&mut self.cl)));
        self.ctx.job.set(Some(std::ptr::NonNull::from(job)));
        let result = (|| -> mlua::Result<()> {
            let (ok, v): (bool, Value) = match call_args {
                Some((keys, args)) => self.run_function.call((f, keys, args))?,
                None => {
                    EVAL_JOB.set(job);
                    let r = self.eval_entry.call((&self.handler, f));
                    EVAL_JOB.set(std::ptr::null());
                    r?
                }
            };
            if ok {
                convert::lua_to_reply(&v, out, self.ctx.resp3.get());
            } else {
                write_error(&v, &job.name, out);
            }
            Ok(())
        })();
        self.ctx.srv.set(None);
        self.ctx.cl.set(None);
        self.ctx.job.set(None);
        let busy = &self.busy;
        if busy.kill.load(Ordering::Acquire) {
            // The script stopped at the hook's error (or a later one it caused): whatever it
            // was about to reply, the caller gets Redis's text for a killed script.
            out.buf.clear();
            let source = if job.fcall.is_some() {
                FUNCTION_CHUNK
            } else {
                CHUNK_NAME
            };
            out.error(&format!(
                "ERR Script killed by user with SCRIPT KILL... script: {}, on {source}:{}.",
                job.name,
                self.killed_line.load(Ordering::Relaxed)
            ));
        } else if let Err(e) = result {
            out.buf.clear();
            out.error(&format!("ERR Error running script {}, {e}", job.name));
        }
    }

    /// FCALL's two arguments: the keys and the other arguments, as tables of strings (what
    /// [`eval_entry`] sets as KEYS and ARGV).
    fn keys_args_tables(&self, job: &Job) -> mlua::Result<(Table, Table)> {
        let table = |keys: bool| -> mlua::Result<Table> {
            let items = job.args.part(keys);
            let t = self.lua.create_table_with_capacity(items.len(), 0)?;
            for (i, a) in items.enumerate() {
                t.raw_set(i + 1, self.lua.create_string(a)?)?;
            }
            Ok(t)
        };
        Ok((table(true)?, table(false)?))
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
pub(super) fn raise_at(lua: &Lua, msg: &str) -> mlua::Error {
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

/// Installs the Rust halves of the library in the private table.
fn install_library(lua: &Lua, private: &Table) -> mlua::Result<()> {
    private.raw_set("version", crate::server::REDIS_VERSION)?;
    let num = crate::server::REDIS_VERSION
        .split('.')
        .fold(0i64, |acc, p| (acc << 8) | p.parse::<i64>().unwrap_or(0));
    private.raw_set("version_num", num)?;
    private.raw_set("json_null", cjson::null())?;
    private.raw_set("bit", super::libs::bit(lua)?)?;
    private.raw_set("struct", super::libs::strukt(lua)?)?;
    private.raw_set("cmsgpack", super::libs::cmsgpack(lua)?)?;
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
