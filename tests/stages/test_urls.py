"""The URL filter: blocked domains with their subdomains, substrings; changing the list reuses
the measurements."""

import json

from crossling.corpus import CorpusVersion
from crossling.documents import Document, Reason
from crossling.run.config import CorpusConfig
from crossling.run.schedule import run_local
from crossling.stages.urls import UrlFilter
from tests.texts import PARAGRAPHS


def test_domains_subdomains_and_substrings():
    step = UrlFilter.from_config(
        CorpusConfig(urls={"block_domains": ["spam.example"], "block_substrings": ["/Tag/"]})
    )

    def verdict(url):
        return step.decide(Document(id="x", text="", source="s", url=url))

    assert verdict("https://spam.example/a")[0] == Reason.URL_BLOCKED
    assert "spam.example" in verdict("http://www.SPAM.example./b")[1]
    assert verdict("https://notspam.example/a") is None  # not a subdomain
    assert verdict("https://ok.example/tag/x")[1] == "URL contains '/tag/'"
    assert verdict(None) is None and verdict("not a url") is None


def test_a_new_blocklist_is_a_cheap_rerun(tmp_path):
    src = tmp_path / "d.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for i, lang in enumerate(PARAGRAPHS):
            row = {"text": f"{PARAGRAPHS[lang]} {i}", "url": f"https://{lang}.news.example/{i}"}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    root = str(tmp_path / "root")
    m1 = run_local([str(src)], root, "u")
    m2 = run_local([str(src)], root, "u", CorpusConfig(urls={"block_domains": ["de.news.example"]}))
    assert m2["tags_reused"] == m2["partitions"]
    assert m2["counts"]["docs"] == m1["counts"]["docs"] - 1
    (row,) = CorpusVersion.open(root, "u", m2["version"]).table("rejects").to_pylist()
    assert row["reason"] == "url_blocked" and row["url"] == "https://de.news.example/1"
