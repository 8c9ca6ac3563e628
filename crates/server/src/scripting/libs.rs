//! The C libraries Redis bundles with its Lua, written again in Rust with their exact
//! behaviour (results, number conversions, error texts): `bit` (LuaBitOp 1.0: tobit tohex bnot
//! band bor bxor lshift rshift arshift rol ror bswap), `struct` (Roberto Ierusalimschy's
//! struct library: pack unpack size) and `cmsgpack` (lua-cmsgpack 0.4.0: pack unpack
//! unpack_one unpack_limit). Installed by the engine as read-only global tables.
//!
//! Lua 5.1 numbers are doubles, so every integer result is returned as a Lua number, as the C
//! code does with `lua_pushnumber`. Argument errors read as `luaL_argerror` writes them:
//! "bad argument #N to 'name' (...)" where `name` is how the script called the function.

use mlua::{Lua, MultiValue, Table, Value};

/// An error as `luaL_error` raises it (see [`super::engine::raise_at`]).
fn error(lua: &Lua, msg: &str) -> mlua::Error {
    super::engine::raise_at(lua, msg)
}

/// `luaL_argerror`: "bad argument #<n> to '<name>' (<msg>)", `name` being how the caller
/// named the running function.
fn arg_error(lua: &Lua, mut narg: usize, msg: &str) -> mlua::Error {
    let (name, what) = lua
        .inspect_stack(0)
        .map(|d| {
            let n = d.names();
            (n.name.map(|s| s.into_owned()), n.name_what)
        })
        .unwrap_or((None, None));
    if what == Some("method") {
        narg -= 1;
        if narg == 0 {
            let name = name.unwrap_or_else(|| "?".into());
            return error(lua, &format!("calling '{name}' on bad self ({msg})"));
        }
    }
    let name = name.unwrap_or_else(|| "?".into());
    error(lua, &format!("bad argument #{narg} to '{name}' ({msg})"))
}

/// Lua's name of a value's type, "no value" for a missing argument.
fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::Integer(_)) | Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(Value::LightUserData(_)) => "userdata",
        Some(Value::UserData(_)) => "userdata",
        Some(Value::Error(_)) => "userdata",
        Some(_) => "userdata",
    }
}

/// `luaL_typerror`.
fn type_error(lua: &Lua, narg: usize, expected: &str, v: Option<&Value>) -> mlua::Error {
    arg_error(
        lua,
        narg,
        &format!("{expected} expected, got {}", type_name(v)),
    )
}

/// `lua_tonumber`: numbers, and strings that read as numbers.
fn to_number(lua: &Lua, v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        s @ Value::String(_) => lua.coerce_number(s.clone()).ok().flatten(),
        _ => None,
    }
}

/// `luaL_checknumber` for argument `i` (0-based) of `args`.
fn check_number(lua: &Lua, args: &MultiValue, i: usize) -> mlua::Result<f64> {
    to_number(lua, args.get(i)).ok_or_else(|| type_error(lua, i + 1, "number", args.get(i)))
}

/// `luaL_checklstring`: strings, and numbers as Lua formats them.
fn check_bytes(lua: &Lua, args: &MultiValue, i: usize) -> mlua::Result<Vec<u8>> {
    let v = args.get(i);
    let s = match v {
        Some(Value::String(s)) => Some(s.as_bytes().to_vec()),
        Some(n @ (Value::Integer(_) | Value::Number(_))) => lua
            .coerce_string(n.clone())
            .ok()
            .flatten()
            .map(|s| s.as_bytes().to_vec()),
        _ => None,
    };
    s.ok_or_else(|| type_error(lua, i + 1, "string", v))
}

/// `luaL_optinteger` (a cast to an integer truncates, as `lua_tointeger` does).
fn opt_integer(lua: &Lua, args: &MultiValue, i: usize, default: i64) -> mlua::Result<i64> {
    match args.get(i) {
        None | Some(Value::Nil) => Ok(default),
        _ => Ok(check_number(lua, args, i)? as i64),
    }
}

