//! Fuzz target: see `server::fuzzing::csrf_origin`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| server::fuzzing::csrf_origin(data));
