"""The per-document steps and the global stages of a corpus run, in the order they run.

Adding a per-document filter: its module (a :class:`~crossling.stages.base.Step` with its own
config section) and one entry in :data:`STEPS` here; a global stage: one entry in
:data:`GLOBAL_STAGES`. ``CorpusConfig`` gains the new section by itself (crossling/run/config.py).
"""

from __future__ import annotations

from pydantic import BaseModel

from crossling.stages.base import GlobalStage, Step
from crossling.stages.blocklists import BadWords, UrlBlocklist
from crossling.stages.document import LanguageID, Normalize, Quality
from crossling.stages.exact import ExactDedup
from crossling.stages.fineweb import FineWebQuality
from crossling.stages.lines import LineFilter
from crossling.stages.near import MinHashSignatures, NearDedup
from crossling.stages.pairs import PairsConfig
from crossling.stages.pii import PiiAnonymize
from crossling.stages.quality_model import QualityScore
from crossling.stages.split import HeldoutSplit
from crossling.stages.urls import UrlFilter
from crossling.stages.words import WordSignals

# PII is replaced after language identification (the language picks the phone regions) and
# before anything measures, hashes or shows the text (quality signals, content hash, MinHash).
# The issue-18 steps (blocklists, lines, pii, words, quality_model) are off by default: a default
# run writes exactly the rows it wrote before them (configs/quality-all.yaml turns them on).
STEPS: list[type[Step]] = [
    UrlFilter,
    UrlBlocklist,
    Normalize,
    LanguageID,
    LineFilter,
    PiiAnonymize,
    BadWords,
    WordSignals,
    Quality,
    QualityScore,
    FineWebQuality,
    MinHashSignatures,
]
GLOBAL_STAGES: list[type[GlobalStage]] = [ExactDedup, NearDedup, HeldoutSplit]
# Config sections no step or stage owns: the checks of parallel pairs (crossling/stages/pairs.py).
SECTIONS: dict[str, type[BaseModel]] = {"pairs": PairsConfig}
