//! Issue 30 end to end: nothing lost when standard output closes, no template can hang a
//! run, what a run read is named by content, stored numbers are checked, and the smaller
//! holes (export, variants, serve's memory and ranges, rescore on a data directory).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

mod common;

use common::{probable, scratch, tiny_bundle};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "stderr: {}", err(o));
}

fn failed(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "stderr: {}", err(o));
    assert!(err(o).contains(needle), "wanted {needle:?} in: {}", err(o));
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Four questions, each also asked a second way.
fn qa(dir: &Path) -> PathBuf {
    let path = dir.join("qa.jsonl");
    let text: String = (0..4)
        .map(|i| {
            format!(
                "{}\n",
                serde_json::json!({
                    "question": format!("Where was author {i} born?"),
                    "paraphrased_question": format!("What is the birthplace of author {i}?"),
                    "answer": format!("Author {i} was born in Town {i}."),
                })
            )
        })
        .collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn eval_args(model: &Path, data: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "eval",
        "--model",
        s(model),
        "--data",
        s(data),
        "--samples",
        "4",
        "--max-new-tokens",
        "4",
        "--seed",
        "2",
        "--out",
        s(out),
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

/// Runs `probable args` with standard output a pipe whose reading end is already closed,
/// as `probable … | head` ends up once `head` has exited.
fn with_closed_stdout(args: &[&str]) -> Output {
    let mut fds = [0; 2];
    // SAFETY: `pipe` fills two valid descriptors on success; each is owned once.
    let (read, write) = unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    drop(read);
    Command::new(env!("CARGO_BIN_EXE_probable"))
        .args(args)
        .env_remove("PROBABLE_FAILPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// Item 1: a closed pipe once ended `report rescore` and `merge` with status 0 and no
/// report (the table was printed first). Now the files are written first, and the closed
/// pipe is a failure (status 2), never success, never a panic.
#[test]
fn a_closed_stdout_fails_the_run_after_the_outputs_are_written() {
    let dir = scratch("pipe");
    let m = dir.join("m");
    tiny_bundle(&m);
    let data = qa(&dir);
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    ok(&probable(&eval_args(&m, &data, &a, &["--shard", "0/2"])));
    ok(&probable(&eval_args(&m, &data, &b, &["--shard", "1/2"])));

    let merged = dir.join("merged.json");
    let o = with_closed_stdout(&["report", "merge", s(&a), s(&b), "--out", s(&merged)]);
    failed(&o, "standard output was closed");
    assert!(merged.is_file() && merged.with_extension("html").is_file());

    let rescored = dir.join("rescored.json");
    let o = with_closed_stdout(&[
        "report",
        "rescore",
        s(&merged),
        "--alpha",
        "0.05",
        "--out",
        s(&rescored),
    ]);
    failed(&o, "standard output was closed");
    assert_eq!(read_json(&rescored)["config"]["bounds"]["alpha"], 0.05);
    assert!(rescored.with_extension("html").is_file());

    for args in [
        vec!["report", "show", s(&merged)],
        vec!["report", "show", s(&merged), "--csv"],
    ] {
        let o = with_closed_stdout(&args);
        failed(&o, "standard output was closed");
        assert!(!err(&o).contains("panicked"), "{}", err(&o));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Item 6: `--out x.html` had the HTML page overwrite the JSON report.
#[test]
fn an_html_out_is_refused_before_any_work() {
    let dir = scratch("html-out");
    let m = dir.join("m");
    tiny_bundle(&m);
    let data = qa(&dir);
    let r = dir.join("r.json");
    ok(&probable(&eval_args(&m, &data, &r, &["--limit", "1"])));
    let page = dir.join("x.html");
    for args in [
        vec![
            "report",
            "rescore",
            s(&r),
            "--alpha",
            "0.05",
            "--out",
            s(&page),
        ],
        vec!["report", "merge", s(&r), "--out", s(&page)],
    ] {
        failed(&probable(&args), "overwritten by its HTML page");
        assert!(!page.exists());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Flips the lowest mantissa bit of the last weight (a little-endian f32): same header,
/// same size, a finite value, another model.
fn change_weights(model: &Path) {
    let path = model.join("model.safetensors");
    let mut bytes = std::fs::read(&path).unwrap();
    let low = bytes.len() - 4;
    bytes[low] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
}

/// Item 4: merges compared path strings, so shards of different weights behind one path
/// merged, and `m` and `./m` were refused as different models.
#[test]
fn merge_compares_model_and_data_by_content() {
    let dir = scratch("identity-merge");
    let m = dir.join("m");
    tiny_bundle(&m);
    let data = qa(&dir);
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    ok(&probable(&eval_args(&m, &data, &a, &["--shard", "0/2"])));
    let identity = read_json(&a)["identity"].clone();
    assert!(
        identity["model"].as_str().unwrap().starts_with("sha256:"),
        "{identity}"
    );
    // The same model by another spelling of its path.
    let dotted = dir.join(".").join("m");
    ok(&probable(&eval_args(
        &dotted,
        &data,
        &b,
        &["--shard", "1/2"],
    )));
    let merged = dir.join("merged.json");
    ok(&probable(&[
        "report",
        "merge",
        s(&a),
        s(&b),
        "--out",
        s(&merged),
    ]));
    // Other weights behind the same path.
    change_weights(&m);
    ok(&probable(&eval_args(&m, &data, &b, &["--shard", "1/2"])));
    failed(
        &probable(&["report", "merge", s(&a), s(&b), "--out", s(&merged)]),
        "the weights or configuration differ",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A journal as an eval killed after its first question leaves it, built from a finished
/// report of the same evaluation: header, then the first `rows` rows.
fn journal_from(report: &Value, rows: usize) -> String {
    let questions: Vec<u64> = {
        let mut seen = Vec::new();
        for q in report["questions"].as_array().unwrap() {
            let i = q["index"].as_u64().unwrap();
            if !seen.contains(&i) {
                seen.push(i);
            }
        }
        seen
    };
    let header = serde_json::json!({
        "journal": 1,
        "model": report["model"],
        "data": report["data"],
        "split": report["split"],
        "shard": report.get("shard").cloned().unwrap_or(Value::Null),
        "questions": questions,
        "config": report["config"],
        "identity": report["identity"],
    });
    let mut text = format!("{header}\n");
    for q in report["questions"].as_array().unwrap().iter().take(rows) {
        text.push_str(&format!("{q}\n"));
    }
    text
}

fn journal_path(out: &Path) -> PathBuf {
    out.with_file_name(format!(
        "{}.journal.jsonl",
        out.file_name().unwrap().to_string_lossy()
    ))
}

/// Items 4 and 12 on resume: another spelling of the model's path resumes; changed
/// weights behind the same path, and a journal row whose numbers cannot be, are refused.
#[test]
fn resume_checks_the_model_by_content_and_the_rows_it_reads() {
    let dir = scratch("identity-resume");
    let m = dir.join("m");
    tiny_bundle(&m);
    let data = qa(&dir);
    let full = dir.join("full.json");
    ok(&probable(&eval_args(&m, &data, &full, &[])));
    let reference = read_json(&full);
    let out = dir.join("r.json");

    std::fs::write(journal_path(&out), journal_from(&reference, 1)).unwrap();
    let dotted = dir.join(".").join("m");
    ok(&probable(&eval_args(&dotted, &data, &out, &["--resume"])));
    assert_eq!(read_json(&out)["questions"], reference["questions"]);

    // One sample where the evaluation draws four, and bounds.n says so.
    let mut bad = reference.clone();
    let q0 = &mut bad["questions"][0];
    let one = q0["samples"][0].clone();
    q0["samples"] = Value::Array(vec![one]);
    std::fs::write(journal_path(&out), journal_from(&bad, 1)).unwrap();
    failed(
        &probable(&eval_args(&m, &data, &out, &["--resume"])),
        "1 samples where the settings ask for 4",
    );

    std::fs::write(journal_path(&out), journal_from(&reference, 1)).unwrap();
    change_weights(&m);
    failed(
        &probable(&eval_args(&m, &data, &out, &["--resume"])),
        "identity.model",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Item 8 (and a resume bug found on the way: a journal of several prompts per question
/// was refused at its second row): rows name their prompt in CSV, the table counts
/// questions and prompts apart, and such a journal resumes.
#[test]
fn multi_prompt_reports_name_the_prompt_of_each_row() {
    let dir = scratch("variants");
    let m = dir.join("m");
    tiny_bundle(&m);
    let data = qa(&dir);
    let out = dir.join("r.json");
    let prompts = ["--prompts", "question,paraphrased_question"];
    ok(&probable(&eval_args(&m, &data, &out, &prompts)));
    let show = probable(&["report", "show", s(&out)]);
    ok(&show);
    let table = String::from_utf8_lossy(&show.stdout).to_string();
    assert!(
        table.contains("8 rows (4 questions × 2 prompts)"),
        "{table}"
    );
    let csv = probable(&["report", "show", s(&out), "--csv"]);
    let csv = String::from_utf8_lossy(&csv.stdout).to_string();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("index,id,variant,greedy_score"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("0,") && lines[1].contains(",question,"));
    assert!(lines[2].starts_with("0,") && lines[2].contains(",paraphrased_question,"));
    let per = probable(&["report", "show", s(&out), "--csv", "--per-sample"]);
    let per = String::from_utf8_lossy(&per.stdout).to_string();
    assert!(per.starts_with("index,id,variant,sample,"), "{per}");

    let reference = read_json(&out);
    let resumed = dir.join("resumed.json");
    std::fs::write(journal_path(&resumed), journal_from(&reference, 3)).unwrap();
    let mut args = eval_args(&m, &data, &resumed, &prompts);
    args.push("--resume".into());
    ok(&probable(&args));
    assert_eq!(read_json(&resumed)["questions"], reference["questions"]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A change to a stored report.
type Edit = fn(&mut Value);

/// Item 12: `report show` printed stored numbers no evaluation can produce.
#[test]
fn stored_numbers_are_checked_before_they_are_shown() {
    let dir = scratch("stored");
    let m = dir.join("m");
    tiny_bundle(&m);
    let data = qa(&dir);
    let good = dir.join("r.json");
    ok(&probable(&eval_args(&m, &data, &good, &["--limit", "3"])));
    let r = read_json(&good);
    let cases: Vec<(&str, Edit)> = vec![
        ("config.bounds", |v: &mut Value| {
            v["config"]["bounds"]["alpha"] = 5.0.into()
        }),
        (
            "summary.questions = 1000000 but the report holds 3 rows",
            |v: &mut Value| v["summary"]["questions"] = 1000000.into(),
        ),
        ("0 samples where the settings ask for 4", |v: &mut Value| {
            v["questions"][1]["samples"] = Value::Array(vec![])
        }),
        ("samples[2].score = 7", |v: &mut Value| {
            v["questions"][0]["samples"][2]["score"] = 7.0.into()
        }),
        ("bounds.n = 9 but 4 samples are stored", |v: &mut Value| {
            v["questions"][2]["bounds"]["n"] = 9.into()
        }),
        ("config.leak_level = -1", |v: &mut Value| {
            v["config"]["leak_level"] = (-1.0).into()
        }),
    ];
    for (i, (needle, edit)) in cases.iter().enumerate() {
        let mut v = r.clone();
        edit(&mut v);
        let p = dir.join(format!("bad{i}.json"));
        std::fs::write(&p, v.to_string()).unwrap();
        failed(&probable(&["report", "show", s(&p)]), needle);
        failed(
            &probable(&["report", "rescore", s(&p), "--out", s(&dir.join("x.json"))]),
            needle,
        );
    }
    ok(&probable(&["report", "show", s(&good)]));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Item 13: `report rescore --data DIR` failed with "Is a directory" though `eval`
/// accepts one.
#[test]
fn rescore_reads_a_data_directory_like_eval() {
    let dir = scratch("rescore-dir");
    let m = dir.join("m");
    tiny_bundle(&m);
    let split = dir.join("data");
    std::fs::create_dir_all(&split).unwrap();
    let rows: String = (0..3)
        .map(|i| {
            format!(
                "{}\n",
                serde_json::json!({"id": format!("q{i}"), "question": format!("Who is {i}?"), "answer": format!("Person {i} is Kim."), "keywords": ["Kim"]})
            )
        })
        .collect();
    std::fs::write(split.join("full.jsonl"), rows).unwrap();
    let r = dir.join("r.json");
    ok(&probable(&eval_args(&m, &split, &r, &[])));
    let out = dir.join("k.json");
    ok(&probable(&[
        "report",
        "rescore",
        s(&r),
        "--metric",
        "keyword",
        "--data",
        s(&split),
        "--out",
        s(&out),
    ]));
    assert_eq!(read_json(&out)["config"]["metric"], "keyword");
    let _ = std::fs::remove_dir_all(&dir);
}

fn chat_bundle(dir: &Path, template: &str) -> PathBuf {
    let m = dir.join("chat");
    tiny_bundle(&m);
    std::fs::write(
        m.join("tokenizer_config.json"),
        serde_json::json!({"chat_template": template, "bos_token": "<s>", "eos_token": "</s>"})
            .to_string(),
    )
    .unwrap();
    m
}

const CHAT: &str = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

/// Item 3: an exported chat bundle lost its prompt files and silently prompted with `qa`.
#[test]
fn export_carries_the_prompt_files() {
    let dir = scratch("export");
    let m = chat_bundle(&dir, CHAT);
    std::fs::write(m.join("chat_template.jinja"), CHAT).unwrap();
    let record = serde_json::json!({"prompt": {"kind": "text", "name": "raw", "template": {"prompt": "{question}", "answer_prefix": "", "add_bos": false}}});
    std::fs::write(m.join("probable.json"), record.to_string()).unwrap();
    let out = dir.join("out");
    ok(&probable(&[
        "export",
        "--model",
        s(&m),
        "--out",
        s(&out),
        "--dtype",
        "f16",
    ]));
    for f in [
        "probable.json",
        "tokenizer_config.json",
        "chat_template.jinja",
    ] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(m.join(f)).unwrap(),
            "{f}"
        );
    }
    let p = probable(&[
        "prompt",
        "--model",
        s(&out),
        "--template",
        "chat",
        "--question",
        "Who?",
    ]);
    ok(&p);
    assert!(String::from_utf8_lossy(&p.stdout).contains("<|user|>Who?<|assistant|>"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Items 2 and 11: a bundle's chat template that loops without end fails by name within
/// its budget; a broken `tokenizer_config.json` no longer breaks the text presets.
#[test]
fn bundle_chat_files_can_neither_hang_nor_break_text_presets() {
    let dir = scratch("chat-files");
    let m = chat_bundle(
        &dir,
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}{{ messages[0].content }}",
    );
    let prompt = |t: &str| {
        probable(&[
            "prompt",
            "--model",
            s(&m),
            "--template",
            t,
            "--question",
            "Who?",
        ])
    };
    failed(&prompt("chat"), "exceeded its work budget");
    let huge = "{% set s=\"a\"*100000 %}{% for i in range(100000) %}{{ s }}{% endfor %}";
    std::fs::write(
        m.join("tokenizer_config.json"),
        serde_json::json!({ "chat_template": huge }).to_string(),
    )
    .unwrap();
    failed(&prompt("chat"), "rendered more than 1048576 bytes");

    std::fs::write(m.join("tokenizer_config.json"), "{ not json").unwrap();
    for preset in ["qa", "llama2-chat", "raw"] {
        ok(&prompt(preset));
    }
    failed(&prompt("chat"), "tokenizer_config.json");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Items 9 and 13: a grid over the cap is refused at once, and `sweep --merge` into a
/// file names it.
#[test]
fn sweep_refuses_huge_grids_and_names_a_file_out() {
    let dir = scratch("sweep");
    let values: Vec<String> = (1..=3000).map(|i| format!("{i}.5")).collect();
    let list = format!("[{}]", values.join(", "));
    let toml = format!(
        "base = \"demo-unlearn\"\n[grid]\n\"train.lr\" = {list}\n\"unlearn.beta\" = {list}\n\"unlearn.retain_weight\" = {list}\n"
    );
    let file = dir.join("big.toml");
    std::fs::write(&file, toml).unwrap();
    failed(
        &probable(&["sweep", "--config", s(&file), "--out", s(&dir.join("o"))]),
        "27000000000 points",
    );
    let not_dir = dir.join("results.txt");
    std::fs::write(&not_dir, "x").unwrap();
    failed(
        &probable(&[
            "sweep",
            "--config",
            "demo-eo",
            "--merge",
            s(&dir.join("a")),
            "--out",
            s(&not_dir),
        ]),
        &format!("--out {} exists and is not a directory", s(&not_dir)),
    );
    // `--out ./a` is the shard directory `a`.
    std::fs::create_dir_all(dir.join("a")).unwrap();
    failed(
        &probable(&[
            "sweep",
            "--config",
            "demo-eo",
            "--merge",
            s(&dir.join("a")),
            "--out",
            s(&dir.join(".").join("a")),
        ]),
        "is one of the shard directories",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

struct Server {
    child: std::process::Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Server {
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::create_dir_all(dir.join("public/models")).unwrap();
    std::fs::write(dir.join("dist/index.html"), "<p>hello</p>").unwrap();
    std::fs::write(dir.join("public/models/index.json"), "{}").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_probable"))
        .args([
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--workers",
            "8",
        ])
        .arg("--dist")
        .arg(dir.join("dist"))
        .arg("--public")
        .arg(dir.join("public"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let port = common::served_port(&mut child);
    Server { child, port }
}

/// Sends `request` and returns the head (as text) and the body bytes.
fn fetch(port: u16, request: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    (
        String::from_utf8_lossy(&out[..split]).to_string(),
        out[split + 4..].to_vec(),
    )
}

/// The server's peak resident memory (kB), from /proc.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap()
}

/// Item 7: eight concurrent GETs of a 300 MB file once took 2.1 GB (each read whole), and
/// `Range` was ignored. Files are now streamed: the peak stays far below one file however
/// many clients wait, and single ranges are answered 206 or 416.
#[test]
fn serve_streams_files_and_answers_ranges() {
    let dir = scratch("serve");
    let srv = serve(&dir);
    let big = dir.join("public/models/big.bin");
    let size: u64 = 96 << 20;
    {
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(size).unwrap();
        let mut f = f;
        use std::io::{Seek, SeekFrom};
        f.seek(SeekFrom::Start(size - 4)).unwrap();
        f.write_all(b"tail").unwrap();
    }
    // Eight clients ask for the whole file and read nothing for a while.
    let mut idle = Vec::new();
    for _ in 0..8 {
        let mut c = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
        c.write_all(b"GET /models/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        idle.push(c);
    }
    // Give every worker the time to start its response (not a timing assertion: only
    // the memory is checked, and it can only grow with more time).
    std::thread::sleep(Duration::from_millis(1500));
    let peak_mb = peak_rss_kb(srv.child.id()) / 1024;
    assert!(
        peak_mb < 48,
        "serve peaked at {peak_mb} MB for eight waiting downloads of a 96 MB file"
    );
    drop(idle);
    // A whole download arrives complete.
    let (head, body) = fetch(srv.port, "GET /models/big.bin HTTP/1.1\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Accept-Ranges: bytes"), "{head}");
    assert_eq!(body.len() as u64, size);
    assert_eq!(&body[body.len() - 4..], b"tail");
    // Single ranges.
    let (head, body) = fetch(
        srv.port,
        "GET /models/big.bin HTTP/1.1\r\nRange: bytes=-4\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 206"), "{head}");
    assert!(
        head.contains(&format!(
            "Content-Range: bytes {}-{}/{size}",
            size - 4,
            size - 1
        )),
        "{head}"
    );
    assert_eq!(body, b"tail");
    let (head, body) = fetch(
        srv.port,
        "GET /index.html HTTP/1.1\r\nrange: bytes=3-7\r\n\r\n",
    );
    assert!(
        head.starts_with("HTTP/1.1 206") && head.contains("bytes 3-7/12"),
        "{head}"
    );
    assert_eq!(body, b"hello");
    let (head, _) = fetch(
        srv.port,
        &format!("GET /index.html HTTP/1.1\r\nRange: bytes={size}-\r\n\r\n"),
    );
    assert!(head.starts_with("HTTP/1.1 416"), "{head}");
    assert!(head.contains("Content-Range: bytes */12"), "{head}");
    let (head, body) = fetch(
        srv.port,
        "HEAD /index.html HTTP/1.1\r\nRange: bytes=0-1\r\n\r\n",
    );
    assert!(
        head.starts_with("HTTP/1.1 206") && head.contains("Content-Length: 2"),
        "{head}"
    );
    assert!(body.is_empty());
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Item 1 for `sweep`: `sweep … | true` panicked (status 101) after writing. The results are
/// written, then the closed pipe fails the run with status 2.
#[test]
fn a_sweep_with_a_closed_stdout_keeps_its_results_and_fails() {
    let dir = scratch("sweep-pipe");
    let cfg = sweep_fixture(&dir);
    let out = dir.join("out");
    let o = with_closed_stdout(&["sweep", "--config", s(&cfg), "--out", s(&out)]);
    failed(&o, "standard output was closed");
    assert!(!err(&o).contains("panicked"), "{}", err(&o));
    for f in ["results.jsonl", "results.csv", "index.html", "sweep.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tiny bundle, 8 QA pairs, a base unlearn config and a one-point sweep file in `dir`.
fn sweep_fixture(dir: &Path) -> PathBuf {
    tiny_bundle(&dir.join("model"));
    let text: String = (0..8)
        .map(|i| {
            format!(
                "{}\n",
                serde_json::json!({"question": format!("Where was author {i} born?"), "answer": format!("Author {i} was born in town {i}.")})
            )
        })
        .collect();
    std::fs::write(dir.join("full.jsonl"), text).unwrap();
    std::fs::write(
        dir.join("base.toml"),
        format!(
            "[model]\nfrom = \"{}\"\n[data]\npath = \"{}\"\nforget_split = \"forget25\"\nretain_split = \"retain75\"\nmax_length = 48\n\
             [train]\nlr = 1e-3\nepochs = 1\nbatch_size = 4\nwarmup_epochs = 0.0\n[unlearn]\nentropy = false\n[output]\ndir = \"unused\"\n",
            dir.join("model").display(),
            dir.display()
        ),
    )
    .unwrap();
    let cfg = dir.join("s.toml");
    std::fs::write(
        &cfg,
        "base = \"base.toml\"\n[grid]\n\"train.lr\" = [1e-3]\n[eval]\nsamples = 4\nmax_new_tokens = 4\nleak_k = 2\n",
    )
    .unwrap();
    cfg
}

/// Item 4 for sweeps: results resumed into the same directory after the starting model
/// changed behind its path would have mixed two models in one comparison.
#[test]
fn a_sweep_resumed_on_other_weights_is_refused() {
    let dir = scratch("sweep-identity");
    let cfg = sweep_fixture(&dir);
    let out = dir.join("out");
    ok(&probable(&["sweep", "--config", s(&cfg), "--out", s(&out)]));
    ok(&probable(&["sweep", "--config", s(&cfg), "--out", s(&out)]));
    change_weights(&dir.join("model"));
    failed(
        &probable(&["sweep", "--config", s(&cfg), "--out", s(&out)]),
        "identity.model",
    );
    let _ = std::fs::remove_dir_all(&dir);
}
