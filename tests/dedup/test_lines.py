"""Line and paragraph dedup: boilerplate repeated across documents is cut out."""

from __future__ import annotations

import numpy as np

from crossling.dedup import lines as ld
from tests.dedup.texts import ARTICLES

MENU = "Home | News | Sport | Weather | Contact"
COOKIES = "We use cookies to improve your experience. Accept all cookies?"
FOOTER_ZH = "版权所有 © 2024 城市新闻网 保留所有权利"


def pages(n: int) -> list[str]:
    """``n`` pages: a menu, an article sentence of its own, a cookie banner, a dated footer."""
    sentences = [s for arts in ARTICLES.values() for t in arts for s in t.split("。") if s]
    out = []
    for i in range(n):
        year = 2000 + i  # digits differ: still the same line once normalized
        footer = FOOTER_ZH.replace("2024", str(year)) if i % 2 else f"Copyright {year} City News."
        out.append(f"{MENU}\n{sentences[i % len(sentences)]} ({i})\n{COOKIES}\n{footer}")
    return out


def reduce_over(partitions: list[list[str]], cfg: ld.LineDedupConfig, tmp_path) -> np.ndarray:
    files = [
        ld.write_counts(ld.count_table(p, cfg), str(tmp_path / f"c{i}.parquet"))
        for i, p in enumerate(partitions)
    ]
    shards = [ld.frequent_hashes(files, cfg, s, cfg.hash_shards) for s in range(cfg.hash_shards)]
    ld.write_frequent(shards, str(tmp_path / "frequent.parquet"))
    return ld.read_frequent(str(tmp_path / "frequent.parquet"))


def test_lines_in_more_than_min_count_documents_are_removed(tmp_path):
    docs = pages(30)
    docs.append("\n".join(["A line repeated inside one document only."] * 40))
    docs.append(f"{MENU}\n{COOKIES}")  # nothing but boilerplate
    cfg = ld.LineDedupConfig(enabled=True, min_count=10, hash_shards=4)
    frequent = reduce_over([docs[:17], docs[17:]], cfg, tmp_path)
    assert len(frequent) == 4  # menu, cookies, and the two footers (years normalized)
    out, removed, counts = ld.strip_units(docs, frequent, cfg)
    assert all(MENU not in t and COOKIES not in t and "Copyright" not in t for t in out)
    assert "版权所有" not in out[1]  # Chinese boilerplate lines are found as well
    assert out[0].endswith("(0)") and "(0)" in out[0]
    assert removed[:30].tolist() == [3] * 30
    assert out[30] == docs[30]  # repetition inside one document is not this filter's business
    assert out[31] == "" and removed[31] == 2
    assert counts == {ld.LINE_DUPLICATE: 92, ld.ONLY_DUPLICATE_LINES: 1}


def test_the_reduce_does_not_depend_on_partitioning_or_sharding(tmp_path):
    docs = pages(25)
    one = reduce_over([docs], ld.LineDedupConfig(min_count=5, hash_shards=1), tmp_path / "a")
    many = reduce_over(
        [docs[:3], docs[3:11], docs[11:]], ld.LineDedupConfig(min_count=5, hash_shards=7), tmp_path
    )
    assert np.array_equal(one, many) and len(one) == 4


def test_paragraph_mode_keeps_lines_that_repeat_only_inside_other_paragraphs(tmp_path):
    block = "Related articles:\nCity council meets on Monday\nNew bus routes announced"
    docs = [f"{block}\n\nStory number {i}: {ARTICLES['en'][i % 4]}" for i in range(12)]
    docs += [f"Weekly column {i}.\n\nCity council meets on Monday" for i in range(3)]
    cfg = ld.LineDedupConfig(enabled=True, unit="paragraph", min_count=10, hash_shards=2)
    frequent = reduce_over([docs], cfg, tmp_path)
    out, removed, counts = ld.strip_units(docs, frequent, cfg)
    assert all(t.startswith("Story number") for t in out[:12])
    assert out[12:] == docs[12:]  # the line alone is a different paragraph, seen only 3 times
    assert counts == {ld.PARAGRAPH_DUPLICATE: 12}


def test_hostile_texts(tmp_path):
    docs = ["", "\n\n\n", "\ud800 lone surrogate", None, "-----\n-----", "x"] * 3
    cfg = ld.LineDedupConfig(min_count=2)
    frequent = reduce_over([docs], cfg, tmp_path)
    out, removed, _ = ld.strip_units(docs, frequent, cfg)
    assert len(out) == len(docs)
    assert out[0] == "" and out[3] is None and out[4] == "-----\n-----"  # rules are not lines
    assert out[2] == "" and removed[2] == 1  # it did repeat three times
