"""The FineWeb line filter: what it measures on pages of each kind, off by default (versions
unchanged), and new thresholds reuse the measurements."""

import json

from crossling.corpus import CorpusVersion
from crossling.documents import Document, Reason
from crossling.run.config import CorpusConfig
from crossling.run.schedule import run_local
from crossling.stages.fineweb import FineWebQuality, line_signals
from tests.texts import PARAGRAPHS, distinct

# A navigation page: short lines, none ending in punctuation.
MENU = "\n".join(["Home", "News", "Sport", "Weather", "Contact us", "Imprint", "Login", "Search"])
# Three paragraphs, each followed by the same footer line.
FOOTER = "\n".join(
    f"{distinct('en', i)}\nCopyright 2024 Example News, all rights reserved." for i in range(3)
)


def _doc(text: str) -> Document:
    return Document(id="x", text=text, source="test")


def _verdict(step: FineWebQuality, text: str):
    doc = _doc(text)
    step.measure([doc])
    return step.decide(doc)


def test_measurements_follow_fineweb_definitions():
    s = line_signals("One sentence.\nA heading\n\nOne sentence.\n")
    assert s["fw_line_punct_ratio"] == 2 / 3  # blank lines do not count
    assert s["fw_short_line_ratio"] == 1.0  # every line is at most 30 characters
    chars = len("One sentence.\nA heading\n\nOne sentence.\n") - 4
    assert s["fw_dup_line_char_ratio"] == len("One sentence.") / chars
    assert s["fw_newline_ratio"] == 4 / 6
    assert line_signals("  \n\n")["fw_line_punct_ratio"] == 0.0
    # a text without spaces between words counts its letters as words
    assert line_signals("这是一个句子。\n这是另一个。")["fw_newline_ratio"] == 1 / 11


def test_pages_of_each_kind():
    step = FineWebQuality.from_config(CorpusConfig(fineweb={"enabled": True}))
    for lang in ("en", "de", "ru", "zh", "ar", "hi"):
        assert _verdict(step, PARAGRAPHS[lang]) is None, lang
    why, detail = _verdict(step, MENU)
    assert why == Reason.BAD_LINES and detail.startswith("fineweb line_punct_ratio 0.000")
    why, detail = _verdict(step, FOOTER)
    assert why == Reason.REPETITION and "dup_line_char_ratio" in detail
    lenient = FineWebQuality.from_config(
        CorpusConfig(fineweb={"enabled": True, "max_dup_line_chars": 0.5})
    )
    assert _verdict(lenient, FOOTER) is None
    off = FineWebQuality.from_config(CorpusConfig())
    assert _verdict(off, MENU) is None


def test_off_by_default_and_new_thresholds_reuse_the_measurements(tmp_path):
    src = tmp_path / "d.jsonl"
    rows = [{"text": PARAGRAPHS[lang]} for lang in ("en", "de", "fr")]
    rows += [{"text": MENU}, {"text": FOOTER}]
    with open(src, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    root = str(tmp_path / "root")
    lax = {"quality": {"enabled": False}}  # so that only the FineWeb filter drops
    default = run_local([str(src)], root, "fw", CorpusConfig(**lax))
    assert default["counts"]["docs"] == 5
    on = run_local([str(src)], root, "fw", CorpusConfig(**lax, fineweb={"enabled": True}))
    assert on["tags_reused"] == 0  # the first run with it on measures
    assert on["counts"]["docs"] == 3
    rejects = CorpusVersion.open(root, "fw", on["version"]).table("rejects").to_pylist()
    assert sorted((r["stage"], r["reason"]) for r in rejects) == [
        ("quality", "bad_lines"),
        ("quality", "repetition"),
    ]
    looser = {"enabled": True, "min_line_punct": 0, "max_short_lines": 1, "max_newline_ratio": 1}
    again = run_local([str(src)], root, "fw", CorpusConfig(**lax, fineweb=looser))
    assert again["tags_reused"] == again["partitions"]  # thresholds only: nothing measured
    assert again["counts"]["docs"] == 4  # the menu passes, the repeated footer does not
