"""Near-dedup settings: NearDedupConfig, the LSH S-curve and the choice of bands and rows.

Part of :mod:`crossling.dedup.minhash` (its docstring describes the method).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

# bump when shingles change: old signatures stop matching (v2: character shingles in every script
# by default, the `shingles` setting; v1 band files and indexes are refused, see plan_reduce)
SHINGLING_VERSION = "minhash_v2"
EMPTY_SLOT = np.uint32(0xFFFFFFFF)  # every slot of a document without shingles
NEAR_DUPLICATE = "near_duplicate"  # the REJECTS reason (crossling.documents.Reason)

# --- configuration ------------------------------------------------------------------------------


class NearDedupConfig(BaseModel):
    """MinHash LSH near-duplicate removal (``dedup.near`` in a corpus config)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Run near-duplicate removal at all.")
    threshold: float = Field(
        0.8,
        gt=0.0,
        lt=1.0,
        description="Jaccard similarity of shingle sets above which two documents are "
        "near-duplicates. 0.7-0.85 is usual for web text; lower removes more (and more "
        "false positives when verify is 'none').",
    )
    shingles: Literal["chars", "words"] = Field(
        "chars",
        description="Shingle kind. 'chars': `char_ngram` consecutive letters and digits in every "
        "script (spaces and punctuation skipped), robust to typos and small edits; 'words': "
        "`ngram` consecutive words in scripts that separate words with spaces and `char_ngram` "
        "characters in the others (one typo changes `ngram` word shingles). Chosen by "
        "benchmarks/dedup.py (docs/near-dedup.md).",
    )
    ngram: int = Field(
        5,
        ge=1,
        le=32,
        description="Words per shingle in scripts that separate words with spaces, with "
        "shingles='words' (datatrove and FineWeb use 5).",
    )
    char_ngram: int = Field(
        5,
        ge=1,
        le=32,
        description="Characters per shingle: in every script with shingles='chars', else in "
        "Han, Kana, Hangul, Thai, Lao, Khmer and Myanmar text (written without spaces).",
    )
    num_perm: int = Field(
        128,
        ge=8,
        le=1024,
        description="Min-hashes per signature (4 bytes each). Fixed for a corpus: signatures "
        "stored in tagged files and indexes are only comparable with the same value.",
    )
    bands: int | None = Field(
        None,
        ge=1,
        description="LSH bands; with `rows` overrides the choice from `threshold` "
        "(bands * rows <= num_perm). More bands find more pairs and more false candidates.",
    )
    rows: int | None = Field(
        None, ge=1, description="Min-hashes per band; more rows make a band match rarer."
    )
    recall_weight: float = Field(
        0.99,
        ge=0.0,
        le=1.0,
        description="Weight of missed pairs against false candidates when bands x rows are "
        "chosen from the threshold (0.5 = equal; verification removes false candidates).",
    )
    seed: int = Field(
        42, ge=0, description="Seed of the min-hash permutations (fixed for a corpus)."
    )
    verify: Literal["none", "signature", "exact"] = Field(
        "exact",
        description="Check candidate pairs before clustering: 'exact' computes the true "
        "Jaccard of their shingle sets (pairs with a document of an earlier version fall back to "
        "'signature'), 'signature' the share of equal min-hashes, 'none' trusts the bands.",
    )
    signature_slack: float = Field(
        2.0,
        ge=0.0,
        description="'signature' verification keeps a pair whose estimate is at least "
        "threshold minus this many standard errors (sqrt(t(1-t)/num_perm)), so that true pairs "
        "near the threshold are not lost to estimation noise.",
    )
    band_groups: int = Field(
        4,
        ge=1,
        description="The reduce runs as this many independent tasks, each over a group of bands "
        "(memory per task: about 8 bytes per document and band of the group, plus 18 per "
        "document while one band is sorted).",
    )
    expand: int = Field(
        16,
        ge=0,
        description="When a candidate pair fails verification, check each document against up "
        "to this many verified partners of the other, and as many members of the other's "
        "cluster (0: off). Finds true pairs that shared no band; precision is unchanged since "
        "every pair added is verified.",
    )
    small_bucket: int = Field(
        8,
        ge=2,
        description="Buckets up to this size give every pair as a candidate; larger ones (a "
        "template shared by thousands of pages) give each member paired with the earliest.",
    )
    batch_chars: int = Field(
        1 << 18,
        ge=1 << 10,
        description="Characters shingled per numpy batch (cache-sized; longer documents are "
        "cut into pieces of this size, so memory stays bounded).",
    )

    @model_validator(mode="after")
    def _check_lsh(self) -> NearDedupConfig:
        b, r = self.lsh_params()
        if b * r > self.num_perm:
            raise ValueError(f"bands * rows = {b}*{r} = {b * r} exceeds num_perm = {self.num_perm}")
        return self

    def lsh_params(self) -> tuple[int, int]:
        """(bands, rows): the configured ones, else the best for ``threshold`` (see module doc)."""
        if self.bands and self.rows:
            return self.bands, self.rows
        if self.bands:
            return self.bands, max(1, self.num_perm // self.bands)
        if self.rows:
            return max(1, self.num_perm // self.rows), self.rows
        return optimal_bands(self.threshold, self.num_perm, self.recall_weight)

    def fingerprint(self) -> dict[str, Any]:
        """What two signatures must share to be comparable (stored with every band file/index)."""
        import rensa

        out = {
            "shingling": SHINGLING_VERSION,
            "shingles": self.shingles,
            "ngram": self.ngram,
            "char_ngram": self.char_ngram,
            "num_perm": self.num_perm,
            "seed": self.seed,
            "rensa_algorithm": int(rensa.RMinHash.ALGORITHM_VERSION),
        }
        if self.shingles == "chars":  # words per shingle play no part
            del out["ngram"]
        return out


def s_curve(bands: int, rows: int, s: float | np.ndarray) -> float | np.ndarray:
    """Probability that two documents of Jaccard similarity ``s`` share at least one band."""
    return 1.0 - (1.0 - np.asarray(s, dtype=np.float64) ** rows) ** bands


@functools.cache
def optimal_bands(threshold: float, num_perm: int, recall_weight: float = 0.5) -> tuple[int, int]:
    """Bands and rows (``b*r <= num_perm``) minimizing the weighted false positive and negative areas."""
    s = np.linspace(0.0, 1.0, 1001)
    below = s < threshold
    best = (math.inf, 1, num_perm)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = s_curve(b, r, s)
            fp = np.trapezoid(np.where(below, p, 0.0), s)
            fn = np.trapezoid(np.where(below, 0.0, 1.0 - p), s)
            cost = (1.0 - recall_weight) * fp + recall_weight * fn
            if cost < best[0] - 1e-12:
                best = (cost, b, r)
    return best[1], best[2]
