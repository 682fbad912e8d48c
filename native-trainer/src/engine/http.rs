//! A small blocking HTTP/1.1 client over `std::net`: one request per connection, a
//! deadline over the whole exchange, a bounded response. What the OpenAI sampler needs
//! and nothing more — so every way a server can fail (refused, reset, silent, cut short,
//! oversized) is a typed error the caller can retry or report. Plain `http://` only: TLS
//! would need a crypto stack this crate does not build; `https://` is refused by name
//! (put a local TLS-terminating proxy or an SSH tunnel in front of the server).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Largest response body accepted (a completion of thousands of tokens is far below).
const MAX_BODY: usize = 64 << 20;
/// Longest status or header line accepted.
const MAX_LINE: usize = 16 << 10;

/// A base URL as OpenAI clients take it, e.g. `http://gpu-node:8000/v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash (`/v1`), possibly empty.
    pub path: String,
}

impl BaseUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = if let Some(r) = text.strip_prefix("http://") {
            r
        } else if text.starts_with("https://") {
            return Err(format!(
                "{text}: https is not supported by probable's client (no TLS built in); \
                 reach the server over http, e.g. through an SSH tunnel or a local proxy"
            ));
        } else {
            return Err(format!(
                "{text}: not an http:// URL (expected e.g. http://gpu-node:8000/v1)"
            ));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(format!(
                "{text}: credentials in the URL are not accepted (use --api-key-env)"
            ));
        }
        if path.contains(['?', '#', ' ']) {
            return Err(format!("{text}: the base URL takes no query or fragment"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{text}: unterminated IPv6 address"))?;
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(format!("{text}: no host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| format!("{text}: port `{p}` is not a number below 65536"))?,
            None => 80,
        };
        Ok(Self {
            host,
            port,
            path: path.trim_end_matches('/').to_string(),
        })
    }

    /// The URL of `endpoint` (e.g. `/completions`) under this base.
    pub fn url(&self, endpoint: &str) -> String {
        format!("{}{endpoint}", self)
    }
}

impl std::fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "http://[{}]:{}{}", self.host, self.port, self.path)
        } else {
            write!(f, "http://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

/// A complete response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why no response came back.
#[derive(Debug)]
pub enum HttpError {
    /// The name did not resolve or nothing accepted the connection.
    Connect(String),
    /// The deadline passed (connecting, sending or waiting for the answer).
    Timeout,
    /// The connection broke (reset, closed before the response was complete).
    Broken(String),
    /// The answer was not HTTP as this client reads it (or too large).
    Protocol(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Connect(e) => write!(f, "cannot connect: {e}"),
            HttpError::Timeout => write!(f, "timed out"),
            HttpError::Broken(e) => write!(f, "connection broken: {e}"),
            HttpError::Protocol(e) => write!(f, "malformed HTTP response: {e}"),
        }
    }
}

fn io_error(e: std::io::Error) -> HttpError {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => HttpError::Timeout,
        _ => HttpError::Broken(e.to_string()),
    }
}

/// Sends one request (`body` as JSON when given) and reads the whole response, all
/// within `timeout`; connecting alone may take at most `connect_timeout`.
pub fn send(
    base: &BaseUrl,
    method: &str,
    endpoint: &str,
    body: Option<&[u8]>,
    bearer: Option<&str>,
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<Response, HttpError> {
    let deadline = Instant::now() + timeout;
    let addrs: Vec<SocketAddr> = (base.host.as_str(), base.port)
        .to_socket_addrs()
        .map_err(|e| HttpError::Connect(format!("{}: {e}", base.host)))?
        .collect();
    let mut last = HttpError::Connect(format!("{} resolves to no address", base.host));
    let mut stream = None;
    for addr in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HttpError::Timeout);
        }
        match TcpStream::connect_timeout(&addr, left.min(connect_timeout)) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => last = HttpError::Timeout,
            Err(e) => last = HttpError::Connect(e.to_string()),
        }
    }
    let mut stream = stream.ok_or(last)?;
    let _ = stream.set_nodelay(true);
    let mut head = format!(
        "{method} {}{endpoint} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n\
         Accept: application/json\r\nUser-Agent: probable/{}\r\n",
        base.path,
        base.host,
        base.port,
        env!("CARGO_PKG_VERSION")
    );
    if let Some(key) = bearer {
        head.push_str(&format!("Authorization: Bearer {key}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    let remaining = |d: Instant| {
        let left = d.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(HttpError::Timeout)
        } else {
            Ok(left)
        }
    };
    stream
        .set_write_timeout(Some(remaining(deadline)?))
        .map_err(io_error)?;
    stream.write_all(head.as_bytes()).map_err(io_error)?;
    if let Some(b) = body {
        stream.write_all(b).map_err(io_error)?;
    }
    stream.flush().map_err(io_error)?;
    let mut reader = Deadlined {
        inner: BufReader::new(stream),
        deadline,
    };
    read_response(&mut reader)
}

