//! `probable eval --engine openai` against `probable serve --model` on loopback (real
//! sockets), directly and through a fault-injecting proxy written here: answers equal the
//! in-process engine's for the same seeds; every fault is retried or named; a killed or
//! failed run resumes to every question exactly once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use probable_core::eval::EvalReport;
use probable_core::sample::{no_progress, sample_prompts, PromptJob};
use probable_core::tokenizer::Tokenizer;
use serde_json::Value;

mod common;
use common::{scratch, tiny_model};

/// `probable serve --model DIR --port 0`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(model: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_probable"))
        .args(["serve", "--port", "0", "--model"])
        .arg(model)
        .arg("--dist")
        .arg(model.join("no-app"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let port = common::served_port(&mut child);
    Server { child, port }
}

/// Runs `probable` with a short retry backoff (and an optional failpoint).
fn run(args: &[String], failpoint: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_probable"));
    c.args(args)
        .env("PROBABLE_RETRY_BACKOFF_MS", "20")
        .stdin(Stdio::null());
    match failpoint {
        Some(f) => c.env("PROBABLE_FAILPOINT", f),
        None => c.env_remove("PROBABLE_FAILPOINT"),
    };
    c.output().unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A tiny bundle and 4 questions.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    common::tiny_eval_setup(dir, 4)
}

/// Eval arguments: 4 questions, 5 samples each (chunks of 2: requests of 2, 2, 1), one
/// question per group so the journal grows question by question.
fn eval_args(m: &Path, data: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "eval",
        "--model",
        m.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--samples",
        "5",
        "--max-new-tokens",
        "10",
        "--seed",
        "3",
        "--batch-size",
        "5",
        "--chunk",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn remote(port: u16) -> String {
    format!("http://127.0.0.1:{port}/v1")
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Per question: greedy ids and every sample's ids.
fn answers(r: &Value) -> Vec<(Value, Vec<Value>)> {
    r["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let samples = q["samples"].as_array().unwrap();
            (
                q["greedy"]["ids"].clone(),
                samples.iter().map(|s| s["ids"].clone()).collect(),
            )
        })
        .collect()
}

#[test]
fn remote_answers_equal_the_in_process_engine_for_the_same_seeds() {
    let dir = scratch("equal");
    let (m, data) = setup(&dir);
    let srv = serve(&m);
    let local = dir.join("local.json");
    let o = run(&eval_args(&m, &data, &local, &[]), None);
    assert!(o.status.success(), "{}", err(&o));
    let out = dir.join("remote.json");
    let url = remote(srv.port);
    let o = run(
        &eval_args(
            &m,
            &data,
            &out,
            &["--engine", "openai", "--endpoint", &url, "--endpoint", &url],
        ),
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    let (l, r) = (read(&local), read(&out));
    // The local report carries no engine and no per-sample seed.
    assert!(l.get("engine").is_none());
    assert!(l["questions"][0]["samples"][0].get("seed").is_none());
    // Greedy: the same ids as the local engine.
    let (la, ra) = (answers(&l), answers(&r));
    assert_eq!(la.len(), 4);
    for (a, b) in la.iter().zip(&ra) {
        assert_eq!(a.0, b.0, "greedy answers differ");
        assert_eq!(b.1.len(), 5);
    }
    let engine = &r["engine"];
    assert_eq!(engine["kind"], "openai");
    assert_eq!(engine["endpoints"][0], url.as_str());
    assert_eq!(engine["served_model"], m.display().to_string().as_str());
    assert_eq!(engine["token_ids"], "server");
    assert_eq!(engine["retries"], 0);
    assert_eq!(engine["chunk"], 2);
    for k in [
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "repetition_penalty",
        "max_tokens",
    ] {
        assert!(
            engine["sample_request"].get(k).is_some(),
            "{k} not recorded"
        );
    }
    assert_eq!(engine["greedy_request"]["temperature"], 0.0);

    // Samples: seeds consecutive within a question, distinct, and each sample is the one
    // the in-process decoder draws from that seed's stream.
    let report = EvalReport::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let tokenizer =
        Tokenizer::from_json(&std::fs::read(m.join("tokenizer.json")).unwrap()).unwrap();
    let model = tiny_model();
    let mut prompts = Vec::new();
    let mut expected = Vec::new();
    for q in &report.questions {
        let seeds: Vec<u64> = q.samples.iter().map(|s| s.seed.unwrap()).collect();
        for (j, s) in seeds.iter().enumerate() {
            assert_eq!(*s, seeds[0] + j as u64, "seeds {seeds:?}");
        }
        assert!(seeds.iter().all(|&s| s < u32::MAX as u64));
        let prompt = report
            .config
            .template
            .encode_prompt(&tokenizer, &q.question, Some(1))
            .unwrap();
        prompts.push((prompt, seeds));
        expected.extend(q.samples.iter().map(|s| s.ids.clone()));
    }
    let jobs: Vec<PromptJob> = prompts
        .iter()
        .flat_map(|(p, seeds)| {
            seeds.iter().map(move |&seed| PromptJob {
                prompt: p,
                prompt_index: 0,
                samples: 0..1,
                seed,
            })
        })
        .collect();
    let drawn = pollster::block_on(sample_prompts(
        &model,
        &jobs,
        &report.config.decode,
        64,
        &mut no_progress,
    ))
    .unwrap();
    let drawn: Vec<Vec<u32>> = drawn
        .into_iter()
        .map(|mut g| g.pop().unwrap().tokens)
        .collect();
    assert_eq!(
        drawn, expected,
        "remote samples differ from the in-process draws"
    );
    // Not all samples alike (the seeds were honoured).
    assert!(expected.iter().any(|s| s != &expected[0]));

    // The same run again gives the same samples (same seeds, same backend).
    let again = dir.join("again.json");
    let o = run(
        &eval_args(
            &m,
            &data,
            &again,
            &["--engine", "openai", "--endpoint", &url],
        ),
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(answers(&read(&again)), ra);
    let _ = std::fs::remove_dir_all(&dir);
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Pass,
    Status(u16),
    Garbage,
    DropChoice,
    OutOfVocab,
    /// Every completion request (probe included) gets seed 7: a server ignoring `seed`.
    FixedSeed,
    /// Answers after 3 s.
    Slow,
    /// Closes the connection without answering.
    Close,
    /// Announces the whole answer but sends half of it, then closes.
    Short,
    /// Text only, as llama-server's /v1/completions answers.
    TextOnly,
}

/// A proxy on loopback in front of `upstream`: the i-th sampling request (the seed
/// probe's requests, sent with `ignore_eos: true`, are not counted) gets `script[i]`,
/// later ones `after`.
fn proxy(upstream: u16, script: Vec<Fault>, after: Fault) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let (script, count) = (script.clone(), count.clone());
            std::thread::spawn(move || {
                let _ = relay(conn, upstream, &script, after, &count);
            });
        }
    });
    port
}

