//! Fuzz target: see `server::fuzzing::next_redirect`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| server::fuzzing::next_redirect(data));
