"""``crossling backtranslate``: monolingual documents of a corpus version become synthetic pairs in
a new version derived from it (crossling.augment.backtranslate), as a Prefect flow.

Publishes per round:

- a table ``backtranslate-<corpus>-filters``: sentences kept and dropped, by reason,
- a table ``backtranslate-<corpus>-samples``: 20 random kept pairs (synthetic source, real target),
- a markdown ``backtranslate-<corpus>-summary``: model and its lineage, budget, sentences per
  second, conservation, the manifest,
- the event ``crossling.corpus.published`` for the new version (payload ``derived``:
  ``backtranslation``), so the train deployment retrains on real and synthetic pairs.

Iterative back-translation (``rounds`` > 1, Hoang et al. 2018): after each round a translation
model is trained on the new version (real and synthetic pairs) and back-translates the next
round; with ``alternate`` the direction swaps each round when the corpus has documents in both
languages. Each version's manifest names the checkpoint that made its rows, and that checkpoint's
metadata names the version it was trained on.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, Field, create_model

from crossling.augment.backtranslate import BacktranslateConfig
from crossling.storage import MANIFEST, DataRoot
from crossling.train.config import TrainConfig
from flows.cli_params import Opt, add_options, build
from flows.deployment_flow import deployment_flow
from flows.events import emit
from flows.links import artifact_key, output_link
from tasks.backtranslate import backtranslate_task
from tasks.events import CORPUS_ORIGIN, CORPUS_PUBLISHED, corpus_resource

# TrainConfig fields a round's training takes from the round itself.
_FROM_ROUND = {"data_root", "corpus", "version", "objective", "directions", "model_name"}

RoundTraining = create_model(
    "RoundTraining",
    __doc__="How the model of each later round is trained (translation, on the new version).",
    **{
        name: (f.annotation, f)
        for name, f in TrainConfig.model_fields.items()
        if name not in _FROM_ROUND
    },
)


class BacktranslateParams(BaseModel):
    """Parameters of a back-translation run (rendered as a form in the Prefect UI)."""

    root: str = Field("./data", description="Data root holding corpora/ and models/.")
    corpus: str = Field(description="Corpus name under the data root.")
    version: str = Field("latest", description="The version to derive from, or 'latest'.")
    config: BacktranslateConfig = Field(description="Languages, model, decoding, filters, budget.")
    rounds: int = Field(
        1, ge=1, le=10, description="Rounds of iterative back-translation (1: just this one)."
    )
    alternate: bool = Field(
        True,
        description="Rounds > 1: swap the two languages each round when the corpus has "
        "documents in both (each direction improves the other).",
    )
    train: RoundTraining = Field(  # type: ignore[valid-type]
        default_factory=RoundTraining,
        description="Rounds > 1: how each round's translation model is trained.",
    )


def publish_artifacts(s: dict[str, Any], root: str) -> None:
    """The filters table, 20 sample pairs and the summary of one round."""
    key = artifact_key("backtranslate", s["name"])
    inputs = max(1, s.get("inputs") or 0)
    rows = [{"outcome": "kept", "sentences": s["kept"], "share": round(s["kept"] / inputs, 4)}]
    rows += [
        {"outcome": f"dropped: {reason}", "sentences": n, "share": round(n / inputs, 4)}
        for reason, n in sorted((s.get("dropped") or {}).items(), key=lambda kv: -kv[1])
    ]
    create_table_artifact(
        table=rows,
        key=f"{key}-filters",
        description=f"Back-translated sentences kept and dropped by reason, {s['name']} "
        f"{s['version']} ({s['direction']})",
    )
    samples = [
        {
            "synthetic source": r["src_text"],
            "real target": r["tgt_text"],
            "score": round(float(r["score"]), 3) if r.get("score") is not None else None,
            "document": r["origin_id"],
        }
        for r in s.get("samples") or []
    ]
    create_table_artifact(
        table=samples or [{"synthetic source": None}],
        key=f"{key}-samples",
        description=f"{len(samples)} random back-translated pairs of {s['name']} {s['version']}",
    )
    data = DataRoot(root)
    manifest = output_link(os.path.join(data.version_dir(s["name"], s["version"]), MANIFEST))
    model = s.get("model") or {}
    ckpt = model.get("checkpoint") or {}
    trained_on = (ckpt.get("corpus") or {}).get("version")
    budget = s.get("budget") or {}
    lines = [
        f"# Back-translation {s['name']} `{s['version']}` (round {s.get('round', 1)})",
        "",
        f"- {'new version' if s['new'] else 'already complete'}, derived from `{s['parent']}`",
        f"- direction **{s['direction']}**: {s['lang']} documents translated into {s['to']}, "
        f"method `{s['method']}` ({s['decoding']}), backend {s['backend']}"
        + (f" {s['compute_type']}" if s.get("compute_type") else "")
        + f" on {s.get('device')}",
        f"- model `{model.get('id')}` sha256 `{str(model.get('sha256'))[:16]}`"
        + (f", trained on version `{trained_on}`" if trained_on else ""),
        f"- sentences read {s['inputs']}, kept {s['kept']}, dropped "
        f"{sum((s.get('dropped') or {}).values())}; budget {budget.get('limit')} (real pairs "
        f"{budget.get('real_pairs')}, synthetic before {budget.get('existing_synthetic')})",
        f"- speed: {s.get('sentences_per_s', 0):,.1f} sentences/s translating, "
        f"{s.get('seconds', 0):.1f} s in all",
        f"- conservation: {'balanced' if s['conservation']['balanced'] else 'FAILED'}",
        f"- manifest: [{manifest.label(s['version'])}]({manifest.url})",
    ]
    create_markdown_artifact(
        markdown="\n".join(lines) + "\n",
        key=f"{key}-summary",
        description=f"Back-translation of {s['name']} into {s['version']}",
    )


def _emit_published(s: dict[str, Any], root: str) -> None:
    from crossling.corpus import CorpusVersion

    v = CorpusVersion.open(root, s["name"], s["version"])
    emit(
        CORPUS_PUBLISHED,
        corpus_resource(s["name"]),
        {
            "root": os.path.abspath(root) if "://" not in root else root,
            "name": s["name"],
            "version": s["version"],
            "manifest_uri": v.root.uri(os.path.join(v.path, MANIFEST)),
            "manifest_sha256": v.manifest_sha256,
            "counts": {k: s["counts"][k] for k in ("docs", "pairs", "rejects")},
            "derived": "backtranslation",
            "parent": s["parent"],
        },
        name=s["name"],
        labels={CORPUS_ORIGIN: "backtranslation"},
    )


def _has_docs(root: str, corpus: str, version: str, lang: str) -> bool:
    from crossling.corpus import CorpusVersion

    chain = CorpusVersion.open(root, corpus, version).chain()
    return any(v.files("docs", split="train", langs=[lang]) for v in chain)


@deployment_flow(name="crossling-backtranslate", log_prints=True, validate_parameters=True)
def backtranslate_flow(params: BacktranslateParams) -> dict[str, Any]:
    """One or more rounds of back-translation; returns the summary of each round."""
    from flows.train import train_flow

    logger = get_run_logger()
    version, cfg = params.version, params.config
    rounds: list[dict[str, Any]] = []
    for r in range(1, params.rounds + 1):
        if r > 1:
            tcfg = TrainConfig(
                data_root=params.root,
                corpus=params.corpus,
                version=version,
                objective="translation",
                model_name=f"{params.corpus}-bt-round{r}",
                **params.train.model_dump(exclude_unset=True),
            )
            trained = train_flow.with_options(flow_run_name=f"backtranslate-round{r}-train")(tcfg)
            swap = params.alternate and _has_docs(params.root, params.corpus, version, cfg.to)
            lang, to = (cfg.to, cfg.lang) if swap else (cfg.lang, cfg.to)
            cfg = cfg.model_copy(
                update={"model": trained["checkpoint"], "lang": lang, "to": to, "round": r}
            )
        s = backtranslate_task(params.root, params.corpus, version, cfg.model_dump(mode="json"))
        logger.info(
            "round %d: %s %s -> %s: %d of %d sentences kept (%s), %.1f sentences/s",
            r,
            s["version"],
            s["lang"],
            s["to"],
            s["kept"],
            s["inputs"],
            s["dropped"],
            s.get("sentences_per_s", 0.0),
        )
        publish_artifacts(s, params.root)
        if s["new"]:
            _emit_published(s, params.root)
        rounds.append(s)
        version = s["version"]
    return {"version": version, "rounds": rounds}


def run_backtranslate(params: BacktranslateParams) -> dict[str, Any]:
    """Run the flow (a temporary Prefect server starts if no API is configured)."""
    return backtranslate_flow(params)


# --- command line ------------------------------------------------------------------------------------


def print_summary(s: dict[str, Any]) -> None:
    state = "new version" if s["new"] else "already complete"
    print(
        f"corpus {s['name']} {s['version']} ({state}, parent {s['parent']}): "
        f"{s['direction']} by {s['method']} with {s['backend']}"
    )
    dropped = ", ".join(f"{k} {v}" for k, v in (s.get("dropped") or {}).items()) or "none"
    print(f"  sentences read {s['inputs']}, kept {s['kept']}; dropped: {dropped}")
    budget = s.get("budget") or {}
    print(
        f"  budget {budget.get('limit')} synthetic pairs (real {budget.get('real_pairs')})"
        + (", reached" if s.get("budget_reached") else "")
    )
    print(
        f"  {s.get('sentences_per_s', 0):,.1f} sentences/s translating; "
        f"conservation {'balanced' if s['conservation']['balanced'] else 'FAILED'}"
    )
    print(f"  model {(s.get('model') or {}).get('id')}")
    for r in (s.get("samples") or [])[:3]:
        print(f"  e.g. {r['src_text']}  <-  {r['tgt_text']}")


# The command's options, made from BacktranslateParams and its nested configs (one declaration:
# the UI form and --help say the same). The fields in UI_ONLY are set in the UI or a deployment.
CLI_OPTIONS = [
    Opt("root", flag="--data", metavar="ROOT", required=True),
    Opt("corpus", metavar="NAME"),
    Opt("version", metavar="V"),
    Opt("config.lang", flag="--lang", metavar="XX", required=True),
    Opt("config.to", flag="--to", metavar="YY", required=True),
    Opt("config.model", flag="--model", metavar="DIR|latest"),
    Opt("config.backend", flag="--backend"),
    Opt("config.decoding.beam", metavar="N"),
    Opt("config.decoding.sample"),
    Opt("config.decoding.top_k", metavar="K"),
    Opt("config.decoding.temperature", metavar="T"),
    Opt("config.decoding.seed", metavar="N"),
    Opt("config.tag", invert="--no-tag"),
    Opt("config.budget_ratio", flag="--budget", metavar="RATIO|none", type=str),
    Opt("config.max_segments", metavar="N"),
    Opt("config.filters.round_trip", flag="--round-trip"),
    Opt("config.filters.min_round_trip_chrf", flag="--min-round-trip", metavar="CHRF"),
    Opt("config.device", flag="--device"),
    Opt("config.compute_type", metavar="TYPE"),
    Opt("config.threads", metavar="N"),
    Opt("config.cache_dir", metavar="DIR"),
    Opt("config.chunk_segments", metavar="N"),
    Opt("config.rows_per_part", metavar="N"),
    Opt("rounds", metavar="N"),
    Opt("alternate", invert="--no-alternate"),
]
UI_ONLY = {
    "config.decoding": "token limits and batch size of decoding (the model's settings)",
    "config.segment": "sentence splitting of the documents",
    "config.filters": "the output checks' thresholds (on the command line: --round-trip)",
    "config.round": "set by the flow for each round (lineage)",
    "train": "how each later round's model is trained (rounds > 1)",
}


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backtranslate",
        help="turn monolingual documents into synthetic parallel pairs (a derived version)",
        description="Translate the documents of one language of a corpus version with a "
        "reverse-direction model and write the filtered synthetic pairs as a new version "
        "derived from it.",
    )
    add_options(p, BacktranslateParams, CLI_OPTIONS)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cli, check=_params)


def _params(args: argparse.Namespace) -> BacktranslateParams:
    from flows.cli import UsageError

    if args.config__decoding__beam is not None and args.config__decoding__sample:
        raise UsageError("--beam and --sample: one or the other")
    if args.config__filters__min_round_trip_chrf is not None and not (
        args.config__filters__round_trip
    ):
        raise UsageError("--min-round-trip needs --round-trip")
    extra: dict[str, Any] = {}
    budget = args.config__budget_ratio
    if budget is not None:
        if budget == "none":  # the model's "no budget"; over the option's text
            extra = {"config": {"budget_ratio": None}}
        else:
            try:
                float(budget)
            except ValueError:
                raise UsageError(f"--budget {budget}: a number or 'none'") from None
    return build(BacktranslateParams, CLI_OPTIONS, args, **extra)


def _cli(args: argparse.Namespace) -> int:
    from crossling.augment.translate import ModelNotFound, resolve_model
    from crossling.corpus import CorpusNotFound, CorpusVersion
    from crossling.langid import canonical
    from flows.cli import UsageError

    data = DataRoot(args.root)
    if not data.fs.exists(data.path):
        raise UsageError(f"data root {args.root} does not exist")
    params = _params(args)
    cfg = params.config
    try:
        # Fail fast, in one line, before any Prefect work: the corpus, the languages, the model.
        v = CorpusVersion.open(params.root, params.corpus, params.version)
        lang, to = canonical(cfg.lang)[0], canonical(cfg.to)[0]
        if not _has_docs(params.root, params.corpus, v.version, lang):
            raise UsageError(f"corpus {params.corpus}@{v.version} has no train documents in {lang}")
        if params.rounds == 1:
            resolve_model(cfg.model, params.root, lang, to)
    except (CorpusNotFound, ModelNotFound) as e:
        raise UsageError(str(e)) from None
    try:
        out = run_backtranslate(params)
    except (ModelNotFound, ValueError) as e:
        raise UsageError(str(e).splitlines()[0]) from None
    if args.json:
        print(json.dumps(out, indent=2, default=str))
    else:
        for s in out["rounds"]:
            print_summary(s)
    return 0 if all(s["conservation"]["balanced"] for s in out["rounds"]) else 1
