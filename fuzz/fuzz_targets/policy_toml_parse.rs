#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rcsec_policy::fuzzing::policy_toml_parse(data));
