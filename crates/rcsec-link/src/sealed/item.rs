//! Self-describing items: the artifact's file name and MIME type travel *inside* the sealed
//! payload, so the link page can offer a correct download without either appearing in clear.
//!
//! Before items, the page learned them from optional fragment parameters (`&t=`, `&n=`), which
//! put an artifact's name (often telling: `prod-db-dump.sql`) into the SMS or chat message
//! itself, and the pipeline never wrote them, so any artifact that was not `text/plain` could
//! not be opened at all (the content type is authenticated).
//!
//! # Format (item version 1)
//! ```text
//! sealed with content type ITEM_CONTENT_TYPE (bound by the commitment and every record's AAD)
//! plaintext = "RCSI" | 0x01 | len(name) u8 | name (UTF-8) | len(type) u8 | type (ASCII) | body
//! ```
//! Versioned twice: the sealing content type says "this plaintext is an item", the version
//! byte says which item layout. Payloads sealed under any other content type are legacy
//! (the page falls back to the fragment's `t`/`n` or `text/plain`), so old links keep working.

use std::fmt;

/// The sealing content type of an item payload.
pub const ITEM_CONTENT_TYPE: &str = "application/vnd.rcsec.item";

const MAGIC: &[u8; 4] = b"RCSI";
const VERSION: u8 = 1;
/// Longest file name, in bytes.
pub const MAX_NAME_BYTES: usize = 200;
/// Longest MIME type, in bytes.
pub const MAX_TYPE_BYTES: usize = 255;

/// Why an item could not be built or read. Never echoes the name, type or body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ItemError {
    /// The file name is empty, too long, not UTF-8, or holds a path separator or a control
    /// character (a name is shown and used for the download, never as a path).
    #[error("item file name is invalid")]
    Name,
    /// The MIME type is empty, too long or not printable ASCII.
    #[error("item content type is invalid")]
    ContentType,
    /// Not an item (wrong magic) or cut short.
    #[error("item header is malformed")]
    Malformed,
    /// An item version this build does not read.
    #[error("item version {0} is not supported")]
    Version(u8),
}

/// What an item says about its body.
#[derive(Clone, PartialEq, Eq)]
pub struct ItemMeta {
    /// File name offered for the download.
    pub name: String,
    /// MIME type of the body.
    pub content_type: String,
}

impl fmt::Debug for ItemMeta {
    /// The name can be telling (`prod-db-dump.sql`): only lengths and the type are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ItemMeta")
            .field("name_len", &self.name.len())
            .field("content_type", &self.content_type)
            .finish()
    }
}

fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_BYTES).contains(&name.len())
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
}

