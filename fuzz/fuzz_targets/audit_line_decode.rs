#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rcsec_audit::fuzzing::audit_line_decode(data));
