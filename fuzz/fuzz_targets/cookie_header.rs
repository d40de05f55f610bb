//! Fuzz target: see `server::fuzzing::cookie_header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| server::fuzzing::cookie_header(data));
