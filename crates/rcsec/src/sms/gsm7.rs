//! GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet: which characters an SMS can carry in
//! one 160-septet segment, and how many septets they take.
//!
//! Anything outside the alphabet forces UCS-2 (70 characters a segment) or, with Kannel's
//! default coding, arrives as `?`, which would break the link. So the SMS text must be GSM-7.

/// Septets in one single-part SMS.
pub const SEGMENT_SEPTETS: usize = 160;

/// The basic table, minus the escape (0x1B).
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: each costs an escape plus the character, two septets.
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets `text` takes in the GSM 7-bit default alphabet, or `None` if a character is not
/// in it.
pub fn septets(text: &str) -> Option<usize> {
    text.chars().try_fold(0usize, |n, c| {
        if BASIC.contains(c) {
            Some(n + 1)
        } else if EXTENSION.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_basic_and_extension_characters() {
        assert_eq!(BASIC.chars().count(), 127);
        assert_eq!(septets("Hello, World! 0-9 @£$"), Some(21));
        assert_eq!(septets("a€b[c]"), Some(9));
        assert_eq!(septets("https://x.example/l/AbC_-123#k=Zz9"), Some(34));
        assert_eq!(septets(""), Some(0));
        assert_eq!(septets("Grüße"), Some(5));
        assert_eq!(septets("naïve"), None, "ï is not GSM-7");
        assert_eq!(septets("emoji 😀"), None);
        assert_eq!(septets("`backtick`"), None);
    }
}
