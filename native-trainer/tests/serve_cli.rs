//! `probable serve` under hostile and heavy use on loopback: request-line and header
//! limits, methods, idle connections, and a bounded load test.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{probable_command, scratch};

struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(name: &str, workers: &str, idle: &str) -> Server {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::create_dir_all(dir.join("public/models")).unwrap();
    std::fs::write(dir.join("dist/index.html"), "<p>hello</p>").unwrap();
    std::fs::write(dir.join("public/models/index.json"), "{}").unwrap();
    let mut child = probable_command(&[
        "serve",
        "--port",
        "0",
        "--workers",
        workers,
        "--idle-timeout",
        idle,
    ])
    .arg("--dist")
    .arg(dir.join("dist"))
    .arg("--public")
    .arg(dir.join("public"))
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let port = common::served_port(&mut child);
    Server { child, port, dir }
}

/// Sends `request` raw and returns the whole response (status line first).
fn send(port: u16, request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(request);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

fn status(response: &str) -> &str {
    response.split(' ').nth(1).unwrap_or("")
}

#[test]
fn limits_methods_and_idle_connections() {
    let srv = start("limits", "4", "1");
    let p = srv.port;
    let ok = send(p, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status(&ok), "200", "{ok}");
    assert!(ok.ends_with("<p>hello</p>"));
    let head = send(p, b"HEAD /models/index.json HTTP/1.1\r\n\r\n");
    assert_eq!(status(&head), "200");
    assert!(head.ends_with("\r\n\r\n"), "HEAD has no body: {head:?}");
    for m in ["POST", "PUT", "DELETE"] {
        let r = send(
            p,
            format!("{m} / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").as_bytes(),
        );
        assert_eq!(status(&r), "405", "{m}: {r}");
        assert!(r.contains("Allow: GET, HEAD"));
    }
    let long_url = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(100_000));
    assert_eq!(status(&send(p, long_url.as_bytes())), "414");
    let big_headers = format!(
        "GET / HTTP/1.1\r\n{}\r\n",
        "X-A: bbbbbbbbbbbbbbbbbbbb\r\n".repeat(2000)
    );
    assert_eq!(status(&send(p, big_headers.as_bytes())), "431");
    let one_huge_header = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "c".repeat(40_000));
    assert_eq!(status(&send(p, one_huge_header.as_bytes())), "431");
    assert_eq!(
        status(&send(p, b"GET /../../etc/passwd HTTP/1.1\r\n\r\n")),
        "404"
    );
    assert_eq!(status(&send(p, b"BLAH\r\n\r\n")), "400");

    // A silent connection is closed after the idle timeout (1 s here).
    let mut idle = TcpStream::connect(("127.0.0.1", p)).unwrap();
    idle.write_all(b"GET / HTT").unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let t = Instant::now();
    let mut buf = Vec::new();
    let _ = idle.read_to_end(&mut buf);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    // The server still answers.
    assert_eq!(status(&send(p, b"GET / HTTP/1.1\r\n\r\n")), "200");
}

#[test]
fn bounded_load_on_loopback() {
    let srv = start("load", "4", "2");
    let p = srv.port;
    // Slow clients holding every worker and the queue do not take the server down: new
    // connections get 503 at once, and service resumes once the idle ones time out.
    let hogs: Vec<TcpStream> = (0..16)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", p)).unwrap();
            s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let busy = send(p, b"GET / HTTP/1.1\r\n\r\n");
    assert!(matches!(status(&busy), "503" | "200"), "{busy}");
    std::thread::sleep(Duration::from_secs(3));
    drop(hogs);
    assert_eq!(status(&send(p, b"GET / HTTP/1.1\r\n\r\n")), "200");

    // 8 client threads × 100 requests: every one answered (200, or 503 when all workers
    // are busy), in bounded time.
    let t = Instant::now();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                let mut counts = [0usize; 2];
                for _ in 0..100 {
                    match status(&send(p, b"GET /models/index.json HTTP/1.1\r\n\r\n")) {
                        "200" => counts[0] += 1,
                        "503" => counts[1] += 1,
                        other => panic!("status {other}"),
                    }
                }
                counts
            })
        })
        .collect();
    let (mut ok, mut busy) = (0, 0);
    for h in handles {
        let [a, b] = h.join().unwrap();
        ok += a;
        busy += b;
    }
    assert_eq!(ok + busy, 800);
    assert!(ok >= 400, "{ok} of 800 served");
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    eprintln!(
        "800 requests: {ok} served, {busy} refused busy, in {:?}",
        t.elapsed()
    );
}
