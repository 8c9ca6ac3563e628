//! Differential test of [`tern_persist::lzf`] against the C liblzf that Debian's
//! `redis-server` links (`liblzf.so.1`, version 3.6): same compressed bytes, same decision on
//! whether the output fits, and the same verdict on arbitrary streams given to the
//! decompressor.
//!
//! The library is loaded at run time with `dlopen`. Where it is not installed the test says so
//! on stderr and passes: the byte-identity that matters is also checked against a real
//! `redis-server` in `redis_dump.rs`, which does not skip.

use std::ffi::{c_uint, c_void, CStr};

type LzfFn = unsafe extern "C" fn(*const c_void, c_uint, *mut c_void, c_uint) -> c_uint;

struct Liblzf {
    compress: LzfFn,
    decompress: LzfFn,
}

fn load() -> Option<Liblzf> {
    let names: [&CStr; 3] = [
        c"liblzf.so.1",
        c"/lib/x86_64-linux-gnu/liblzf.so.1",
        c"liblzf.so",
    ];
    for name in names {
        // SAFETY: dlopen/dlsym with valid NUL-terminated names; the handle is never closed, so
        // the function pointers stay valid for the whole process.
        unsafe {
            let h = libc::dlopen(name.as_ptr(), libc::RTLD_NOW);
            if h.is_null() {
                continue;
            }
            let c = libc::dlsym(h, c"lzf_compress".as_ptr());
            let d = libc::dlsym(h, c"lzf_decompress".as_ptr());
            if c.is_null() || d.is_null() {
                continue;
            }
            return Some(Liblzf {
                compress: std::mem::transmute::<*mut c_void, LzfFn>(c),
                decompress: std::mem::transmute::<*mut c_void, LzfFn>(d),
            });
        }
    }
    None
}

/// liblzf keeps its hash table uninitialised on the stack; zeroing the stack below us first
/// makes its output deterministic (equivalent to its `INIT_HTAB` option).
#[inline(never)]
fn zero_stack() {
    let mut a = [0u8; 1 << 20];
    std::hint::black_box(&mut a);
}

#[inline(never)]
fn c_compress(lib: &Liblzf, input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; max_out + 1];
    zero_stack();
    // SAFETY: input and out are valid for the lengths given; liblzf writes at most max_out.
    let n = unsafe {
        (lib.compress)(
            input.as_ptr().cast(),
            input.len() as c_uint,
            out.as_mut_ptr().cast(),
            max_out as c_uint,
        )
    };
    (n != 0).then(|| {
        out.truncate(n as usize);
        out
    })
}

fn c_decompress(lib: &Liblzf, input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; max_out + 1];
    // SAFETY: as above; liblzf (built with CHECK_INPUT) never reads past `input`.
    let n = unsafe {
        (lib.decompress)(
            input.as_ptr().cast(),
            input.len() as c_uint,
            out.as_mut_ptr().cast(),
            max_out as c_uint,
        )
    };
    (n != 0).then(|| {
        out.truncate(n as usize);
        out
    })
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Inputs mixing random bytes from a small or large alphabet with copies of earlier stretches
/// at short and long distances.
fn input(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.below(4) {
        0 => 1 + rng.below(40),
        1 => 1 + rng.below(300),
        2 => 1 + rng.below(3000),
        _ => 1 + rng.below(12000),
    };
    let alphabet = 1 + rng.below(256);
    let reach = [20, 300, 9000][rng.below(3)];
    let mut data = Vec::with_capacity(len);
    while data.len() < len {
        if data.is_empty() || rng.below(2) == 0 {
            data.push(rng.below(alphabet) as u8);
        } else {
            let back = 1 + rng.below(data.len().min(reach));
            let n = (1 + rng.below(300)).min(len - data.len());
            let start = data.len() - back;
            for k in 0..n {
                data.push(data[start + k]);
            }
        }
    }
    data
}

#[test]
fn lzf_matches_liblzf() {
    let Some(lib) = load() else {
        eprintln!("liblzf.so.1 not found: differential LZF test not run");
        return;
    };
    // Run on a thread with a big stack: liblzf's table lives on the stack.
    std::thread::Builder::new()
        .stack_size(16 << 20)
        .spawn(move || {
            let mut rng = Rng(0x0123_4567_89ab_cdef);
            let mut fitted = 0;
            for i in 0..20_000 {
                let data = input(&mut rng);
                let n = data.len();
                let max_out = match rng.below(3) {
                    0 => n.saturating_sub(4), // what Redis passes
                    1 => n + n / 16 + 16,
                    _ => rng.below(n + 20),
                };
                let theirs = c_compress(&lib, &data, max_out);
                let ours = tern_persist::lzf::compress(&data, max_out);
                assert_eq!(ours, theirs, "case {i}: len {n}, max_out {max_out}");
                if let Some(c) = theirs {
                    fitted += 1;
                    assert_eq!(tern_persist::lzf::decompress(&c, n).unwrap(), data);
                }
            }
            assert!(fitted > 5_000, "too few compressible cases: {fitted}");

            // Arbitrary streams: both accept (with the same output) or both refuse.
            for i in 0..50_000 {
                let len = 1 + rng.below(64);
                let stream: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                let max_out = rng.below(2000);
                let theirs = c_decompress(&lib, &stream, max_out);
                let mut ours = Vec::new();
                let ok = tern_persist::lzf::decompress_into(&stream, &mut ours, max_out);
                match (theirs, ok) {
                    (Some(t), Ok(n)) => {
                        assert_eq!(n, t.len(), "case {i}");
                        assert_eq!(ours, t, "case {i}");
                    }
                    (None, Err(_)) => {}
                    (None, Ok(0)) => {} // both produced nothing (liblzf reports 0 either way)
                    (t, o) => panic!("case {i}: liblzf {t:?}, ours {o:?} for {stream:?}"),
                }
            }
        })
        .unwrap()
        .join()
        .unwrap();
}
