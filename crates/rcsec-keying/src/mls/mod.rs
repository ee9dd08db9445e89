//! MLS (RFC 9420) building blocks for cipher suite 1,
//! `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519`.

pub mod codec;
pub mod crypto;
pub mod tree_math;
pub mod vectors;
