"""Tokenizer fertility and parity per language, and vocabulary extension for a badly served one.

Fertility (Rust et al. 2021, "How good is your tokenizer?") is tokens per word: a language the
vocabulary serves badly is cut into many short pieces, which makes its sequences longer (more
compute per sentence, less context) and its pieces less meaningful. Words are what
:func:`words` counts (runs of letters and digits; each Han, kana or Thai-script character counts
as one, since those scripts do not separate words with spaces). Tokens per character is given
too. Parity (Petrov et al. 2023, "Language model tokenizers introduce unfairness between
languages") is tokens of a text over tokens of its translation in an anchor language (English by
default), over parallel pairs: 1.0 is parity, 2.0 means twice the tokens for the same content.

Extension: :func:`extend_tokenizer` trains sentencepiece pieces on text of one language and
appends the ones the tokenizer lacks to its sentencepiece model (ModelProto through protobuf), so
every old piece keeps its id; :func:`resize_embeddings` grows a model's embedding (and untied
output) matrix to the new vocabulary, each new row the mean of the rows of the old pieces that
spelled the new piece out.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from crossling.storage import DataRoot, file_sha256, write_json

# A word: a run of letters/digits/marks, or one character of a script written without spaces.
_NO_SPACE = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"
_WORD_RE = re.compile(rf"[{_NO_SPACE}]|[^\W{_NO_SPACE}]+")


def words(text: str) -> int:
    """Words in ``text``: letter/digit runs, each character of a script without spaces apart."""
    return len(_WORD_RE.findall(text))


@dataclass
class Fertility:
    """How many tokens a tokenizer spends on the texts of one language."""

    texts: int
    tokens: int  # without special tokens
    words: int
    chars: int
    tokens_per_word: float
    tokens_per_char: float
    parity: float | None = None  # tokens / tokens of the anchor-language translations (pairs)
    parity_pairs: int = 0


def _count_tokens(tokenizer: Any, texts: list[str]) -> list[int]:
    enc = tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
    return [len(x) for x in enc]


def fertility(
    tokenizer: Any,
    texts_by_lang: dict[str, list[str]],
    pairs: Iterable[tuple[str, str, str, str]] = (),
    anchor: str = "en",
) -> dict[str, Fertility]:
    """Fertility per language of ``texts_by_lang``; parity from ``pairs`` of
    ``(lang_a, text_a, lang_b, text_b)`` where one side is in the ``anchor`` language."""
    out: dict[str, Fertility] = {}
    for lang, texts in sorted(texts_by_lang.items()):
        texts = [t for t in texts if t]
        if not texts:
            continue
        tokens = sum(_count_tokens(tokenizer, texts))
        w = sum(words(t) for t in texts)
        c = sum(len(t) for t in texts)
        out[lang] = Fertility(
            texts=len(texts),
            tokens=tokens,
            words=w,
            chars=c,
            tokens_per_word=tokens / w if w else float("nan"),
            tokens_per_char=tokens / c if c else float("nan"),
        )
    sides: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for la, ta, lb, tb in pairs:
        if lb == anchor and la != anchor:
            sides[la].append((ta, tb))
        elif la == anchor and lb != anchor:
            sides[lb].append((tb, ta))
    for lang, items in sides.items():
        mine = sum(_count_tokens(tokenizer, [a for a, _ in items]))
        theirs = sum(_count_tokens(tokenizer, [b for _, b in items]))
        if lang in out and theirs:
            out[lang].parity, out[lang].parity_pairs = mine / theirs, len(items)
    if anchor in out and anchor in {x for p in pairs for x in (p[0], p[2])}:
        out[anchor].parity = 1.0
    return out


def fertility_dict(f: dict[str, Fertility]) -> dict[str, dict[str, Any]]:
    """JSON-able, rounded."""
    return {
        lang: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(x).items()}
        for lang, x in f.items()
    }


def format_fertility(tables: dict[str, dict[str, Fertility]]) -> str:
    """A text table: one row per language, tokens/word, tokens/char and parity per tokenizer."""
    names = list(tables)
    langs = sorted({lang for t in tables.values() for lang in t})
    head = f"{'lang':6s}" + "".join(f" | {n[:28]:>28s}" for n in names)
    sub = f"{'':6s}" + "".join(
        f" | {'tok/word':>9s} {'tok/char':>8s} {'parity':>9s}" for _ in names
    )
    lines = [head, sub]
    for lang in langs:
        row = f"{lang:6s}"
        for n in names:
            x = tables[n].get(lang)
            if x is None:
                row += f" | {'-':>28s}"
                continue
            par = f"{x.parity:9.2f}" if x.parity is not None else f"{'-':>9s}"
            row += f" | {x.tokens_per_word:9.2f} {x.tokens_per_char:8.3f} {par}"
        lines.append(row)
    return "\n".join(lines)


def corpus_texts(
    versions: Iterable[Any], split: str, max_rows: int = 500
) -> tuple[dict[str, list[str]], list[tuple[str, str, str, str]]]:
    """(DOCS texts per language, real PAIRS) of a split of corpus versions, the first
    ``max_rows`` per language / direction by id (a fixed sample)."""
    texts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    pairs: dict[str, list[tuple[str, tuple[str, str, str, str]]]] = defaultdict(list)
    for v in versions:
        for b in v.docs(split=split, columns=["id", "text", "lang"]):
            for r in b.to_pylist():
                texts[r["lang"]].append((r["id"], r["text"]))
        cols = ["id", "src_lang", "tgt_lang", "src_text", "tgt_text", "synthetic"]
        for b in v.pairs(split=split, columns=cols):
            for r in b.to_pylist():
                if not r["synthetic"]:
                    key = f"{r['src_lang']}-{r['tgt_lang']}"
                    pairs[key].append(
                        (r["id"], (r["src_lang"], r["src_text"], r["tgt_lang"], r["tgt_text"]))
                    )
    by_lang = {k: [t for _, t in sorted(v)[:max_rows]] for k, v in texts.items()}
    flat = [p for v in pairs.values() for _, p in sorted(v)[:max_rows]]
    return by_lang, flat


# --- extension ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtendConfig:
    """How new pieces are learned for one language."""

    # Pieces to add at most (those the tokenizer already has are skipped, so fewer may be added).
    new_pieces: int = 2000
    # Size of the sentencepiece model trained on the language's text; the new pieces are its
    # most probable pieces the tokenizer lacks. Default: 2 x new_pieces.
    train_vocab: int | None = None
    # Characters that must be pieces of their own in the new model (CJK needs a high coverage).
    character_coverage: float = 0.9995
    # Longest piece, in characters.
    max_piece_length: int = 16
    seed: int = 0


def _proto(path: str) -> Any:
    from transformers.convert_slow_tokenizer import import_protobuf

    proto = import_protobuf().ModelProto()
    with open(path, "rb") as f:
        proto.ParseFromString(f.read())
    return proto


def extend_tokenizer(
    tokenizer_dir: str,
    texts: list[str],
    lang: str,
    out_dir: str,
    cfg: ExtendConfig | None = None,
) -> dict[str, Any]:
    """Write to ``out_dir`` the tokenizer of ``tokenizer_dir`` plus pieces learned on ``texts``.

    The tokenizer must be a crossling (sentencepiece unigram) tokenizer: its directory holds
    ``sentencepiece.bpe.model``. New pieces are appended after every existing one, so old ids do
    not move and a model's embedding rows stay where they were. Returns the extension's record
    (also in ``out_dir/metadata.json``).

    Raises:
        ValueError: no sentencepiece model in ``tokenizer_dir``, or no text (one line).
    """
    import sentencepiece as spm

    from crossling.tokenizer import METADATA, SPM_FILE, build_hf_tokenizer, special_pieces

    cfg = cfg or ExtendConfig()
    spm_path = os.path.join(tokenizer_dir, SPM_FILE)
    if not os.path.exists(spm_path):
        raise ValueError(f"{tokenizer_dir}: no {SPM_FILE} (only crossling tokenizers are extended)")
    lines = [line.strip() for t in texts for line in t.split("\n") if line.strip()]
    if not lines:
        raise ValueError(f"no {lang} text to learn pieces from")
    proto = _proto(spm_path)
    have = {p.piece for p in proto.pieces}
    size = cfg.train_vocab or 2 * cfg.new_pieces
    distinct = len({c for line in lines for c in line})
    model = io.BytesIO()
    spm.set_random_generator_seed(cfg.seed)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        model_type="unigram",
        vocab_size=max(size, distinct + 8),
        hard_vocab_limit=False,
        character_coverage=cfg.character_coverage,
        max_sentencepiece_length=cfg.max_piece_length,
        normalization_rule_name="identity",  # as the base tokenizer: text is NFC upstream
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        split_digits=True,
        byte_fallback=False,
        input_sentence_size=0,
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    learned = _proto_from_bytes(model.getvalue())
    normal = type(proto.pieces[0]).Type.NORMAL
    candidates = sorted(
        (p for p in learned.pieces if p.type == normal and p.piece not in have),
        key=lambda p: -p.score,
    )[: cfg.new_pieces]
    floor = min(p.score for p in proto.pieces if p.type == normal)
    for p in candidates:
        new = proto.pieces.add()
        new.piece, new.type = p.piece, normal
        # The new model's log-probability (at least the base model's lowest), so the unigram
        # segmentation takes a new piece where it covers the text with fewer, likelier pieces.
        new.score = max(p.score, floor)
    meta_path = os.path.join(tokenizer_dir, METADATA)
    languages = []
    if os.path.exists(meta_path):
        import json

        with open(meta_path, encoding="utf-8") as f:
            base_meta = json.load(f)
        languages = list(base_meta.get("languages") or [])
    else:
        base_meta = {}
    if not languages:
        languages = sorted(
            p.piece[len("<lang:") : -1] for p in proto.pieces if p.piece.startswith("<lang:")
        )
    # A new language gets pieces but no <lang:xx> tag: a tag is a user-defined piece, and
    # adding one would move ids. Translation into it needs a tokenizer trained with it.
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".extend-", dir=parent)
    try:
        new_spm = os.path.join(tmp, SPM_FILE)
        with open(new_spm, "wb") as f:
            f.write(proto.SerializeToString())
        tok = build_hf_tokenizer(new_spm, languages)
        tok.save_pretrained(tmp)
        record = {
            "format": "crossling-spm-v1",
            "extended_from": {
                "path": os.path.abspath(tokenizer_dir),
                "sha256": file_sha256(DataRoot(tokenizer_dir).fs, spm_path),
                "vocab_size": len(have),
            },
            "extension": {
                "lang": lang,
                "config": asdict(cfg),
                "added": len(candidates),
                "lines": len(lines),
                "examples": [p.piece for p in candidates[:20]],
            },
            "languages": languages,
            "special_tokens": special_pieces(languages),
            "vocab_size": len(tok),
            "sha256": file_sha256(DataRoot(tmp).fs, new_spm),
            "corpus": base_meta.get("corpus"),
            "corpus_versions": base_meta.get("corpus_versions"),
            "created_at": datetime.now(UTC).isoformat(),
        }
        write_json(DataRoot(tmp).fs, os.path.join(tmp, METADATA), record)
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return record


def _proto_from_bytes(data: bytes) -> Any:
    from transformers.convert_slow_tokenizer import import_protobuf

    proto = import_protobuf().ModelProto()
    proto.ParseFromString(data)
    return proto


def resize_embeddings(model: Any, old_tokenizer: Any, new_tokenizer: Any) -> dict[str, int]:
    """Grow ``model``'s vocabulary to ``new_tokenizer``'s; a new row is the mean of the rows of
    the old pieces that spell its piece (input embeddings, and the output projection if untied).

    Old ids must be unchanged (what :func:`extend_tokenizer` guarantees). Returns counts.
    """
    import torch

    old_n, new_n = len(old_tokenizer), len(new_tokenizer)
    if new_n < old_n:
        raise ValueError(f"the new tokenizer ({new_n}) is smaller than the old one ({old_n})")
    for i in (0, old_n // 2, old_n - 1):
        if old_tokenizer.convert_ids_to_tokens(i) != new_tokenizer.convert_ids_to_tokens(i):
            raise ValueError(f"piece {i} differs between the tokenizers: not an extension")
    emb_rows = model.get_input_embeddings().weight.shape[0]
    model.resize_token_embeddings(max(new_n, emb_rows), mean_resizing=False)
    inp = model.get_input_embeddings().weight
    out_layer = model.get_output_embeddings()
    untied = out_layer is not None and out_layer.weight.data_ptr() != inp.data_ptr()
    fallback = 0
    with torch.no_grad():
        mean_all = inp[:old_n].mean(0)
        for i in range(old_n, new_n):
            piece = new_tokenizer.convert_ids_to_tokens(i)
            text = piece.replace("\u2581", " ")
            ids = old_tokenizer(
                text.lstrip() if piece.startswith("\u2581") else text, add_special_tokens=False
            )["input_ids"]
            if not piece.startswith("\u2581") and ids:
                first = old_tokenizer.convert_ids_to_tokens(ids[0])
                if first == "\u2581":  # the dummy prefix spelled as a piece of its own
                    ids = ids[1:]
            ids = [x for x in ids if x < old_n and x != old_tokenizer.unk_token_id]
            if ids:
                inp[i] = inp[ids].mean(0)
                if untied:
                    out_layer.weight[i] = out_layer.weight[ids].mean(0)
            else:
                fallback += 1
                inp[i] = mean_all
                if untied:
                    out_layer.weight[i] = out_layer.weight[:old_n].mean(0)
    model.config.vocab_size = model.get_input_embeddings().weight.shape[0]
    return {
        "old": old_n,
        "new": new_n,
        "from_sub_pieces": new_n - old_n - fallback,
        "mean": fallback,
    }
