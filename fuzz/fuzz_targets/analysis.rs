//! Fuzz target: see `framelens::fuzzing::analysis`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| framelens::fuzzing::analysis(data));
