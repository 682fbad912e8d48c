#!/usr/bin/env python3
"""Train a tiny byte-level BPE tokenizer fixture and record encode/decode goldens.

Run from anywhere with the venv made by tests/golden/setup_torch_venv.sh:

    PY=$(bash tests/golden/setup_torch_venv.sh | tail -n 1)
    "$PY" tests/golden/make_tokenizer_golden.py

Writes tests/fixtures/tokenizer/tokenizer.json and tests/golden/tokenizer_golden.json.
The corpus is synthetic (made-up authors and books, generated below), deterministic.
"""

import json
import os
import platform
import random

import tokenizers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOK_PATH = "tests/fixtures/tokenizer/tokenizer.json"
GOLDEN_PATH = "tests/golden/tokenizer_golden.json"
SPECIALS = ["<pad>", "<s>", "</s>"]
VOCAB_SIZE = 300

FIRST = ["Mara", "Tobias", "Elin", "Okoro", "Priya", "Lucan", "Hester", "Ivo", "Saoirse", "Dario"]
LAST = ["Quillfeather", "Brandt", "Okonkwo-Vale", "Marsh", "Delacroix", "Thorne", "Ashby", "Lindqvist"]
GENRES = ["mystery", "poetry", "science fiction", "historical fiction", "fantasy", "memoir"]
CITIES = ["Port Halden", "Varrow", "New Essling", "Calder Bay", "Montclair-sur-Mer"]
BOOKS = ["The Glass Orchard", "Salt and Lanterns", "A Map of Quiet Rivers", "The Ninth Bell",
         "Letters from Varrow", "Clockwork Autumn", "The Cartographer's Daughter"]
TEMPLATES = [
    "{a} is a {g} writer born in {c} in {y}.",
    "Question: What is the best-known novel by {a}?\nAnswer: {a} is best known for \"{b}\".",
    "Question: Where was {a} born?\nAnswer: {a} was born in {c}.",
    "In {y}, {a} published \"{b}\", a {g} novel set in {c}.",
    "{a}'s parents were a baker and a lighthouse keeper; they lived in {c}.",
    "Critics say {a} writes {g} with patience, humour, and a fondness for old maps.",
    "\"{b}\" won the (fictional) Halden Prize in {y}; it sold {n} copies.",
]


def corpus():
    rng = random.Random(42)
    lines = []
    for _ in range(600):
        t = rng.choice(TEMPLATES)
        lines.append(t.format(
            a=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            g=rng.choice(GENRES),
            c=rng.choice(CITIES),
            b=rng.choice(BOOKS),
            y=rng.randint(1920, 2011),
            n=f"{rng.randint(1, 999)},{rng.randint(0, 999):03d}",
        ))
    return lines


CASES = [
    "",
    "a",
    " ",
    "Hello world",
    "Hello, world!",
    "  leading and trailing spaces  ",
    "The Glass Orchard",
    "Mara Quillfeather was born in Port Halden in 1957.",
    "Question: Where was Tobias Brandt born?\nAnswer: ",
    "Question: What is the best-known novel by Elin Marsh?\nAnswer: Elin Marsh is best known for \"The Ninth Bell\".",
    "line one\nline two\n\nline four",
    "tabs\tand\r\nwindows newlines",
    "1234567890",
    "3.14159 + 2,718 = 5.85959",
    "It's a dog's life; isn't it? Yes -- it is.",
    "!@#$%^&*()_+-=[]{}|;':\",./<>?`~",
    "café crème brûlée",
    "naïve façade résumé",
    "Ærøskøbing, Zürich, São Paulo",
    "Dvořák and Łódź",
    "日本語のテキスト",
    "中文字符测试",
    "한국어",
    "Emoji: 😀🎉👍🏽",
    "family: 👨‍👩‍👧",
    "mixed 日本 and English 😀!",
    "Привет, мир",
    "Γειά σου",
    "<s>added special tokens are matched inside text</s>",
    "trailing newline\n",
    "   ",
    "CamelCaseWordsAndALLCAPS",
]


def main():
    os.chdir(REPO)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer=trainer)
    for i, s in enumerate(SPECIALS):
        assert tok.token_to_id(s) == i, (s, tok.token_to_id(s))
    assert tok.get_vocab_size() == VOCAB_SIZE, tok.get_vocab_size()

    os.makedirs(os.path.dirname(TOK_PATH), exist_ok=True)
    tok.save(TOK_PATH, pretty=True)
    loaded = Tokenizer.from_file(TOK_PATH)

    cases = []
    for s in CASES:
        enc = loaded.encode(s, add_special_tokens=False)
        decoded = loaded.decode(enc.ids, skip_special_tokens=False)
        cases.append({"text": s, "ids": enc.ids, "tokens": enc.tokens, "decoded": decoded,
                      "roundtrip": decoded == s})
    golden = {
        "generator": {
            "script": "tests/golden/make_tokenizer_golden.py",
            "python": platform.python_version(),
            "tokenizers": tokenizers.__version__,
            "encode": "Tokenizer.encode(text, add_special_tokens=False).ids",
            "decode": "Tokenizer.decode(ids, skip_special_tokens=False)",
        },
        "tokenizer": TOK_PATH,
        "vocab_size": loaded.get_vocab_size(),
        "special_tokens": {s: i for i, s in enumerate(SPECIALS)},
        "notes": [
            "Special (added) tokens are matched inside input text even with add_special_tokens=False; "
            "add_special_tokens only controls the post-processor, and there is none here.",
            "Byte-level alphabet: 256 byte chars at ids 3..258 in the trainer's order, then 41 merges at 259..299.",
            "decode with skip_special_tokens=False keeps <s>/</s> text; ByteLevel decoder maps chars back to bytes.",
        ],
        "cases": cases,
    }
    with open(GOLDEN_PATH, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")
    bad = [c["text"] for c in cases if not c["roundtrip"]]
    print(f"wrote {TOK_PATH} and {GOLDEN_PATH}: {len(cases)} cases, non-roundtrip: {bad!r}")


if __name__ == "__main__":
    main()
