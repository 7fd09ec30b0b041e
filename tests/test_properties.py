"""Property-based: arbitrary text, lone surrogates and odd JSON through the readers and every step.

Whatever the records, each one ends as exactly one DOCS or REJECTS row (or PAIRS, for parallel
files), the manifest balances, and no input can fail a run.
"""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossling.corpus import CorpusVersion
from crossling.pipeline import CorpusConfig, run_local
from crossling.sources.files import plan_partitions, read_partition

# Every code point, lone surrogates included (JSON escapes them as \udXXX).
any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
real_text = st.sampled_from(
    [
        "The library on the corner opens at nine every morning, and the students come early "
        "to find a quiet table near the window while the old librarian greets each of them.",
        "Die Bibliothek an der Ecke öffnet jeden Morgen um neun Uhr, und die Studenten kommen "
        "früh, um einen ruhigen Tisch am Fenster zu finden, während die Bibliothekarin grüßt.",
        "街角的图书馆每天早上九点开门。学生们很早就来了，想在窗边找一张安静的桌子，年老的图书管理员会叫出每个人的名字。",
    ]
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=6,
)
record = st.one_of(
    st.builds(lambda t: json.dumps({"text": t}), any_text),
    st.builds(lambda t, s: json.dumps({"text": t + s}), real_text, any_text),
    st.builds(lambda t, u: json.dumps({"text": t, "url": u, "id": u}), real_text, json_value),
    st.builds(lambda v: json.dumps({"text": v}), json_value),
    st.builds(json.dumps, json_value),
    st.builds(lambda t: json.dumps({"text": t}, ensure_ascii=False), any_text),
)
raw_line = st.one_of(
    record.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
)


def _lines(lines: list[bytes]) -> bytes:
    return b"\n".join(x.replace(b"\n", b" ").replace(b"\r", b" ") for x in lines) + b"\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_line, min_size=1, max_size=20))
def test_readers_give_one_record_per_line(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("p") / "in.jsonl"
    data = _lines(lines)
    path.write_bytes(data)
    parts, _ = plan_partitions([str(path)], partition_bytes=97)  # many tiny byte ranges
    out = [r for p in parts for r in read_partition(p)]
    expected = sum(1 for ln in data.split(b"\n")[:-1] if ln.strip())
    assert len(out) == expected
    ids = [r["id"] if isinstance(r, dict) else r.id for r in out]
    assert len(set(ids)) == len(ids)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_line, min_size=1, max_size=12), st.booleans())
def test_no_input_fails_a_run_and_every_record_is_accounted_for(tmp_path_factory, lines, line_mode):
    base = tmp_path_factory.mktemp("run")
    path = base / "in.jsonl"
    data = _lines(lines)
    path.write_bytes(data)
    expected = sum(1 for ln in data.split(b"\n")[:-1] if ln.strip())
    cfg = CorpusConfig(langid={"mode": "line" if line_mode else "doc"}, heldout_fraction=0.3)
    m = run_local([str(path)], str(base / "root"), "p", cfg)
    assert m["conservation"]["balanced"], m["conservation"]
    assert m["conservation"]["inputs"] == expected
    v = CorpusVersion.open(str(base / "root"), "p", m["version"])
    ids = [i for k in ("docs", "rejects") for i in v.table(k, columns=["id"])["id"].to_pylist()]
    assert len(ids) == expected == len(set(ids))
    assert v.verify(checksums=True) == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(json_value, json_value, any_text, any_text), min_size=1, max_size=8))
def test_odd_parallel_rows_never_fail_a_run(tmp_path_factory, rows):
    base = tmp_path_factory.mktemp("pairs")
    path = base / "p.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for src_lang, tgt_lang, s, t in rows:
            row = {"src_lang": src_lang, "tgt_lang": tgt_lang, "src_text": s, "tgt_text": t}
            f.write(json.dumps(row) + "\n")
    m = run_local([str(path)], str(base / "root"), "p")
    assert m["conservation"]["balanced"] and m["conservation"]["inputs"] == len(rows)
