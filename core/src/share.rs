//! Every setting of an evaluation as URL query parameters, so a link reproduces it.
//!
//! Parsing never falls back silently: a malformed value is reported (naming the parameter)
//! and the default is shown in its place, and a link with problems does not start a run.

use std::fmt;

/// Which questions the question picker offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionSet {
    Forget,
    Retain,
    /// A question and reference answer typed by the visitor (or carried by the link).
    Custom,
}

impl QuestionSet {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forget => "forget",
            Self::Retain => "retain",
            Self::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "forget" => Some(Self::Forget),
            "retain" => Some(Self::Retain),
            "custom" => Some(Self::Custom),
            _ => None,
        }
    }
}

/// Backend preference: the best available, or the CPU even where WebGPU exists (to
/// compare the two on one machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    Auto,
    Cpu,
}

/// Sample counts offered by the picker (the URL may carry any count in `1..=MAX_SAMPLES`).
pub const SAMPLE_CHOICES: [u32; 6] = [16, 64, 256, 1024, 2048, 4096];
pub const MAX_SAMPLES: u32 = 4096;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub model: String,
    pub set: QuestionSet,
    /// Position of the question in its split (keys its random streams, as in `probable eval`).
    pub question_index: u32,
    /// Only for [`QuestionSet::Custom`].
    pub question: String,
    pub reference: String,
    pub samples: u32,
    pub temperature: f64,
    pub top_p: f64,
    pub seed: u64,
    pub alpha: f64,
    /// Leak threshold τ: a sample with ROUGE-L recall ≥ τ leaks.
    pub tau: f64,
    pub max_new_tokens: usize,
    pub adaptive: bool,
    /// Entropy (nats) below which a step decodes greedily when `adaptive` is on.
    pub adaptive_threshold: f64,
    pub backend: BackendChoice,
    /// Prompt format: one of [`TEMPLATE_CHOICES`] (`chat` needs a bundle with a chat template;
    /// the demo bundles carry none).
    pub template: String,
    /// A bundle on any static host (the base URL its files live under); when set, `model`
    /// is not used.
    pub model_url: Option<String>,
    /// Questions (JSON/JSONL in the TOFU layouts) replacing the `set` split's questions.
    pub data_url: Option<String>,
    /// Web Workers that share the samples on the CPU fallback (`None`: one per core, as
    /// memory allows). The samples are the same for every count.
    pub workers: Option<u32>,
    /// "Stop when decided": sample each question in rounds and stop it at its anytime-valid
    /// verdict (`probable eval --sequential`, the samples count the budget).
    pub sequential: bool,
}

/// The most CPU workers a link may ask for.
pub const MAX_WORKERS: u32 = 64;

/// The text presets the page offers (`probable eval --template`).
pub const TEMPLATE_CHOICES: [&str; 5] = ["qa", "phi", "llama2-chat", "raw", "chat"];

impl Default for Settings {
    /// The paper's evaluation setting (T = 1, top-p = 0.9, α = 0.01) with the issue's
    /// default of 256 samples, on the NPO demo model.
    fn default() -> Self {
        Self {
            model: "npo".into(),
            set: QuestionSet::Forget,
            question_index: 0,
            question: String::new(),
            reference: String::new(),
            samples: 256,
            temperature: 1.0,
            top_p: 0.9,
            seed: 0,
            alpha: 0.01,
            tau: 0.5,
            max_new_tokens: 40,
            adaptive: false,
            adaptive_threshold: 1.0,
            backend: BackendChoice::Auto,
            template: "qa".into(),
            model_url: None,
            data_url: None,
            workers: None,
            sequential: false,
        }
    }
}

/// One malformed query parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError {
    pub key: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "link parameter `{}={}`: expected {}",
            self.key, self.value, self.expected
        )
    }
}