// ---------------------------------------------------------------------------------------------
// bit

/// LuaBitOp's `barg`: the number rounded to an integer and taken modulo 2^32, by adding
/// 2^52 + 2^51 and keeping the low word of the double (round half to even, as the FPU adds).
fn barg(lua: &Lua, args: &MultiValue, i: usize) -> mlua::Result<u32> {
    let n = to_number(lua, args.get(i)).unwrap_or(0.0);
    let b = (n + 6_755_399_441_055_744.0).to_bits() as u32;
    if b == 0 && to_number(lua, args.get(i)).is_none() {
        return Err(type_error(lua, i + 1, "number", args.get(i)));
    }
    Ok(b)
}

fn bits(v: u32) -> Value {
    Value::Number(v as i32 as f64)
}

/// The `bit` table.
pub fn bit(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "tobit",
        lua.create_function(|lua, a: MultiValue| Ok(bits(barg(lua, &a, 0)?)))?,
    )?;
    t.raw_set(
        "bnot",
        lua.create_function(|lua, a: MultiValue| Ok(bits(!barg(lua, &a, 0)?)))?,
    )?;
    t.raw_set(
        "bswap",
        lua.create_function(|lua, a: MultiValue| Ok(bits(barg(lua, &a, 0)?.swap_bytes())))?,
    )?;
    // band/bor/bxor read the first argument, then the others from the last one down.
    fn fold(lua: &Lua, a: &MultiValue, f: fn(u32, u32) -> u32) -> mlua::Result<Value> {
        let mut b = barg(lua, a, 0)?;
        for i in (1..a.len()).rev() {
            b = f(b, barg(lua, a, i)?);
        }
        Ok(bits(b))
    }
    t.raw_set(
        "band",
        lua.create_function(|lua, a: MultiValue| fold(lua, &a, |x, y| x & y))?,
    )?;
    t.raw_set(
        "bor",
        lua.create_function(|lua, a: MultiValue| fold(lua, &a, |x, y| x | y))?,
    )?;
    t.raw_set(
        "bxor",
        lua.create_function(|lua, a: MultiValue| fold(lua, &a, |x, y| x ^ y))?,
    )?;
    fn shift(lua: &Lua, a: &MultiValue, f: fn(u32, u32) -> u32) -> mlua::Result<Value> {
        let b = barg(lua, a, 0)?;
        let n = barg(lua, a, 1)? & 31;
        Ok(bits(f(b, n)))
    }
    t.raw_set(
        "lshift",
        lua.create_function(|lua, a: MultiValue| shift(lua, &a, |b, n| b << n))?,
    )?;
    t.raw_set(
        "rshift",
        lua.create_function(|lua, a: MultiValue| shift(lua, &a, |b, n| b >> n))?,
    )?;
    t.raw_set(
        "arshift",
        lua.create_function(|lua, a: MultiValue| shift(lua, &a, |b, n| ((b as i32) >> n) as u32))?,
    )?;
    t.raw_set(
        "rol",
        lua.create_function(|lua, a: MultiValue| shift(lua, &a, |b, n| b.rotate_left(n)))?,
    )?;
    t.raw_set(
        "ror",
        lua.create_function(|lua, a: MultiValue| shift(lua, &a, |b, n| b.rotate_right(n)))?,
    )?;
    t.raw_set(
        "tohex",
        lua.create_function(|lua, a: MultiValue| {
            let mut b = barg(lua, &a, 0)?;
            let mut n: i32 = if a.len() < 2 {
                8
            } else {
                barg(lua, &a, 1)? as i32
            };
            let mut digits = b"0123456789abcdef";
            if n < 0 {
                n = n.wrapping_neg();
                digits = b"0123456789ABCDEF";
            }
            // INT_MIN stays negative once negated: C then writes nothing.
            let n = n.clamp(0, 8) as usize;
            let mut buf = [0u8; 8];
            for i in (0..n).rev() {
                buf[i] = digits[(b & 15) as usize];
                b >>= 4;
            }
            lua.create_string(&buf[..n])
        })?,
    )?;
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// struct

