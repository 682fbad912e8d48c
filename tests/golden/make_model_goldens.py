#!/usr/bin/env python3
"""Generate tiny-model fixtures and golden logits / greedy ids with HF transformers.

Run from the repository root with the venv made by tests/golden/setup_torch_venv.sh:

    PY=$(bash tests/golden/setup_torch_venv.sh | tail -n 1)
    "$PY" tests/golden/make_model_goldens.py

Writes:
  tests/fixtures/models/<name>/ for every family below (llama-tiny, llama-tiny-tied, phi-tiny,
  llama3-tiny, llama-linear-tiny, llama-dynamic-tiny, mistral-tiny, qwen2-tiny, qwen2-swa-tiny,
  qwen3-tiny) and the variants llama-tiny-f16, llama-tiny-bf16, llama3-tiny-sharded
  tests/golden/model_golden.json

Everything is deterministic (fixed seeds, one CPU thread, float32 math, eager attention).
"""

import argparse
import inspect
import json
import os
import platform
import shutil
import sys

import numpy as np
import safetensors
import tokenizers
import torch
import transformers
from transformers import (
    AutoModelForCausalLM,
    GenerationConfig,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    PhiConfig,
    PhiForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS_DIR = "tests/fixtures/models"
GOLDEN_PATH = "tests/golden/model_golden.json"
STORIES_DEFAULT = "../shared/data/models/stories260K"
STORIES_PROMPT_IDS = 12  # ids from llama2c_greedy_ids.txt that were llama2.c prompt tokens

ATTN_IMPL = "eager"
N_NEW = 32
PROMPT_LENS = [1, 5, 9, 16]
PROMPT_SEED = 1234
MIN_GAP = 1e-3          # top-1 minus top-2 logit at every greedy step must exceed this
MIN_DISTINCT = 6        # each greedy continuation must use at least this many distinct ids
MAX_SEED_TRIES = 50

# Re-initialisation scales (transformers' default std=0.02 gives near-uniform logits).
STD_EMBED = 0.5
STD_MATRIX = 0.15
STD_NORM_WEIGHT = 0.1   # norm weights: 1 + N(0, this)
STD_BIAS = 0.05


def llama_tiny_config():
    return LlamaConfig(
        vocab_size=256,
        hidden_size=64,
        intermediate_size=176,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        max_position_embeddings=128,
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        attention_bias=False,
        mlp_bias=False,
    )


def llama_tiny_tied_config():
    return LlamaConfig(
        vocab_size=256,
        hidden_size=64,
        intermediate_size=176,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        rms_norm_eps=1e-6,
        rope_theta=500000.0,
        max_position_embeddings=128,
        tie_word_embeddings=True,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        attention_bias=False,
        mlp_bias=False,
    )


def phi_tiny_config():
    return PhiConfig(
        vocab_size=256,
        hidden_size=64,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        partial_rotary_factor=0.5,
        hidden_act="gelu_new",
        layer_norm_eps=1e-5,
        rope_theta=10000.0,
        max_position_embeddings=128,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attention_dropout=0.0,
        qk_layernorm=False,
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
    )


def llama_rope_config(rope_parameters, max_pos=128):
    """llama-tiny's shape with a scaled rotary embedding."""
    cfg = llama_tiny_config()
    cfg.max_position_embeddings = max_pos
    cfg.rope_parameters = {"rope_theta": 10000.0, **rope_parameters}
    return cfg


def llama3_tiny_config():
    # Llama 3.x scaling with a 16-position "pretraining" context: with head_dim 16 the
    # wavelengths 2*pi/inv_freq run from 6.3 to ~2e4, so the short (< 16/4), blended
    # (4..16) and long (> 16) bands are all present. Untied, 4 q / 2 kv heads.
    return llama_rope_config({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                              "high_freq_factor": 4.0, "original_max_position_embeddings": 16})


def llama_linear_tiny_config():
    return llama_rope_config({"rope_type": "linear", "factor": 2.0})


def llama_dynamic_tiny_config():
    # max_position_embeddings 12: the 16-token prompt and every generation past 12
    # positions take the dynamic-NTK branch.
    return llama_rope_config({"rope_type": "dynamic", "factor": 2.0}, max_pos=12)


def mistral_tiny_config():
    # A 6-position window, shorter than the 16-token prompt and the 32 new tokens; an
    # explicit head_dim (20) that is not hidden_size / heads.
    return MistralConfig(
        vocab_size=256, hidden_size=64, intermediate_size=176, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=20, rms_norm_eps=1e-5,
        rope_theta=10000.0, max_position_embeddings=128, sliding_window=6,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2, pad_token_id=0,
    )


def qwen2_tiny_config(sliding=False):
    # Qwen2/2.5: q/k/v biases, tied head (as Qwen2.5-1.5B/3B), rope theta 1e6.
    kw = dict(use_sliding_window=True, sliding_window=6, max_window_layers=1) if sliding else {}
    return Qwen2Config(
        vocab_size=256, hidden_size=64, intermediate_size=176, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=1000000.0,
        max_position_embeddings=128, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
        pad_token_id=0, **kw,
    )


def qwen2_swa_tiny_config():
    # Layer 0 full attention, layer 1 a 6-position window (max_window_layers = 1).
    return qwen2_tiny_config(sliding=True)


def qwen3_tiny_config():
    # Per-head q/k RMSNorm and an explicit head_dim of 24 (4 heads x 24 = 96 != hidden 64).
    return Qwen3Config(
        vocab_size=256, hidden_size=64, intermediate_size=176, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=24, rms_norm_eps=1e-6,
        rope_theta=1000000.0, max_position_embeddings=128, tie_word_embeddings=False,
        attention_bias=False, bos_token_id=1, eos_token_id=2, pad_token_id=0,
    )


# name -> (config factory, model class, first seed)
FAMILIES = {
    "llama-tiny": (llama_tiny_config, LlamaForCausalLM, 1000),
    "llama-tiny-tied": (llama_tiny_tied_config, LlamaForCausalLM, 2000),
    "phi-tiny": (phi_tiny_config, PhiForCausalLM, 3000),
    "llama3-tiny": (llama3_tiny_config, LlamaForCausalLM, 4000),
    "llama-linear-tiny": (llama_linear_tiny_config, LlamaForCausalLM, 5000),
    "llama-dynamic-tiny": (llama_dynamic_tiny_config, LlamaForCausalLM, 6000),
    "mistral-tiny": (mistral_tiny_config, MistralForCausalLM, 7000),
    "qwen2-tiny": (qwen2_tiny_config, Qwen2ForCausalLM, 8000),
    "qwen2-swa-tiny": (qwen2_swa_tiny_config, Qwen2ForCausalLM, 9000),
    "qwen3-tiny": (qwen3_tiny_config, Qwen3ForCausalLM, 10000),
}
# Extra dtype variants saved from llama-tiny's weights.
DTYPE_VARIANTS = {"llama-tiny-f16": torch.float16, "llama-tiny-bf16": torch.bfloat16}
# Sharded copies (save_pretrained(max_shard_size=...)): variant -> (family, shard size).
SHARD_VARIANTS = {"llama3-tiny-sharded": ("llama3-tiny", "40KB")}


def is_dynamic(model):
    return "dynamic" in str(model.config.rope_parameters.get("rope_type", ""))


def reset_rope(model):
    """Dynamic NTK keeps the grown frequencies between calls (module state); start every
    call from the pretrained ones, as a freshly loaded model would."""
    rot = model.model.rotary_emb
    if is_dynamic(model):
        rot.register_buffer("inv_freq", rot.original_inv_freq.clone(), persistent=False)
        rot.max_seq_len_cached = rot.original_max_seq_len


def reinit_(model, seed):
    """Re-initialise every parameter with larger scales, deterministically."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():  # tied params are listed once
            if p.dim() == 1:
                if name.endswith("bias"):
                    p.copy_(torch.randn(p.shape, generator=g) * STD_BIAS)
                else:  # RMSNorm / LayerNorm weight
                    p.copy_(1.0 + torch.randn(p.shape, generator=g) * STD_NORM_WEIGHT)
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=g) * STD_EMBED)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * STD_MATRIX)


def make_prompts():
    g = torch.Generator().manual_seed(PROMPT_SEED)
    prompts = []
    for n in PROMPT_LENS:
        rest = torch.randint(3, 256, (n - 1,), generator=g).tolist()
        prompts.append([1] + rest)
    return prompts


def f32list(t):
    """Tensor -> nested list of Python floats (exact float32 values)."""
    return t.detach().to(torch.float32).cpu().numpy().astype(np.float64).tolist()


@torch.no_grad()
def full_logits(model, ids):
    reset_rope(model)
    out = model(input_ids=torch.tensor([ids]), use_cache=False)
    return out.logits[0].float()


def top_gap(row):
    top2 = torch.topk(row.float(), 2).values
    return float(top2[0] - top2[1])


@torch.no_grad()
def greedy_manual(model, ids, n_new, all_gaps=False):
    """Plain argmax loop, no KV cache: re-run the full sequence each step."""
    seq = list(ids)
    gaps = []
    for _ in range(n_new):
        last = full_logits(model, seq)[-1]
        gaps.append(top_gap(last))
        seq.append(int(torch.argmax(last)))
    return seq[len(ids):], (gaps if all_gaps else min(gaps))


@torch.no_grad()
def greedy_generate(model, ids, n_new):
    gen_cfg = GenerationConfig(
        do_sample=False,
        max_new_tokens=n_new,
        min_new_tokens=n_new,
        eos_token_id=None,
        bos_token_id=1,
        pad_token_id=0,
        num_beams=1,
    )
    inp = torch.tensor([ids])
    reset_rope(model)
    out = model.generate(
        input_ids=inp,
        attention_mask=torch.ones_like(inp),
        generation_config=gen_cfg,
        use_cache=True,
        output_scores=True,
        return_dict_in_generate=True,
    )
    new = out.sequences[0, len(ids):].tolist()
    gaps = [top_gap(s[0]) for s in out.scores]
    return new, min(gaps)


@torch.no_grad()
def padded_batch(model, rows):
    width = max(len(r) for r in rows)
    input_ids = [r + [0] * (width - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (width - len(r)) for r in rows]
    reset_rope(model)
    out = model(
        input_ids=torch.tensor(input_ids),
        attention_mask=torch.tensor(mask),
        use_cache=False,
    )
    valid = [f32list(out.logits[i, : len(r)]) for i, r in enumerate(rows)]
    return {"input_ids": input_ids, "attention_mask": mask, "logits_valid": valid}, out.logits


def evaluate(model, prompts):
    """Compute all goldens for one model; returns (record, min_gap, ok, why)."""
    model.eval()
    logits = [full_logits(model, p) for p in prompts]
    greedy, min_gap, why = [], float("inf"), []
    dynamic = is_dynamic(model)
    for i, p in enumerate(prompts):
        gen, gap_g = greedy_generate(model, p, N_NEW)
        man, gap_m = greedy_manual(model, p, N_NEW)
        if dynamic:
            # Cached generation keeps each key's angles from the step it was computed at,
            # while a full re-run rotates every key with the grown frequencies: the two
            # legitimately differ, and generate() (the cached semantics) is the golden.
            man, gap_m = gen, gap_g
        elif gen != man:
            why.append(f"prompt {i}: generate() {gen} != manual argmax {man}")
        if 2 in man:  # keep goldens independent of stop-at-EOS vs min_new_tokens semantics
            why.append(f"prompt {i}: greedy emits eos id 2: {man}")
        if len(set(man)) < MIN_DISTINCT:
            why.append(f"prompt {i}: only {len(set(man))} distinct ids in {man}")
        min_gap = min(min_gap, gap_g, gap_m)
        greedy.append(man)
    if min_gap <= MIN_GAP:
        why.append(f"min top1-top2 gap {min_gap} <= {MIN_GAP}")
    batch_rows = [prompts[2], prompts[1]]  # lengths 9 and 5, right padded
    batch, batch_logits = padded_batch(model, batch_rows)
    max_pad_diff = 0.0
    for i, r in enumerate(batch_rows):
        ref = logits[prompts.index(r)]
        max_pad_diff = max(max_pad_diff, float((batch_logits[i, : len(r)] - ref).abs().max()))
    if max_pad_diff > 1e-4:
        why.append(f"padded batch differs from unpadded by {max_pad_diff}")
    record = {
        "prompts": prompts,
        "logits": [f32list(l) for l in logits],
        "greedy": greedy,
        "greedy_semantics": "generate() with KV cache" if dynamic else "generate() == argmax loop",
        "padded_batch": batch,
        "min_greedy_top_gap": min_gap,
        "padded_vs_unpadded_max_abs_diff": max_pad_diff,
    }
    return record, not why, why


def save_model(model, out_dir, max_shard_size=None):
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    kwargs = {}
    if "safe_serialization" in inspect.signature(model.save_pretrained).parameters:
        kwargs["safe_serialization"] = True  # transformers 4.x; 5.x always writes safetensors
    if max_shard_size is not None:
        kwargs["max_shard_size"] = max_shard_size
    model.save_pretrained(out_dir, **kwargs)
    weights = "model.safetensors.index.json" if max_shard_size else "model.safetensors"
    assert os.path.isfile(os.path.join(out_dir, weights)), out_dir


def load_f32(path):
    return AutoModelForCausalLM.from_pretrained(
        path, dtype=torch.float32, attn_implementation=ATTN_IMPL
    ).eval()


def build_family(name, prompts, log):
    make_cfg, cls, seed0 = FAMILIES[name]
    variants = DTYPE_VARIANTS if name == "llama-tiny" else {}
    shard_variants = {v: size for v, (fam, size) in SHARD_VARIANTS.items() if fam == name}
    for seed in range(seed0, seed0 + MAX_SEED_TRIES):
        torch.manual_seed(seed)
        cfg = make_cfg()
        model = cls(cfg).float().eval()
        reinit_(model, seed)
        out_dir = os.path.join(MODELS_DIR, name)
        save_model(model, out_dir)
        # Goldens come from the files on disk, re-loaded, so they match what a loader sees.
        rec, ok, why = evaluate(load_f32(out_dir), prompts)
        results = {name: rec}
        for vname, dtype in variants.items():
            if not ok:
                break
            vdir = os.path.join(MODELS_DIR, vname)
            vmodel = cls(cfg).float().eval()
            vmodel.load_state_dict(model.state_dict())
            save_model(vmodel.to(dtype), vdir)
            vrec, vok, vwhy = evaluate(load_f32(vdir), prompts)
            vrec["saved_dtype"] = str(dtype).replace("torch.", "")
            results[vname] = vrec
            ok = ok and vok
            why += [f"{vname}: {w}" for w in vwhy]
        for vname, size in shard_variants.items():
            if not ok:
                break
            vdir = os.path.join(MODELS_DIR, vname)
            save_model(model, vdir, max_shard_size=size)
            shards = sorted(f for f in os.listdir(vdir) if f.endswith(".safetensors"))
            if len(shards) < 2:
                raise SystemExit(f"{vname}: {size} gave {len(shards)} shard(s); lower it")
            vrec, vok, vwhy = evaluate(load_f32(vdir), prompts)
            vrec["shards"] = shards
            results[vname] = vrec
            ok = ok and vok
            why += [f"{vname}: {w}" for w in vwhy]
        if ok:
            for r in results.values():
                r["seed"] = seed
            log(f"{name}: seed {seed} ok, min gaps "
                + ", ".join(f"{k}={v['min_greedy_top_gap']:.4g}" for k, v in results.items()))
            return results
        log(f"{name}: seed {seed} rejected: {'; '.join(why)}")
    raise SystemExit(f"{name}: no acceptable seed in {MAX_SEED_TRIES} tries")


def stories_goldens(stories_dir, log):
    with open(os.path.join(stories_dir, "llama2c_greedy_ids.txt")) as f:
        fields = f.read().split()
    ids = []
    for tok in fields:
        if not tok.isdigit():
            break  # trailing "achieved tok/s: ..." text
        ids.append(int(tok))
    # llama2.c run.c echoes the prompt tokens after BOS, then its greedy tokens. The file
    # holds 40 ids: 12 prompt tokens + 28 generated ones (teacher-forced argmax of the HF
    # model equals the file from index 12 on; at index 11 it does not, so id 11 is a prompt
    # token). Prompt = BOS + 12 ids (13 tokens), 28 greedy ids follow.
    prompt = [1] + ids[:STORIES_PROMPT_IDS]
    llama2c_greedy = ids[STORIES_PROMPT_IDS:]
    model = load_f32(stories_dir)
    logits = full_logits(model, prompt)
    n_new = len(llama2c_greedy)
    man, step_gaps = greedy_manual(model, prompt, n_new, all_gaps=True)
    gap_m = min(step_gaps)
    gen, gap_g = greedy_generate(model, prompt, n_new)
    if man != gen:
        raise SystemExit(f"stories260K: generate {gen} != manual {man}")
    n_match = sum(a == b for a, b in zip(man, llama2c_greedy))
    if n_match != len(llama2c_greedy):
        raise SystemExit(f"stories260K: transformers greedy {man} != llama2.c {llama2c_greedy}")
    log(f"stories260K: greedy matches llama2.c at {n_match}/{len(llama2c_greedy)} positions, "
        f"min gap {min(gap_m, gap_g):.4g}")
    return {
        "dir_env": "PROBABLE_STORIES_DIR",
        "default_dir": STORIES_DEFAULT,
        "prompt": prompt,
        "logits_last": f32list(logits[-1]),
        "logits_first_rows": f32list(logits[:4]),
        "greedy": man,
        "llama2c_greedy": llama2c_greedy,
        "greedy_matches_llama2c": n_match,
        "note": "prompt = BOS + first 12 ids of llama2c_greedy_ids.txt (run.c echoes its prompt "
                "tokens); the 28 ids after them are llama2.c's greedy output and equal transformers' greedy.",
        "min_greedy_top_gap": min(gap_m, gap_g),
        "greedy_top_gaps": step_gaps,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stories-dir", default=os.environ.get("PROBABLE_STORIES_DIR"),
                    help=f"stories260K dir (default $PROBABLE_STORIES_DIR or {STORIES_DEFAULT})")
    args = ap.parse_args()
    os.chdir(REPO)
    stories_dir = args.stories_dir or STORIES_DEFAULT
    log = lambda m: print(m, file=sys.stderr, flush=True)

    prompts = make_prompts()
    models = {}
    for name in FAMILIES:
        models.update(build_family(name, prompts, log))
    for name, rec in models.items():
        rec_dir = os.path.join(MODELS_DIR, name)
        models[name] = {"dir": rec_dir, **rec}

    golden = {
        "generator": {
            "script": "tests/golden/make_model_goldens.py",
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "safetensors": safetensors.__version__,
            "tokenizers": tokenizers.__version__,
            "numpy": np.__version__,
            "attn_implementation": ATTN_IMPL,
            "dtype_of_math": "float32",
            "torch_num_threads": 1,
            "prompt_seed": PROMPT_SEED,
            "reinit": {
                "embed_tokens_std": STD_EMBED,
                "matrix_std": STD_MATRIX,
                "norm_weight": f"1 + N(0, {STD_NORM_WEIGHT})",
                "bias_std": STD_BIAS,
            },
            "min_gap_required": MIN_GAP,
        },
        "models": models,
        "stories260K": stories_goldens(stories_dir, log),
    }
    with open(GOLDEN_PATH, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    log(f"wrote {GOLDEN_PATH} ({os.path.getsize(GOLDEN_PATH)} bytes)")


if __name__ == "__main__":
    main()
