//! The documentation is tested like code: the README stays a short front door, links between
//! the pages resolve, every test a page cites exists, and every command block that shows its
//! output prints exactly that output.
//!
//! Conventions (also described in docs/development.md, "Tested documentation"):
//! - a citation is a backticked `file::name` inside a parenthesis that starts with "(test:",
//!   "(tests:", "(test," or "(tests," ("(test: `a::b`)", "(tests: `a::b`, `c::d`)",
//!   "(test, behind a feature: `a::b`)"); `file`
//!   is a source file's stem, or its path from the repository root (without `.rs`) when it
//!   holds a `/`, and the file must define `fn name` (`def name` for Python);
//! - a runnable block is a fence opened with ```` ```sh ```` whose first line is
//!   `$ probable ARGS…`; the lines after it are what the command prints (standard output, then
//!   standard error), and an optional last line `(exit N)` is its expected exit status (0
//!   otherwise). It runs from the repository root.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The longest the README may grow: a front door, not a manual.
const README_MAX_LINES: usize = 250;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the repository root exists")
}

/// README.md, CHANGELOG.md and every page under docs/, as (path, text).
fn pages() -> Vec<(PathBuf, String)> {
    let root = root();
    let mut paths = vec![root.join("README.md"), root.join("CHANGELOG.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    assert!(!docs.is_empty(), "docs/ holds no pages");
    paths.extend(docs);
    paths
        .into_iter()
        .map(|p| {
            let text = fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, text)
        })
        .collect()
}

fn show(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// One fenced block: its info string, the line it opens on (1-based) and its lines.
struct Fence {
    info: String,
    line: usize,
    body: Vec<String>,
}

/// Splits a page into its prose (fenced blocks blanked out, so line numbers stay) and its
/// fenced blocks.
fn split_fences(text: &str) -> (String, Vec<Fence>) {
    let mut prose = String::new();
    let mut fences = Vec::new();
    let mut open: Option<Fence> = None;
    for (i, line) in text.lines().enumerate() {
        let fence_mark = line.trim_start().starts_with("```");
        match (&mut open, fence_mark) {
            (None, true) => {
                open = Some(Fence {
                    info: line.trim_start().trim_start_matches('`').trim().to_string(),
                    line: i + 1,
                    body: Vec::new(),
                })
            }
            (Some(_), true) => fences.push(open.take().unwrap()),
            (Some(f), false) => f.body.push(line.to_string()),
            (None, false) => prose.push_str(line),
        }
        prose.push('\n');
    }
    assert!(open.is_none(), "a fenced block is never closed");
    (prose, fences)
}

/// The targets of the inline links `[text](target)` in `prose`, with their line numbers.
fn links(prose: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in prose.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push((i + 1, after[..end].to_string()));
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped (bar `-` and `_`), spaces
/// turned into hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> Vec<String> {
    let (prose, _) = split_fences(text);
    prose
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn readme_is_a_short_front_door() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines; keep it at most {README_MAX_LINES} and move detail to docs/"
    );
    for page in ["docs/cli.md", "docs/statistics.md", "docs/benchmarks.md"] {
        assert!(
            readme.contains(&format!("]({page})")),
            "README.md does not link {page}"
        );
    }
}

#[test]
fn links_between_pages_resolve() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for (path, text) in pages() {
        let (prose, _) = split_fences(&text);
        let dir = path.parent().unwrap();
        for (line, target) in links(&prose) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let resolved = if file.is_empty() {
                path.clone()
            } else {
                dir.join(file)
            };
            checked += 1;
            if !resolved.exists() {
                broken.push(format!("{}:{line}: `{target}` does not exist", show(&path)));
                continue;
            }
            if let Some(anchor) = anchor {
                if resolved.extension().is_some_and(|e| e == "md") {
                    let target_text = fs::read_to_string(&resolved).unwrap();
                    if !anchors(&target_text).iter().any(|a| a == anchor) {
                        broken.push(format!(
                            "{}:{line}: `{target}`: no heading with anchor #{anchor}",
                            show(&path)
                        ));
                    }
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the parser broken?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Every `.rs` and `.py` file of the repository by stem, skipping build outputs and
/// installed packages.
fn sources() -> HashMap<String, Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut HashMap<String, Vec<PathBuf>>) {
        for entry in fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !name.starts_with('.') && name != "target" && name != "node_modules" {
                    walk(&path, out);
                }
            } else if path.extension().is_some_and(|e| e == "rs" || e == "py") {
                let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
                out.entry(stem).or_default().push(path);
            }
        }
    }
    let mut out = HashMap::new();
    walk(&root(), &mut out);
    out
}

