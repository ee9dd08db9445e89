#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rcsec_capability::fuzzing::carrier_matrix_parse(data));
