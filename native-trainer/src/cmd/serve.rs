//! `probable serve`: a local static file server for the web app — the built app from
//! `web/dist` and the shipped bundles from `public/` — so the demo opens with one command.
//! Nothing is computed here; the evaluation runs in the browser. With `--model DIR` the
//! same server also answers the OpenAI completions API under `/v1/` (serve_api.rs).
//!
//! Small on purpose and bounded in every resource a client controls: a fixed pool of
//! worker threads takes connections from a bounded queue (a connection that finds it full for 2 s
//! is answered 503), a request line over 8 KiB is answered 414 and a header block over 16 KiB
//! 431 without reading further, a connection idle for `--idle-timeout` is closed, and
//! only GET and HEAD are served (405 otherwise). One request per connection. Files are
//! streamed in 64 KiB pieces, never read whole, so memory stays at about one buffer per
//! worker whatever the file sizes and clients; a single `Range: bytes=…` is answered 206
//! (416 when it lies outside the file), as browsers ask when resuming a large download.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::serve_api::Api;

#[derive(clap::Args)]
pub struct Args {
    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind; the default keeps the server private to this machine.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The built app (index.html, JS glue, wasm), from `bash scripts/build-web.sh`.
    #[arg(long, default_value = "web/dist")]
    pub dist: PathBuf,
    /// Static assets and the demo bundles (`models/index.json`, ...).
    #[arg(long, default_value = "public")]
    pub public: PathBuf,
    /// Worker threads (connections served at once); more wait in a queue of the same size.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,
    /// Seconds a connection may stay silent (while sending its request or reading the
    /// response) before it is closed.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout: u64,
    /// Also answer the OpenAI completions API (/v1/models, /v1/completions) with this
    /// bundle, on the CPU (see serve_api.rs); the web app's files become optional.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
}

/// Longest request line accepted (414 beyond).
const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Largest header block accepted (431 beyond).
const MAX_HEADERS: usize = 16 * 1024;
/// How long a new connection may wait for a free worker before it is answered 503.
const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// The MIME type browsers need to accept each file (wasm must be `application/wasm` for
/// streaming compilation; module scripts must be JavaScript).
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "jsonl" | "txt" | "md" => "text/plain; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

/// Maps a request path onto a file under one of `roots`; `None` for anything that would
/// leave them (`..`, absolute components) or does not exist.
fn resolve(roots: &[&Path], url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_decode(path)?;
    let relative = Path::new(decoded.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let relative = if decoded.ends_with('/') || relative.as_os_str().is_empty() {
        relative.join("index.html")
    } else {
        relative.to_path_buf()
    };
    roots
        .iter()
        .map(|r| r.join(&relative))
        .find(|p| p.is_file())
}

/// Percent-decoding of a URL path; `None` when the result is not UTF-8.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What follows a response head: a short text, or a byte range of an open file.
enum Body {
    Bytes(Vec<u8>),
    File {
        file: fs::File,
        start: u64,
        len: u64,
    },
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::File { len, .. } => *len,
        }
    }
}

/// A response: status, extra headers, body.
struct Reply {
    status: u16,
    reason: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Body,
}

impl Reply {
    fn text(status: u16, reason: &'static str, body: &str) -> Self {
        Self {
            status,
            reason,
            headers: vec![("Content-Type", "text/plain; charset=utf-8".into())],
            body: Body::Bytes(body.as_bytes().to_vec()),
        }
    }
}

/// Bytes read from a file and sent per write: the whole of serve's memory per connection.
const CHUNK: usize = 64 * 1024;

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum RangeAsk {
    /// No usable range (absent, several ranges, or malformed: served whole, as RFC 9110
    /// allows).
    Whole,
    /// Bytes `start..start + len`.
    Part { start: u64, len: u64 },
    /// Outside the file: 416.
    Unsatisfiable,
}

