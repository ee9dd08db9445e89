//! 128-bit random identifiers (link ids, blob ids) share one shape; this macro writes it once.

/// Defines `$name([u8; 16])` with `random`, `from_bytes`, `as_bytes`, full-hex `Display` and a
/// `Debug` that shows only the first four bytes.
macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 16]);

        impl $name {
            /// A fresh random id.
            ///
            /// # Errors
            /// [`RandomError`](crate::rng::RandomError) when the random source fails.
            pub fn random(
                rng: &dyn crate::rng::RandomSource,
            ) -> Result<Self, crate::rng::RandomError> {
                let mut id = [0u8; 16];
                rng.fill(&mut id)?;
                Ok(Self(id))
            }

            /// Wraps raw bytes (from a store row).
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!(stringify!($name), "({}…)"), hex::encode(&self.0[..4]))
            }
        }
    };
}

pub(crate) use random_id;