/// The `file::name` citations of the "(test: …)" parentheses in `prose`, with line numbers.
fn citations(prose: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = prose[from..].find("(test") {
        let start = from + at;
        let after = prose[start + "(test".len()..].trim_start_matches('s');
        if !(after.starts_with(':') || after.starts_with(',')) {
            // "(tested on …)" and the like are prose, not citations.
            from = start + 1;
            continue;
        }
        let line = prose[..start].matches('\n').count() + 1;
        // The parenthesis ends at the first `)` outside backticks.
        let mut in_code = false;
        let mut end = None;
        for (i, c) in prose[start..].char_indices() {
            match c {
                '`' => in_code = !in_code,
                ')' if !in_code => {
                    end = Some(start + i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.unwrap_or_else(|| panic!("line {line}: a \"(test\" is never closed"));
        let span = &prose[start..end];
        let cited: Vec<String> = span
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|s| s.contains("::"))
            .map(str::to_string)
            .collect();
        assert!(
            !cited.is_empty(),
            "line {line}: `{span}` cites no test (write `file::name`)"
        );
        out.extend(cited.into_iter().map(|c| (line, c)));
        from = end;
    }
    out
}

fn defines(path: &Path, name: &str) -> bool {
    let text = fs::read_to_string(path).unwrap_or_default();
    let python = path.extension().is_some_and(|e| e == "py");
    text.lines().any(|l| {
        let l = l.trim_start();
        let rest = if python {
            l.strip_prefix("def ")
        } else {
            l.strip_prefix("fn ")
                .or_else(|| l.strip_prefix("async fn "))
                .or_else(|| l.strip_prefix("pub fn "))
        };
        rest.and_then(|r| r.strip_prefix(name))
            .is_some_and(|r| r.starts_with('(') || r.starts_with('<'))
    })
}

#[test]
fn cited_tests_exist() {
    let sources = sources();
    let mut missing = Vec::new();
    let mut checked = 0;
    for (path, text) in pages() {
        let (prose, _) = split_fences(&text);
        for (line, cited) in citations(&prose) {
            checked += 1;
            let Some((file, name)) = cited.rsplit_once("::") else {
                unreachable!()
            };
            let candidates: Vec<PathBuf> = if file.contains('/') {
                ["rs", "py"]
                    .iter()
                    .map(|ext| root().join(format!("{file}.{ext}")))
                    .filter(|p| p.exists())
                    .collect()
            } else {
                sources.get(file).cloned().unwrap_or_default()
            };
            if candidates.is_empty() {
                missing.push(format!(
                    "{}:{line}: `{cited}`: no source file `{file}`",
                    show(&path)
                ));
            } else if !candidates.iter().any(|p| defines(p, name)) {
                let files: Vec<String> = candidates.iter().map(|p| show(p)).collect();
                missing.push(format!(
                    "{}:{line}: `{cited}`: no `fn {name}` in {}",
                    show(&path),
                    files.join(", ")
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} citations found: is the parser broken?"
    );
    assert!(
        missing.is_empty(),
        "cited tests that do not exist:\n{}",
        missing.join("\n")
    );
}

/// Splits a command line as a POSIX shell would for plain words, "double" and 'single'
/// quotes (no variables, escapes inside single quotes or globbing: doc commands keep to
/// those).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '"' | '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some('\\') if c == '"' => word.extend(chars.next()),
                        Some(other) => word.push(other),
                        None => panic!("unclosed quote in `{line}`"),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            other => {
                in_word = true;
                word.push(other);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Trailing spaces and trailing blank lines are not part of what a block shows.
fn normalise(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    lines[..end].join("\n")
}

#[test]
fn runnable_blocks_print_what_the_docs_show() {
    let root = root();
    let mut failures = Vec::new();
    let mut ran = 0;
    for (path, text) in pages() {
        let (_, fences) = split_fences(&text);
        for fence in fences.iter().filter(|f| f.info == "sh") {
            let Some(command) = fence
                .body
                .first()
                .and_then(|l| l.strip_prefix("$ probable "))
            else {
                continue;
            };
            let mut expected: Vec<&str> = fence.body[1..].iter().map(String::as_str).collect();
            let status = match expected.last().and_then(|l| {
                l.strip_prefix("(exit ")
                    .and_then(|r| r.strip_suffix(')'))
                    .map(|n| n.parse::<i32>().expect("(exit N) holds a number"))
            }) {
                Some(n) => {
                    expected.pop();
                    n
                }
                None => 0,
            };
            ran += 1;
            // common::probable runs in the test's working directory (the package's); doc
            // commands are written from the repository root.
            let out = Command::new(env!("CARGO_BIN_EXE_probable"))
                .args(shell_words(command))
                .current_dir(&root)
                .env_remove("PROBABLE_FAILPOINT")
                .stdin(Stdio::null())
                .output()
                .expect("the probable binary runs");
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let (want, got) = (normalise(&expected.join("\n")), normalise(&printed));
            let where_ = format!("{}:{}: `probable {command}`", show(&path), fence.line);
            if out.status.code() != Some(status) {
                failures.push(format!(
                    "{where_}: exit status {:?}, the docs say {status}\n{got}",
                    out.status.code()
                ));
            } else if want != got {
                failures.push(format!(
                    "{where_} printed\n{got}\n--- but the docs show ---\n{want}"
                ));
            }
        }
    }
    assert!(ran >= 5, "only {ran} runnable blocks found");
    assert!(
        failures.is_empty(),
        "doc commands whose output differs:\n\n{}",
        failures.join("\n\n")
    );
}

#[test]
fn the_helpers_parse_what_the_pages_use() {
    assert_eq!(
        shell_words(r#"rouge --reference "The author was born in Paris." --prediction 'x y'"#),
        [
            "rouge",
            "--reference",
            "The author was born in Paris.",
            "--prediction",
            "x y"
        ]
    );
    assert_eq!(
        slug("`probable finetune` / `probable unlearn`"),
        "probable-finetune--probable-unlearn"
    );
    assert_eq!(
        slug("Sampling against llama.cpp and transformers"),
        "sampling-against-llamacpp-and-transformers"
    );
    let prose = "a (test: `x::y`) (tested on `n::o`) b (tests, behind `--features wgpu`: `p/q::r`,\n`s::t`) c";
    assert_eq!(
        citations(prose),
        [
            (1, "x::y".to_string()),
            (1, "p/q::r".to_string()),
            (1, "s::t".to_string())
        ]
    );
    assert_eq!(links("[a](docs/x.md#y) and [b](c.md)")[1].1, "c.md");
}
