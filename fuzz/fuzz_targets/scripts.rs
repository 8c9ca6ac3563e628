//! cargo-fuzz target: `tern_server::fuzzing::scripts` (see that module for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tern_server::fuzzing::scripts(data);
});
