#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rcsec_provider_rbm::fuzzing::rbm_webhook_decode(data));
