"""The corpus run's config: the run's own settings plus the section each step and stage owns.

``CorpusConfig`` is built from :mod:`crossling.run.registry`: every registered Step and
GlobalStage names its section (``config_key``) and model (``config_model``), so a new step brings
its settings with it. The keys are those users write in their config files (``langid``,
``quality``, ``urls``, ``pairs``, ``dedup``; the held-out split's fields at the top level).
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from pydantic import BaseModel, Field, create_model

from crossling.run.registry import GLOBAL_STAGES, SECTIONS, STEPS
from crossling.sources.remote import RemoteConfig


class RunSettings(BaseModel):
    """Settings of the run itself (not of one step)."""

    langs: list[str] | None = Field(
        None, description="Keep only these languages (ISO 639-1 codes); all when empty."
    )
    max_doc_bytes: int = Field(8 << 20, description="Records larger than this are rejected.")
    partition_bytes: int = Field(
        64 << 20, description="Large JSONL/Parquet inputs are cut into partitions of this size."
    )
    thresholds_file: str | None = Field(
        None,
        description="A thresholds file written by `crossling thresholds` (per-language limits "
        "derived from reference text): its limits become quality.per_lang and "
        "langid.min_score_per_lang entries (values set in the config win). Thresholds only: a "
        "rerun with another file reuses the measured tags.",
    )
    remote: RemoteConfig = Field(
        default_factory=RemoteConfig,
        description="Inputs given as URLs (http(s)://, s3://, path lists): retries, timeouts, "
        "the path lists' base URL. Not part of the version's hash: what it reads is (inputs).",
    )


def _compose() -> type[BaseModel]:
    """RunSettings plus every registered section (a section shared by several classes, such as
    ``dedup``, must have the same model in each)."""
    sections: dict[str, type[BaseModel]] = dict(SECTIONS)
    top: list[type[BaseModel]] = []
    for cls in [*STEPS, *GLOBAL_STAGES]:
        model = cls.config_model
        if model is None:
            continue
        if cls.config_key is None:
            if model not in top:
                top.append(model)
            continue
        if sections.setdefault(cls.config_key, model) is not model:
            raise TypeError(
                f"{cls.__name__}: config section {cls.config_key!r} is "
                f"{sections[cls.config_key].__name__} elsewhere, not {model.__name__}"
            )
    fields: dict[str, Any] = {
        key: (model, Field(default_factory=model, description=(model.__doc__ or "").strip()))
        for key, model in sections.items()
    }
    return create_model(
        "CorpusConfig",
        __base__=(RunSettings, *top),
        __doc__="Everything that decides what a corpus version contains (hashed into its "
        "version name): the run's settings and every step's and stage's section.",
        __module__=__name__,
        **fields,
    )


CorpusConfig = _compose()


def merge_config(base: dict[str, Any], *overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Deep merge: each override's keys replace the base's, nested dicts key by key (a nested key
    absent from the override keeps the base's value); ``None`` values in an override are skipped."""
    out = copy.deepcopy(base)
    for over in overrides:
        for k, v in (over or {}).items():
            if v is None:
                continue
            if isinstance(v, dict) and isinstance(out.get(k), dict):
                out[k] = merge_config(out[k], v)
            else:
                out[k] = copy.deepcopy(v)
    return out


def read_config_file(path: str | None) -> dict[str, Any]:
    """A config file (JSON or YAML) as a dict; {} for None."""
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text) or {}
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config must be a mapping, not {type(data).__name__}")
    return data


def load_config(path: str | None = None, overrides: dict[str, Any] | None = None, **flags: Any):
    """The one config merge: defaults, then the file, then ``overrides`` (the flow's dict from the
    UI), then command-line ``flags`` (nested with dots: ``**{"langid.mode": "line"}``).

    Returns a :data:`CorpusConfig`."""
    nested: dict[str, Any] = {}
    for k, v in flags.items():
        if v is None:
            continue
        node = nested
        *head, last = k.split(".")
        for h in head:
            node = node.setdefault(h, {})
        node[last] = v
    data = merge_config(CorpusConfig().model_dump(), read_config_file(path), overrides, nested)
    return apply_thresholds_file(CorpusConfig.model_validate(data))


def apply_thresholds_file(cfg: Any) -> Any:
    """``cfg`` with its ``thresholds_file`` applied (unchanged without one): the file's limits as
    ``quality.per_lang`` and ``langid.min_score_per_lang`` entries under the config's own.

    Raises:
        crossling.thresholds.ThresholdsError: the file is missing or malformed (one line, naming
            the file).
    """
    if not cfg.thresholds_file:
        return cfg
    from crossling.thresholds import apply_to_quality, langid_overrides, load_thresholds

    tf = load_thresholds(cfg.thresholds_file)
    path = os.path.abspath(cfg.thresholds_file)  # workers may run elsewhere than the command
    langid = cfg.langid.model_copy(
        update={"min_score_per_lang": {**langid_overrides(tf), **cfg.langid.min_score_per_lang}}
    )
    return cfg.model_copy(
        update={
            "quality": apply_to_quality(cfg.quality, tf),
            "langid": langid,
            "thresholds_file": path,
        }
    )


def check_steps(cfg: Any) -> None:
    """Build every step from ``cfg`` and ask for its measuring config, as planning does: list
    files, a quality model folder and the like are read now, so that a bad one stops a command
    before anything runs.

    Raises:
        ValueError: the step's one-line error (BlocklistError, QualityModelError, ...).
    """
    for cls in STEPS:
        cls.from_config(cfg).measure_config()


def thresholds_record(cfg: Any) -> dict[str, Any] | None:
    """What the manifest records about the thresholds file that applied (None without one)."""
    if not cfg.thresholds_file:
        return None
    from crossling.thresholds import describe, file_digest, load_thresholds

    tf = load_thresholds(cfg.thresholds_file)
    return {
        "file": cfg.thresholds_file,
        "sha256": file_digest(cfg.thresholds_file),
        "rule": tf.rule,
        "params": tf.params.model_dump(mode="json"),
        "languages": sorted({g.split("/")[0] for g in tf.groups}),
        "applied": describe(cfg.thresholds_file, tf),
    }
