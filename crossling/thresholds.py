"""Quality thresholds per language derived from reference text, the thresholds file, and the
statistics they come from.

Rule ``quantile-tail/1`` (the exact rule; docs/QUALITY.md explains where it comes from):

1. Every reference document is measured with the quality signals of crossling/clean.py and
   grouped by language and script (``de/Latn``). Groups with fewer than ``min_docs`` documents
   get no thresholds (the hand-set defaults apply to them).
2. For a tail share ``t``, each *upper* limit (``max_*``) is the ``1 - t`` quantile of its signal
   in the group plus ``margin`` (default 1.0) times the signal's interquartile range, and each
   *lower* limit (``min_*``) the ``t`` quantile minus that much, then clamped into the limit's
   ``[floor, ceiling]`` (:data:`BOUNDS`). The margin keeps a limit from sitting exactly on the
   most extreme documents of a small reference (whose extreme quantiles are noisy); the clamp: a group whose reference text is itself full of
   repetition cannot raise ``max_dup_line_frac`` past its ceiling, nor can very clean text push it
   under its floor and drop ordinary web pages.
3. ``t`` is the largest share in ``[0, max_tail]`` (searched by bisection to 1e-4) for which at
   least ``keep`` (default 0.95) of the group's reference documents pass *every* limit together.
   So each language keeps at least 95% of its own clean reference text, and the limits are as
   tight as that allows.
4. The language-ID threshold of a language is FineWeb-2's rule for GlotLID scores:
   ``max(0.3, min(0.9, median - std))`` of the reference documents' ``lang_score`` (when the
   reference has scores: corpus versions and inputs whose language was identified).

The thresholds file (JSON, ``"format": "crossling-thresholds/1"``) records the rule, its
parameters, the reference sources and, per group, the documents measured, the tail chosen, the
share kept and the thresholds. :func:`load_thresholds` checks it and raises
:class:`ThresholdsError` with one line naming the file for anything malformed.

Hook into the corpus run (the lead wires it): the corpus config gets ``thresholds_file``; when
the config is resolved, :func:`apply_to_quality` merges the file's thresholds into
``QualityConfig.per_lang`` (the user's own ``per_lang`` entries win) and
:func:`langid_overrides` into ``LangIDConfig.min_score_per_lang``; the run's manifest records the
file's path, sha256 and rule, and each drop's detail names the file (:func:`describe`). Tags are
untouched: a rerun with another thresholds file reruns the decide pass only.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from typing import Any

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from crossling.clean import QualityConfig, quality_signals_batch

FORMAT = "crossling-thresholds/1"
RULE = "quantile-tail/1"

# threshold field -> (signal, 'max' | 'min', floor, ceiling): the sane range of each limit.
BOUNDS: dict[str, tuple[str, str, float, float]] = {
    "min_chars": ("n_chars", "min", 40, 500),
    "min_units": ("n_units", "min", 10, 100),
    "max_dup_line_frac": ("dup_line_frac", "max", 0.10, 0.60),
    "max_dup_line_char_frac": ("dup_line_char_frac", "max", 0.08, 0.50),
    "max_top_2gram_frac": ("top_2gram_frac", "max", 0.10, 0.40),
    "max_top_3gram_frac": ("top_3gram_frac", "max", 0.08, 0.35),
    "max_top_4gram_frac": ("top_4gram_frac", "max", 0.06, 0.30),
    "min_alpha_unit_frac": ("alpha_unit_frac", "min", 0.30, 0.90),
    "min_letter_frac": ("letter_frac", "min", 0.20, 0.80),
    "max_symbol_per_unit": ("symbol_per_unit", "max", 0.05, 0.50),
    "max_bullet_line_frac": ("bullet_line_frac", "max", 0.50, 0.95),
    "max_ellipsis_line_frac": ("ellipsis_line_frac", "max", 0.10, 0.60),
    "max_boilerplate_line_frac": ("boilerplate_line_frac", "max", 0.20, 0.80),
    "max_mojibake_per_unit": ("mojibake_per_unit", "max", 0.005, 0.10),
}
_INT_FIELDS = {"min_chars", "min_units"}


class ThresholdsError(ValueError):
    """A thresholds file that cannot be used (the message names the file)."""


class DeriveConfig(BaseModel):
    """How thresholds are derived from reference text (rule quantile-tail/1)."""

    keep: float = Field(
        0.95, gt=0.5, le=1.0, description="Share of each language's reference documents kept."
    )
    margin: float = Field(
        1.0,
        ge=0.0,
        description="Each limit is moved outward by this many interquartile ranges of its "
        "signal (a small reference's extreme quantiles are noisy; 0: the quantile itself).",
    )
    max_tail: float = Field(
        0.10, gt=0.0, le=0.5, description="The largest tail share a single limit may cut."
    )
    min_docs: int = Field(50, ge=5, description="Groups with fewer reference documents: skipped.")
    limit_per_lang: int | None = Field(
        20_000, ge=1, description="Read at most this many reference documents per language."
    )


class Group(BaseModel):
    """Derived thresholds of one language and script."""

    docs: int = Field(..., ge=1)  # reference documents measured
    tail: float = Field(..., ge=0.0, le=0.5)  # the tail share chosen
    kept_share: float = Field(..., ge=0.0, le=1.0)  # reference documents kept by all limits
    thresholds: dict[str, float]  # Thresholds field -> value
    lang_min_score: float | None = None  # language-ID threshold (FineWeb-2 rule), if scores

    def model_post_init(self, _: Any) -> None:
        for key, value in self.thresholds.items():
            if key not in BOUNDS:
                raise ValueError(f"thresholds.{key}: not a threshold (one of {', '.join(BOUNDS)})")
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"thresholds.{key}: {value!r} is not a non-negative number")


class ThresholdsFile(BaseModel):
    """The content of a thresholds file."""

    format: str
    rule: str
    params: DeriveConfig
    reference: list[str]
    groups: dict[str, Group]


# --- measuring -----------------------------------------------------------------------------------


def measure_reference(
    sources: list[str], config: DeriveConfig | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """Quality signals of every reference document, as arrays per ``lang/script`` group
    (plus ``lang_score`` where the reference has scores)."""
    from crossling.textsources import iter_texts

    cfg = config or DeriveConfig()
    cols: dict[str, dict[str, list[float]]] = {}
    for batch in iter_texts(sources, limit_per_lang=cfg.limit_per_lang):
        for t, sig in zip(batch, quality_signals_batch([t.text for t in batch]), strict=True):
            g = cols.setdefault(f"{t.lang}/{t.script}", {})
            for key, value in sig.items():
                g.setdefault(key, []).append(float(value))
            if t.lang_score is not None:
                g.setdefault("lang_score", []).append(float(t.lang_score))
    return {g: {k: np.asarray(v, dtype=np.float64) for k, v in c.items()} for g, c in cols.items()}


def _limits(signals: dict[str, np.ndarray], tail: float, margin: float) -> dict[str, float]:
    out = {}
    for key, (signal, kind, floor, ceiling) in BOUNDS.items():
        v = signals[signal]
        q1, q, q3 = np.quantile(v, [0.25, 1.0 - tail if kind == "max" else tail, 0.75])
        q = q + margin * (q3 - q1) if kind == "max" else q - margin * (q3 - q1)
        value = float(min(ceiling, max(floor, q)))
        out[key] = float(math.floor(value)) if key in _INT_FIELDS else round(value, 6)
    return out


def _kept(signals: dict[str, np.ndarray], limits: dict[str, float]) -> np.ndarray:
    ok = np.ones(len(signals["n_chars"]), dtype=bool)
    for key, value in limits.items():
        signal, kind, _, _ = BOUNDS[key]
        ok &= signals[signal] <= value if kind == "max" else signals[signal] >= value
    return ok


def derive_group(signals: dict[str, np.ndarray], config: DeriveConfig) -> Group:
    """Rule quantile-tail/1 for one group (see the module docstring)."""
    lo, hi = 0.0, config.max_tail
    if _kept(signals, _limits(signals, hi, config.margin)).mean() >= config.keep:
        lo = hi
    else:
        while hi - lo > 1e-4:
            mid = (lo + hi) / 2
            if _kept(signals, _limits(signals, mid, config.margin)).mean() >= config.keep:
                lo = mid
            else:
                hi = mid
    limits = _limits(signals, lo, config.margin)
    scores = signals.get("lang_score")
    lid = None
    if scores is not None and len(scores) == len(signals["n_chars"]):
        lid = round(max(0.3, min(0.9, float(np.median(scores) - np.std(scores)))), 4)
    return Group(
        docs=len(signals["n_chars"]),
        tail=round(lo, 5),
        kept_share=round(float(_kept(signals, limits).mean()), 5),
        thresholds=limits,
        lang_min_score=lid,
    )


def derive_thresholds(
    sources: list[str], out: str | None = None, config: DeriveConfig | None = None
) -> ThresholdsFile:
    """Measure the reference sources, derive every group's thresholds, write ``out`` (JSON).

    Raises:
        ThresholdsError: no group has enough reference documents.
        crossling.textsources.SourceError: a source that cannot be read.
    """
    cfg = config or DeriveConfig()
    measured = measure_reference(sources, cfg)
    groups = {
        g: derive_group(s, cfg)
        for g, s in sorted(measured.items())
        if len(s["n_chars"]) >= cfg.min_docs
    }
    if not groups:
        sizes = ", ".join(f"{g} {len(s['n_chars'])}" for g, s in sorted(measured.items()))
        raise ThresholdsError(
            f"no language has {cfg.min_docs} reference documents ({sizes or 'none'}): "
            "give more reference text or lower min_docs"
        )
    tf = ThresholdsFile(
        format=FORMAT,
        rule=RULE,
        params=cfg,
        reference=[os.path.abspath(s) for s in sources],
        groups=groups,
    )
    if out:
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(tf.model_dump_json(indent=1) + "\n")
        os.replace(tmp, out)
    return tf


# --- the file ------------------------------------------------------------------------------------


def load_thresholds(path: str) -> ThresholdsFile:
    """Read and check a thresholds file; :class:`ThresholdsError` (one line, naming the file)."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    except OSError as e:
        raise ThresholdsError(f"{path}: cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise ThresholdsError(f"{path}: not UTF-8 text") from None
    if not raw.strip():
        raise ThresholdsError(f"{path}: empty file (expected a {FORMAT} JSON file)")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ThresholdsError(
            f"{path}: not JSON (line {e.lineno}, column {e.colno}: {e.msg})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ThresholdsError(f"{path}: not a thresholds file (format {found!r}, want {FORMAT!r})")
    try:
        tf = ThresholdsFile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ThresholdsError(f"{path}: {where}: {msg}") from None
    if tf.rule != RULE:
        raise ThresholdsError(f"{path}: rule {tf.rule!r} is not known (want {RULE!r})")
    for name in tf.groups:
        if name.count("/") != 1 or not all(name.split("/")):
            raise ThresholdsError(f"{path}: groups.{name}: not a 'lang/Script' group name")
    return tf


def file_digest(path: str) -> str:
    """sha256 of a thresholds file (recorded in the manifest of the version it decided)."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def per_lang_thresholds(tf: ThresholdsFile) -> dict[str, dict[str, float]]:
    """Thresholds per language code (a language with several scripts: its largest group)."""
    best: dict[str, tuple[int, dict[str, float]]] = {}
    for name, g in tf.groups.items():
        lang = name.split("/")[0]
        if lang not in best or g.docs > best[lang][0]:
            best[lang] = (g.docs, g.thresholds)
    return {lang: dict(v[1]) for lang, v in sorted(best.items())}


def apply_to_quality(quality: QualityConfig, tf: ThresholdsFile) -> QualityConfig:
    """``quality`` with the file's thresholds as per-language overrides (the config's own
    ``per_lang`` entries win over the file's)."""
    merged = per_lang_thresholds(tf)
    for lang, over in quality.per_lang.items():
        merged[lang] = {**merged.get(lang, {}), **over}
    for over in merged.values():  # types as Thresholds has them
        for k in _INT_FIELDS & set(over):
            over[k] = int(over[k])
    return quality.model_copy(update={"per_lang": merged})


def langid_overrides(tf: ThresholdsFile) -> dict[str, float]:
    """Language-ID score thresholds per language from the file (languages with scores)."""
    out: dict[str, tuple[int, float]] = {}
    for name, g in tf.groups.items():
        lang = name.split("/")[0]
        if g.lang_min_score is not None and (lang not in out or g.docs > out[lang][0]):
            out[lang] = (g.docs, g.lang_min_score)
    return {k: v[1] for k, v in sorted(out.items())}


def describe(path: str, tf: ThresholdsFile) -> str:
    """What a decision's detail and the manifest say about the thresholds that applied."""
    return f"{os.path.basename(path)} ({tf.rule}, keep {tf.params.keep})"
