//! Fuzz target: see `framelens::fuzzing::readers`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| framelens::fuzzing::readers(data));
