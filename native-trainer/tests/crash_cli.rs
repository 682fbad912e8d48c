//! Crash safety of training runs: a process killed at every filesystem step of its
//! checkpoint saves (the `PROBABLE_FAILPOINT` failpoint) resumes to the bit-identical
//! result of an uninterrupted run; runs refuse a changed configuration on resume and an
//! existing run directory without `--resume`/`--overwrite`.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{probable_failpoint, scratch, QUIET};

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// 16 QA pairs; a tiny model: 2 optimizer steps per epoch at batch size 8.
fn setup(dir: &Path) -> PathBuf {
    let mut text = String::new();
    for i in 0..16 {
        text += &format!(
            "{}\n",
            serde_json::json!({"question": format!("What is item {i}?"), "answer": format!("Item {i} is a thing number {}.", i * 7)})
        );
    }
    std::fs::write(dir.join("full.jsonl"), text).unwrap();
    let tok =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tokenizer/tokenizer.json");
    let cfg = format!(
        r#"[model]
tokenizer = "{tok}"
[model.architecture]
model_type = "llama"
vocab_size = 300
hidden_size = 32
intermediate_size = 64
num_hidden_layers = 1
num_attention_heads = 2
num_key_value_heads = 1
max_position_embeddings = 64
bos_token_id = 1
eos_token_id = 2
pad_token_id = 0
[data]
path = "{data}"
split = "full"
max_length = 48
[train]
lr = 3e-3
epochs = 2
batch_size = 8
warmup_epochs = 0.5
seed = 3
[output]
dir = "{out}"
save_every = 2
"#,
        tok = tok.display(),
        data = dir.display(),
        out = dir.join("run").display()
    );
    let path = dir.join("run.toml");
    std::fs::write(&path, cfg).unwrap();
    path
}

