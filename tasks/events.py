"""The events crossling emits (names, resources, payloads: docs/CONTRACTS.md "Events").

Every flow, task and test names events through these constants; deployments/prefect.yaml
(triggers) spells the same strings.
"""

from __future__ import annotations

CORPUS_PUBLISHED = "crossling.corpus.published"  # resource crossling.corpus.<name>
CHECKPOINT_SAVED = "crossling.checkpoint.saved"  # resource crossling.model.<model_name>
EVAL_COMPLETED = "crossling.eval.completed"  # resource crossling.model.<model_name>


def corpus_resource(name: str) -> str:
    return f"crossling.corpus.{name}"


def model_resource(model_name: str) -> str:
    return f"crossling.model.{model_name}"


# Resource label of crossling.corpus.published: how the version was made. A version built from
# inputs (corpus, crawl) is "inputs"; one derived from another version names how ("backtranslation").
# The retraining trigger matches "inputs" only (deployments/prefect.yaml).
CORPUS_ORIGIN = "crossling.corpus.origin"
