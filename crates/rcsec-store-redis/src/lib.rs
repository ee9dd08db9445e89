//! Redis storage for rcsec (in progress).
#![forbid(unsafe_code)]