fn args(cfg: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "finetune".into(),
        "--config".into(),
        cfg.display().to_string(),
        "--set".into(),
        format!("output.dir={}", out.display()),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every path under `dir` (relative), sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() && !p.symlink_metadata().unwrap().file_type().is_symlink() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_kill_at_every_checkpoint_step_resumes_to_the_same_model() {
    let dir = scratch("every-step");
    let cfg = setup(&dir);
    let whole = dir.join("whole");
    ok(&probable_failpoint(&args(&cfg, &whole, &[]), None, QUIET));
    let expect_model = read(&whole.join("model.safetensors"));
    let expect_log = read(&whole.join("train_log.jsonl"));
    let expect_tree = tree(&whole);
    assert!(
        expect_tree.iter().all(|p| !p.contains("tmp")),
        "{expect_tree:?}"
    );

    let run = dir.join("run");
    let mut killed = 0;
    for n in 1.. {
        let o = probable_failpoint(
            &args(&cfg, &run, &["--overwrite"]),
            Some(&format!("checkpoint:{n}")),
            QUIET,
        );
        if o.status.success() {
            break;
        }
        assert_eq!(o.status.signal(), Some(9), "step {n}: {}", err(&o));
        killed += 1;
        // Whatever the crash left, the documented path is a complete checkpoint or (before
        // the first save completed) absent, never a partial one.
        let link = run.join("checkpoint");
        if link.exists() {
            for f in [
                "config.json",
                "model.safetensors",
                "optimizer.bpk",
                "trainer_state.json",
            ] {
                assert!(
                    link.join(f).is_file(),
                    "step {n}: {f} missing in checkpoint"
                );
            }
        }
        // A bundle is never a mix: config.json present means the whole new bundle is in.
        if run.join("config.json").exists() {
            assert!(
                read(&run.join("model.safetensors")) == expect_model,
                "step {n}: config.json beside other weights"
            );
        }
        let r = probable_failpoint(&args(&cfg, &run, &["--resume"]), None, QUIET);
        assert!(
            r.status.success(),
            "resume after a kill at step {n}: {}",
            err(&r)
        );
        assert!(
            read(&run.join("model.safetensors")) == expect_model,
            "step {n}: the resumed model differs from the uninterrupted one"
        );
        assert_eq!(
            String::from_utf8(read(&run.join("train_log.jsonl"))).unwrap(),
            String::from_utf8(expect_log.clone()).unwrap(),
            "step {n}"
        );
        let t = tree(&run);
        assert!(
            t.iter()
                .all(|p| !p.contains("tmp") && !p.contains("retired")),
            "step {n}: leftovers {t:?}"
        );
        assert_eq!(t, expect_tree, "step {n}: the run directory differs");
    }
    // Two saves (step 2 and the final one at step 4) and the bundle's publication.
    assert!(killed >= 20, "only {killed} failpoint steps were hit");
    eprintln!("killed and resumed at {killed} filesystem steps");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_old_layouts_interrupted_replacement_is_recovered() {
    let dir = scratch("legacy");
    let cfg = setup(&dir);
    let whole = dir.join("whole");
    ok(&probable_failpoint(&args(&cfg, &whole, &[]), None, QUIET));
    let run = dir.join("run");
    ok(&probable_failpoint(
        &args(&cfg, &run, &["--stop-after", "2"]),
        None,
        QUIET,
    ));
    // What the old two-rename save could leave: the previous checkpoint as
    // `.checkpoint.old-*`, a temporary directory, no `checkpoint`.
    let target = std::fs::read_link(run.join("checkpoint")).unwrap();
    std::fs::rename(run.join(&target), run.join(".checkpoint.old-77")).unwrap();
    std::fs::remove_file(run.join("checkpoint")).unwrap();
    std::fs::remove_file(run.join("run.json")).unwrap();
    std::fs::create_dir(run.join(".checkpoint.tmp-78")).unwrap();
    std::fs::write(run.join(".checkpoint.tmp-78/config.json"), "{").unwrap();
    std::fs::write(run.join(".train_log.jsonl.tmp-79"), "partial").unwrap();
    ok(&probable_failpoint(
        &args(&cfg, &run, &["--resume"]),
        None,
        QUIET,
    ));
    assert!(read(&run.join("model.safetensors")) == read(&whole.join("model.safetensors")));
    assert!(tree(&run)
        .iter()
        .all(|p| !p.contains("tmp") && !p.contains(".old")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn runs_know_their_config() {
    let dir = scratch("config");
    let cfg = setup(&dir);
    let run = dir.join("run");
    ok(&probable_failpoint(
        &args(&cfg, &run, &["--stop-after", "2"]),
        None,
        QUIET,
    ));

    // A new run in the directory of an existing one.
    let o = probable_failpoint(&args(&cfg, &run, &[]), None, QUIET);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("--resume") && err(&o).contains("--overwrite"),
        "{}",
        err(&o)
    );

    // Resume with changed settings: every differing field is named.
    let o = probable_failpoint(
        &args(
            &cfg,
            &run,
            &[
                "--resume",
                "--set",
                "train.lr=1e-3",
                "--set",
                "train.seed=5",
                "--set",
                "train.batch_size=4",
            ],
        ),
        None,
        QUIET,
    );
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    for f in ["train.lr", "train.seed", "train.batch_size"] {
        assert!(err(&o).contains(f), "{f}: {}", err(&o));
    }
    let o = probable_failpoint(
        &args(
            &cfg,
            &run,
            &["--resume", "--set", "model.architecture.hidden_size=64"],
        ),
        None,
        QUIET,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("model.architecture.hidden_size"),
        "{}",
        err(&o)
    );

    // The step limit may change, but only when asked for, and it is recorded.
    let more = ["--resume", "--set", "train.epochs=3"];
    let o = probable_failpoint(&args(&cfg, &run, &more), None, QUIET);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("train.epochs") && err(&o).contains("--allow-change"),
        "{}",
        err(&o)
    );
    let o = probable_failpoint(
        &args(
            &cfg,
            &run,
            &[
                "--resume",
                "--allow-change",
                "train.lr",
                "--set",
                "train.lr=1",
            ],
        ),
        None,
        QUIET,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("--allow-change train.lr"), "{}", err(&o));
    let o = probable_failpoint(
        &args(
            &cfg,
            &run,
            &[
                "--resume",
                "--allow-change",
                "train.epochs",
                "--set",
                "train.epochs=0",
            ],
        ),
        None,
        QUIET,
    );
    assert_eq!(o.status.code(), Some(2));
    let mut allowed = more.to_vec();
    allowed.extend(["--allow-change", "train.epochs"]);
    ok(&probable_failpoint(
        &args(&cfg, &run, &allowed),
        None,
        QUIET,
    ));
    let record: serde_json::Value = serde_json::from_slice(&read(&run.join("run.json"))).unwrap();
    assert_eq!(record["config"]["train"]["epochs"], 3);
    assert_eq!(record["changes"][0]["field"], "train.epochs");
    assert_eq!(record["changes"][0]["at_step"], 2);
    let state: serde_json::Value =
        serde_json::from_slice(&read(&run.join("checkpoint/trainer_state.json"))).unwrap();
    assert_eq!(state["step"], 6);
    assert_eq!(state["changes"][0]["to"], 3);

    // A step limit below the checkpoint's step is refused, not a silent "finished".
    let o = probable_failpoint(
        &args(
            &cfg,
            &run,
            &[
                "--resume",
                "--allow-change",
                "train.epochs",
                "--set",
                "train.epochs=1",
            ],
        ),
        None,
        QUIET,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("step 6"), "{}", err(&o));

    // --overwrite replaces the run; --resume of nothing is an error.
    ok(&probable_failpoint(
        &args(&cfg, &run, &["--overwrite"]),
        None,
        QUIET,
    ));
    let log = String::from_utf8(read(&run.join("train_log.jsonl"))).unwrap();
    assert_eq!(log.lines().count(), 4);
    let o = probable_failpoint(
        &args(&cfg, &dir.join("nothing"), &["--resume"]),
        None,
        QUIET,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("no run to resume"), "{}", err(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