const MAXINTSIZE: usize = 32;
/// The largest alignment (`!` without a number): max(alignment of double, sizeof(int)).
const MAXALIGN: usize = 8;

struct Header {
    little: bool,
    align: usize,
}

impl Header {
    fn new() -> Header {
        // The native byte order (little endian on every platform tern builds for).
        Header {
            little: cfg!(target_endian = "little"),
            align: 1,
        }
    }
}

/// A number in the format (`getnum`), or `df` when there is none.
fn getnum(lua: &Lua, fmt: &[u8], pos: &mut usize, df: usize) -> mlua::Result<usize> {
    if *pos >= fmt.len() || !fmt[*pos].is_ascii_digit() {
        return Ok(df);
    }
    let mut a: i64 = 0;
    while *pos < fmt.len() && fmt[*pos].is_ascii_digit() {
        let d = (fmt[*pos] - b'0') as i64;
        if a > i32::MAX as i64 / 10 || a * 10 > i32::MAX as i64 - d {
            return Err(error(lua, "integral size overflow"));
        }
        a = a * 10 + d;
        *pos += 1;
    }
    Ok(a as usize)
}

/// The size of option `opt` (`optsize`), reading its number from the format.
fn optsize(lua: &Lua, opt: u8, fmt: &[u8], pos: &mut usize) -> mlua::Result<usize> {
    Ok(match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'x' => 1,
        b'c' => getnum(lua, fmt, pos, 1)?,
        b'i' | b'I' => {
            let sz = getnum(lua, fmt, pos, 4)?;
            if sz > MAXINTSIZE {
                return Err(error(
                    lua,
                    &format!("integral size {sz} is larger than limit of {MAXINTSIZE}"),
                ));
            }
            sz
        }
        _ => 0,
    })
}

/// Padding before an item of `size` at offset `len` (`gettoalign`).
fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

/// Endianness and alignment options (`controloptions`).
fn controloptions(
    lua: &Lua,
    opt: u8,
    fmt: &[u8],
    pos: &mut usize,
    h: &mut Header,
) -> mlua::Result<()> {
    match opt {
        b' ' => Ok(()),
        b'>' => {
            h.little = false;
            Ok(())
        }
        b'<' => {
            h.little = true;
            Ok(())
        }
        b'!' => {
            let a = getnum(lua, fmt, pos, MAXALIGN)?;
            if a == 0 || a & (a - 1) != 0 {
                return Err(error(lua, &format!("alignment {a} is not a power of 2")));
            }
            h.align = a;
            Ok(())
        }
        _ => {
            let c = char::from(opt);
            let shown = if opt == 0 {
                String::new()
            } else {
                c.to_string()
            };
            Err(arg_error(
                lua,
                1,
                &format!("invalid format option '{shown}'"),
            ))
        }
    }
}

/// Puts `bytes` (native order) in the header's byte order.
fn correct(bytes: &mut [u8], h: &Header) {
    if h.little != cfg!(target_endian = "little") {
        bytes.reverse();
    }
}

/// The format string: `luaL_checkstring`, up to its first NUL as C reads it.
fn format_arg(lua: &Lua, args: &MultiValue) -> mlua::Result<Vec<u8>> {
    let mut f = check_bytes(lua, args, 0)?;
    if let Some(z) = f.iter().position(|&b| b == 0) {
        f.truncate(z);
    }
    Ok(f)
}

