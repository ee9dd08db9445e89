//! MLS (RFC 9420) building blocks for cipher suite 1,
//! `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519`.

pub mod codec;
pub mod crypto;
#[doc(hidden)]
pub mod fuzzing;
pub mod framing;
pub mod group_context;
pub mod key_package;
pub mod key_schedule;
pub mod psk;
pub mod secret_tree;
pub mod transcript;
pub mod tree_math;
pub mod vectors;
pub mod welcome;