fn valid_type(content_type: &str) -> bool {
    (1..=MAX_TYPE_BYTES).contains(&content_type.len())
        && content_type.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// The item plaintext for `body` named `name` of type `content_type`; seal it with
/// [`ITEM_CONTENT_TYPE`].
///
/// # Errors
/// [`ItemError::Name`], [`ItemError::ContentType`].
pub fn encode_item(name: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, ItemError> {
    if !valid_name(name) {
        return Err(ItemError::Name);
    }
    if !valid_type(content_type) {
        return Err(ItemError::ContentType);
    }
    let mut out = Vec::with_capacity(7 + name.len() + content_type.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    // Both lengths fit a byte: checked above.
    out.push(u8::try_from(name.len()).map_err(|_| ItemError::Name)?);
    out.extend_from_slice(name.as_bytes());
    out.push(u8::try_from(content_type.len()).map_err(|_| ItemError::ContentType)?);
    out.extend_from_slice(content_type.as_bytes());
    out.extend_from_slice(body);
    Ok(out)
}

/// Splits an opened item plaintext into what it says about itself and its body.
///
/// # Errors
/// [`ItemError`] for anything but a well-formed version-1 item.
pub fn decode_item(plain: &[u8]) -> Result<(ItemMeta, &[u8]), ItemError> {
    let rest = plain.strip_prefix(MAGIC).ok_or(ItemError::Malformed)?;
    let (&version, rest) = rest.split_first().ok_or(ItemError::Malformed)?;
    if version != VERSION {
        return Err(ItemError::Version(version));
    }
    let (name, rest) = field(rest)?;
    let (content_type, body) = field(rest)?;
    let name = std::str::from_utf8(name).map_err(|_| ItemError::Name)?;
    if !valid_name(name) {
        return Err(ItemError::Name);
    }
    let content_type = std::str::from_utf8(content_type).map_err(|_| ItemError::ContentType)?;
    if !valid_type(content_type) {
        return Err(ItemError::ContentType);
    }
    Ok((
        ItemMeta {
            name: name.to_owned(),
            content_type: content_type.to_owned(),
        },
        body,
    ))
}

/// One length-prefixed field.
fn field(bytes: &[u8]) -> Result<(&[u8], &[u8]), ItemError> {
    let (&len, rest) = bytes.split_first().ok_or(ItemError::Malformed)?;
    let len = usize::from(len);
    if rest.len() < len {
        return Err(ItemError::Malformed);
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn round_trips_name_type_and_body() {
        let plain = encode_item("notes.txt", "text/plain; charset=utf-8", b"hello").unwrap();
        assert_eq!(&plain[..5], b"RCSI\x01");
        let (meta, body) = decode_item(&plain).unwrap();
        assert_eq!(meta.name, "notes.txt");
        assert_eq!(meta.content_type, "text/plain; charset=utf-8");
        assert_eq!(body, b"hello");
        let empty = encode_item("e", "a/b", b"").unwrap();
        assert!(decode_item(&empty).unwrap().1.is_empty());
        let unicode = encode_item("Störung – Bericht.pdf", "application/pdf", b"%PDF").unwrap();
        assert_eq!(
            decode_item(&unicode).unwrap().0.name,
            "Störung – Bericht.pdf"
        );
    }

    #[test]
    fn names_and_types_that_could_mislead_are_refused() {
        for name in ["", "../etc/passwd", "a\\b", "x\ny", &"n".repeat(201)] {
            assert_eq!(
                encode_item(name, "a/b", b""),
                Err(ItemError::Name),
                "{name:?}"
            );
        }
        for ct in ["", "text/plain\r\nX: y", "tëxt/plain", &"t".repeat(256)] {
            assert_eq!(
                encode_item("n", ct, b""),
                Err(ItemError::ContentType),
                "{ct:?}"
            );
        }
        assert!(encode_item(&"n".repeat(200), &"t".repeat(255), b"").is_ok());
    }

    #[test]
    fn every_decode_failure_is_typed() {
        let good = encode_item("a.txt", "text/plain", b"body").unwrap();
        assert_eq!(decode_item(b"hello"), Err(ItemError::Malformed));
        assert_eq!(decode_item(b""), Err(ItemError::Malformed));
        assert_eq!(decode_item(b"RCSI"), Err(ItemError::Malformed));
        let mut v2 = good.clone();
        v2[4] = 2;
        assert_eq!(decode_item(&v2), Err(ItemError::Version(2)));
        for cut in 5..(good.len() - 4) {
            assert!(decode_item(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad_name = good.clone();
        bad_name[7] = b'/';
        assert_eq!(decode_item(&bad_name), Err(ItemError::Name));
        let mut bad_utf8 = good.clone();
        bad_utf8[7] = 0xff;
        assert_eq!(decode_item(&bad_utf8), Err(ItemError::Name));
        let mut bad_type = good;
        bad_type[13] = 0x07;
        assert_eq!(decode_item(&bad_type), Err(ItemError::ContentType));
    }

    #[test]
    fn debug_hides_the_name() {
        let (meta, _) =
            decode_item(&encode_item("prod-db-dump.sql", "application/sql", b"").unwrap()).unwrap();
        let shown = format!("{meta:?}");
        assert!(!shown.contains("prod-db-dump"), "{shown}");
    }
}
