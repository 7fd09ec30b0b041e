"""Texts with their language and script, from corpus versions or plain inputs, for the commands
that learn from reference text (``crossling thresholds``, ``crossling quality-model train``).

A source is either

- a corpus version folder, ``<root>/corpora/<name>/<version>`` (it has a ``manifest.json``), read
  through :class:`crossling.corpus.CorpusVersion` (DOCS rows of both splits, or one split), with
  the ``lang`` and ``script`` the run identified; or ``<root>/corpora/<name>`` for its newest
  version;
- any corpus input (JSONL, Parquet, .txt, WARC, a saved Hugging Face dataset: the readers of
  crossling/sources/files.py), normalized as the corpus run does; a declared ``lang`` field is
  used when there is one, else fastText identifies the language.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from crossling.clean import normalize_text


class SourceError(ValueError):
    """A source that cannot be read (the message names it)."""


@dataclass(slots=True)
class Text:
    text: str
    lang: str  # ISO 639-1 where one exists, else 639-3; "und" when unknown
    script: str  # ISO 15924
    lang_score: float | None = None  # fastText's probability of `lang` (None: declared)


def _version_of(path: str) -> tuple[str, str, str | None] | None:
    """(root, name, version) when ``path`` is a corpus version folder or a corpus folder."""
    path = os.path.abspath(path.rstrip("/"))
    if os.path.isfile(os.path.join(path, "manifest.json")):
        corpora, name = os.path.split(os.path.dirname(path))
        if os.path.basename(corpora) == "corpora":
            return os.path.dirname(corpora), name, os.path.basename(path)
    parent, name = os.path.split(path)
    if os.path.basename(parent) == "corpora" and os.path.isdir(path):
        return os.path.dirname(parent), name, None
    return None


def iter_texts(
    sources: list[str],
    *,
    split: str | None = None,
    langs: set[str] | None = None,
    limit_per_lang: int | None = None,
    batch_size: int = 512,
) -> Iterator[list[Text]]:
    """Batches of texts from every source, in order.

    Args:
        sources: corpus version folders or corpus inputs (see the module docstring).
        split: DOCS rows of this split only (``train`` / ``heldout``); plain inputs ignore it.
        langs: keep these languages only.
        limit_per_lang: stop reading a language after this many texts.
        batch_size: texts per batch.

    Raises:
        SourceError: a source that does not exist or holds no readable documents.
    """
    seen: dict[str, int] = {}

    def wanted(lang: str) -> bool:
        if langs is not None and lang not in langs:
            return False
        return limit_per_lang is None or seen.get(lang, 0) < limit_per_lang

    for src in sources:
        if not os.path.exists(src):
            raise SourceError(f"{src}: no such file or directory")
        n = 0
        for batch in _iter_source(src, split, batch_size):
            out = [t for t in batch if wanted(t.lang)]
            for t in out:
                seen[t.lang] = seen.get(t.lang, 0) + 1
            n += len(batch)
            if out:
                yield out
        if n == 0:
            raise SourceError(f"{src}: no documents")


def _iter_source(src: str, split: str | None, batch_size: int) -> Iterator[list[Text]]:
    version = _version_of(src)
    if version is not None:
        from crossling.corpus import CorpusNotFound, CorpusVersion

        root, name, ver = version
        try:
            cv = CorpusVersion.open(root, name, ver or "latest")
        except CorpusNotFound as e:
            raise SourceError(f"{src}: {e}") from None
        cols = ["text", "lang", "script", "lang_score"]
        for b in cv.docs(split=split, columns=cols, batch_size=batch_size):
            d = b.to_pydict()
            yield [Text(*row) for row in zip(*(d[c] for c in cols), strict=True)]
        return
    from crossling.documents import Document
    from crossling.langid import LanguageIdentifier, default_script
    from crossling.sources.files import InputNotFound, plan_partitions, read_partition

    try:
        parts, errors = plan_partitions([src])
    except InputNotFound as e:
        raise SourceError(str(e)) from None
    if errors and not parts:
        raise SourceError(f"{errors[0].input}: {errors[0].error}")
    lid: LanguageIdentifier | None = None
    docs: list[Document] = []

    def flush() -> list[Text]:
        nonlocal lid
        unknown = [d for d in docs if not d.meta.get("declared_lang")]
        if unknown:
            lid = lid or LanguageIdentifier()
            lid.annotate_batch(unknown)
        out = []
        for d in docs:
            score: float | None = d.lang_score
            if d.meta.get("declared_lang"):
                d.lang = str(d.meta["declared_lang"])
                d.script = default_script(d.lang)
                score = None
            out.append(Text(d.text, d.lang or "und", d.script or "Zyyy", score))
        docs.clear()
        return out

    for part in parts:
        for rec in read_partition(part):
            if not isinstance(rec, Document):
                continue
            rec.text = normalize_text(rec.text)
            if rec.text:
                docs.append(rec)
            if len(docs) >= batch_size:
                yield flush()
    if docs:
        yield flush()
