//! Fuzz target: see `framelens::fuzzing::model_load`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| framelens::fuzzing::model_load(data));
