"""Processing steps: generators from documents to documents (datatrove's PipelineStep shape).

A step is given an iterator of :class:`Document`, yields what it keeps and hands every drop, with
its reason, to the rejects sink. Steps count what they see in a mergeable ``Counter``
(``<step>/total``, ``<step>/kept``, ``<step>/dropped:<reason>``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

from crossling.clean import QualityConfig, normalize_text, quality_signals
from crossling.documents import Document, Reason, Reject, Stage
from crossling.langid import LanguageIdentifier

RejectSink = Callable[[Reject], None]


class Step:
    """Base class: subclasses implement :meth:`filter` (keep -> None, drop -> (reason, detail))."""

    name = "step"
    stage: Stage = Stage.NORMALIZE

    def __init__(self) -> None:
        self.stats: Counter[str] = Counter()

    def filter(self, doc: Document) -> tuple[Reason, str] | None:
        raise NotImplementedError

    def __call__(self, docs: Iterator[Document], sink: RejectSink) -> Iterator[Document]:
        for doc in docs:
            self.stats[f"{self.name}/total"] += 1
            verdict = self.filter(doc)
            if verdict is None:
                self.stats[f"{self.name}/kept"] += 1
                yield doc
            else:
                reason, detail = verdict
                self.stats[f"{self.name}/dropped:{reason}"] += 1
                sink(Reject.of(doc, self.stage, reason, detail))


class Normalize(Step):
    """NFC, control characters out, whitespace folded; drops documents left empty."""

    name = "normalize"
    stage = Stage.NORMALIZE

    def filter(self, doc: Document) -> tuple[Reason, str] | None:
        raw_prefix = doc.text[:500]
        doc.text = normalize_text(doc.text)
        if not doc.text:
            doc.text = raw_prefix  # so the REJECTS row shows what was there
            return Reason.EMPTY, "no text after normalization"
        return None


class LanguageID(Step):
    """Measure only: writes lang, script, lang_score (in batches). Never drops."""

    name = "langid"
    stage = Stage.LANGID

    def __init__(self, identifier: LanguageIdentifier):
        super().__init__()
        self.identifier = identifier

    def __call__(self, docs: Iterator[Document], sink: RejectSink) -> Iterator[Document]:
        for doc in self.identifier.annotate(docs):
            self.stats[f"{self.name}/total"] += 1
            self.stats[f"{self.name}/kept"] += 1
            yield doc


class LanguageFilter(Step):
    """Decide on LID output: a score threshold (per language if given) and a wanted set."""

    name = "langfilter"
    stage = Stage.LANGID

    def __init__(
        self,
        min_score: float,
        per_lang: dict[str, float] | None = None,
        langs: list[str] | None = None,
    ):
        super().__init__()
        self.min_score = min_score
        self.per_lang = per_lang or {}
        self.langs = set(langs) if langs else None

    def filter(self, doc: Document) -> tuple[Reason, str] | None:
        if self.langs is not None and doc.lang not in self.langs:
            return Reason.LANG_NOT_WANTED, f"lang={doc.lang} not in {sorted(self.langs)}"
        limit = self.per_lang.get(doc.lang or "", self.min_score)
        if doc.lang_score < limit:
            return Reason.LANG_SCORE_LOW, f"{doc.lang} score {doc.lang_score:.3f} < {limit}"
        return None


class QualityFilter(Step):
    """Gopher/C4-style signals, measured once into ``doc.meta['quality']``, then thresholded."""

    name = "quality"
    stage = Stage.QUALITY

    def __init__(self, config: QualityConfig):
        super().__init__()
        self.config = config

    def filter(self, doc: Document) -> tuple[Reason, str] | None:
        signals = quality_signals(doc.text)
        doc.meta["quality"] = signals
        return self.config.decide(signals, doc.lang, doc.script)
