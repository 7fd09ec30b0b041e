"""MinHash near-dedup: shingles by script, signatures, bands, clusters, verification, filter."""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossling.dedup import minhash as mh
from tests.dedup.texts import ARTICLES, corpus, edit

# Bands and rows that make a pair at Jaccard 0.7 a candidate with probability 0.9998, so that
# tests do not depend on LSH luck; exact verification then applies the threshold.
WIDE = {"threshold": 0.7, "bands": 32, "rows": 4}


# --- an independent, plain-Python reference of the shingles --------------------------------------

_CHAR_RANGES = [(0x0E00, 0x0E7F), (0x3005, 0x3007), (0x3040, 0x30FF), (0x4E00, 0x9FFF)]
_CHAR_RANGES += [(0xAC00, 0xD7AF), (0x3400, 0x4DBF)]


def _no_spaces_script(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in _CHAR_RANGES)


def reference_shingles(text: str, n: int = 5, nc: int = 5) -> set[tuple[str, ...]]:
    words, chars, cur = [], [], []
    for ch in text.lower():
        cat = unicodedata.category(ch)
        if cat[0] in "LMN" and not (cat != "Nd" and _no_spaces_script(ch)):
            cur.append("0" if cat == "Nd" else ch)
            continue
        if cur:
            words.append("".join(cur))
            cur = []
        if cat[0] in "LMN":
            chars.append(ch)
    if cur:
        words.append("".join(cur))

    def grams(tokens: list[str], k: int) -> set[tuple[str, ...]]:
        if not tokens:
            return set()
        return {tuple(tokens[i : i + k]) for i in range(max(1, len(tokens) - k + 1))}

    return {("w", *g) for g in grams(words, n)} | {("c", *g) for g in grams(chars, nc)}


def reference_char_shingles(text: str, n: int = 5) -> set[str]:
    """shingles='chars': n consecutive letters/marks/digits of the lowercased text, separators
    (spaces, punctuation, symbols) skipped; a text with fewer than n gives one shingle."""
    s = "".join(ch for ch in text.lower() if unicodedata.category(ch)[0] in "LMN")
    return {s[i : i + n] for i in range(max(1, len(s) - n + 1))} if s else set()


