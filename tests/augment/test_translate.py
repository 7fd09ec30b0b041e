"""The two backends on one model trained here: greedy parity, the conversion cache, conventions."""

from __future__ import annotations

import os

from crossling.augment.ct2 import CONVERTED_MARKER, convert
from crossling.augment.measure import heldout_real_pairs
from crossling.augment.translate import (
    Decoding,
    make_translator,
    model_sha256,
    resolve_model,
    target_convention,
)
from crossling.tokenizer import load_tokenizer
from tests.augment.conftest import CORPUS


def test_greedy_decoding_is_the_same_on_both_backends(bt_session_root, ct2_cache):
    root, ckpt = bt_session_root["root"], bt_session_root["checkpoint"]
    model = resolve_model(ckpt, root, "en", "zh")
    pairs = heldout_real_pairs(root, CORPUS, bt_session_root["version"], "en", "zh")
    texts = [s for s, _ in pairs] + ["Where is the red bag?", "1984.", "a"]
    d = Decoding(beam=1, batch_size=16, max_output_tokens=64)
    hf = make_translator("hf", model, "en", "zh", d, device="cpu")
    ct2 = make_translator(
        "ct2", model, "en", "zh", d, device="cpu", compute_type="float32", cache_dir=ct2_cache
    )
    a, b = hf.translate(texts), ct2.translate(texts)
    assert len(a) == len(b) == len(texts) >= 50
    assert [t.text for t in a] == [t.text for t in b]
    assert [t.out_ids for t in a] == [t.out_ids for t in b]
    assert any(t.text for t in a)  # the model translates something


def test_conversion_is_cached_by_the_model_hash(bt_session_root, ct2_cache):
    model = resolve_model(bt_session_root["checkpoint"], None, "en", "zh")
    path = convert(model, ct2_cache)
    assert os.path.basename(path) == model.sha256 == model_sha256(model.path)
    marker = os.path.join(path, CONVERTED_MARKER)
    mtime = os.stat(marker).st_mtime_ns
    assert convert(model, ct2_cache) == path and os.stat(marker).st_mtime_ns == mtime
    int8 = make_translator("ct2", model, "en", "zh", Decoding(beam=2), cache_dir=ct2_cache)
    assert int8.compute_type == "int8" and int8.model_dir == path
    assert len(int8.translate(["The dog is big.", "My sister has two cats."])) == 2


def test_sampling_is_seeded(bt_session_root, ct2_cache):
    model = resolve_model(bt_session_root["checkpoint"], None, "en", "zh")
    texts = ["The happy child writes a long letter at school."] * 6
    d = Decoding(sample=True, top_k=0, temperature=1.5, seed=7)
    one = make_translator("ct2", model, "en", "zh", d, cache_dir=ct2_cache).translate(texts)
    two = make_translator("ct2", model, "en", "zh", d, cache_dir=ct2_cache).translate(texts)
    assert [t.text for t in one] == [t.text for t in two]
    assert len({t.text for t in one}) > 1  # samples differ from one another


def test_target_language_conventions(bt_session_root):
    tok = load_tokenizer(bt_session_root["checkpoint"])
    assert target_convention(tok, "en", "zh").prefix == "<lang:zh>"
    tok.add_special_tokens({"additional_special_tokens": ["eng_Latn", "zho_Hans", "zho_Hant"]})
    conv = target_convention(tok, "en", "ko")  # no <lang:ko>: NLLB-style codes are looked up
    assert conv.prefix == "" and conv.tgt_code is None
    tok.add_special_tokens({"additional_special_tokens": ["kor_Hang"]})
    conv = target_convention(tok, "en", "ko")
    assert (conv.src_code, conv.tgt_code) == ("eng_Latn", "kor_Hang")
    tok.add_tokens([">>deu<<"])
    assert target_convention(tok, "en", "de").prefix == ">>deu<< "
