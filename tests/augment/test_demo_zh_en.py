"""The committed zh-en demo data matches its generator and is usable for back-translation."""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from pathlib import Path

import crossling

DEMO = Path(crossling.__file__).resolve().parent / "data" / "demo"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_zh_en_data.py"
FILES = ("zh-en.parallel.jsonl.gz", "en.mono.jsonl.gz")


def _rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_pairs_and_documents():
    pairs, docs = (_rows(DEMO / name) for name in FILES)
    assert len(pairs) == 3000 and len({p["id"] for p in pairs}) == 3000
    for p in pairs:
        assert (p["src_lang"], p["tgt_lang"]) == ("en", "zh")
        assert re.fullmatch(r"[A-Z].*[.?]", p["src_text"])
        assert re.fullmatch(r"[\u4e00-\u9fff，]+[。？]", p["tgt_text"]), p["tgt_text"]
        assert (p["src_text"][-1] == "?") == (p["tgt_text"][-1] == "？")
    sentences = [s for d in docs for s in re.split(r"(?<=[.?]) ", d["text"])]
    assert all(d["lang"] == "en" for d in docs)
    assert len(sentences) > 2 * len(pairs)  # more monolingual English than parallel data
    assert not set(sentences) & {p["src_text"] for p in pairs}  # nothing leaks into the pairs


def test_generator_reproduces_the_committed_files(tmp_path):
    spec = importlib.util.spec_from_file_location("make_zh_en_data", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(["--out", str(tmp_path)])
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), name
