"""``crossling compress``: int8 export and distillation of the session's tiny zh-en model, and
int8 quantization of a tiny causal LM built here with ``save_pretrained``."""

from __future__ import annotations

import json
import os

import pytest

from crossling.compress import (
    CompressConfig,
    compare,
    compress,
    compress_causal_lm,
    load_int8_causal_lm,
)
from crossling.evaluate.suite import EvalConfig, evaluate_checkpoint
from crossling.registry import find_checkpoints, resolve_checkpoint
from flows.cli import main

EVAL = EvalConfig(max_rows_per_lang=40)


def test_int8_export_is_a_checkpoint_the_evaluation_scores(bt_root):
    root = bt_root["root"]
    out = compress(bt_root["checkpoint"], root, CompressConfig(method="int8"))
    ref = resolve_checkpoint(out["checkpoint"], root)
    teacher = resolve_checkpoint(bt_root["checkpoint"], root)
    assert ref in find_checkpoints(root)  # registered: found like any trained checkpoint
    assert (ref.model_name, ref.run_version, ref.step) == (
        f"{teacher.model_name}-int8",
        teacher.run_version,
        teacher.step,
    )
    meta = ref.metadata()
    assert meta["teacher"]["checkpoint"].endswith(teacher.path)
    assert meta["compression"]["format"] == "ctranslate2"
    assert meta["corpus"] == teacher.metadata()["corpus"]  # the same lineage: same held-out rows
    # A second run finds the export instead of writing it again.
    assert compress(bt_root["checkpoint"], root, CompressConfig(method="int8")) == out

    a = evaluate_checkpoint(teacher, EVAL)
    b = evaluate_checkpoint(ref, EVAL)
    assert b["lineage"]["teacher"]["model_name"] == teacher.model_name
    c = compare(a, b)
    assert c["size_x"] > 2.5  # int8 weights: about a quarter of float32's bytes
    assert c["sentences_per_s"]["teacher"] and c["sentences_per_s"]["compressed"]
    assert set(c["metrics"]) == {"bleu/en-zh", "bleu/zh-en", "chrf/en-zh", "chrf/zh-en"}
    for m, v in c["metrics"].items():
        # int8 rounding changes a few greedy outputs, not the model
        assert abs(v["change"]) < 0.25 * max(v["teacher"], 4.0), (m, v)
        assert v["ci"][0] <= v["change"] <= v["ci"][1]


@pytest.mark.slow
def test_distillation_trains_a_smaller_student_on_the_teachers_translations(bt_root):
    from crossling.corpus import CorpusVersion
    from crossling.documents import content_hash

    root = bt_root["root"]
    cfg = CompressConfig(method="distill", steps=60, max_sentences=150, student_layers=1)
    out = compress(bt_root["checkpoint"], root, cfg)
    ref = resolve_checkpoint(out["checkpoint"], root)
    meta = ref.metadata()
    assert meta["teacher"]["model_name"] == "zhen-mt"
    assert meta["compression"]["student"]["layers"] == 1
    # The student read the distilled version: real pairs plus the teacher's translations.
    data = out["distillation"]
    assert {v["version"] for v in meta["corpus_versions"]} >= {data["version"], bt_root["version"]}
    v = CorpusVersion.open(root, "zhen", data["version"])
    rows = v.table("pairs").to_pylist()
    assert rows and {r["method"] for r in rows} == {"distilled"}
    assert {f"{r['src_lang']}-{r['tgt_lang']}" for r in rows} == {"en-zh", "zh-en"}
    assert v.manifest["conservation"]["balanced"]
    heldout = {
        content_hash(t)
        for b in CorpusVersion.open(root, "zhen", bt_root["version"]).pairs(split="heldout")
        for c in ("src_text", "tgt_text")
        for t in b.column(c).to_pylist()
    }
    assert not heldout & {content_hash(r[c]) for r in rows for c in ("src_text", "tgt_text")}
    teacher = resolve_checkpoint(bt_root["checkpoint"], root)
    a, b = evaluate_checkpoint(teacher, EVAL), evaluate_checkpoint(ref, EVAL)
    assert compare(a, b)["size_x"] > 1.5