impl Settings {
    /// Reads settings from query parameters (`get(key)` returns the decoded value); keys
    /// that are absent keep their defaults.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> (Self, Vec<ParamError>) {
        let mut s = Self::default();
        let mut errors = Vec::new();
        let mut field =
            |key: &'static str, expected: &'static str, ok: &mut dyn FnMut(&str) -> Option<()>| {
                if let Some(v) = get(key) {
                    if ok(&v).is_none() {
                        errors.push(ParamError {
                            key,
                            value: v,
                            expected,
                        });
                    }
                }
            };
        field("model", "a model name", &mut |v| {
            (!v.is_empty()).then(|| s.model = v.to_string())
        });
        field("set", "forget, retain or custom", &mut |v| {
            QuestionSet::parse(v).map(|x| s.set = x)
        });
        field("q", "a question index (0, 1, ...)", &mut |v| {
            v.parse().ok().map(|x| s.question_index = x)
        });
        field("question", "text", &mut |v| {
            s.question = v.to_string();
            Some(())
        });
        field("reference", "text", &mut |v| {
            s.reference = v.to_string();
            Some(())
        });
        field("n", "a sample count in 1..=4096", &mut |v| {
            parse_in(v, |x: u32| (1..=MAX_SAMPLES).contains(&x)).map(|x| s.samples = x)
        });
        field("t", "a temperature ≥ 0", &mut |v| {
            parse_in(v, |x: f64| x.is_finite() && x >= 0.0).map(|x| s.temperature = x)
        });
        field("top_p", "a nucleus mass in (0, 1]", &mut |v| {
            parse_in(v, |x: f64| x > 0.0 && x <= 1.0).map(|x| s.top_p = x)
        });
        field("seed", "a non-negative integer", &mut |v| {
            v.parse().ok().map(|x| s.seed = x)
        });
        field("alpha", "a confidence level α in (0, 1)", &mut |v| {
            parse_in(v, |x: f64| x > 0.0 && x < 1.0).map(|x| s.alpha = x)
        });
        field("tau", "a leak threshold in [0, 1]", &mut |v| {
            parse_in(v, |x: f64| (0.0..=1.0).contains(&x)).map(|x| s.tau = x)
        });
        field("max_tokens", "a token count in 1..=512", &mut |v| {
            parse_in(v, |x: usize| (1..=512).contains(&x)).map(|x| s.max_new_tokens = x)
        });
        field("adaptive", "0 or 1", &mut |v| {
            parse_flag(v).map(|x| s.adaptive = x)
        });
        field(
            "adaptive_h",
            "an entropy threshold ≥ 0 (nats)",
            &mut |v| {
                parse_in(v, |x: f64| x.is_finite() && x >= 0.0).map(|x| s.adaptive_threshold = x)
            },
        );
        field("backend", "auto or cpu", &mut |v| {
            let choice = match v {
                "auto" => BackendChoice::Auto,
                "cpu" => BackendChoice::Cpu,
                _ => return None,
            };
            s.backend = choice;
            Some(())
        });
        field(
            "model_url",
            "an http(s) URL of a bundle's folder",
            &mut |v| {
                http_url(v)
                    .map(|u| s.model_url = Some(if u.ends_with('/') { u } else { format!("{u}/") }))
            },
        );
        field(
            "data_url",
            "an http(s) URL of a JSON/JSONL question file",
            &mut |v| http_url(v).map(|u| s.data_url = Some(u)),
        );
        field("stop", "`decided` (or absent)", &mut |v| {
            (v == "decided").then(|| s.sequential = true)
        });
        field("workers", "a CPU worker count in 1..=64", &mut |v| {
            parse_in(v, |x: u32| (1..=MAX_WORKERS).contains(&x)).map(|x| s.workers = Some(x))
        });
        field("template", "qa, phi, llama2-chat, raw or chat", &mut |v| {
            TEMPLATE_CHOICES
                .contains(&v)
                .then(|| s.template = v.to_string())
        });
        if s.set == QuestionSet::Custom && s.data_url.is_some() {
            errors.push(ParamError {
                key: "data_url",
                value: s.data_url.clone().unwrap_or_default(),
                expected: "set=forget or set=retain (the split the file's questions replace)",
            });
        }
        if s.set == QuestionSet::Custom && s.question.trim().is_empty() {
            errors.push(ParamError {
                key: "question",
                value: s.question.clone(),
                expected: "a non-empty question when set=custom",
            });
        }
        (s, errors)
    }

    /// The query string (without `?`) that [`Settings::from_query`] reads back to `self`.
    pub fn to_query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        match &self.model_url {
            Some(url) => q.append_pair("model_url", url),
            None => q.append_pair("model", &self.model),
        };
        if let Some(url) = &self.data_url {
            q.append_pair("data_url", url);
        }
        q.append_pair("set", self.set.as_str());
        match self.set {
            QuestionSet::Custom => {
                q.append_pair("question", &self.question);
                q.append_pair("reference", &self.reference);
            }
            _ => {
                q.append_pair("q", &self.question_index.to_string());
            }
        }
        q.append_pair("n", &self.samples.to_string());
        q.append_pair("t", &self.temperature.to_string());
        q.append_pair("top_p", &self.top_p.to_string());
        q.append_pair("seed", &self.seed.to_string());
        q.append_pair("alpha", &self.alpha.to_string());
        q.append_pair("tau", &self.tau.to_string());
        q.append_pair("max_tokens", &self.max_new_tokens.to_string());
        q.append_pair("adaptive", if self.adaptive { "1" } else { "0" });
        if self.adaptive {
            q.append_pair("adaptive_h", &self.adaptive_threshold.to_string());
        }
        if self.backend == BackendChoice::Cpu {
            q.append_pair("backend", "cpu");
        }
        // The default is left out, so links made before the parameter existed stay the same.
        if self.template != "qa" {
            q.append_pair("template", &self.template);
        }
        if self.sequential {
            q.append_pair("stop", "decided");
        }
        if let Some(w) = self.workers {
            q.append_pair("workers", &w.to_string());
        }
        q.finish()
    }
}

