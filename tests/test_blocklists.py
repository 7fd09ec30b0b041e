"""Blocklists from files: the documented format, bad input named by file and line, the steps."""

from __future__ import annotations

import gzip

import numpy as np
import pyarrow as pa
import pytest

from crossling.blocklists import BlocklistConfig, BlocklistError, Blocklists, load_list
from crossling.documents import Document, Reason
from crossling.stages.base import TaggedRows
from crossling.stages.blocklists import BadWords, UrlBlocklist


@pytest.fixture
def lists(tmp_path):
    (tmp_path / "domains.txt").write_text(
        "# blocked hosts\n\nspam.example\n*.ads.example.org\n.tracker.test\nbücher-spam.de\n",
        encoding="utf-8",
    )
    (tmp_path / "subs.txt").write_text("/tag/\n?replytocom=\n", encoding="utf-8")
    (tmp_path / "words.txt").write_text("casino\nviagra\n", encoding="utf-8")
    bad = tmp_path / "badwords"
    bad.mkdir()  # LDNOOBW layout: a file per language code
    (bad / "en").write_text("damn\nbloody hell\n", encoding="utf-8")
    (bad / "de.txt").write_text("# Kommentar\nscheiße\n", encoding="utf-8")
    (bad / "zh").write_text("他妈的\n", encoding="utf-8")
    (bad / "README.md").write_text("not a list\n", encoding="utf-8")
    return tmp_path


def _cfg(d, **kw):
    return BlocklistConfig(
        domain_files=[str(d / "domains.txt")],
        url_substring_files=[str(d / "subs.txt")],
        url_word_files=[str(d / "words.txt")],
        bad_words_dir=str(d / "badwords"),
        **kw,
    )


def test_url_blocklist_from_files(lists):
    b = Blocklists(_cfg(lists))
    assert b.url_verdict("https://spam.example/a") == "host spam.example is blocked (spam.example)"
    assert b.url_verdict("http://x.ads.example.org/") is not None
    assert b.url_verdict("http://ads.example.org./") is not None
    assert b.url_verdict("http://deep.tracker.test/p") is not None
    assert b.url_verdict("http://xn--bcher-spam-9db.de/") is not None  # IDN in punycode
    assert b.url_verdict("https://blog.example.com/tag/cats") == "URL contains '/tag/'"
    assert b.url_verdict("https://x.com/best-Casino-2024") == "URL word 'casino' is blocked"
    for ok in ("https://notspam.example/", "https://example.org/", "https://x.com/casinos", None):
        assert b.url_verdict(ok) is None
    step = UrlBlocklist({"blocklists": _cfg(lists).model_dump()})
    verdict = step.decide(Document(id="1", text="", source="t", url="https://spam.example/"))
    assert verdict[0] == Reason.URL_BLOCKED and not step.signals


def test_bad_words_per_language_measured_then_decided(lists):
    docs = [
        Document(id="1", text="Well, DAMN it, this is bloody hell of a day", source="t", lang="en"),
        Document(id="2", text="Damnation and goddamned are other words", source="t", lang="en"),
        Document(id="3", text="So eine Scheiße, sagte er.", source="t", lang="de"),
        Document(id="4", text="他说他妈的太好了", source="t", lang="zh"),
        Document(id="5", text="damn in a language without a list", source="t", lang="fr"),
    ]
    step = BadWords(_cfg(lists))
    step.measure(docs)
    assert [d.signals["bad_words"] for d in docs] == [2, 0, 1, 1, 0]
    assert [step.decide(d) is not None for d in docs] == [True, False, True, True, False]
    schema = pa.schema([pa.field("id", pa.string()), *step.signals])
    table = pa.Table.from_pylist([{"id": d.id, **d.signals} for d in docs], schema=schema)
    rows = TaggedRows(table.to_batches()[0], ["bad_words", "bad_word_frac"])
    dropped = step.decide_rows(rows, np.arange(5))
    assert sorted(dropped) == [0, 2, 3] and dropped[0] == (Reason.BAD_WORDS, "bad_words=2 > 0")
    lenient = BadWords(_cfg(lists, max_bad_words=1))
    assert [lenient.decide(d) is not None for d in docs] == [True, False, False, False, False]
    assert step.measure_config()["lists"] == BadWords(_cfg(lists)).measure_config()["lists"]
    (lists / "badwords" / "en").write_text("damn\nbloody hell\ncrap\n", encoding="utf-8")
    assert BadWords(_cfg(lists)).measure_config() != step.measure_config()


def test_gz_lists_and_bom(tmp_path):
    p = tmp_path / "d.txt.gz"
    with gzip.open(p, "wt", encoding="utf-8") as f:
        f.write("\ufeffa.example\n# c\nB.Example\n")
    assert load_list(str(p), "domain") == {"a.example", "b.example"}


@pytest.mark.parametrize(
    ("content", "kind", "message"),
    [
        (b"", "text", "no entries"),
        (b"# only comments\n\n   \n", "domain", "no entries"),
        (
            b"good.example\nbad host.example\n",
            "domain",
            ":2: 'bad host.example' is not a host name",
        ),
        (b"ok.example\nhttp://x.example/path\n", "domain", ":2: "),
        (b"ok\n\xff\xfe broken\n", "text", ":2: not UTF-8 text"),
        (b"two words\n", "word", ":1: 'two words' is not a single word"),
        (b"a\x07b\n", "text", ":1: control character"),
    ],
)
def test_malformed_lists_name_file_and_line(tmp_path, content, kind, message):
    p = tmp_path / "list.txt"
    p.write_bytes(content)
    with pytest.raises(BlocklistError) as e:
        load_list(str(p), kind)
    assert str(e.value).startswith(str(p)) and message in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_files_and_folders(tmp_path):
    with pytest.raises(BlocklistError, match="cannot be read"):
        Blocklists(BlocklistConfig(domain_files=[str(tmp_path / "nope.txt")]))
    with pytest.raises(BlocklistError, match="not a folder"):
        Blocklists(BlocklistConfig(bad_words_dir=str(tmp_path / "nope")))
    with pytest.raises(BlocklistError, match="unknown"):
        Blocklists(BlocklistConfig(builtin=["nothing"]))


def test_builtin_url_words_from_datatrove():
    pytest.importorskip("datatrove")
    b = Blocklists(BlocklistConfig(builtin=["datatrove-url-words"]))
    assert len(b.url_words) > 50
    assert b.url_verdict("https://example.com/a/b") is None
