//! MLS (RFC 9420) building blocks for cipher suite 1.