fn relay(
    mut conn: TcpStream,
    upstream: u16,
    script: &[Fault],
    after: Fault,
    count: &AtomicUsize,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let (method, path) = {
        let mut p = line.split(' ');
        (
            p.next().unwrap_or("").to_string(),
            p.next().unwrap_or("").to_string(),
        )
    };
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let mut fault = Fault::Pass;
    if path.ends_with("/completions") {
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let probe = v["ignore_eos"] == Value::Bool(true);
        if !probe {
            let i = count.fetch_add(1, Ordering::SeqCst);
            fault = script.get(i).copied().unwrap_or(after);
        }
        if matches!(after, Fault::FixedSeed) {
            let mut v = v;
            v["seed"] = 7.into();
            body = serde_json::to_vec(&v).unwrap();
        }
    }
    let answer = |conn: &mut TcpStream, status: u16, body: &[u8]| {
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes())?;
        conn.write_all(body)
    };
    match fault {
        Fault::Status(code) => return answer(&mut conn, code, b"{\"error\":\"busy\"}"),
        Fault::Garbage => return answer(&mut conn, 200, b"<html>upstream hiccup</html>"),
        Fault::Close => return Ok(()),
        Fault::Slow => std::thread::sleep(Duration::from_secs(3)),
        _ => {}
    }
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    up.write_all(
        format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )?;
    up.write_all(&body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(response.len(), |i| i + 4);
    let status: u16 = String::from_utf8_lossy(&response[..split])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let mut v: Value = serde_json::from_slice(&response[split..]).unwrap_or(Value::Null);
    match fault {
        Fault::DropChoice => {
            v["choices"].as_array_mut().unwrap().pop();
        }
        Fault::OutOfVocab => v["choices"][0]["token_ids"][0] = 99_999.into(),
        Fault::TextOnly => {
            for c in v["choices"].as_array_mut().unwrap() {
                c.as_object_mut().unwrap().remove("token_ids");
            }
        }
        _ => {}
    }
    let bytes = serde_json::to_vec(&v).unwrap();
    if let Fault::Short = fault {
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            bytes.len()
        );
        conn.write_all(head.as_bytes())?;
        return conn.write_all(&bytes[..bytes.len() / 2]);
    }
    answer(&mut conn, status, &bytes)
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn faults_are_retried_or_named_and_nothing_is_half_written() {
    let dir = scratch("faults");
    let (m, data) = setup(&dir);
    let srv = serve(&m);
    let clean = dir.join("clean.json");
    let o = run(
        &eval_args(
            &m,
            &data,
            &clean,
            &["--engine", "openai", "--endpoint", &remote(srv.port)],
        ),
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    let clean = answers(&read(&clean));

    // 429, 503, a closed connection and a cut-short answer are retried, and the answers
    // are the same as without them.
    let p = proxy(
        srv.port,
        vec![
            Fault::Status(429),
            Fault::Status(503),
            Fault::Close,
            Fault::Short,
        ],
        Fault::Pass,
    );
    let out = dir.join("retried.json");
    let o = run(
        &eval_args(
            &m,
            &data,
            &out,
            &["--engine", "openai", "--endpoint", &remote(p)],
        ),
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    let r = read(&out);
    assert_eq!(r["engine"]["retries"], 4);
    assert_eq!(answers(&r), clean);

    // A server that answers text only: re-tokenised, and the report says so.
    let text = proxy(srv.port, Vec::new(), Fault::TextOnly);
    let out = dir.join("text.json");
    let o = run(
        &eval_args(
            &m,
            &data,
            &out,
            &["--engine", "openai", "--endpoint", &remote(text)],
        ),
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    let r = read(&out);
    assert_eq!(r["engine"]["token_ids"], "re-tokenised");
    assert_eq!(r["questions"].as_array().unwrap().len(), 4);

    // A replica that always fails is taken out; the other finishes the run.
    let bad = proxy(srv.port, Vec::new(), Fault::Status(503));
    let out = dir.join("replicas.json");
    let o = run(
        &eval_args(
            &m,
            &data,
            &out,
            &[
                "--engine",
                "openai",
                "--endpoint",
                &remote(bad),
                "--endpoint",
                &remote(srv.port),
            ],
        ),
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    let r = read(&out);
    assert!(
        r["engine"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains(&remote(bad)),
        "{}",
        r["engine"]
    );
    assert_eq!(answers(&r), clean);

    // Errors that name the endpoint; no report, no page.
    let cases: Vec<(Fault, &[&str], &str)> = vec![
        (Fault::Garbage, &[], "not JSON"),
        (Fault::DropChoice, &[], "choice(s) for n ="),
        (Fault::OutOfVocab, &[], "outside the model's vocabulary"),
        (
            Fault::Status(503),
            &["--retries", "2"],
            "gave up after 3 attempts",
        ),
        (
            Fault::Slow,
            &["--request-timeout", "1", "--retries", "1"],
            "--request-timeout",
        ),
        (Fault::FixedSeed, &[], "ignores `seed`"),
    ];
    for (k, (fault, extra, message)) in cases.into_iter().enumerate() {
        let p = proxy(srv.port, Vec::new(), fault);
        let out = dir.join(format!("fault{k}.json"));
        let url = remote(p);
        let mut args = eval_args(&m, &data, &out, &["--engine", "openai", "--endpoint", &url]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let o = run(&args, None);
        assert_eq!(o.status.code(), Some(2), "{fault:?}: {}", err(&o));
        let e = err(&o);
        assert!(e.contains(message), "{fault:?}: {e}");
        assert!(
            e.contains(&url),
            "{fault:?} does not name the endpoint: {e}"
        );
        assert!(!out.exists() && !out.with_extension("html").exists());
    }

    // Unreachable port and wrong path: named before anything is journaled.
    for (url, message) in [
        (remote(closed_port()), "cannot connect"),
        (format!("http://127.0.0.1:{}/nope", srv.port), "HTTP 404"),
    ] {
        let out = dir.join("unreachable.json");
        let o = run(
            &eval_args(&m, &data, &out, &["--engine", "openai", "--endpoint", &url]),
            None,
        );
        assert_eq!(o.status.code(), Some(2), "{}", err(&o));
        assert!(
            err(&o).contains(&url) && err(&o).contains(message),
            "{}",
            err(&o)
        );
        assert!(!out.exists());
    }
    // A model the server does not list, and https (no TLS in the client): named.
    for (extra, message) in [
        (["--served-model", "other"], "does not serve `other`"),
        (
            ["--api-key-env", "PROBABLE_TEST_UNSET_KEY"],
            "PROBABLE_TEST_UNSET_KEY",
        ),
    ] {
        let out = dir.join("named.json");
        let mut args = eval_args(
            &m,
            &data,
            &out,
            &["--engine", "openai", "--endpoint", &remote(srv.port)],
        );
        args.extend(extra.iter().map(|s| s.to_string()));
        let o = run(&args, None);
        assert_eq!(o.status.code(), Some(2), "{}", err(&o));
        assert!(err(&o).contains(message), "{}", err(&o));
    }
    let out = dir.join("https.json");
    let o = run(
        &eval_args(
            &m,
            &data,
            &out,
            &["--engine", "openai", "--endpoint", "https://127.0.0.1:1/v1"],
        ),
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("https is not supported"), "{}", err(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

fn journal(out: &Path) -> PathBuf {
    out.with_file_name(format!(
        "{}.journal.jsonl",
        out.file_name().unwrap().to_string_lossy()
    ))
}

#[test]
fn killed_or_failed_runs_resume_with_every_question_once() {
    let dir = scratch("resume");
    let (m, data) = setup(&dir);
    let srv = serve(&m);
    let url = remote(srv.port);
    let whole = dir.join("whole.json");
    let o = run(
        &eval_args(
            &m,
            &data,
            &whole,
            &["--engine", "openai", "--endpoint", &url],
        ),
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    let whole = answers(&read(&whole));

    // Killed after two questions; resumed against another endpoint list.
    let part = dir.join("part.json");
    let o = run(
        &eval_args(
            &m,
            &data,
            &part,
            &["--engine", "openai", "--endpoint", &url],
        ),
        Some("eval:2"),
    );
    assert_eq!(o.status.signal(), Some(9), "{}", err(&o));
    // A changed engine setting is refused by name.
    let mut changed = eval_args(
        &m,
        &data,
        &part,
        &["--engine", "openai", "--endpoint", &url, "--resume"],
    );
    let at = changed.iter().position(|a| a == "--chunk").unwrap();
    changed[at + 1] = "3".into();
    let o = run(&changed, None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("engine.chunk"), "{}", err(&o));
    let p = proxy(srv.port, Vec::new(), Fault::Pass);
    let o = run(
        &eval_args(
            &m,
            &data,
            &part,
            &[
                "--engine",
                "openai",
                "--endpoint",
                &remote(p),
                "--endpoint",
                &url,
                "--resume",
            ],
        ),
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        err(&o).contains("2 of 4 questions already done"),
        "{}",
        err(&o)
    );
    let r = read(&part);
    let indices: Vec<u64> = r["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, [0, 1, 2, 3]);
    assert_eq!(answers(&r), whole);

    // The server dies after two questions' requests (4 per question: greedy and 3 chunks): the run stops with
    // the endpoint named, the journal keeps the finished questions, --resume completes.
    let died = dir.join("died.json");
    let dying = proxy(srv.port, vec![Fault::Pass; 8], Fault::Close);
    let o = run(
        &eval_args(
            &m,
            &data,
            &died,
            &[
                "--engine",
                "openai",
                "--endpoint",
                &remote(dying),
                "--retries",
                "1",
            ],
        ),
        None,
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains(&remote(dying)), "{}", err(&o));
    assert!(!died.exists());
    let lines = std::fs::read_to_string(journal(&died))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, 3, "header and the two finished questions");
    let o = run(
        &eval_args(
            &m,
            &data,
            &died,
            &["--engine", "openai", "--endpoint", &url, "--resume"],
        ),
        None,
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(answers(&read(&died)), whole);
    assert!(!journal(&died).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends a raw request and returns (status, JSON body).
fn call(port: u16, method: &str, path: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // The server may answer (413) and stop reading before a large body is all sent: the
    // write then fails, and the answer is still there to read.
    let _ = write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let (head, json) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(json).unwrap_or(Value::Null))
}

#[test]
fn serve_answers_the_completions_api_and_names_bad_fields() {
    let dir = scratch("api");
    let (m, _) = setup(&dir);
    let srv = serve(&m);
    let (status, models) = call(srv.port, "GET", "/v1/models", "");
    assert_eq!(status, 200);
    let name = models["data"][0]["id"].as_str().unwrap().to_string();
    // Text or ids; the same seed gives the same choices; choice i of seed s is choice 0
    // of seed s + i; temperature 0 is greedy (all choices alike).
    let ask = |extra: &str| {
        let body = format!(
            r#"{{"model":"{name}","prompt":[1,60,70,80],"max_tokens":8,"return_token_ids":true{extra}}}"#
        );
        let (status, v) = call(srv.port, "POST", "/v1/completions", &body);
        assert_eq!(status, 200, "{v}");
        v["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["token_ids"].clone())
            .collect::<Vec<_>>()
    };
    let a = ask(r#","n":3,"seed":11"#);
    assert_eq!(a.len(), 3);
    assert_eq!(a, ask(r#","n":3,"seed":11"#));
    assert_eq!(a[1..], ask(r#","n":2,"seed":12"#)[..]);
    assert_ne!(a, ask(r#","n":3,"seed":99"#));
    let g = ask(r#","n":2,"seed":1,"temperature":0"#);
    assert_eq!(g[0], g[1]);
    assert_eq!(g, ask(r#","n":2,"seed":2,"temperature":0"#));
    let (status, v) = call(
        srv.port,
        "POST",
        "/v1/completions",
        r#"{"prompt":"Where was author 1 born?","max_tokens":4}"#,
    );
    assert_eq!(status, 200, "{v}");
    assert!(v["choices"][0]["text"].is_string());
    assert!(v["usage"]["completion_tokens"].as_u64().unwrap() <= 4);

    // Bad requests: 4xx naming the field.
    for (body, status, param) in [
        ("{not json", 400, Value::Null),
        (r#"{"prompt":[1],"n":"two"}"#, 400, "n".into()),
        (
            r#"{"prompt":[1],"temperature":-1}"#,
            400,
            "temperature".into(),
        ),
        (r#"{"prompt":[1],"top_p":0}"#, 400, "top_p".into()),
        (r#"{"prompt":[1,300]}"#, 400, "prompt".into()),
        (r#"{"prompt":[]}"#, 400, "prompt".into()),
        (r#"{"n":2}"#, 400, "prompt".into()),
        (
            r#"{"prompt":[1],"max_tokens":100000}"#,
            400,
            "max_tokens".into(),
        ),
        (
            r#"{"prompt":[1],"max_tokens":256}"#,
            400,
            "max_tokens".into(),
        ),
        (r#"{"prompt":[1],"min_p":0.05}"#, 400, "min_p".into()),
        (r#"{"prompt":[1],"stream":true}"#, 400, "stream".into()),
        (r#"{"prompt":[1],"logprobs":5}"#, 400, "logprobs".into()),
        (r#"{"prompt":[1],"model":"other"}"#, 404, "model".into()),
    ] {
        let (got, v) = call(srv.port, "POST", "/v1/completions", body);
        assert_eq!(got, status, "{body}: {v}");
        assert_eq!(v["error"]["param"], param, "{body}: {v}");
    }
    let (got, _) = call(srv.port, "GET", "/v1/completions", "");
    assert_eq!(got, 405);
    let (got, _) = call(srv.port, "POST", "/v1/chat/completions", "{}");
    assert_eq!(got, 404);
    let big = format!(r#"{{"prompt":"{}"}}"#, "x".repeat(2 << 20));
    let (got, _) = call(srv.port, "POST", "/v1/completions", &big);
    assert_eq!(got, 413);
    let _ = std::fs::remove_dir_all(&dir);
}
