#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rcsec_link::fuzzing::link_token_decode(data));
