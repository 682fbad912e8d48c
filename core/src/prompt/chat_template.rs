//! Rendering Hugging Face chat templates (`tokenizer_config.json`'s `chat_template`, or a
//! bundle's `chat_template.jinja`) with minijinja, in the environment transformers gives
//! them: `trim_blocks` and `lstrip_blocks`, loop controls, `raise_exception`,
//! `strftime_now`, Python string methods, and the variables `messages`, `tools` (none),
//! `add_generation_prompt`, the special tokens and any extra keyword (`date_string`).

use minijinja::value::Kwargs;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Value};
use serde::{Deserialize, Serialize};

use super::error::PromptError;

/// One chat turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Self {
        Self {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// What a template sees besides the messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderContext<'a> {
    pub bos_token: Option<&'a str>,
    pub eos_token: Option<&'a str>,
    /// Passed as the `date_string` keyword (open-unlearning passes it for Llama 3.x).
    pub date_string: Option<&'a str>,
    pub add_generation_prompt: bool,
    /// Seconds since the epoch for `strftime_now`; `None` makes it an error (wasm32 has no
    /// clock we may read from here).
    pub now: Option<i64>,
}

/// Current UTC time natively; in the browser `strftime_now` is unavailable (give a
/// `date_string` instead, which every preset does).
pub fn system_now() -> Option<i64> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs() as i64)
    }
    #[cfg(target_arch = "wasm32")]
    {
        None
    }
}

/// Line and column (1-based) of a byte offset in `source`.
fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn located(source: &str, e: &Error) -> (usize, usize) {
    match e.range() {
        Some(r) => line_col(source, r.start),
        None => (e.line().unwrap_or(0), 0),
    }
}

/// Python's `json.dumps` layout: `", "` between items and `": "` after keys.
struct PythonJson;

impl serde_json::ser::Formatter for PythonJson {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// transformers' `tojson`: `json.dumps(x, ensure_ascii=False, indent=indent)` — no HTML
/// escaping (minijinja's own `tojson` escapes `<`, `>`, `&` and `'`).
fn tojson(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    let failed = |e: serde_json::Error| Error::new(ErrorKind::InvalidOperation, e.to_string());
    match indent {
        None => {
            let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonJson);
            serde::Serialize::serialize(value, &mut ser).map_err(failed)?;
        }
        Some(n) => {
            let pad = vec![b' '; n];
            let fmt = serde_json::ser::PrettyFormatter::with_indent(&pad);
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            serde::Serialize::serialize(value, &mut ser).map_err(failed)?;
        }
    }
    Ok(Value::from_safe_string(
        String::from_utf8(out).expect("serde_json writes UTF-8"),
    ))
}

/// The work one render may do, in minijinja fuel: about one unit per instruction and per
/// 64 bytes of data made. Real chat templates (Llama 3, Qwen, Phi, Mistral, with a few
/// messages) spend a few thousand; a million stops `{% for i in range(10**9) %}`, nested
/// `range()` loops and `"a" * 10**9` within about a second and 64 MB, natively, in the
/// browser and in the web app's worker alike.
pub const FUEL: u64 = 1_000_000;

/// The longest prompt a template may render (bytes): far beyond any model's context.
pub const MAX_OUTPUT: usize = 1 << 20;

/// The longest template source accepted (bytes): real chat templates are under 20 KB, and
/// parsing (which the budget does not cover) must stay cheap.
pub const MAX_SOURCE: usize = 1 << 20;