def reference_char_jaccard(a: str, b: str) -> float:
    sa, sb = reference_char_shingles(a), reference_char_shingles(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def reference_jaccard(a: str, b: str) -> float:
    sa, sb = reference_shingles(a), reference_shingles(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


# --- shingles -----------------------------------------------------------------------------------


def test_vectorized_shingles_match_a_plain_python_reference():
    rng = random.Random(3)
    texts = [t for arts in ARTICLES.values() for t in arts]
    texts += [
        "Mixed: 東京タワーは1958年に完成した。Tokyo Tower opened in 1958, 333 m tall.",
        "短い",
        "one two",
        "abc中文def 한국어 텍스트 ๑๒๓ ไทย",
    ]
    pairs = [(t, edit(t, 2, rng)) for t in texts] + [(texts[0], texts[1]), (texts[-1], texts[-2])]
    flat = [x for p in pairs for x in p]
    sets = mh.shingle_sets(flat, mh.NearDedupConfig(shingles="words"))
    for k, (a, b) in enumerate(pairs):
        ours = mh.jaccard(sets[2 * k], sets[2 * k + 1])
        assert ours == pytest.approx(reference_jaccard(a, b), abs=1e-9), (a[:40], b[:40])
    for k, t in enumerate(flat):
        assert len(sets[k]) == len(reference_shingles(t)), t[:40]
    # the default kind: character 5-grams of the letters and digits, in every script
    sets = mh.shingle_sets(flat, mh.NearDedupConfig())
    for k, (a, b) in enumerate(pairs):
        ours = mh.jaccard(sets[2 * k], sets[2 * k + 1])
        assert ours == pytest.approx(reference_char_jaccard(a, b), abs=1e-9), (a[:40], b[:40])
    for k, t in enumerate(flat):
        assert len(sets[k]) == len(reference_char_shingles(t)), t[:40]


def test_character_shingles_shrug_off_a_typo_that_word_shingles_do_not():
    text = ARTICLES["en"][0]
    i = text.index(" ", len(text) // 2) + 2  # a letter inside a word in the middle
    typo = text[:i] + text[i + 1] + text[i] + text[i + 2 :]  # two letters swapped
    chars, words = mh.NearDedupConfig(), mh.NearDedupConfig(shingles="words")
    a, b = mh.shingle_sets([text, typo], chars)
    aw, bw = mh.shingle_sets([text, typo], words)
    # ~6 of 346 character shingles changed, 5 of 74 word shingles: 0.966 against 0.873
    assert 1 - mh.jaccard(a, b) < (1 - mh.jaccard(aw, bw)) / 3
    assert mh.jaccard(a, b) == pytest.approx(reference_char_jaccard(text, typo), abs=1e-9)


def test_case_punctuation_and_digits_are_normalized():
    cfg = mh.NearDedupConfig(shingles="words")
    a, b, c = mh.shingle_sets(
        [
            "Call us on 0800 123 456, Monday to Friday!",
            "call US on 0900 765 432 -- monday to friday",
            "call us on weekends",
        ],
        cfg,
    )
    assert mh.jaccard(a, b) == 1.0
    assert mh.jaccard(a, c) < 0.5


def test_chinese_is_shingled_by_characters_not_as_one_word():
    text = ARTICLES["zh"][0]
    han = sum(1 for ch in text if unicodedata.category(ch)[0] == "L")
    (s,) = mh.shingle_sets([text], mh.NearDedupConfig())
    # about one shingle per character (a word tokenizer would see a handful of sentence-words)
    assert len(s) >= 0.95 * (han - 4)
    one_char = text.replace("周末", "周日", 1)
    (s2,) = mh.shingle_sets([one_char], mh.NearDedupConfig())
    assert 0.9 < mh.jaccard(s, s2) < 1.0


# --- signatures ---------------------------------------------------------------------------------


def test_estimates_track_the_exact_jaccard():
    rng = random.Random(5)
    cfg = mh.NearDedupConfig()
    texts = [t for arts in ARTICLES.values() for t in arts]
    pairs = [(t, edit(t, rng.randint(1, 12), rng)) for t in texts]
    flat = [x for p in pairs for x in p]
    sigs = mh.signatures(flat, cfg)
    sets = mh.shingle_sets(flat, cfg)
    est = mh.estimated_jaccard(sigs[0::2], sigs[1::2])
    exact = np.array([mh.jaccard(sets[2 * k], sets[2 * k + 1]) for k in range(len(pairs))])
    assert exact.min() < 0.6 < 0.9 < exact.max()  # a spread of similarities
    assert np.abs(est - exact).mean() < 0.04
    assert np.abs(est - exact).max() < 0.15  # ~3.5 standard errors of 128 min-hashes


def test_signatures_do_not_depend_on_batching():
    texts = [t for arts in ARTICLES.values() for t in arts] + ["x" * 5000 + " tail words here"]
    small = mh.NearDedupConfig(batch_chars=1024)  # long texts cut into pieces, many batches
    together = mh.signatures(texts, small)
    alone = np.vstack([mh.signatures([t], small) for t in texts])
    assert np.array_equal(together, alone)
    assert together.dtype == np.uint32 and together.shape == (len(texts), 128)


def test_hostile_texts_never_fail():
    huge = " ".join(ARTICLES["en"]) * 4000  # ~4.5 MB
    texts = ["", "a", "!!! ??? ...", "\ud800 broken surrogate \udfff", None, "。、！", huge, huge]
    cfg = mh.NearDedupConfig()
    sigs = mh.signatures(texts, cfg)
    assert mh.empty_rows(sigs).tolist() == [True, False, True, False, True, True, False, False]
    assert np.array_equal(sigs[6], sigs[7])
    table = mh.band_table([f"d{i}" for i in range(len(texts))], sigs, cfg)
    assert table.column("row").to_pylist() == [1, 3, 6, 7]  # no empty document is banded


def test_signature_column_round_trips_through_parquet(tmp_path):
    cfg = mh.NearDedupConfig(num_perm=64)
    sigs = mh.signatures(ARTICLES["ja"], cfg)
    col = mh.signature_array(sigs)
    assert col.type == mh.signature_type(64) == pa.list_(pa.uint32(), 64)
    pq.write_table(pa.table({"signature": col}), tmp_path / "s.parquet")
    back = mh.signatures_from_arrow(pq.read_table(tmp_path / "s.parquet").column("signature"))
    assert np.array_equal(back, sigs)


# --- bands ------------------------------------------------------------------------------------


def test_bands_from_threshold_follow_the_s_curve():
    cfg = mh.NearDedupConfig()
    b, r = cfg.lsh_params()
    assert (b, r) == (18, 7) and b * r <= cfg.num_perm  # recall_weight 0.99 (docs/near-dedup.md)
    p = mh.s_curve(b, r, np.array([0.5, 0.8, 0.9]))
    assert p[0] < 0.15 and 0.95 < p[1] < 0.99 and p[2] > 0.999  # leans to recall: verified
    # a higher threshold moves the curve right
    b2, r2 = mh.NearDedupConfig(threshold=0.9).lsh_params()
    assert mh.s_curve(b2, r2, 0.8) < mh.s_curve(b, r, 0.8)
    assert mh.NearDedupConfig(bands=14, rows=8, num_perm=112).lsh_params() == (14, 8)
    with pytest.raises(ValueError, match="exceeds num_perm"):
        mh.NearDedupConfig(bands=20, rows=8, num_perm=128)


# --- the whole reduce ---------------------------------------------------------------------------


def run_reduce(
    tmp_path, parts: list[list[tuple[str, str]]], cfg: mh.NearDedupConfig
) -> tuple[pa.Table, mh.ReducePlan]:
    """Map each partition to a band file, then the reduce (exact sets computed like the flow)."""
    files = []
    for i, part in enumerate(parts):
        ids = [x for x, _ in part]
        table = mh.band_table(ids, mh.signatures([t for _, t in part], cfg), cfg)
        files.append(mh.write_band_file(table, str(tmp_path / f"bands-{i}.parquet")))
    plan = mh.plan_reduce(files, cfg)
    edges = mh.unique_edges(mh.candidate_edges(plan, g, cfg) for g in mh.band_group_list(cfg))
    sets = {}
    for p, nodes in mh.needed_nodes(plan, edges).items():
        rows = mh.rows_of(plan, nodes)
        texts = [parts[p][r][1] for r in rows]
        sets.update(zip(nodes.tolist(), mh.shingle_sets(texts, cfg), strict=True))
    kept, sim = mh.verify_edges(plan, edges, cfg, exact_sets=sets)
    return mh.cluster(plan, kept, sim), plan


@pytest.mark.parametrize("langs", [["zh", "ja"], ["ko", "th"], ["en", "ru", "ar"]])
def test_near_duplicates_are_found_in_every_script(tmp_path, langs):
    rows = [r for r in corpus(random.Random(7)) if r[0].split("-")[0] in langs]
    texts = {rid: t for rid, t, _ in rows}
    for rid, _, orig in rows:  # the fixture: every copy is a true near-duplicate
        assert reference_jaccard(texts[rid], texts[orig]) >= 0.7 or rid == orig
    half = len(rows) // 2
    parts = [[(r[0], r[1]) for r in rows[:half]], [(r[0], r[1]) for r in rows[half:]]]
    decisions, _ = run_reduce(tmp_path, parts, mh.NearDedupConfig(**WIDE))
    d = {r["id"]: r for r in decisions.to_pylist()}
    for rid, _, orig in rows:
        if rid == orig:
            assert d[rid]["duplicate_of"] is None and d[rid]["dup_cluster_size"] == 3
        else:
            assert d[rid]["duplicate_of"] == orig, rid
            assert d[rid]["similarity"] >= 0.7


def test_exact_verification_removes_false_candidates(tmp_path):
    # Unrelated articles that share one boilerplate sentence: many candidates with loose bands.
    banner = (
        "Subscribe to our newsletter for the latest news and updates from the city. We use "
        "cookies to improve your experience on our website; by continuing to browse you agree to "
        "our use of cookies. Copyright 2024 City News Network, all rights reserved."
    )
    rows = [(f"d{i}", f"{banner} {t}") for i, t in enumerate(ARTICLES["en"] + ARTICLES["ru"])]
    rows.append(("d-copy", rows[0][1].replace("nine", "ten")))
    loose = {"threshold": 0.8, "bands": 64, "rows": 2}
    none, _ = run_reduce(tmp_path, [rows], mh.NearDedupConfig(verify="none", **loose))
    exact, _ = run_reduce(tmp_path, [rows], mh.NearDedupConfig(verify="exact", **loose))
    dropped_none = {r["id"] for r in none.to_pylist() if r["duplicate_of"]}
    dropped_exact = {r["id"]: r for r in exact.to_pylist() if r["duplicate_of"]}
    assert dropped_exact.keys() == {"d-copy"}
    assert dropped_exact["d-copy"]["similarity"] == pytest.approx(
        reference_char_jaccard(rows[0][1], rows[-1][1])
    )
    assert len(dropped_none) > 1  # without verification the shared banner links strangers


def test_signature_verification_keeps_true_pairs_and_drops_strangers(tmp_path):
    rows = [r for r in corpus(random.Random(2)) if r[0].startswith(("zh", "en"))]
    parts = [[(r[0], r[1]) for r in rows]]
    cfg = mh.NearDedupConfig(verify="signature", threshold=0.7, bands=64, rows=2)
    decisions, _ = run_reduce(tmp_path, parts, cfg)
    dup = {r["id"]: r["duplicate_of"] for r in decisions.to_pylist() if r["duplicate_of"]}
    assert dup == {rid: orig for rid, _, orig in rows if rid != orig}


def test_representatives_are_the_earliest_whatever_the_grouping(tmp_path):
    rows = [r for r in corpus(random.Random(11), copies=4) if r[0].startswith(("ja", "en"))]
    random.Random(0).shuffle(rows)  # copies may come before their original
    parts = [[(r[0], r[1]) for r in rows[k : k + 7]] for k in range(0, len(rows), 7)]
    results = []
    for groups, small in [(1, 2), (4, 8), (9, 3)]:
        cfg = mh.NearDedupConfig(band_groups=groups, small_bucket=small, **WIDE)
        decisions, _ = run_reduce(tmp_path, parts, cfg)
        results.append(sorted((r["id"], r["duplicate_of"]) for r in decisions.to_pylist()))
    assert results[0] == results[1] == results[2]
    order = [r[0] for r in rows]
    first_of = {}
    for rid, _, orig in rows:
        first_of.setdefault(orig, rid)  # the first member of each cluster in input order
    for rid, dup in results[0]:
        orig = next(o for r, _, o in rows if r == rid)
        assert (dup or rid) == first_of[orig]
        if dup:
            assert order.index(dup) < order.index(rid)


# --- filter -------------------------------------------------------------------------------------


def test_filter_applies_decisions_to_a_partition(tmp_path):
    rows = [r for r in corpus(random.Random(4)) if r[0].startswith("zh")]
    part = [(r[0], r[1]) for r in rows]
    decisions, _ = run_reduce(tmp_path, [part], mh.NearDedupConfig(**WIDE))
    table = pa.table({"id": [r[0] for r in rows], "text": [r[1] for r in rows], "n": range(12)})
    kept, rejects = mh.filter_partition(table, mh.decisions_for(decisions, 0))
    assert kept.column("id").to_pylist() == [f"zh-{k}" for k in range(4)]
    assert kept.column("dup_cluster_size").to_pylist() == [3, 3, 3, 3]
    assert kept.column("n").to_pylist() == [0, 3, 6, 9]  # other columns travel with the rows
    assert sorted(rejects.column("duplicate_of").to_pylist()) == sorted(
        [r[2] for r in rows if r[0] != r[2]]
    )
    assert set(rejects.column("reason").to_pylist()) == {mh.NEAR_DUPLICATE}
    kept2, rej2 = mh.filter_partition(table, mh.decisions_for(decisions, 5))  # no decisions
    assert kept2.num_rows == 12 and rej2.num_rows == 0


def test_a_failed_pair_leads_to_the_true_pair_one_step_away():
    # 0 and 1 shared a band but are not near-duplicates; 1 and 2 are; 0 and 2 are too, but
    # shared no band. Checking 0 against 1's verified partner finds (0, 2).
    sets = {k: np.arange(lo, lo + 100, dtype=np.uint64) for k, lo in [(0, 0), (1, 22), (2, 5)]}
    assert mh.jaccard(sets[0], sets[1]) < 0.7 <= mh.jaccard(sets[1], sets[2])
    assert mh.jaccard(sets[0], sets[2]) >= 0.7
    plan = mh.ReducePlan((), 0, 3)
    edges = np.array([[0, 1], [1, 2]])
    for expand, expected in [(0, [[1, 2]]), (16, [[1, 2], [0, 2]])]:
        cfg = mh.NearDedupConfig(threshold=0.7, expand=expand)
        kept, sim = mh.verify_edges(plan, edges, cfg, exact_sets=sets)
        assert kept.tolist() == expected and np.all(sim >= 0.7)


def test_char_class_table_is_cached_and_a_broken_cache_is_rebuilt(tmp_path, monkeypatch):
    from crossling.dedup import minhash

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    minhash.char_classes.cache_clear()
    try:
        first = minhash.char_classes()
        (cached,) = (tmp_path / "crossling").glob("char-classes-*.npy")
        assert (np.load(cached) == first).all()
        cached.write_bytes(b"not an array")  # a truncated or foreign file
        minhash.char_classes.cache_clear()
        assert (minhash.char_classes() == first).all()
        assert (np.load(cached) == first).all()  # rewritten
        assert first[ord("a")] == minhash.WORD and first[ord("中")] == minhash.CHAR
        assert first[ord("7")] == minhash.DIGIT and first[ord(" ")] == minhash.SEP
    finally:
        minhash.char_classes.cache_clear()


# --- the compiled shingling (crossling/_signals.c) against the numpy definition ------------------

_shingle_pieces = st.sampled_from(
    [
        "the",
        "The",
        "cat",
        "sat",
        " ",
        "  ",
        "\n",
        "42",
        "٣",
        "x1",
        ",",
        "-",
        "İ",
        "Straße",
        "图书馆",
        "としょかん",
        "도서관",
        "ห้องสมุด",
        "библиотека",
        "\ud800",
        "\U00020000",
        "\x00",
    ]
)
_shingle_texts = st.one_of(
    st.lists(_shingle_pieces, max_size=80).map("".join),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=120),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_shingle_texts, min_size=1, max_size=6),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=1, max_value=6),
    st.sampled_from(["chars", "words"]),
)
def test_compiled_shingles_equal_the_numpy_definition(pieces, ngram, char_ngram, kind):
    assert mh._signals is not None, "crossling._signals was not built (pip install -e .)"
    h, d = mh._hash_pieces(pieces, ngram, char_ngram, kind)
    h_ref, d_ref = mh._hash_pieces_py(pieces, ngram, char_ngram, kind)
    assert np.array_equal(h, h_ref) and np.array_equal(d, d_ref)
