"""How a step finds its own config section.

A step is given either its own pydantic config (the layout where each step owns a section) or a
whole corpus config that has the section as an attribute (``config.pii``); a plain dict is
validated into the section's model.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def section(config: Any, key: str, model: type[M]) -> M:
    """The ``model`` section of ``config`` (itself, its attribute ``key``, or a dict of it)."""
    if isinstance(config, model):
        return config
    if config is None:
        return model()
    if isinstance(config, dict):
        return model.model_validate(config[key] if key in config else config)
    value = getattr(config, key, None)
    if value is None:
        return model()
    return value if isinstance(value, model) else model.model_validate(value)
