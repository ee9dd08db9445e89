//! The randomness seam: every key, link id, nonce prefix and verification code comes from here.

use std::fmt;

/// The operating system's random source failed; nothing was generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("operating system random source failed")]
pub struct RandomError;

/// A source of cryptographically secure random bytes.
///
/// Production code uses [`OsRandom`]; the seam exists so tests and the fuzzing entry points can
/// run deterministically, and so a deployment can route draws through an HSM or count them.
///
/// # Contract
/// - Bytes are unpredictable (a CSPRNG): link ids, payload keys, nonce prefixes and
///   verification codes are only as strong as this. Predictable bytes outside tests are a
///   vulnerability, not a configuration.
/// - `fill` fills *all* of `dest` or returns [`RandomError`]; it never returns partially
///   filled or zeroed buffers as success. Callers treat the error as "mint nothing".
/// - It is safe to call from many threads at once.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use rcsec_link::{OsRandom, RandomError, RandomSource};
///
/// /// The OS generator, counting how many bytes the service draws (for a metrics page).
/// #[derive(Debug, Default)]
/// struct Counted { drawn: AtomicUsize }
///
/// impl RandomSource for Counted {
///     fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
///         OsRandom.fill(dest)?;
///         self.drawn.fetch_add(dest.len(), Ordering::Relaxed);
///         Ok(())
///     }
/// }
///
/// let rng = Counted::default();
/// let mut a = [0u8; 32];
/// let mut b = [0u8; 32];
/// rng.fill(&mut a)?;
/// rng.fill(&mut b)?;
/// assert_ne!(a, b);
/// assert_eq!(rng.drawn.load(Ordering::Relaxed), 64);
/// # Ok::<(), RandomError>(())
/// ```
pub trait RandomSource: Send + Sync + fmt::Debug {
    /// Fills `dest` with random bytes.
    ///
    /// # Errors
    /// [`RandomError`] when the source is unavailable.
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError>;
}

/// The operating system's CSPRNG (`getrandom`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(dest).map_err(|_| RandomError)
    }
}

/// Draws an index uniformly from `0..n` (`n` in `1..=256`) by rejection sampling.
pub(crate) fn uniform_index(rng: &dyn RandomSource, n: u16) -> Result<usize, RandomError> {
    debug_assert!((1..=256).contains(&n));
    let limit = 256 - (256 % n);
    loop {
        let mut b = [0u8; 1];
        rng.fill(&mut b)?;
        if u16::from(b[0]) < limit {
            return Ok(usize::from(u16::from(b[0]) % n));
        }
    }
}