def test_distilled_pairs_of_an_earlier_version_are_not_read_by_later_training(bt_root, tmp_path):
    """A distillation version enters the chain of every later corpus version; training on such a
    version reads the real pairs and not the teacher's translations, unless it asks for them."""
    from crossling import pipeline
    from crossling.compress import DISTILLED, distillation_version
    from crossling.corpus import CorpusVersion
    from crossling.train.config import TrainConfig
    from crossling.train.corpus import TrainCorpus, read_shard, read_train_ids
    from crossling.train.run import open_corpus

    root = bt_root["root"]
    teacher = resolve_checkpoint(bt_root["checkpoint"], root)
    data = distillation_version(teacher, CompressConfig(method="distill", max_sentences=12))
    assert data["new"] and sum(d["kept"] for d in data["directions"].values()) > 0
    # A later corpus run: its parent is the newest version, the distillation one.
    src = tmp_path / "more.en.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"more-{i}", "lang": "en", "text": t}) + "\n"
            for i, t in enumerate(
                [
                    "The river rose after three days of rain, and the bridge was closed.",
                    "Farmers in the valley planted rice early this year because of the heat.",
                    "A new library opened near the station with a large reading room.",
                ]
            )
        )
    )
    later = pipeline.run_local([str(src)], root, "zhen", pipeline.load_config(None))["version"]
    head = CorpusVersion.open(root, "zhen", later)
    assert data["version"] in [v.version for v in head.chain()]

    def methods(corpus: TrainCorpus) -> dict[str, int]:
        out: dict[str, int] = {}
        for b in corpus.pairs(columns=["method", "synthetic"]):
            for m in b.column("method").to_pylist():
                out[m or "real"] = out.get(m or "real", 0) + 1
        return out

    def shard_rows(corpus: TrainCorpus) -> int:
        return sum(b.num_rows for s in corpus.pairs_shards() for b in read_shard(s, ["src_text"]))

    default = open_corpus(TrainConfig(data_root=root, corpus="zhen", version=later), None)
    asked = open_corpus(
        TrainConfig(data_root=root, corpus="zhen", version=later, include_distilled=True), None
    )
    assert DISTILLED not in methods(default) and methods(default)  # the real pairs are still read
    assert methods(asked)[DISTILLED] == sum(d["kept"] for d in data["directions"].values())
    real = sum(n for (_, syn), n in default.pair_counts().items() if not syn)
    assert default.pair_counts() == {k: n for k, n in asked.pair_counts().items() if not k[1]}
    assert shard_rows(default) == real  # the resumable streams read the same rows
    assert shard_rows(asked) == real + methods(asked)[DISTILLED]
    # The contamination guard's list holds what the run could read.
    assert default.write_train_ids(str(tmp_path / "ids.parquet"), docs_langs=[]) == 2 * real
    ids = {
        i for t in read_train_ids(str(tmp_path / "ids.parquet")) for i in t.column("id").to_pylist()
    }
    distilled_ids = {
        r["id"]
        for r in CorpusVersion.open(root, "zhen", data["version"]).table("pairs").to_pylist()
    }
    assert ids and not ids & distilled_ids


def _tiny_causal_lm(path: str) -> None:
    """A 2-layer Llama with a word-level tokenizer, saved as a user's model directory would be."""
    import torch
    import transformers as tf
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = "the a cat dog sat ran on under mat table quickly slowly and . is was".split()
    vocab = {w: i for i, w in enumerate(["<unk>", "<s>", "</s>", *words])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = tf.PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    fast.save_pretrained(path)
    torch.manual_seed(0)
    cfg = tf.LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=False,
    )
    model = tf.LlamaForCausalLM(cfg)
    # A few steps on the texts, so the model is not uniform and quantization error shows.
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(30):
        for text in _TEXTS:
            ids = fast(text, return_tensors="pt")["input_ids"]
            loss = model(input_ids=ids, labels=ids).loss
            loss.backward()
            opt.step()
            opt.zero_grad()
    model.save_pretrained(path, safe_serialization=True)


_TEXTS = [
    "the cat sat on the mat .",
    "a dog ran under the table .",
    "the dog sat on a mat and the cat ran .",
    "a cat was quickly under the table .",
]


def test_int8_causal_lm_is_smaller_and_close_to_its_teacher(tmp_path):
    import torch
    import transformers as tf
    from torch.ao.nn.quantized.dynamic import Linear as QLinear

    src, out = str(tmp_path / "llama"), str(tmp_path / "llama-int8")
    _tiny_causal_lm(src)
    r = compress_causal_lm(src, out, _TEXTS)
    assert r["size_ratio"] > 2.5
    assert os.path.exists(os.path.join(out, "model.int8.safetensors"))
    with open(os.path.join(out, "compression.json"), encoding="utf-8") as f:
        assert json.load(f)["teacher"]["path"] == src
    q = load_int8_causal_lm(out)
    assert sum(isinstance(m, QLinear) for m in q.modules()) == 2 * 7 + 1  # 7 per layer + head
    teacher = tf.AutoModelForCausalLM.from_pretrained(src, use_safetensors=True).eval()
    tok = tf.AutoTokenizer.from_pretrained(src)
    ids = tok(_TEXTS[2], return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        pa, pb = teacher(ids).logits.softmax(-1), q(ids).logits.softmax(-1)
    assert (pa - pb).abs().max() < 0.15  # int8 weights and activations: nearly the same
    assert (pa.argmax(-1) == pb.argmax(-1)).float().mean() > 0.9
    assert abs(r["bits_per_byte_increase"]) < 0.05 * r["teacher_eval"]["bits_per_byte"] + 0.01
    assert r["teacher_eval"]["bits_per_byte"] < r["teacher_eval"]["tokens"]  # trained, finite


def test_cli_usage_errors_are_one_line(bt_root, prefect_server, tmp_path, capsys):
    root = bt_root["root"]
    not_a_model = tmp_path / "empty"
    not_a_model.mkdir()
    cases = [
        (["compress", "/no/such/checkpoint", "--data", root], "neither a checkpoint"),
        (["compress", str(not_a_model), "--data", root], "neither a checkpoint"),
        (["compress", bt_root["checkpoint"], "--data", root, "--steps", "0"], "steps"),
    ]
    for args, message in cases:
        rc = main(args)
        err = capsys.readouterr().err
        assert rc == 2, (args, err)
        assert err.count("\n") == 1 and message in err, err


@pytest.mark.slow
def test_cli_compresses_and_prints_the_table(bt_root, prefect_server, capsys):
    root = bt_root["root"]
    rc = main(["compress", bt_root["checkpoint"], "--data", root])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "smaller" in out and "bleu/zh-en" in out
    ref = next(r for r in find_checkpoints(root) if r.model_name.endswith("-int8"))
    assert ref.has_results() and ref.results()["details"]["speed"]["sentences_per_s"] > 0
