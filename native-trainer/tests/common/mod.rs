//! Fixtures shared by the CLI tests.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use burn::tensor::Device;
use probable_core::model::{to_safetensors, CausalLm, ModelConfig, RandomInit, StorageDtype};

/// The configuration of [`tiny_bundle`]'s model.
#[allow(dead_code)]
pub fn tiny_config() -> ModelConfig {
    ModelConfig::from_hf_json(
        r#"{"model_type":"llama","vocab_size":300,"hidden_size":32,"intermediate_size":64,
            "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
            "max_position_embeddings":256,"bos_token_id":1,"eos_token_id":2,"pad_token_id":0}"#,
    )
    .unwrap()
}

/// [`tiny_bundle`]'s model, in this process (its weights are stored as f32, so the
/// bundle holds exactly these).
#[allow(dead_code)]
pub fn tiny_model() -> CausalLm {
    CausalLm::load(
        &tiny_config(),
        &mut RandomInit::new(5, 0.3),
        &Device::flex(),
    )
    .unwrap()
}

/// Writes a 2-layer random Llama over the 300-id fixture tokenizer into `dir` (created).
#[allow(dead_code)]
pub fn tiny_bundle(dir: &Path) {
    let config = tiny_config();
    let model = CausalLm::load(&config, &mut RandomInit::new(5, 0.3), &Device::flex()).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), config.to_hf_json()).unwrap();
    std::fs::write(
        dir.join("model.safetensors"),
        to_safetensors(&model.export(), StorageDtype::F32),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tokenizer/tokenizer.json"),
        dir.join("tokenizer.json"),
    )
    .unwrap();
}

/// Runs the `probable` binary of this build with `args`, no standard input, and returns what
/// it printed and its exit status.
#[allow(dead_code)]
pub fn probable<S: AsRef<OsStr>>(args: &[S]) -> Output {
    probable_env(args, &[])
}

/// [`probable`] with `env` set on top of this process's environment. The failpoint variable
/// is cleared unless `env` sets it, so a crash test's setting never leaks into another run.
#[allow(dead_code)]
pub fn probable_env<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &str)]) -> Output {
    command(args, env)
        .stdin(Stdio::null())
        .output()
        .expect("the probable binary runs")
}

/// [`probable`] under the failpoint `PROBABLE_FAILPOINT=failpoint` (none: cleared), with
/// `extra` variables set as well.
#[allow(dead_code)]
pub fn probable_failpoint<S: AsRef<OsStr>>(
    args: &[S],
    failpoint: Option<&str>,
    extra: &[(&str, &str)],
) -> Output {
    let mut env = extra.to_vec();
    if let Some(f) = failpoint {
        env.push(("PROBABLE_FAILPOINT", f));
    }
    probable_env(args, &env)
}

/// [`probable`] with `stdin` written to its standard input (`None`: an empty, closed stdin).
#[allow(dead_code)]
pub fn probable_stdin<S: AsRef<OsStr>>(args: &[S], stdin: Option<&str>) -> Output {
    let mut child = command(args, &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the probable binary starts");
    {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        if let Some(text) = stdin {
            // The CLI may exit before reading everything (e.g. a usage error).
            let _ = pipe.write_all(text.as_bytes());
        }
    }
    child.wait_with_output().expect("the probable binary runs")
}

/// The `probable` binary of this build with `args` and the failpoint cleared, for a test
/// that wires its standard streams itself (a closed pipe, a server's port line).
#[allow(dead_code)]
pub fn probable_command<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_probable"));
    c.args(args).env_remove("PROBABLE_FAILPOINT");
    c
}

/// [`probable_command`] with `env` set (the failpoint among them, if a test sets it).
fn command<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &str)]) -> Command {
    let mut c = probable_command(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// `PROBABLE_QUIET=1`: no progress lines on stderr.
#[allow(dead_code)]
pub const QUIET: &[(&str, &str)] = &[("PROBABLE_QUIET", "1")];

/// A fresh, empty directory for one test: `probable-<test binary>-<pid>-<name>` in the
/// system temp dir (removed first if a killed run left it).
#[allow(dead_code)]
pub fn scratch(name: &str) -> PathBuf {
    let dir = fresh_path(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Where [`scratch`] would put `name`, but not created: for commands that must create their
/// output directory themselves.
#[allow(dead_code)]
pub fn fresh_path(name: &str) -> PathBuf {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("probable-{binary}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A tiny bundle at `dir/m` and `questions` QA pairs ("Where was author i born?") in
/// `dir/qa.jsonl`; returns both paths.
#[allow(dead_code)]
pub fn tiny_eval_setup(dir: &Path, questions: usize) -> (PathBuf, PathBuf) {
    let m = dir.join("m");
    tiny_bundle(&m);
    let data = dir.join("qa.jsonl");
    let text: String = (0..questions)
        .map(|i| {
            format!(
                "{}\n",
                serde_json::json!({"question": format!("Where was author {i} born?"), "answer": format!("Author {i} was born in Town {i}.")})
            )
        })
        .collect();
    std::fs::write(&data, text).unwrap();
    (m, data)
}

/// The port a `probable serve --port 0` child (its stdout piped) printed on its first line.
#[allow(dead_code)]
pub fn served_port(child: &mut std::process::Child) -> u16 {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout piped"))
        .read_line(&mut line)
        .unwrap();
    line.split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}