/// Collects a render's output and refuses to grow past [`MAX_OUTPUT`].
struct Capped {
    out: Vec<u8>,
    exceeded: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > MAX_OUTPUT {
            self.exceeded = true;
            return Err(std::io::Error::other("output cap"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Python's `str.title()`: a cased character after an uncased one (or at the start) is
/// upper-cased, every other cased character lower-cased — so `'x'` becomes `'X'`
/// (minijinja's `title` starts words only after spaces and brackets and gave `'x'`).
fn python_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut previous_cased = false;
    for c in s.chars() {
        let cased = c.is_lowercase() || c.is_uppercase();
        if cased && previous_cased {
            out.extend(c.to_lowercase());
        } else if cased {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        previous_cased = cased;
    }
    out
}

/// jinja2's `int` filter: `int(value, base)`, else `int(float(value))`, else the default
/// (0) — surrounding whitespace allowed, as Python's `int` and `float` allow it. minijinja's
/// own filter errs on `' 42 '` and `'x'`; non-strings go to it unchanged.
fn int_filter(
    state: &minijinja::State,
    value: &Value,
    default: Option<Value>,
    base: Option<u32>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let default = match default {
        Some(d) => Some(d),
        None => kwargs.get::<Option<Value>>("default")?,
    };
    let base = match base {
        Some(b) => Some(b),
        None => kwargs.get::<Option<u32>>("base")?,
    };
    kwargs.assert_all_used()?;
    let Some(s) = value.as_str() else {
        let none = Kwargs::from_iter(std::iter::empty::<(&str, Value)>());
        return minijinja::filters::int(state, value, default, base, none);
    };
    let t = s.trim();
    let radix = base.unwrap_or(10);
    let digits = match radix {
        2 => t.strip_prefix("0b").or(t.strip_prefix("0B")).unwrap_or(t),
        8 => t.strip_prefix("0o").or(t.strip_prefix("0O")).unwrap_or(t),
        16 => t.strip_prefix("0x").or(t.strip_prefix("0X")).unwrap_or(t),
        _ => t,
    };
    if (2..=36).contains(&radix) {
        if let Ok(i) = i128::from_str_radix(digits, radix) {
            return Ok(Value::from(i));
        }
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() && f.abs() < 1.7e38 => Ok(Value::from(f.trunc() as i128)),
        _ => Ok(default.unwrap_or(Value::from(0))),
    }
}

/// Message of a `raise_exception` call, recognised by this prefix.
const RAISED: &str = "raise_exception: ";

fn environment(now: Option<i64>) -> Environment<'static> {
    let mut env = Environment::new();
    // transformers: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .expect("default delimiters"),
    );
    // A template file named `*.html` must not switch on HTML escaping.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_unknown_method_callback(
        |state, value, method, args| match (value.as_str(), method) {
            (Some(s), "title") if args.is_empty() => Ok(Value::from(python_title(s))),
            _ => minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args),
        },
    );
    env.set_fuel(Some(FUEL));
    env.add_filter("tojson", tojson);
    env.add_filter("int", int_filter);
    env.add_function("raise_exception", |msg: String| -> Result<Value, Error> {
        Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{RAISED}{msg}"),
        ))
    });
    env.add_function(
        "strftime_now",
        move |format: String| -> Result<String, Error> {
            let now = now.ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    "strftime_now: no clock here; pass a date_string",
                )
            })?;
            super::strftime::strftime(now, &format)
                .map_err(|m| Error::new(ErrorKind::InvalidOperation, m))
        },
    );
    env
}

/// Checks that `source` parses; the error carries the template's line and column.
pub fn check_syntax(name: &str, source: &str) -> Result<(), PromptError> {
    if source.len() > MAX_SOURCE {
        return Err(PromptError::SourceTooLong {
            name: name.into(),
            bytes: source.len(),
            limit: MAX_SOURCE,
        });
    }
    let env = environment(None);
    env.template_from_named_str(name, source)
        .map(|_| ())
        .map_err(|e| {
            let (line, column) = located(source, &e);
            PromptError::Syntax {
                name: name.into(),
                line,
                column,
                message: e.detail().unwrap_or("syntax error").to_string(),
            }
        })
}

