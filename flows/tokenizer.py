"""``crossling tokenizer``: fertility and parity per language, and vocabulary extension.

    crossling tokenizer fertility --data ROOT --corpus NAME --tokenizer DIR [--tokenizer DIR2]
    crossling tokenizer extend --data ROOT --corpus NAME --tokenizer DIR --lang sw --out DIR
        [--pieces 2000] [--model CHECKPOINT --model-out DIR]

``extend`` learns pieces for one language on its train DOCS, appends them to the tokenizer
(old ids unchanged), prints fertility before and after on the held-out rows, and with
``--model`` writes a copy of the model with its embeddings resized (new rows: the mean of their
old sub-pieces' rows), ready for ``crossling train --init-from``. Local work, no Prefect.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from crossling.corpus import HELDOUT, TRAIN, CorpusVersion


def _versions(args: argparse.Namespace) -> list[CorpusVersion]:
    head = CorpusVersion.open(args.data, args.corpus, args.version)
    return list(reversed(head.chain()))


def _cmd_fertility(args: argparse.Namespace) -> int:
    from crossling import vocab
    from crossling.tokenizer import load_tokenizer
    from flows.cli import UsageError

    for d in args.tokenizer:
        if not os.path.isdir(d):
            raise UsageError(f"--tokenizer {d}: not a directory")
    try:
        texts, pairs = vocab.corpus_texts(_versions(args), args.split, args.max_rows)
    except ValueError as e:  # CorpusNotFound included
        raise UsageError(str(e).splitlines()[0]) from None
    tables = {d: vocab.fertility(load_tokenizer(d), texts, pairs) for d in args.tokenizer}
    if args.json:
        print(json.dumps({d: vocab.fertility_dict(t) for d, t in tables.items()}, indent=2))
    else:
        print(vocab.format_fertility(tables))
    return 0


def _cmd_extend(args: argparse.Namespace) -> int:
    from crossling import vocab
    from crossling.tokenizer import load_tokenizer
    from flows.cli import UsageError

    if not os.path.isdir(args.tokenizer):
        raise UsageError(f"--tokenizer {args.tokenizer}: not a directory")
    if args.model_out and not args.model:
        raise UsageError("--model-out needs --model CHECKPOINT")
    try:
        versions = _versions(args)
        train, _ = vocab.corpus_texts(versions, TRAIN, args.max_train_rows)
        if not train.get(args.lang):
            raise UsageError(
                f"corpus {args.corpus}: no train DOCS in language {args.lang!r} to learn from"
            )
        record = vocab.extend_tokenizer(
            args.tokenizer,
            train[args.lang],
            args.lang,
            args.out,
            vocab.ExtendConfig(new_pieces=args.pieces, seed=args.seed),
        )
        held, pairs = vocab.corpus_texts(versions, HELDOUT, 500)
    except ValueError as e:
        raise UsageError(str(e).splitlines()[0]) from None
    old, new = load_tokenizer(args.tokenizer), load_tokenizer(args.out)
    before, after = vocab.fertility(old, held, pairs), vocab.fertility(new, held, pairs)
    print(
        f"{args.out}: {record['extension']['added']} {args.lang} pieces added "
        f"({record['extended_from']['vocab_size']} -> {record['vocab_size']})"
    )
    print(vocab.format_fertility({"before": before, "after": after}))
    result: dict[str, Any] = {
        "tokenizer": args.out,
        "fertility": {"before": vocab.fertility_dict(before), "after": vocab.fertility_dict(after)},
    }
    if args.model:
        result["model"] = _resize_model(args, old, new)
        print(f"model with resized embeddings: {args.model_out} ({result['model']})")
    with open(os.path.join(args.out, "fertility.json"), "w", encoding="utf-8") as f:
        json.dump(result["fertility"], f, indent=2)
    return 0


def _resize_model(args: argparse.Namespace, old: Any, new: Any) -> dict[str, int]:
    import transformers as tf

    from crossling import vocab
    from crossling.train.models import model_dir_kind
    from flows.cli import UsageError

    try:
        kind = model_dir_kind(args.model)
    except ValueError as e:
        raise UsageError(str(e)) from None
    auto = {
        "causal": tf.AutoModelForCausalLM,
        "encoder": tf.AutoModelForMaskedLM,
        "seq2seq": tf.AutoModelForSeq2SeqLM,
    }[kind]
    model = auto.from_pretrained(args.model, local_files_only=True, use_safetensors=True)
    counts = vocab.resize_embeddings(model, old, new)
    out = args.model_out or f"{args.model.rstrip('/')}-{args.lang}-extended"
    args.model_out = out
    model.save_pretrained(out)
    new.save_pretrained(out)  # the model directory carries the tokenizer it now needs
    return counts


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    """Add ``crossling tokenizer fertility|extend``."""
    p = subparsers.add_parser(
        "tokenizer",
        help="tokenizer fertility per language; extend a tokenizer for a language",
        description="Tokens per word / character and parity with English per language, and "
        "vocabulary extension for a language the tokenizer serves badly.",
    )
    p.set_defaults(needs_prefect=False)  # local work: no Prefect API
    sub = p.add_subparsers(dest="tokenizer_command", metavar="ACTION", required=True)

    def corpus_args(q: argparse.ArgumentParser) -> None:
        q.add_argument("--data", required=True, metavar="ROOT", help="data root holding corpora/")
        q.add_argument("--corpus", required=True, metavar="NAME")
        q.add_argument("--version", default="latest", metavar="V")

    f = sub.add_parser("fertility", help="fertility and parity of tokenizers per language")
    corpus_args(f)
    f.add_argument(
        "--tokenizer",
        action="append",
        required=True,
        metavar="DIR",
        help="tokenizer or model directory (repeat to compare)",
    )
    f.add_argument("--split", default=HELDOUT, choices=[TRAIN, HELDOUT])
    f.add_argument("--max-rows", type=int, default=500, help="rows per language / direction")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=_cmd_fertility, needs_prefect=False)

    e = sub.add_parser("extend", help="add pieces for one language to a crossling tokenizer")
    corpus_args(e)
    e.add_argument("--tokenizer", required=True, metavar="DIR", help="the tokenizer to extend")
    e.add_argument("--lang", required=True, help="language code of the DOCS to learn pieces from")
    e.add_argument("--out", required=True, metavar="DIR", help="where the new tokenizer goes")
    e.add_argument("--pieces", type=int, default=2000, help="pieces to add at most")
    e.add_argument("--max-train-rows", type=int, default=100_000)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--model", metavar="CHECKPOINT", help="a model to resize to the new vocabulary")
    e.add_argument("--model-out", metavar="DIR", help="where the resized model goes")
    e.set_defaults(func=_cmd_extend, needs_prefect=False)
