//! Snapshot links: one question's result — its settings, the greedy answer, every sample's
//! text and score, and the bounds — compressed into the URL fragment, so the link shows the
//! result at once without a model; "re-run to verify" recomputes it and compares.
//!
//! The fragment is `#snap=` + base64url(deflate(JSON)). The fragment never reaches a server.
//! Token ids are left out (texts and scores are what a reader checks, and ids double the
//! size); a snapshot whose encoding exceeds [`SNAPSHOT_CAP`] is not made into a link — the
//! page offers the JSON as a download instead.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use probable_core::eval::QuestionReport;
use serde::{Deserialize, Serialize};

/// The longest `snap=` value a link carries: links longer than this are unwieldy in mail
/// and chat, and some servers refuse long URLs (the fragment is not sent, but the whole
/// link is pasted around).
pub const SNAPSHOT_CAP: usize = 48 * 1024;

/// The decompressed size a snapshot may claim (a hostile link cannot make the page
/// inflate gigabytes).
const MAX_JSON_BYTES: usize = 4 << 20;

pub const SNAPSHOT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    /// The share-link query of the settings (model or model_url, question, n, seed, …).
    pub query: String,
    /// The backend the result was computed on (samples are reproducible on the same one).
    pub backend: String,
    pub report: QuestionReport,
}

impl Snapshot {
    /// A snapshot of `report` without token ids.
    pub fn new(query: String, backend: String, report: &QuestionReport) -> Self {
        let mut report = report.clone();
        report.greedy.ids.clear();
        for s in &mut report.samples {
            s.ids.clear();
        }
        Self {
            version: SNAPSHOT_VERSION,
            query,
            backend,
            report,
        }
    }

    /// The JSON of the snapshot (also what the download offers).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a snapshot serialises")
    }

    /// The `snap=` value, or `Err(length)` when it would exceed [`SNAPSHOT_CAP`].
    pub fn encode(&self) -> Result<String, usize> {
        let deflated = miniz_oxide::deflate::compress_to_vec(self.to_json().as_bytes(), 9);
        let encoded = URL_SAFE_NO_PAD.encode(deflated);
        if encoded.len() > SNAPSHOT_CAP {
            Err(encoded.len())
        } else {
            Ok(encoded)
        }
    }

    /// Reads a `snap=` value; every failure says what was wrong with the link.
    pub fn decode(value: &str) -> Result<Self, String> {
        if value.len() > SNAPSHOT_CAP {
            return Err(format!(
                "snapshot link: {} characters, more than the {SNAPSHOT_CAP} a snapshot may have",
                value.len()
            ));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(value.trim())
            .map_err(|e| format!("snapshot link: not base64url ({e})"))?;
        let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&bytes, MAX_JSON_BYTES)
            .map_err(|e| {
                format!("snapshot link: not a deflate stream, or larger than 4 MiB ({e:?})")
            })?;
        let value: serde_json::Value =
            serde_json::from_slice(&json).map_err(|e| format!("snapshot link: not JSON ({e})"))?;
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == SNAPSHOT_VERSION as u64 => {}
            Some(v) => {
                return Err(format!(
                    "snapshot link: version {v}, this page reads version {SNAPSHOT_VERSION}"
                ))
            }
            None => return Err("snapshot link: no `version`".into()),
        }
        serde_json::from_value(value).map_err(|e| format!("snapshot link: {e}"))
    }
}

/// How a recomputed result compares with a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub samples: usize,
    /// Samples whose text or score differ.
    pub differing: usize,
    pub greedy_same: bool,
    /// Bounds whose value differs: name, snapshot, recomputed.
    pub bounds: Vec<(&'static str, f64, f64)>,
}

impl Verification {
    pub fn identical(&self) -> bool {
        self.differing == 0 && self.greedy_same && self.bounds.is_empty()
    }

    pub fn describe(&self) -> String {
        if self.identical() {
            return format!(
                "verified: the re-run gives the same greedy answer, the same {} samples and the same bounds",
                self.samples
            );
        }
        let mut parts = Vec::new();
        if !self.greedy_same {
            parts.push("the greedy answer differs".to_string());
        }
        if self.differing > 0 {
            parts.push(format!(
                "{} of {} samples differ",
                self.differing, self.samples
            ));
        }
        for (name, a, b) in &self.bounds {
            parts.push(format!("{name}: snapshot {a}, re-run {b}"));
        }
        format!("not identical: {}", parts.join("; "))
    }
}

