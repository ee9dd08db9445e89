#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rcsec_keying::fuzzing::mls_tree_decode(data));
