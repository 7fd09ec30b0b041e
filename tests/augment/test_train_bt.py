"""Training on a back-translated version: real and synthetic pairs together, <BT> when asked."""

from __future__ import annotations

import pyarrow.parquet as pq

from crossling.augment.backtranslate import BacktranslateConfig, backtranslate
from crossling.augment.translate import Decoding
from crossling.tokenizer import BT_TAG, lang_tag, load_tokenizer
from crossling.train.config import TrainConfig
from crossling.train.corpus import TrainCorpus
from crossling.train.data import DataConfig, TranslationBatches
from crossling.train.run import run_training
from tests.augment.conftest import CORPUS


def _bt(root: dict, **kw) -> dict:
    cfg = BacktranslateConfig(
        lang="en",
        to="zh",
        model=root["checkpoint"],
        decoding=Decoding(beam=1),
        budget_ratio=0.3,
        cache_dir=f"{root['root']}/ct2",
        **kw,
    )
    return backtranslate(root["root"], CORPUS, cfg)


def _tagged_sources(batches: TranslationBatches, tok, n: int = 6) -> tuple[int, int, int]:
    """(sequences, sequences with <BT>, <BT> sequences whose target-language tag is not en)."""
    bt, en = tok.convert_tokens_to_ids(BT_TAG), tok.convert_tokens_to_ids(lang_tag("en"))
    total = tagged = wrong = 0
    for _ in range(n):
        ids = batches.next_batch().inputs["input_ids"]
        for row in ids.tolist():
            total += 1
            if bt in row:
                tagged += 1
                wrong += row[1] != en  # <s> <lang:en> <BT> synthetic Chinese </s>
    return total, tagged, wrong


def test_a_derived_version_trains_on_real_and_tagged_synthetic_pairs(bt_root):
    s = _bt(bt_root)
    corpus = TrainCorpus.open(bt_root["root"], CORPUS, s["version"])
    counts = corpus.pair_counts()
    assert counts[("zh-en", True)] == s["kept"] > 0
    assert counts[("en-zh", False)] > 500  # the parent's real pairs come along
    assert [v.version for v in corpus.versions] == [bt_root["version"], s["version"]]
    # The parent's tokenizer: synthetic text does not reshape the vocabulary.
    assert corpus.tokenizer_source().version == bt_root["version"]

    tok = load_tokenizer(bt_root["checkpoint"])
    batches = TranslationBatches(corpus, tok, DataConfig(seed=0), 32)
    assert set(batches.mixture.keys) == {"zh-en:bt", "en-zh:real", "zh-en:real-reversed"}
    total, tagged, wrong = _tagged_sources(batches, tok)
    assert 0 < tagged < total and wrong == 0

    without = TranslationBatches(corpus, tok, DataConfig(seed=0), 32, use_synthetic=False)
    assert _tagged_sources(without, tok)[1] == 0

    run = run_training(
        TrainConfig(
            data_root=bt_root["root"],
            corpus=CORPUS,
            version=s["version"],
            objective="translation",
            max_steps=4,
            batch_size=8,
            save_every=4,
            model_name="zhen-bt",
        )
    )
    assert run["corpus"]["version"] == s["version"] and run["step"] == 4
    # The contamination guard's list holds the synthetic rows that training could read.
    ids = set(pq.read_table(run["train_ids_path"].removeprefix("file://")).column("id").to_pylist())
    synthetic = {
        r["id"] for b in corpus_pairs(bt_root["root"], s["version"]) for r in b.to_pylist()
    }
    assert synthetic and synthetic <= ids


def corpus_pairs(root: str, version: str):
    from crossling.corpus import CorpusVersion

    return CorpusVersion.open(root, CORPUS, version).pairs(columns=["id"])


def test_untagged_rows_train_without_the_tag(bt_root):
    s = _bt(bt_root, tag=False)
    corpus = TrainCorpus.open(bt_root["root"], CORPUS, s["version"])
    tok = load_tokenizer(bt_root["checkpoint"])
    batches = TranslationBatches(corpus, tok, DataConfig(seed=0), 32, directions=["zh-en"])
    assert "zh-en:bt" in batches.mixture.keys
    assert _tagged_sources(batches, tok)[1] == 0