/// A reader that gives every read the time left until `deadline`.
struct Deadlined {
    inner: BufReader<TcpStream>,
    deadline: Instant,
}

impl Deadlined {
    fn arm(&mut self) -> Result<(), HttpError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HttpError::Timeout);
        }
        self.inner
            .get_ref()
            .set_read_timeout(Some(left))
            .map_err(io_error)
    }

    fn line(&mut self) -> Result<String, HttpError> {
        let mut buf = Vec::new();
        loop {
            self.arm()?;
            let n = (&mut self.inner)
                .take((MAX_LINE - buf.len()) as u64)
                .read_until(b'\n', &mut buf)
                .map_err(io_error)?;
            if buf.ends_with(b"\n") {
                break;
            }
            if n == 0 {
                return Err(HttpError::Broken("closed before the response ended".into()));
            }
            if buf.len() >= MAX_LINE {
                return Err(HttpError::Protocol("header line too long".into()));
            }
        }
        Ok(String::from_utf8_lossy(&buf)
            .trim_end_matches(['\r', '\n'])
            .to_string())
    }

    fn exact(&mut self, n: usize, out: &mut Vec<u8>) -> Result<(), HttpError> {
        let start = out.len();
        out.resize(start + n, 0);
        let mut filled = start;
        while filled < out.len() {
            self.arm()?;
            let k = self.inner.read(&mut out[filled..]).map_err(io_error)?;
            if k == 0 {
                return Err(HttpError::Broken(format!(
                    "closed after {} of {n} body bytes",
                    filled - start
                )));
            }
            filled += k;
        }
        Ok(())
    }

    fn to_end(&mut self, out: &mut Vec<u8>) -> Result<(), HttpError> {
        let mut chunk = [0u8; 8192];
        loop {
            self.arm()?;
            let k = self.inner.read(&mut chunk).map_err(io_error)?;
            if k == 0 {
                return Ok(());
            }
            if out.len() + k > MAX_BODY {
                return Err(HttpError::Protocol(format!("body over {MAX_BODY} bytes")));
            }
            out.extend_from_slice(&chunk[..k]);
        }
    }
}

fn read_response(r: &mut Deadlined) -> Result<Response, HttpError> {
    let status_line = r.line()?;
    let mut parts = status_line.splitn(3, ' ');
    let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Protocol(format!(
            "status line `{}`",
            excerpt(status_line.as_bytes(), 80)
        )));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| HttpError::Protocol(format!("status `{code}`")))?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut header_bytes = 0usize;
    loop {
        let h = r.line()?;
        header_bytes += h.len();
        if header_bytes > 64 << 10 {
            return Err(HttpError::Protocol("headers over 64 KiB".into()));
        }
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "content-length" {
                let n: usize = v
                    .parse()
                    .map_err(|_| HttpError::Protocol(format!("Content-Length `{v}`")))?;
                if n > MAX_BODY {
                    return Err(HttpError::Protocol(format!("body of {n} bytes")));
                }
                length = Some(n);
            } else if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let size_line = r.line()?;
            let size_text = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| HttpError::Protocol(format!("chunk size `{size_text}`")))?;
            if size == 0 {
                break;
            }
            if body.len() + size > MAX_BODY {
                return Err(HttpError::Protocol(format!("body over {MAX_BODY} bytes")));
            }
            r.exact(size, &mut body)?;
            r.line()?;
        }
    } else if let Some(n) = length {
        r.exact(n, &mut body)?;
    } else {
        r.to_end(&mut body)?;
    }
    Ok(Response { status, body })
}

/// The first `max` characters of `bytes` as one printable line (for error messages).
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let u = BaseUrl::parse("http://gpu-node:8000/v1/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("gpu-node", 8000, "/v1")
        );
        assert_eq!(u.url("/models"), "http://gpu-node:8000/v1/models");
        assert_eq!(BaseUrl::parse("http://h").unwrap().port, 80);
        assert_eq!(BaseUrl::parse("http://[::1]:9/v1").unwrap().host, "::1");
        for bad in [
            "https://h/v1",
            "ftp://h",
            "h:80",
            "http://:80",
            "http://u:p@h/v1",
            "http://h:99999",
            "http://h/v1?x=1",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