/// Decodes a query string (with or without the leading `?`) into a lookup; the last
/// occurrence of a key wins.
pub fn query_lookup(query: &str) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
            .into_owned()
            .collect();
    move |key| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

fn parse_in<T: std::str::FromStr + Copy>(v: &str, ok: impl Fn(T) -> bool) -> Option<T> {
    v.trim().parse::<T>().ok().filter(|&x| ok(x))
}

/// An absolute http(s) URL (the page fetches it; other schemes would read local state).
fn http_url(v: &str) -> Option<String> {
    let v = v.trim();
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))?;
    (!rest.is_empty() && !rest.starts_with('/') && !v.chars().any(char::is_whitespace))
        .then(|| v.to_string())
}

fn parse_flag(v: &str) -> Option<bool> {
    match v {
        "1" | "true" | "on" => Some(true),
        "0" | "false" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_field() {
        let s = Settings {
            model: "ga-entropy".into(),
            set: QuestionSet::Custom,
            question_index: 3,
            question: "Who wrote <script>alert(1)</script> & why?".into(),
            reference: "Jane Roe, in 1999 = \"yes\"".into(),
            samples: 1024,
            temperature: 0.7,
            top_p: 0.95,
            seed: 12345678901,
            alpha: 0.05,
            tau: 0.3,
            max_new_tokens: 64,
            adaptive: true,
            adaptive_threshold: 0.25,
            backend: BackendChoice::Cpu,
            template: "phi".into(),
            model_url: None,
            data_url: None,
            workers: Some(3),
            sequential: true,
        };
        let (back, errors) = Settings::from_query(query_lookup(&s.to_query()));
        assert!(errors.is_empty(), "{errors:?}");
        // The index is not carried for custom questions.
        assert_eq!(
            back,
            Settings {
                question_index: 0,
                ..s.clone()
            }
        );

        let s = Settings {
            set: QuestionSet::Retain,
            question_index: 17,
            ..Settings::default()
        };
        let (back, errors) = Settings::from_query(query_lookup(&format!("?{}", s.to_query())));
        assert!(errors.is_empty());
        assert_eq!(back, s);
    }

    #[test]
    fn malformed_values_are_named_not_defaulted_silently() {
        let (s, errors) = Settings::from_query(query_lookup(
            "n=0&t=-1&top_p=1.5&alpha=1&set=x&seed=-3&q=a&template=jinja&workers=0&stop=maybe",
        ));
        let keys: Vec<_> = errors.iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            ["set", "q", "n", "t", "top_p", "seed", "alpha", "stop", "workers", "template"]
        );
        assert_eq!(s, Settings::default());
        assert!(errors[2].to_string().contains("`n=0`"));
        let (_, errors) = Settings::from_query(query_lookup("set=custom"));
        assert_eq!(errors[0].key, "question");
        let (_, errors) = Settings::from_query(query_lookup(
            "model_url=file:///etc/&data_url=javascript:alert(1)",
        ));
        let keys: Vec<_> = errors.iter().map(|e| e.key).collect();
        assert_eq!(keys, ["model_url", "data_url"]);
    }

    #[test]
    fn urls_round_trip_and_replace_the_model_name() {
        let s = Settings {
            model_url: Some("http://127.0.0.1:9000/bundles/my%20model/".into()),
            data_url: Some("https://host/forget10.json?x=1&y=2".into()),
            set: QuestionSet::Retain,
            question_index: 3,
            ..Settings::default()
        };
        let query = s.to_query();
        assert!(!query.contains("model=npo"), "{query}");
        let (back, errors) = Settings::from_query(query_lookup(&query));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(back, s);
        // A base URL gets its trailing slash.
        let (s, _) = Settings::from_query(query_lookup("model_url=https://h/m"));
        assert_eq!(s.model_url.as_deref(), Some("https://h/m/"));
    }
}
