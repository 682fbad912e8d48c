"""Writes a probable Llama bundle (config.json, model.safetensors in f32/f16/bf16, a byte-level BPE
tokenizer.json) as an f32 GGUF that llama.cpp loads, with llama.cpp's own gguf-py writer.

Why not convert_hf_to_gguf.py: it needs torch and transformers, and it refuses tokenizers
whose pre-tokenizer hash it does not know (probable's demo tokenizers are trained here).
The evaluation sends token ids and reads token ids back, so the GGUF's tokenizer only has
to list the vocabulary; its pre-tokenizer is declared GPT-2 (byte-level, the same regex).

The layout facts used (llama.cpp's LLM_ARCH_LLAMA tensor names; q/k rows permuted from the
Hugging Face rotate-half order to llama.cpp's interleaved rope) are those of the
converter's Llama path; the code is written for this script.

usage: python gguf_from_bundle.py BUNDLE_DIR OUT.gguf   (PYTHONPATH must hold gguf-py)
"""

import json
import struct
import sys
from pathlib import Path

import numpy as np
import gguf


def read_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        if meta["dtype"] == "F32":
            t = np.frombuffer(data[a:b], dtype=np.float32)
        elif meta["dtype"] == "F16":
            # probable widens f16 to f32 on load; so does this (exactly).
            t = np.frombuffer(data[a:b], dtype=np.float16).astype(np.float32)
        elif meta["dtype"] == "BF16":
            bits = np.frombuffer(data[a:b], dtype=np.uint16).astype(np.uint32) << 16
            t = bits.view(np.float32)
        else:
            sys.exit(f"{path}: {name} is {meta['dtype']}; export the bundle as f32 first")
        out[name] = t.reshape(meta["shape"])
    return out


def permute(w, n_head):
    """Hugging Face's rotate-half q/k rows to llama.cpp's interleaved pairs."""
    return (
        w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
        .swapaxes(1, 2)
        .reshape(w.shape)
    )


def main(bundle, out):
    bundle = Path(bundle)
    cfg = json.loads((bundle / "config.json").read_text())
    if cfg.get("model_type") != "llama":
        sys.exit(f"{bundle}: model_type {cfg.get('model_type')}; only llama is written")
    tok = json.loads((bundle / "tokenizer.json").read_text())
    tensors = read_safetensors(bundle / "model.safetensors")
    n_head, n_kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    head_dim = cfg.get("head_dim") or cfg["hidden_size"] // n_head
    vocab_size = cfg["vocab_size"]

    w = gguf.GGUFWriter(out, "llama")
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(n_kv)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(cfg.get("rms_norm_eps", 1e-6))
    w.add_rope_freq_base(cfg.get("rope_theta", 10000.0))
    w.add_vocab_size(vocab_size)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    by_id = {i: t for t, i in tok["model"]["vocab"].items()}
    special = {a["id"]: a["content"] for a in tok.get("added_tokens", [])}
    by_id.update(special)
    tokens, types = [], []
    for i in range(vocab_size):
        if i in special:
            tokens.append(special[i])
            types.append(gguf.TokenType.CONTROL)
        elif i in by_id:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.NORMAL)
        else:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"].get("merges", [])]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    for key, add in [
        ("bos_token_id", w.add_bos_token_id),
        ("eos_token_id", w.add_eos_token_id),
        ("pad_token_id", w.add_pad_token_id),
    ]:
        if isinstance(cfg.get(key), int):
            add(cfg[key])
    w.add_add_bos_token(False)

    names = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    per_layer = {
        "input_layernorm.weight": "attn_norm.weight",
        "self_attn.q_proj.weight": "attn_q.weight",
        "self_attn.k_proj.weight": "attn_k.weight",
        "self_attn.v_proj.weight": "attn_v.weight",
        "self_attn.o_proj.weight": "attn_output.weight",
        "post_attention_layernorm.weight": "ffn_norm.weight",
        "mlp.gate_proj.weight": "ffn_gate.weight",
        "mlp.up_proj.weight": "ffn_up.weight",
        "mlp.down_proj.weight": "ffn_down.weight",
    }
    for name, t in sorted(tensors.items()):
        if name in names:
            target = names[name]
        elif name.startswith("model.layers."):
            layer, rest = name[len("model.layers.") :].split(".", 1)
            if rest not in per_layer:
                sys.exit(f"{bundle}: unexpected tensor {name}")
            target = f"blk.{layer}.{per_layer[rest]}"
            if rest == "self_attn.q_proj.weight":
                t = permute(t, n_head)
            elif rest == "self_attn.k_proj.weight":
                t = permute(t, n_kv)
        else:
            sys.exit(f"{bundle}: unexpected tensor {name}")
        w.add_tensor(target, np.ascontiguousarray(t, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {out}: {len(tensors)} tensors, vocab {vocab_size}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
