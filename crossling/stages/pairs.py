"""Parallel pairs as first-class records: both sides normalized and language-checked.

Measured in the tag pass (normalized sides, fastText label and score of each side, the pair's
exact-duplicate key), decided in the decide pass: a side left empty, or a side that fastText
confidently reads as another language than the one declared, becomes a REJECTS row.
"""

from __future__ import annotations

from typing import Any

import langcodes
import pyarrow as pa
from pydantic import BaseModel, Field

from crossling.clean import normalize_text, strip_surrogates
from crossling.documents import TEXT_PREFIX_CHARS, Document, Reason, Stage, content_hash
from crossling.langid import LanguageIdentifier, canonical


class PairsConfig(BaseModel):
    """How parallel pairs are checked."""

    check_lang: bool = Field(
        True, description="Reject a pair when a side is confidently in another language."
    )
    mismatch_min_score: float = Field(
        0.9,
        ge=0.0,
        le=1.0,
        description="fastText must be at least this sure of the other language to reject: short "
        "sentences are often misread, so keep this high (0.8-0.95).",
    )


# Tagged pairs: what a pair record became in the tag pass.
TAG_PAIRS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("src_lang", pa.string()),  # declared, canonical
        ("tgt_lang", pa.string()),
        ("src_text", pa.string()),  # normalized (raw prefix when it normalized to nothing)
        ("tgt_text", pa.string()),
        ("content_hash", pa.string()),  # exact-duplicate key of the pair (both sides, in order)
        ("origin_id", pa.string()),
        ("synthetic", pa.bool_()),
        ("method", pa.string()),
        ("model", pa.string()),
        ("score", pa.float32()),
        ("split_key", pa.string()),  # the split is computed from this when set (else the id)
        ("empty_side", pa.string()),  # src | tgt | null
        ("invalid", pa.string()),  # what is wrong with a field (e.g. not a language code), or null
        ("src_lid", pa.string()),
        ("src_lid_score", pa.float32()),
        ("tgt_lid", pa.string()),
        ("tgt_lid_score", pa.float32()),
    ]
)


def pair_hash(src_text: str, tgt_text: str) -> str:
    """Exact-duplicate key of a parallel pair (both sides, in order)."""
    return content_hash(src_text + "\x1f" + tgt_text)


def measure_pairs(records: list[dict[str, Any]], identifier: LanguageIdentifier) -> pa.Table:
    """Tag rows (TAG_PAIRS_SCHEMA) of a batch of pair records from the readers."""
    rows = []
    for rec in records:
        src, tgt = normalize_text(rec["src_text"]), normalize_text(rec["tgt_text"])
        declared = [strip_surrogates(rec[k]) for k in ("src_lang", "tgt_lang")]
        bad = [c for c in declared if not langcodes.tag_is_valid(c)]
        empty = "src" if not src else "tgt" if not tgt else None
        if empty:
            src = src or normalize_text(rec["src_text"], fold=False)[:TEXT_PREFIX_CHARS]
            tgt = tgt or normalize_text(rec["tgt_text"], fold=False)[:TEXT_PREFIX_CHARS]
        rows.append(
            {
                "id": rec["id"],
                "source": strip_surrogates(rec["source"]),
                "url": strip_surrogates(rec["url"]) if isinstance(rec.get("url"), str) else None,
                "src_lang": canonical(declared[0])[0] if not bad else declared[0],
                "tgt_lang": canonical(declared[1])[0] if not bad else declared[1],
                "src_text": src,
                "tgt_text": tgt,
                "content_hash": pair_hash(src, tgt),
                "origin_id": _str(rec.get("origin_id")),
                "synthetic": rec.get("synthetic") is True,
                "method": _str(rec.get("method")) or "parallel",
                "model": _str(rec.get("model")),
                "score": _num(rec.get("score")),
                "split_key": _str(rec.get("split_key")),
                "empty_side": empty,
                "invalid": f"not a language code: {bad[0]!r}" if bad else None,
            }
        )
    if identifier is not None and rows:
        sides = [
            Document(id="", text=r[k], source="") for r in rows for k in ("src_text", "tgt_text")
        ]
        identifier.annotate_batch(sides)
        for i, r in enumerate(rows):
            s, t = sides[2 * i], sides[2 * i + 1]
            r.update(
                src_lid=s.lang,
                src_lid_score=s.lang_score,
                tgt_lid=t.lang,
                tgt_lid_score=t.lang_score,
            )
    return pa.Table.from_pylist(rows, schema=TAG_PAIRS_SCHEMA)


def _str(v: Any) -> str | None:
    return strip_surrogates(v) if isinstance(v, str) else None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def decide_pair(row: dict[str, Any], cfg: PairsConfig) -> tuple[Stage, Reason, str] | None:
    """None to keep the pair, else (stage, reason, detail)."""
    if row["invalid"]:
        return Stage.READ, Reason.INVALID_FIELD, row["invalid"]
    if row["empty_side"]:
        return Stage.NORMALIZE, Reason.EMPTY, f"the {row['empty_side']} side is empty"
    if not cfg.check_lang or row.get("src_lid") is None:
        return None
    for side in ("src", "tgt"):
        declared, found, score = row[f"{side}_lang"], row[f"{side}_lid"], row[f"{side}_lid_score"]
        if found != declared and score >= cfg.mismatch_min_score:
            return (
                Stage.LANGID,
                Reason.LANG_MISMATCH,
                f"{side} side declared {declared}, fastText reads {found} ({score:.3f})",
            )
    return None
