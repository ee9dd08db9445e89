//! Small measures of candidate values: entropy, placeholders, character classes.

/// Shannon entropy in bits per byte.
pub(super) fn entropy(value: &[u8]) -> f64 {
    if value.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in value {
        counts[usize::from(b)] += 1;
    }
    let len = f64::from(u32::try_from(value.len()).unwrap_or(u32::MAX));
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// How many of lower, upper, digit appear.
pub(super) fn classes(value: &str) -> u8 {
    let lower = value.bytes().any(|b| b.is_ascii_lowercase());
    let upper = value.bytes().any(|b| b.is_ascii_uppercase());
    let digit = value.bytes().any(|b| b.is_ascii_digit());
    u8::from(lower) + u8::from(upper) + u8::from(digit)
}

/// Documentation placeholders, templating and references to values held elsewhere: none of
/// these is a secret, however they are assigned.
pub(super) fn is_placeholder(value: &str) -> bool {
    let v = value.trim_matches(|c: char| matches!(c, '"' | '\'' | '`'));
    if v.is_empty() {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    const MARKERS: &[&str] = &[
        "xxxx",
        "****",
        "..",
        "<your",
        "your_",
        "your-",
        "yourtoken",
        "yourkey",
        "example",
        "redacted",
        "placeholder",
        "replace_me",
        "dummy",
        "sample",
        "fake",
        "process.env",
        "os.environ",
        "getenv",
        "secretkeyref",
        "valuefrom",
        "put_your",
        "enter_your",
    ];
    if MARKERS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    // Templating: the whole value is a reference to be filled in elsewhere.
    const TEMPLATES: &[(&str, &str)] = &[
        ("${", "}"),
        ("{{", "}}"),
        ("%(", "s"),
        ("$(", ")"),
        ("#{", "}"),
        ("<%", "%>"),
    ];
    if TEMPLATES
        .iter()
        .any(|(open, close)| lower.starts_with(open) && lower.ends_with(close))
    {
        return true;
    }
    let b = v.as_bytes();
    // A reference to something else: $VAR, %s, <thing>, {name}, var.name, [name].
    if matches!(b[0], b'$' | b'%' | b'<' | b'{' | b'[' | b'@') || lower.starts_with("var.") {
        return true;
    }
    // The same character repeated ("aaaa…", "0000…", "----").
    let first = b[0];
    if b.len() >= 3 && b.iter().all(|&c| c == first) {
        return true;
    }
    is_sequential(b)
}

/// `abcdef`, `0123456789`: a keyboard run as the whole value, or a run of twelve or more
/// inside it (`sk_abcdefghijklmnop…`); random secrets practically never contain one.
fn is_sequential(b: &[u8]) -> bool {
    if b.len() >= 5 && b.windows(2).all(|w| w[1] == w[0].wrapping_add(1)) {
        return true;
    }
    let mut run = 1;
    for w in b.windows(2) {
        run = if w[1] == w[0].wrapping_add(1) {
            run + 1
        } else {
            1
        };
        if run >= 12 {
            return true;
        }
    }
    false
}

/// Whether the value looks like a random secret rather than a word, number or identifier:
/// long enough, at least two character classes, entropy over `min_bits` per byte.
pub(super) fn looks_random(value: &str, min_len: usize, min_bits: f64) -> bool {
    value.len() >= min_len
        && !is_placeholder(value)
        && classes(value) >= 2
        && entropy(value.as_bytes()) >= min_bits
}

/// A canonical UUID (8-4-4-4-12 hex).
pub(super) fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_orders_random_above_repetitive() {
        assert!(entropy(b"aaaaaaaa") < 0.01);
        assert!(entropy(b"abababab") > 0.99 && entropy(b"abababab") < 1.01);
        assert!(entropy(b"kV46hPnEYhCWFnB85r5Nrp") > 3.5);
    }

    #[test]
    fn placeholders_are_recognised() {
        for v in [
            "",
            "xxxxxxxxxxxx",
            "${DB_PASSWORD}",
            "<YOUR_TOKEN>",
            "%s",
            "var.db_password",
            "AKIAIOSFODNN7EXAMPLE",
            "0000000000",
            "abcdefgh",
            "'{SumoAccessKey}'",
        ] {
            assert!(is_placeholder(v), "{v}");
        }
        for v in ["hunter2", "kV46hPnEYhCWFnB85r5Nrp", "rootpasswd"] {
            assert!(!is_placeholder(v), "{v}");
        }
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("3636dd46-ea21-11e9-81b4-2a2ae2dbcce4"));
        assert!(!is_uuid("3636dd46-ea21-11e9-81b4-2a2ae2dbcce"));
    }
}
