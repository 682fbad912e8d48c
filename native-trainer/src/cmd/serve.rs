//! `probable serve`: a local static file server for the web app — the built app from
//! `web/dist` and the shipped bundles from `public/` — so the demo opens with one command.
//! Nothing is computed here; the evaluation runs in the browser.

use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use tiny_http::{Header, Response, Server};

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
}

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

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("static header is valid")
}

pub fn run(args: Args) -> Result<()> {
    let index = args.dist.join("index.html");
    if !index.is_file() {
        bail!(
            "{}: not found — build the web app first with `bash scripts/build-web.sh`",
            index.display()
        );
    }
    let models = args.public.join("models/index.json");
    if !models.is_file() {
        bail!(
            "{}: not found — run from the repository root or pass --public",
            models.display()
        );
    }
    let server = Server::http((args.host.as_str(), args.port))
        .map_err(|e| anyhow::anyhow!("cannot listen on {}:{}: {e}", args.host, args.port))?;
    let addr = server
        .server_addr()
        .to_ip()
        .context("the server has no IP address")?;
    println!(
        "serving the web app on http://{addr}/ (app: {}, models: {}); Ctrl-C stops",
        args.dist.display(),
        args.public.display()
    );
    let roots = [args.dist.as_path(), args.public.as_path()];
    for request in server.incoming_requests() {
        let response = match resolve(&roots, request.url()) {
            Some(path) => match fs::read(&path) {
                Ok(body) => Response::from_data(body)
                    .with_header(header("Content-Type", content_type(&path)))
                    .with_header(header("Cache-Control", "no-cache")),
                Err(e) => {
                    Response::from_string(format!("{}: {e}", path.display())).with_status_code(500)
                }
            },
            None => Response::from_string("not found").with_status_code(404),
        };
        // A client that went away is not the server's problem.
        let _ = request.respond(response);
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
}
