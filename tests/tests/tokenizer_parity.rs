//! Our tokenizer wrapper against the Python `tokenizers` package on a committed byte-level
//! BPE tokenizer (tests/golden/make_tokenizer_golden.py).

use probable_core::tokenizer::Tokenizer;
use probable_tests::{golden, repo_root};

#[test]
fn ids_and_decoding_match_python_tokenizers() {
    let g = golden("tokenizer_golden.json");
    let bytes = std::fs::read(repo_root().join("tests/fixtures/tokenizer/tokenizer.json")).unwrap();
    let t = Tokenizer::from_json(&bytes).unwrap();
    assert_eq!(t.vocab_size() as u64, g["vocab_size"].as_u64().unwrap());
    let cases = g["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for c in cases {
        let text = c["text"].as_str().unwrap();
        let want: Vec<u32> = c["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(t.encode(text).unwrap(), want, "ids of {text:?}");
        // Python decoded with skip_special_tokens as recorded; compare when it kept them.
        if c["roundtrip"].as_bool() == Some(true) && !text.contains("<s>") && !text.contains("</s>")
        {
            assert_eq!(
                t.decode(&want).unwrap(),
                c["decoded"].as_str().unwrap(),
                "decode of {text:?}"
            );
        }
    }
}

#[test]
fn malformed_tokenizer_json_is_an_error() {
    assert!(Tokenizer::from_json(b"{ not json").is_err());
    assert!(Tokenizer::from_json(b"{}").is_err());
}
