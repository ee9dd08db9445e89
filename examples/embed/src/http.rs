//! Just enough HTTP/1.1 for one JSON request per connection (`Connection: close`).
//!
//! A real service would use its HTTP client of choice; the example keeps its dependencies to
//! `rcsec`, `serde_json` and tokio so that what it shows is the rcsec API.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Largest head or body either side accepts.
const MAX_PART: usize = 64 * 1024;

/// One HTTP message: the start line, and the body as announced by `Content-Length`.
#[derive(Debug)]
pub(crate) struct Message {
    pub(crate) start_line: String,
    pub(crate) body: Vec<u8>,
}

fn invalid(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Reads one message: a head ending in an empty line, then `Content-Length` bytes.
pub(crate) async fn read_message(stream: &mut (impl AsyncRead + Unpin)) -> io::Result<Message> {
    let mut buf = Vec::with_capacity(1024);
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buf.len() > MAX_PART {
            return Err(invalid("http head too long"));
        }
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(invalid("connection closed inside the http head"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| invalid("http head not utf-8"))?;
    let mut lines = head.split("\r\n");
    let start_line = lines.next().unwrap_or_default().to_owned();
    let mut length = 0usize;
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value
                .trim()
                .parse()
                .map_err(|_| invalid("bad content-length"))?;
        }
    }
    if length > MAX_PART {
        return Err(invalid("http body too long"));
    }
    let mut body = buf[head_end + 4..].to_vec();
    if body.len() > length {
        return Err(invalid("more bytes than content-length"));
    }
    let already = body.len();
    body.resize(length, 0);
    stream.read_exact(&mut body[already..]).await?;
    Ok(Message { start_line, body })
}

/// Serializes a message with a JSON body.
pub(crate) fn encode(start_line: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{start_line}\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}