fn struct_pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::String> {
    let fmt = format_arg(lua, &args)?;
    let mut h = Header::new();
    let mut arg = 1usize;
    let mut out: Vec<u8> = Vec::new();
    let mut pos = 0usize;
    let mut total = 0usize;
    while pos < fmt.len() {
        let opt = fmt[pos];
        pos += 1;
        let mut size = optsize(lua, opt, &fmt, &mut pos)?;
        let toalign = gettoalign(total, &h, opt, size);
        total += toalign;
        out.resize(out.len() + toalign, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = check_number(lua, &args, arg)?;
                arg += 1;
                let mut value: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let mut buf = [0u8; MAXINTSIZE];
                if h.little {
                    for b in buf.iter_mut().take(size) {
                        *b = value as u8;
                        value = value.checked_shr(8).unwrap_or(0);
                    }
                } else {
                    for i in (0..size).rev() {
                        buf[i] = value as u8;
                        value = value.checked_shr(8).unwrap_or(0);
                    }
                }
                out.extend_from_slice(&buf[..size]);
            }
            b'x' => out.push(0),
            b'f' => {
                let mut b = (check_number(lua, &args, arg)? as f32).to_ne_bytes();
                arg += 1;
                correct(&mut b, &h);
                out.extend_from_slice(&b);
            }
            b'd' => {
                let mut b = check_number(lua, &args, arg)?.to_ne_bytes();
                arg += 1;
                correct(&mut b, &h);
                out.extend_from_slice(&b);
            }
            b'c' | b's' => {
                let s = check_bytes(lua, &args, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // C checks after moving past the argument: it names the next one.
                    return Err(arg_error(lua, arg + 1, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => controloptions(lua, opt, &fmt, &mut pos, &mut h)?,
        }
        total += size;
    }
    lua.create_string(&out)
}

fn struct_unpack(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let fmt = format_arg(lua, &args)?;
    let data = check_bytes(lua, &args, 1)?;
    let ld = data.len();
    let mut pos = (opt_integer(lua, &args, 2, 1)? as usize).wrapping_sub(1);
    if pos > ld {
        return Err(arg_error(lua, 3, "offset must be 1 or greater"));
    }
    let mut h = Header::new();
    let mut out: Vec<Value> = Vec::new();
    let mut at = 0usize;
    while at < fmt.len() {
        let opt = fmt[at];
        at += 1;
        let mut size = optsize(lua, opt, &fmt, &mut at)?;
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            return Err(arg_error(lua, 2, "data string too short"));
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let bytes = &data[pos..pos + size];
                let mut l: u64 = 0;
                if h.little {
                    for &b in bytes.iter().rev() {
                        l = l.checked_shl(8).unwrap_or(0) | b as u64;
                    }
                } else {
                    for &b in bytes {
                        l = l.checked_shl(8).unwrap_or(0) | b as u64;
                    }
                }
                let n = if opt.is_ascii_lowercase() {
                    // Sign extension from the item's top bit (C shifts by size * 8 - 1 bits
                    // of a 64-bit word, which x86 takes modulo 64).
                    let shift = ((size * 8).wrapping_sub(1) % 64) as u32;
                    let mask = u64::MAX << shift;
                    if l & mask != 0 {
                        l |= mask;
                    }
                    l as i64 as f64
                } else {
                    l as f64
                };
                out.push(Value::Number(n));
            }
            b'x' => {}
            b'f' => {
                let mut b = [0u8; 4];
                b.copy_from_slice(&data[pos..pos + 4]);
                correct(&mut b, &h);
                out.push(Value::Number(f32::from_ne_bytes(b) as f64));
            }
            b'd' => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[pos..pos + 8]);
                correct(&mut b, &h);
                out.push(Value::Number(f64::from_ne_bytes(b)));
            }
            b'c' => {
                if size == 0 {
                    let prev = match out.last() {
                        Some(v) => to_number(lua, Some(v)),
                        None => None,
                    };
                    let Some(n) = prev else {
                        return Err(error(lua, "format 'c0' needs a previous size"));
                    };
                    size = n as usize;
                    out.pop();
                    if !(size <= ld && pos <= ld - size) {
                        return Err(arg_error(lua, 2, "data string too short"));
                    }
                }
                out.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(e) = data[pos..].iter().position(|&b| b == 0) else {
                    return Err(error(lua, "unfinished string in data"));
                };
                out.push(Value::String(lua.create_string(&data[pos..pos + e])?));
                size = e + 1;
            }
            _ => controloptions(lua, opt, &fmt, &mut at, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    out.push(Value::Integer(pos as i64 + 1));
    Ok(MultiValue::from_iter(out))
}

fn struct_size(lua: &Lua, args: MultiValue) -> mlua::Result<i64> {
    let fmt = format_arg(lua, &args)?;
    let mut h = Header::new();
    let mut pos = 0usize;
    let mut at = 0usize;
    while at < fmt.len() {
        let opt = fmt[at];
        at += 1;
        let size = optsize(lua, opt, &fmt, &mut at)?;
        pos += gettoalign(pos, &h, opt, size);
        if opt == b's' {
            return Err(arg_error(lua, 1, "option 's' has no fixed size"));
        } else if opt == b'c' && size == 0 {
            return Err(arg_error(lua, 1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            controloptions(lua, opt, &fmt, &mut at, &mut h)?;
        }
        pos += size;
    }
    Ok(pos as i64)
}

/// The `struct` table.
pub fn strukt(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", lua.create_function(struct_pack)?)?;
    t.raw_set("unpack", lua.create_function(struct_unpack)?)?;
    t.raw_set("size", lua.create_function(struct_size)?)?;
    Ok(t)
}

// ---------------------------------------------------------------------------------------------
// cmsgpack

/// Tables nested deeper than this are encoded as nil (LUACMSGPACK_MAX_NESTING).
const MAX_NESTING: usize = 16;

fn mp_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            out.push(n as u8);
        } else if n <= 0xff {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The C test `(int64_t)x == x` for a finite x (x86 turns out-of-range values into INT64_MIN).
fn int64_equivalent(x: f64) -> Option<i64> {
    if x.is_infinite() || x.is_nan() {
        return None;
    }
    let i = if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        x as i64
    } else {
        i64::MIN
    };
    (i as f64 == x).then_some(i)
}

fn mp_number(out: &mut Vec<u8>, n: f64) {
    if let Some(i) = int64_equivalent(n) {
        return mp_int(out, i);
    }
    let f = n as f32;
    if f as f64 == n {
        out.push(0xca);
        out.extend_from_slice(&f.to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn mp_bytes(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s);
}

/// True if the table's keys are exactly 1..n (`table_is_an_array`).
fn is_array(t: &Table) -> mlua::Result<bool> {
    let (mut count, mut max) = (0i64, 0i64);
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) => i as f64,
            Value::Number(n) => n,
            _ => return Ok(false),
        };
        // IS_INT_EQUIVALENT: (int)n == n.
        if n <= 0.0 || n > i32::MAX as f64 || (n as i32) as f64 != n {
            return Ok(false);
        }
        max = max.max(n as i64);
        count += 1;
    }
    Ok(max == count)
}

fn mp_encode(out: &mut Vec<u8>, v: &Value, level: usize) -> mlua::Result<()> {
    match v {
        Value::String(s) => mp_bytes(out, &s.as_bytes()),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => mp_number(out, *i as f64),
        Value::Number(n) => mp_number(out, *n),
        Value::Table(t) if level < MAX_NESTING => {
            if is_array(t)? {
                let len = t.raw_len();
                if len < 16 {
                    out.push(0x90 | len as u8);
                } else if len <= 0xffff {
                    out.push(0xdc);
                    out.extend_from_slice(&(len as u16).to_be_bytes());
                } else {
                    out.push(0xdd);
                    out.extend_from_slice(&(len as u32).to_be_bytes());
                }
                for j in 1..=len {
                    let e: Value = t.raw_get(j)?;
                    mp_encode(out, &e, level + 1)?;
                }
            } else {
                let pairs: Vec<(Value, Value)> = t
                    .clone()
                    .pairs::<Value, Value>()
                    .collect::<mlua::Result<_>>()?;
                let len = pairs.len();
                if len < 16 {
                    out.push(0x80 | len as u8);
                } else if len <= 0xffff {
                    out.push(0xde);
                    out.extend_from_slice(&(len as u16).to_be_bytes());
                } else {
                    out.push(0xdf);
                    out.extend_from_slice(&(len as u32).to_be_bytes());
                }
                for (k, v) in &pairs {
                    mp_encode(out, k, level + 1)?;
                    mp_encode(out, v, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

fn mp_pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::String> {
    if args.is_empty() {
        return Err(arg_error(lua, 0, "MessagePack pack needs input."));
    }
    let mut out = Vec::new();
    for v in args.iter() {
        mp_encode(&mut out, v, 0)?;
    }
    lua.create_string(&out)
}

/// Why decoding stopped.
enum Stop {
    Eof,
    BadFormat,
    Lua(mlua::Error),
}

impl From<mlua::Error> for Stop {
    fn from(e: mlua::Error) -> Stop {
        Stop::Lua(e)
    }
}

struct Cursor<'a> {
    p: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn need(&self, n: usize) -> Result<(), Stop> {
        if self.p.len() < n {
            Err(Stop::Eof)
        } else {
            Ok(())
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        self.need(n)?;
        let (a, b) = self.p.split_at(n);
        self.p = b;
        Ok(a)
    }

    fn be(&mut self, n: usize) -> Result<u64, Stop> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }
}

fn mp_decode(lua: &Lua, c: &mut Cursor<'_>) -> Result<Value, Stop> {
    c.need(1)?;
    let t = c.p[0];
    let num = |n: f64| Value::Number(n);
    Ok(match t {
        0xcc => {
            c.need(2)?;
            c.take(1)?;
            num(c.be(1)? as f64)
        }
        0xd0 => {
            c.need(2)?;
            c.take(1)?;
            num(c.be(1)? as u8 as i8 as f64)
        }
        0xcd => {
            c.need(3)?;
            c.take(1)?;
            num(c.be(2)? as f64)
        }
        0xd1 => {
            c.need(3)?;
            c.take(1)?;
            num(c.be(2)? as u16 as i16 as f64)
        }
        0xce => {
            c.need(5)?;
            c.take(1)?;
            num(c.be(4)? as f64)
        }
        0xd2 => {
            c.need(5)?;
            c.take(1)?;
            num(c.be(4)? as u32 as i32 as f64)
        }
        0xcf => {
            c.need(9)?;
            c.take(1)?;
            num(c.be(8)? as f64)
        }
        0xd3 => {
            c.need(9)?;
            c.take(1)?;
            num(c.be(8)? as i64 as f64)
        }
        0xc0 => {
            c.take(1)?;
            Value::Nil
        }
        0xc3 => {
            c.take(1)?;
            Value::Boolean(true)
        }
        0xc2 => {
            c.take(1)?;
            Value::Boolean(false)
        }
        0xca => {
            c.need(5)?;
            c.take(1)?;
            num(f32::from_bits(c.be(4)? as u32) as f64)
        }
        0xcb => {
            c.need(9)?;
            c.take(1)?;
            num(f64::from_bits(c.be(8)?))
        }
        0xd9..=0xdb => {
            let w = match t {
                0xd9 => 1,
                0xda => 2,
                _ => 4,
            };
            c.need(1 + w)?;
            let l = u64::from_be_bytes({
                let mut b = [0u8; 8];
                b[8 - w..].copy_from_slice(&c.p[1..1 + w]);
                b
            }) as usize;
            c.need(1 + w + l)?;
            c.take(1 + w)?;
            Value::String(lua.create_string(c.take(l)?)?)
        }
        0xdc..=0xdf => {
            let w = if t == 0xdc || t == 0xde { 2 } else { 4 };
            c.need(1 + w)?;
            c.take(1)?;
            let l = c.be(w)? as usize;
            if t <= 0xdd {
                array(lua, c, l)?
            } else {
                map(lua, c, l)?
            }
        }
        _ if t & 0x80 == 0 => {
            c.take(1)?;
            num(t as f64)
        }
        _ if t & 0xe0 == 0xe0 => {
            c.take(1)?;
            num(t as i8 as f64)
        }
        _ if t & 0xe0 == 0xa0 => {
            let l = (t & 0x1f) as usize;
            c.need(1 + l)?;
            c.take(1)?;
            Value::String(lua.create_string(c.take(l)?)?)
        }
        _ if t & 0xf0 == 0x90 => {
            c.take(1)?;
            array(lua, c, (t & 0xf) as usize)?
        }
        _ if t & 0xf0 == 0x80 => {
            c.take(1)?;
            map(lua, c, (t & 0xf) as usize)?
        }
        _ => return Err(Stop::BadFormat),
    })
}

fn array(lua: &Lua, c: &mut Cursor<'_>, len: usize) -> Result<Value, Stop> {
    let t = lua.create_table()?;
    for i in 1..=len {
        let v = mp_decode(lua, c)?;
        t.set(i, v)?;
    }
    Ok(Value::Table(t))
}

fn map(lua: &Lua, c: &mut Cursor<'_>, len: usize) -> Result<Value, Stop> {
    let t = lua.create_table()?;
    for _ in 0..len {
        let k = mp_decode(lua, c)?;
        let v = mp_decode(lua, c)?;
        if k == Value::Nil {
            return Err(Stop::Lua(error(lua, "table index is nil")));
        }
        t.set(k, v)?;
    }
    Ok(Value::Table(t))
}

/// `mp_unpack_full`: decodes up to `limit` values (all when `limit` and `offset` are 0) from
/// `offset`; unless decoding all, the first result is the next offset (-1 at the end).
fn unpack_full(lua: &Lua, s: &[u8], limit: i64, offset: i64) -> mlua::Result<MultiValue> {
    let len = s.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return Err(error(
            lua,
            &format!("Invalid request to unpack with offset of {offset} and limit of {len}."),
        ));
    } else if offset as usize > len {
        return Err(error(
            lua,
            &format!("Start offset {offset} greater than input length {len}."),
        ));
    }
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    let mut c = Cursor {
        p: &s[offset as usize..],
    };
    let mut out: Vec<Value> = Vec::new();
    let mut cnt = 0;
    while !c.p.is_empty() && cnt < limit {
        match mp_decode(lua, &mut c) {
            Ok(v) => out.push(v),
            Err(Stop::Eof) => return Err(error(lua, "Missing bytes in input.")),
            Err(Stop::BadFormat) => return Err(error(lua, "Bad data format in input.")),
            Err(Stop::Lua(e)) => return Err(e),
        }
        cnt += 1;
    }
    if !decode_all {
        let next = if c.p.is_empty() {
            -1
        } else {
            (len - c.p.len()) as i64
        };
        out.insert(0, Value::Integer(next));
    }
    Ok(MultiValue::from_iter(out))
}

/// A C `int` from a Lua integer argument (`luaL_optinteger` assigned to an `int`).
fn c_int(v: i64) -> i64 {
    v as i32 as i64
}

/// The `cmsgpack` table.
pub fn cmsgpack(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", lua.create_function(mp_pack)?)?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, a: MultiValue| {
            let s = check_bytes(lua, &a, 0)?;
            unpack_full(lua, &s, 0, 0)
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, a: MultiValue| {
            let offset = c_int(opt_integer(lua, &a, 1, 0)?);
            let s = check_bytes(lua, &a, 0)?;
            unpack_full(lua, &s, 1, offset)
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(|lua, a: MultiValue| {
            let limit = c_int(check_number(lua, &a, 1)? as i64);
            let offset = c_int(opt_integer(lua, &a, 2, 0)?);
            let s = check_bytes(lua, &a, 0)?;
            unpack_full(lua, &s, limit, offset)
        })?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}