/// Parses a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range against `size`.
fn parse_range(header: Option<&str>, size: u64) -> RangeAsk {
    let Some(spec) = header
        .map(str::trim)
        .and_then(|h| h.strip_prefix("bytes="))
        .map(str::trim)
    else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return RangeAsk::Whole;
    };
    let number = |t: &str| -> Option<u64> {
        let t = t.trim();
        (!t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    match (a.trim().is_empty(), number(a), number(b)) {
        // bytes=-n: the last n bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeAsk::Unsatisfiable
            } else {
                let len = n.min(size);
                RangeAsk::Part {
                    start: size - len,
                    len,
                }
            }
        }
        (false, Some(start), None) if b.trim().is_empty() => {
            if start >= size {
                RangeAsk::Unsatisfiable
            } else {
                RangeAsk::Part {
                    start,
                    len: size - start,
                }
            }
        }
        (false, Some(start), Some(end)) if start <= end => {
            if start >= size {
                RangeAsk::Unsatisfiable
            } else {
                RangeAsk::Part {
                    start,
                    len: end.min(size - 1) - start + 1,
                }
            }
        }
        _ => RangeAsk::Whole,
    }
}

/// The reply for the file at `path`, honouring a single range.
fn file_reply(path: &Path, range: Option<&str>) -> Reply {
    let opened = fs::File::open(path).and_then(|f| f.metadata().map(|m| (f, m.len())));
    let (file, size) = match opened {
        Ok(x) => x,
        Err(e) => {
            return Reply::text(
                500,
                "Internal Server Error",
                &format!("{}: {e}", path.display()),
            )
        }
    };
    let mut headers = vec![
        ("Content-Type", content_type(path).into()),
        ("Cache-Control", "no-cache".into()),
        ("Accept-Ranges", "bytes".into()),
    ];
    match parse_range(range, size) {
        RangeAsk::Whole => Reply {
            status: 200,
            reason: "OK",
            headers,
            body: Body::File {
                file,
                start: 0,
                len: size,
            },
        },
        RangeAsk::Part { start, len } => {
            headers.push((
                "Content-Range",
                format!("bytes {start}-{}/{size}", start + len - 1),
            ));
            Reply {
                status: 206,
                reason: "Partial Content",
                headers,
                body: Body::File { file, start, len },
            }
        }
        RangeAsk::Unsatisfiable => {
            let mut r = Reply::text(416, "Range Not Satisfiable", "range not satisfiable");
            r.headers.push(("Content-Range", format!("bytes */{size}")));
            r
        }
    }
}

/// Reads one line of at most `limit` bytes (CRLF or LF ended); `Ok(None)` when longer.
fn read_line_limited(reader: &mut impl BufRead, limit: usize) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let n = reader.take(limit as u64 + 1).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    if !line.ends_with(b"\n") {
        // Cut off by the limit (or the peer closed mid-line).
        return if n > limit {
            Ok(None)
        } else {
            Err(std::io::ErrorKind::UnexpectedEof.into())
        };
    }
    let text = String::from_utf8_lossy(&line);
    Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()))
}

/// Reads a request head and decides the reply (and whether to send the body).
fn handle(
    reader: &mut impl BufRead,
    roots: &[&Path],
    api: Option<&Api>,
) -> std::io::Result<(Reply, bool)> {
    let Some(line) = read_line_limited(reader, MAX_REQUEST_LINE)? else {
        return Ok((
            Reply::text(414, "URI Too Long", "request line too long"),
            true,
        ));
    };
    let mut used = 0usize;
    let mut range: Option<String> = None;
    let mut length: Option<usize> = None;
    loop {
        let Some(h) = read_line_limited(reader, MAX_HEADERS.saturating_sub(used).max(1))? else {
            return Ok((
                Reply::text(431, "Request Header Fields Too Large", "headers too large"),
                true,
            ));
        };
        used += h.len() + 2;
        if used > MAX_HEADERS {
            return Ok((
                Reply::text(431, "Request Header Fields Too Large", "headers too large"),
                true,
            ));
        }
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            if name.trim().eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            } else if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next(), parts.next(), parts.next());
    let (Some(method), Some(target), Some(version)) = (method, target, version) else {
        return Ok((
            Reply::text(400, "Bad Request", "malformed request line"),
            true,
        ));
    };
    if parts.next().is_some() || !version.starts_with("HTTP/1.") {
        return Ok((
            Reply::text(400, "Bad Request", "malformed request line"),
            true,
        ));
    }
    if let Some(api) = api.filter(|_| target.starts_with("/v1/")) {
        let r = api.respond(method, target, length, reader)?;
        let reply = Reply {
            status: r.status,
            reason: r.reason,
            headers: vec![("Content-Type", "application/json".into())],
            body: Body::Bytes(r.body),
        };
        return Ok((reply, method != "HEAD"));
    }
    let with_body = match method {
        "GET" => true,
        "HEAD" => false,
        _ => {
            let mut r = Reply::text(405, "Method Not Allowed", "only GET and HEAD");
            r.headers.push(("Allow", "GET, HEAD".into()));
            return Ok((r, true));
        }
    };
    let reply = match resolve(roots, target) {
        Some(path) => file_reply(&path, range.as_deref()),
        None => Reply::text(404, "Not Found", "not found"),
    };
    Ok((reply, with_body))
}