/// Compares texts, scores and bounds (ids are not in snapshots).
pub fn verify(snapshot: &QuestionReport, rerun: &QuestionReport) -> Verification {
    let samples = snapshot.samples.len().max(rerun.samples.len());
    let same = snapshot
        .samples
        .iter()
        .zip(&rerun.samples)
        .filter(|(a, b)| a.text == b.text && a.score == b.score)
        .count();
    let (a, b) = (&snapshot.bounds, &rerun.bounds);
    let pairs = [
        ("M_μ", a.mean_upper, b.mean_upper),
        ("M_σ", a.std_upper, b.std_upper),
        ("ED", a.ed_score, b.ed_score),
        ("max", a.max_score, b.max_score),
        (
            "M_bin",
            a.binary.map_or(f64::NAN, |x| x.upper),
            b.binary.map_or(f64::NAN, |x| x.upper),
        ),
    ];
    Verification {
        samples,
        differing: samples - same,
        greedy_same: snapshot.greedy.text == rerun.greedy.text
            && snapshot.greedy.score == rerun.greedy.score,
        bounds: pairs
            .into_iter()
            .filter(|(_, x, y)| !(x == y || (x.is_nan() && y.is_nan())))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use probable_core::eval::Decoded;
    use probable_core::stats::{BoundsConfig, BoundsSummary};

    fn report(texts: &[&str]) -> QuestionReport {
        let samples: Vec<Decoded> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Decoded {
                text: t.to_string(),
                score: i as f64 / texts.len() as f64,
                ids: vec![1, 2, 3],
                stopped_on_eos: true,
                seed: None,
            })
            .collect();
        let scores: Vec<f64> = samples.iter().map(|s| s.score).collect();
        let config = BoundsConfig {
            leak_threshold: Some(0.5),
            ..BoundsConfig::default()
        };
        QuestionReport {
            index: 2,
            id: "q<2>".into(),
            variant: None,
            question: "<script>alert(1)</script>?".into(),
            answer: "the answer".into(),
            greedy: samples[0].clone(),
            greedy_forgotten: true,
            samples,
            bounds: BoundsSummary::compute(&scores, &config).unwrap(),
            sequential: None,
        }
    }

    #[test]
    fn round_trips_without_ids_and_verifies() {
        let r = report(&["a", "b <img src=x onerror=alert(1)>", "c", "d"]);
        let s = Snapshot::new("model=npo&q=2".into(), "CPU".into(), &r);
        let encoded = s.encode().unwrap();
        assert!(encoded
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        let back = Snapshot::decode(&encoded).unwrap();
        assert_eq!(back, s);
        assert!(back.report.samples.iter().all(|x| x.ids.is_empty()));
        let v = verify(&back.report, &r);
        assert!(v.identical(), "{}", v.describe());

        let mut other = r.clone();
        other.samples[1].text = "changed".into();
        other.bounds.ed_score += 0.5;
        let v = verify(&back.report, &other);
        assert_eq!(v.differing, 1);
        assert_eq!(v.bounds.len(), 1);
        assert!(v.describe().contains("1 of 4 samples differ"));
    }

    #[test]
    fn oversized_and_malformed_links_are_named() {
        // Incompressible sample texts: the encoding exceeds the cap.
        let mut x: u64 = 1;
        let texts: Vec<String> = (0..4000)
            .map(|_| {
                (0..12)
                    .map(|_| {
                        x = x
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        char::from(b'a' + (x >> 59) as u8 % 26)
                    })
                    .collect()
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let s = Snapshot::new(String::new(), String::new(), &report(&refs));
        assert!(s.encode().unwrap_err() > SNAPSHOT_CAP);

        assert!(Snapshot::decode("!!!").unwrap_err().contains("base64url"));
        assert!(Snapshot::decode("AAAA").unwrap_err().contains("deflate"));
        let not_json = URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(b"{x", 6));
        assert!(Snapshot::decode(&not_json)
            .unwrap_err()
            .contains("not JSON"));
        let future =
            URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(b"{\"version\":9}", 6));
        assert!(Snapshot::decode(&future).unwrap_err().contains("version 9"));
        assert!(Snapshot::decode(&"A".repeat(SNAPSHOT_CAP + 1))
            .unwrap_err()
            .contains("more than"));
    }
}
