"""The per-document steps and the global stages of a corpus run, in the order they run.

Adding a per-document filter: its module (a :class:`~crossling.stages.base.Step` with its own
config section) and one entry in :data:`STEPS` here; a global stage: one entry in
:data:`GLOBAL_STAGES`. ``CorpusConfig`` gains the new section by itself (crossling/run/config.py).
"""

from __future__ import annotations

from pydantic import BaseModel

from crossling.stages.base import GlobalStage, Step
from crossling.stages.document import LanguageID, Normalize, Quality
from crossling.stages.exact import ExactDedup
from crossling.stages.fineweb import FineWebQuality
from crossling.stages.near import MinHashSignatures, NearDedup
from crossling.stages.pairs import PairsConfig
from crossling.stages.split import HeldoutSplit
from crossling.stages.urls import UrlFilter

STEPS: list[type[Step]] = [
    UrlFilter,
    Normalize,
    LanguageID,
    Quality,
    FineWebQuality,
    MinHashSignatures,
]
GLOBAL_STAGES: list[type[GlobalStage]] = [ExactDedup, NearDedup, HeldoutSplit]
# Config sections no step or stage owns: the checks of parallel pairs (crossling/stages/pairs.py).
SECTIONS: dict[str, type[BaseModel]] = {"pairs": PairsConfig}