fn respond(stream: &mut TcpStream, reply: Reply, with_body: bool) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.reason,
        reply.body.len()
    );
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if with_body {
        match reply.body {
            Body::Bytes(b) => stream.write_all(&b)?,
            Body::File {
                mut file,
                start,
                len,
            } => {
                use std::io::{Seek, SeekFrom};
                file.seek(SeekFrom::Start(start))?;
                let mut buf = vec![0u8; CHUNK];
                let mut left = len;
                while left > 0 {
                    let want = (left as usize).min(CHUNK);
                    let n = file.read(&mut buf[..want])?;
                    if n == 0 {
                        // The file shrank while being sent: the client sees a short body.
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    stream.write_all(&buf[..n])?;
                    left -= n as u64;
                }
            }
        }
    }
    stream.flush()
}

fn serve_connection(mut stream: TcpStream, roots: &[&Path], idle: Duration, api: Option<&Api>) {
    let _ = stream.set_read_timeout(Some(idle));
    let _ = stream.set_write_timeout(Some(idle));
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::with_capacity(4096, clone);
    // A client that went away or stayed silent is not the server's problem.
    if let Ok((reply, with_body)) = handle(&mut reader, roots, api) {
        let status = reply.status;
        let _ = respond(&mut stream, reply, with_body);
        if status >= 400 {
            // Read (a bounded amount of) what the client is still sending, so that closing
            // does not reset the connection before it has read the error — a refused
            // oversized body included (16 MiB; each read waits at most 200 ms).
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = std::io::copy(&mut reader.take(16 << 20), &mut std::io::sink());
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn worker(
    queue: Arc<Mutex<Receiver<TcpStream>>>,
    roots: Arc<[PathBuf; 2]>,
    idle: Duration,
    api: Arc<Option<Api>>,
) {
    loop {
        let next = queue.lock().map(|q| q.recv());
        let Ok(Ok(stream)) = next else { return };
        let r = [roots[0].as_path(), roots[1].as_path()];
        serve_connection(stream, &r, idle, api.as_ref().as_ref());
    }
}

pub fn run(args: Args) -> Result<()> {
    let index = args.dist.join("index.html");
    // With --model the API is served; the web app's files are then optional.
    let api = match &args.model {
        Some(dir) => Some(Api::start(dir, 4 * args.workers as usize)?),
        None => None,
    };
    if !index.is_file() && api.is_none() {
        bail!(
            "{}: not found — build the web app first with `bash scripts/build-web.sh`",
            index.display()
        );
    }
    let models = args.public.join("models/index.json");
    if !models.is_file() && api.is_none() {
        bail!(
            "{}: not found — run from the repository root or pass --public",
            models.display()
        );
    }
    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let addr = listener.local_addr().context("the server has no address")?;
    match &api {
        None => crate::output::emit(&format!(
            "serving the web app on http://{addr}/ (app: {}, models: {}); Ctrl-C stops\n",
            args.dist.display(),
            args.public.display()
        )),
        Some(api) => crate::output::emit(&format!(
            "serving on http://{addr}/ the OpenAI completions API at http://{addr}/v1 (model `{}`) and the web app (app: {}, models: {}); Ctrl-C stops\n",
            api.name(),
            args.dist.display(),
            args.public.display()
        )),
    }
    let workers = args.workers as usize;
    let idle = Duration::from_secs(args.idle_timeout);
    let (tx, rx) = sync_channel::<TcpStream>(workers);
    let rx = Arc::new(Mutex::new(rx));
    let roots: Arc<[PathBuf; 2]> = Arc::new([args.dist.clone(), args.public.clone()]);
    let api = Arc::new(api);
    for _ in 0..workers {
        let (rx, roots, api) = (rx.clone(), roots.clone(), api.clone());
        std::thread::spawn(move || worker(rx, roots, idle, api));
    }
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        // A burst (a page loading its files) waits a moment for a worker; connections
        // meanwhile wait in the kernel's bounded backlog.
        let waited = std::time::Instant::now();
        let outcome = loop {
            match tx.try_send(stream) {
                Err(TrySendError::Full(s)) if waited.elapsed() < QUEUE_WAIT => {
                    stream = s;
                    std::thread::sleep(Duration::from_millis(5));
                }
                other => break other,
            }
        };
        match outcome {
            Ok(()) => {}
            Err(TrySendError::Full(mut s)) => {
                // Every worker busy and the queue full: refuse now rather than pile up.
                let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
                let _ = respond(
                    &mut s,
                    Reply::text(503, "Service Unavailable", "busy, retry"),
                    true,
                );
            }
            Err(TrySendError::Disconnected(_)) => bail!("the worker threads stopped"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_the_roots_only() {
        let dir = std::env::temp_dir().join(format!("probable-serve-{}", std::process::id()));
        let (a, b) = (dir.join("a"), dir.join("b"));
        fs::create_dir_all(b.join("models")).unwrap();
        fs::create_dir_all(&a).unwrap();
        fs::write(a.join("index.html"), "x").unwrap();
        fs::write(b.join("models/my file.json"), "{}").unwrap();
        let roots = [a.as_path(), b.as_path()];
        assert_eq!(resolve(&roots, "/?model=npo"), Some(a.join("index.html")));
        assert_eq!(
            resolve(&roots, "/models/my%20file.json"),
            Some(b.join("models/my file.json"))
        );
        assert_eq!(resolve(&roots, "/../a/index.html"), None);
        assert_eq!(resolve(&roots, "/models/%2e%2e/%2e%2e/a/index.html"), None);
        assert_eq!(resolve(&roots, "/missing.js"), None);
        assert_eq!(content_type(Path::new("x.wasm")), "application/wasm");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn single_ranges_parse_like_rfc_9110() {
        use RangeAsk::*;
        let p = |h: &str, size| parse_range(Some(h), size);
        assert_eq!(p("bytes=0-9", 100), Part { start: 0, len: 10 });
        assert_eq!(p("bytes=90-200", 100), Part { start: 90, len: 10 });
        assert_eq!(p("bytes=95-", 100), Part { start: 95, len: 5 });
        assert_eq!(p("bytes=-10", 100), Part { start: 90, len: 10 });
        assert_eq!(p("bytes=-500", 100), Part { start: 0, len: 100 });
        assert_eq!(p("bytes=100-", 100), Unsatisfiable);
        assert_eq!(p("bytes=100-200", 100), Unsatisfiable);
        assert_eq!(p("bytes=-0", 100), Unsatisfiable);
        assert_eq!(p("bytes=0-0", 0), Unsatisfiable);
        // Malformed or several ranges: the whole file.
        for whole in [
            "bytes=5-1",
            "bytes=a-b",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=-",
            "bytes=+1-2",
        ] {
            assert_eq!(p(whole, 100), Whole, "{whole}");
        }
        assert_eq!(parse_range(None, 100), Whole);
        assert_eq!(p("bytes=18446744073709551615-", 100), Unsatisfiable);
    }
}