/// Renders `source` (named `name` in errors) for `messages`, within the work budget
/// [`FUEL`] and the output cap [`MAX_OUTPUT`].
pub fn render(
    name: &str,
    source: &str,
    messages: &[Message],
    ctx: &RenderContext<'_>,
) -> Result<String, PromptError> {
    render_with_fuel(name, source, messages, ctx, FUEL)
}

/// [`render`] with another work budget (the fuzz target uses a smaller one).
pub fn render_with_fuel(
    name: &str,
    source: &str,
    messages: &[Message],
    ctx: &RenderContext<'_>,
    fuel: u64,
) -> Result<String, PromptError> {
    check_syntax(name, source)?;
    let mut env = environment(ctx.now);
    env.set_fuel(Some(fuel));
    let template = env
        .template_from_named_str(name, source)
        .expect("syntax checked");
    let mut vars = std::collections::BTreeMap::<&str, Value>::new();
    vars.insert("messages", Value::from(minijinja::value::Serde(messages)));
    vars.insert("tools", Value::from(()));
    vars.insert("documents", Value::from(()));
    vars.insert(
        "add_generation_prompt",
        Value::from(ctx.add_generation_prompt),
    );
    if let Some(b) = ctx.bos_token {
        vars.insert("bos_token", Value::from(b));
    }
    if let Some(e) = ctx.eos_token {
        vars.insert("eos_token", Value::from(e));
    }
    if let Some(d) = ctx.date_string {
        vars.insert("date_string", Value::from(d));
    }
    let mut capped = Capped {
        out: Vec::new(),
        exceeded: false,
    };
    let rendered = template.render_captured_to(vars, &mut capped);
    if capped.exceeded {
        return Err(PromptError::TooLong {
            name: name.into(),
            limit: MAX_OUTPUT,
        });
    }
    rendered
        .map(|_| String::from_utf8(capped.out).expect("minijinja writes UTF-8"))
        .map_err(|e| {
        if e.kind() == ErrorKind::OutOfFuel {
            return PromptError::Budget {
                name: name.into(),
                fuel,
            };
        }
        let (line, column) = located(source, &e);
        let detail = e.detail().unwrap_or("").to_string();
        match detail.strip_prefix(RAISED) {
            Some(message) => PromptError::Raised {
                name: name.into(),
                message: message.to_string(),
            },
            None => PromptError::Render {
                name: name.into(),
                line,
                column,
                message: if detail.contains("use % operator on unsupported types string") {
                    // jinja2 runs Python's `'%s' % x`; minijinja has no string `%`.
                    format!("{e} (Python's `'…' % x` string formatting is not supported here: write `'…'|format(x)`)")
                } else {
                    e.to_string()
                },
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RenderContext<'static> {
        RenderContext {
            bos_token: Some("<s>"),
            eos_token: Some("</s>"),
            date_string: Some("10 Apr 2025"),
            add_generation_prompt: true,
            now: Some(0),
        }
    }

    #[test]
    fn renders_with_hf_environment() {
        let t = "{{ bos_token }}{% for m in messages %}\n  {% if m.role == 'system' %}{% continue %}{% endif %}\n[{{ m.role }}] {{ m.content.strip() }}{% if m.content.strip().startswith('Wh') %}?{% endif %}\n{% endfor %}\n{% if add_generation_prompt %}A ({{ date_string }}, {{ strftime_now('%Y') }}):{% endif %}";
        let msgs = [
            Message::new("system", "sys"),
            Message::new("user", "  Where?  "),
        ];
        assert_eq!(
            render("t", t, &msgs, &ctx()).unwrap(),
            // What jinja2's ImmutableSandboxedEnvironment(trim_blocks, lstrip_blocks) gives.
            "<s>[user] Where??A (10 Apr 2025, 1970):"
        );
    }

    #[test]
    fn tojson_is_pythons_json_dumps() {
        // Python: json.dumps({"a": [1, "é<>&'"], "b": None}, ensure_ascii=False) and indent=2.
        let t = "{{ {'a': [1, \"é<>&'\"], 'b': none} | tojson }}|{{ [1, {'k': 'v'}] | tojson(indent=2) }}";
        assert_eq!(
            render("t.html", t, &[], &ctx()).unwrap(),
            "{\"a\": [1, \"é<>&'\"], \"b\": null}|[\n  1,\n  {\n    \"k\": \"v\"\n  }\n]"
        );
    }

    /// Nested `range()` loops once ran forever and one repeated string reached 6.3 GB:
    /// every template now renders within a work budget and an output cap, each failure
    /// named.
    #[test]
    fn runaway_templates_stop_with_a_named_error() {
        let spin =
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
        assert_eq!(
            render("spin.jinja", spin, &[], &ctx()).unwrap_err(),
            PromptError::Budget {
                name: "spin.jinja".into(),
                fuel: FUEL
            }
        );
        let big = "{% set s=\"a\"*100000 %}{% for i in range(100000) %}{{ s }}{% endfor %}";
        assert_eq!(
            render("big.jinja", big, &[], &ctx()).unwrap_err(),
            PromptError::TooLong {
                name: "big.jinja".into(),
                limit: MAX_OUTPUT
            }
        );
        let huge = "{% set s=\"a\"*1000000000 %}{{ s|length }}";
        assert!(matches!(
            render("huge.jinja", huge, &[], &ctx()).unwrap_err(),
            PromptError::Budget { .. }
        ));
        let long = "x".repeat(MAX_SOURCE + 1);
        assert!(matches!(
            check_syntax("long.jinja", &long).unwrap_err(),
            PromptError::SourceTooLong { .. }
        ));
        // A prompt just under the cap still renders.
        let fits = "{% for i in range(1000) %}{{ \"a\"*1000 }}{% endfor %}";
        assert_eq!(render("fits", fits, &[], &ctx()).unwrap().len(), 1_000_000);
    }

    #[test]
    fn python_string_behaviour_where_transformers_renders() {
        let r = |t: &str| render("t", t, &[], &ctx()).unwrap();
        // Python: "'x' 1st o'neil ǅx".title()
        assert_eq!(r("{{ \"'x' 1st o'neil\".title() }}"), "'X' 1St O'Neil");
        assert_eq!(r("{{ 'hello WORLD'.title() }}"), "Hello World");
        let e = render("p", "{{ '%s!' % 'x' }}", &[], &ctx()).unwrap_err();
        assert!(e.to_string().contains("|format(x)"), "{e}");
        assert_eq!(r("{{ '%s!'|format('x') }}"), "x!");
        // jinja2's int filter: int(float('3.7')) for a float-looking string.
        assert_eq!(
            r("{{ '3.7'|int }}|{{ ' 42 '|int }}|{{ 'x'|int }}|{{ 'x'|int(7) }}|{{ '0x1f'|int(base=16) }}|{{ 2.9|int }}|{{ none|int }}"),
            "3|42|0|7|31|2|0"
        );
    }

    #[test]
    fn errors_are_located() {
        let e = check_syntax("bad.jinja", "line one\n{% if x %}oops").unwrap_err();
        assert!(matches!(e, PromptError::Syntax { line: 2, .. }), "{e}");
        let e = check_syntax("bad.jinja", "ok\n  {{ x + }}").unwrap_err();
        match e {
            PromptError::Syntax { line, column, .. } => assert_eq!((line, column), (2, 10)),
            other => panic!("{other}"),
        }
        let raise = "{% if messages[0].role != 'user' %}{{ raise_exception('Roles must alternate') }}{% endif %}";
        let e = render("r", raise, &[Message::new("assistant", "a")], &ctx()).unwrap_err();
        assert_eq!(
            e,
            PromptError::Raised {
                name: "r".into(),
                message: "Roles must alternate".into()
            }
        );
        let no_clock = RenderContext { now: None, ..ctx() };
        assert!(render("c", "{{ strftime_now('%d') }}", &[], &no_clock).is_err());
    }
}
