//! `probable sweep` end to end on a tiny random model (each point trains one step and
//! evaluates a few samples): rows, CSV, plots, resume after a kill, shards + merge, and the
//! bad-input errors.

mod common;

use common::{probable_command, probable_env, scratch, QUIET};

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

/// `probable sweep --config CFG --out OUT EXTRA…` with `env` set.
fn sweep(cfg: &str, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec!["sweep", "--config", cfg, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let env: Vec<(&str, &str)> = QUIET.iter().chain(env).copied().collect();
    probable_env(&args, &env)
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn fails(o: &Output, want: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(want), "expected `{want}` in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A scratch directory with a random tiny bundle, 16 QA pairs and a base unlearn config.
fn fixture(name: &str) -> PathBuf {
    let dir = scratch(name);
    common::tiny_bundle(&dir.join("model"));
    let mut text = String::new();
    for i in 0..16 {
        text += &format!(
            "{}\n",
            serde_json::json!({"question": format!("Where was author {i} born?"), "answer": format!("Author {i} was born in town {i}.")})
        );
    }
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
    dir
}

const GRID: &str = "[grid]\n\"unlearn.method\" = [\"ga\", \"npo\"]\n\"train.lr\" = [1e-4, 3e-3]\n";
const EVAL: &str = "[eval]\nsamples = 6\nmax_new_tokens = 8\nleak_k = 4\n";

fn sweep_file(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("base = \"base.toml\"\n{body}")).unwrap();
    path.display().to_string()
}

fn rows(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Rows without their timings (which differ from run to run).
fn untimed(dir: &Path) -> Vec<Value> {
    rows(dir)
        .into_iter()
        .map(|mut r| {
            for k in ["train_seconds", "eval_seconds", "wall_seconds"] {
                assert!(r[k].as_f64().unwrap() >= 0.0);
                r.as_object_mut().unwrap().remove(k);
            }
            r
        })
        .collect()
}

#[test]
fn tiny_grid_writes_rows_csv_plots_and_page() {
    let dir = fixture("grid");
    let cfg = sweep_file(
        &dir,
        "s.toml",
        &format!("[set]\n\"unlearn.retain_weight\" = 2.0\n{GRID}{EVAL}"),
    );
    let out = dir.join("out");
    ok(&sweep(&cfg, &out, &[], &[]));
    let r = rows(&out);
    assert_eq!(r.len(), 4);
    let keys: Vec<&str> = r.iter().map(|x| x["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "train.lr=0.0001,unlearn.method=\"ga\"",
            "train.lr=0.0001,unlearn.method=\"npo\"",
            "train.lr=0.003,unlearn.method=\"ga\"",
            "train.lr=0.003,unlearn.method=\"npo\""
        ]
    );
    for (i, x) in r.iter().enumerate() {
        assert_eq!(x["point"], i);
        assert_eq!(x["set"].as_object().unwrap().len(), 2);
        assert_eq!(x["steps"], 1);
        for f in [
            "forget_greedy",
            "forget_m_mu",
            "forget_m_sigma",
            "forget_ed",
            "forget_m_bin",
            "leak_at_k",
            "leak_at_k_upper",
            "retain_greedy",
        ] {
            let v = x[f].as_f64().unwrap_or_else(|| panic!("{f} in {x}"));
            assert!(v.is_finite() && v >= 0.0, "{f} = {v}");
        }
        assert_eq!(x["leak_k"], 4);
        assert!(x["forget_m_bin"].as_f64().unwrap() <= 1.0);
    }
    assert_eq!(r[1]["method"], "npo");
    assert_eq!(r[1]["set"]["train.lr"], 1e-4);
    // Different settings give different models.
    assert_ne!(r[0]["forget_m_mu"], r[2]["forget_m_mu"]);
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    assert!(
        csv.starts_with("point,method,entropy,train.lr,unlearn.method,steps,error,forget_greedy")
    );
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(html.contains("GA") && html.contains("NPO") && html.contains("Pareto front"));
    for stem in [
        "tradeoff-greedy",
        "tradeoff-ed",
        "tradeoff-m-bin",
        "tradeoff-leak-at-k",
    ] {
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
    // Evaluated models are removed; the manifest records the base.
    assert!(!out.join("runs").exists());
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(m["fingerprint"]["base"]["unlearn"]["retain_weight"], 2.0);

    // A finished sweep run again does nothing and changes nothing.
    let before = rows(&out);
    let err = ok(&sweep(&cfg, &out, &[], &[]));
    assert!(err.contains("4 of 4 points already done"), "{err}");
    assert_eq!(rows(&out), before);
}

#[test]
fn resume_after_a_kill_finishes_with_the_same_rows() {
    let dir = fixture("resume");
    let cfg = sweep_file(&dir, "s.toml", &format!("{GRID}{EVAL}"));
    let whole = dir.join("whole");
    ok(&sweep(&cfg, &whole, &[], &[]));
    // Killed inside the first point's checkpoint save: no row, a half-written run.
    let out = dir.join("out");
    let o = sweep(&cfg, &out, &[], &[("PROBABLE_FAILPOINT", "checkpoint:3")]);
    assert!(o.status.code().is_none(), "killed by a signal");
    assert!(!out.join("results.jsonl").exists());
    assert!(out.join("runs/point-0000").exists());
    // Killed right after the second row is written.
    let o = sweep(&cfg, &out, &[], &[("PROBABLE_FAILPOINT", "sweep:2")]);
    assert!(o.status.code().is_none(), "killed by a signal");
    assert_eq!(rows(&out).len(), 2);
    let err = ok(&sweep(&cfg, &out, &[], &[]));
    assert!(err.contains("2 of 4 points already done"), "{err}");
    assert_eq!(untimed(&out), untimed(&whole));
    assert!(!out.join("runs").exists());

    // A grid that grows runs only the new points.
    let grown = sweep_file(
        &dir,
        "grown.toml",
        &format!("[grid]\n\"unlearn.method\" = [\"ga\", \"npo\"]\n\"train.lr\" = [1e-4, 3e-3, 1e-2]\n{EVAL}"),
    );
    let err = ok(&sweep(&grown, &out, &[], &[]));
    assert!(err.contains("4 of 6 points already done"), "{err}");
    assert_eq!(rows(&out).len(), 6);
}

#[test]
fn shards_merged_equal_the_unsharded_sweep() {
    let dir = fixture("shards");
    let cfg = sweep_file(&dir, "s.toml", &format!("{GRID}{EVAL}"));
    let whole = dir.join("whole");
    ok(&sweep(&cfg, &whole, &["--jobs", "2"], &[]));
    let (a, b, merged) = (dir.join("a"), dir.join("b"), dir.join("merged"));
    for (shard, d) in [("0/2", &a), ("1/2", &b)] {
        ok(&sweep(&cfg, d, &["--shard", shard], &[]));
    }
    assert_eq!(rows(&a).len(), 2);
    assert!(rows(&a)
        .iter()
        .all(|r| r["point"].as_u64().unwrap() % 2 == 0));
    // One shard alone is not the whole sweep.
    fails(
        &sweep(&cfg, &merged, &["--merge", a.to_str().unwrap()], &[]),
        "2 of 4 points have no result",
    );
    ok(&sweep(
        &cfg,
        &merged,
        &["--merge", a.to_str().unwrap(), b.to_str().unwrap()],
        &[],
    ));
    assert_eq!(untimed(&merged), untimed(&whole));
    assert_eq!(
        std::fs::read_to_string(merged.join("results.csv"))
            .unwrap()
            .lines()
            .count(),
        5
    );
    // Shards of another base config do not merge.
    let other = sweep_file(
        &dir,
        "other.toml",
        &format!("[set]\n\"unlearn.beta\" = 0.5\n{GRID}{EVAL}"),
    );
    fails(
        &sweep(
            &other,
            &dir.join("m2"),
            &["--merge", a.to_str().unwrap(), b.to_str().unwrap()],
            &[],
        ),
        "results from a different base config",
    );
}

#[test]
fn bad_sweeps_are_named_errors() {
    let dir = fixture("bad");
    let run = |name: &str, body: &str| {
        let cfg = sweep_file(&dir, name, body);
        sweep(&cfg, &dir.join("out-bad"), &[], &[])
    };
    let o = run("unknown.toml", "[grid]\n\"train.lrr\" = [1e-3]\n");
    fails(&o, "[grid] `train.lrr`");
    fails(&o, "unknown field `lrr`");
    fails(&run("empty.toml", "[grid]\n"), "[grid] is empty");
    fails(&run("none.toml", EVAL), "[grid] is empty");
    fails(
        &run("emptylist.toml", "[grid]\n\"train.lr\" = []\n"),
        "at least one value",
    );
    fails(
        &run("arch.toml", "[grid]\n\"model.architecture.hidden_size\" = [16, 32]\n"),
        "[grid] `model.architecture.hidden_size`: the starting model and its architecture define the benchmark and cannot change between points",
    );
    fails(
        &run(
            "data.toml",
            "[grid]\n\"data.forget_split\" = [\"forget10\", \"forget25\"]\n",
        ),
        "cannot change between points",
    );
    fails(
        &run("lr.toml", "[grid]\n\"train.lr\" = [-1.0]\n"),
        "train.lr = -1",
    );
    fails(
        &run("typo.toml", "[grids]\n\"train.lr\" = [1e-3]\n"),
        "unknown field `grids`",
    );
    assert!(
        !dir.join("out-bad").exists(),
        "nothing written on bad input"
    );
    let o = probable_env(&["sweep", "--config", "no-such-sweep"], QUIET);
    fails(
        &o,
        "no such file and no such sweep preset (sweep presets: demo-eo, demo-eo-keyword)",
    );

    // Resuming into results of a different base config.
    let cfg = sweep_file(
        &dir,
        "one.toml",
        &format!("[grid]\n\"train.lr\" = [1e-3]\n{EVAL}"),
    );
    let out = dir.join("out-one");
    ok(&sweep(&cfg, &out, &[], &[]));
    let changed = sweep_file(
        &dir,
        "changed.toml",
        &format!("[set]\n\"unlearn.retain_weight\" = 3.0\n[grid]\n\"train.lr\" = [1e-3]\n{EVAL}"),
    );
    let o = sweep(&changed, &out, &[], &[]);
    fails(&o, "results from a different base config");
    fails(&o, "base.unlearn.retain_weight: 1.0 (results) vs 3.0");
    let eval = sweep_file(
        &dir,
        "eval.toml",
        "[grid]\n\"train.lr\" = [1e-3]\n[eval]\nsamples = 7\nmax_new_tokens = 8\nleak_k = 4\n",
    );
    fails(
        &sweep(&eval, &out, &[], &[]),
        "eval.samples: 6 (results) vs 7",
    );
    assert_eq!(rows(&out).len(), 1, "the results are left as they were");
}

/// The `demo-unlearn` base the `demo-eo` preset sweeps: one point on the shipped model.
#[test]
fn demo_unlearn_base_runs_on_the_shipped_model() {
    let dir = scratch("demo");
    let cfg = dir.join("s.toml");
    std::fs::write(
        &cfg,
        "base = \"demo-unlearn\"\n[set]\n\"unlearn.method\" = \"npo\"\n[grid]\n\"train.lr\" = [5e-4]\n\
         [eval]\nsamples = 4\nretain_questions = 4\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = probable_command(&[
        "sweep",
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
    .envs(QUIET.iter().copied())
    .output()
    .unwrap();
    ok(&o);
    let r = rows(&out);
    assert_eq!(r.len(), 1);
    // 24 forget questions, 3 batches of 8 for 5 epochs; unlearning moved the greedy answers.
    assert_eq!(r[0]["steps"], 15);
    let g = r[0]["forget_greedy"].as_f64().unwrap();
    assert!(g < 0.9, "forget greedy {g}");
}
