"""A sentencepiece unigram tokenizer per corpus version, trained on a language-balanced sample.

The sample is drawn from the train split (DOCS rows and both sides of PAIRS rows) with
exponentiated sampling, p_lang ∝ n_lang ** alpha (alpha = 0.3 as in XLM-R), so small languages get
pieces of their own instead of being spelled out letter by letter. Byte fallback is on: a character
never seen in training becomes its UTF-8 bytes rather than ``<unk>``, so any text round-trips.

Beside the sentencepiece model a transformers tokenizer is saved. It is *not* an
``XLMRobertaTokenizer``: in transformers 5 that class rebuilds its Unigram model with
``byte_fallback=False``, which maps byte pieces to ``<unk>`` (DESIGN.md pitfall). Instead the
backend is built from the sentencepiece proto with the settings sentencepiece itself uses and saved
as a generic ``TokenizersBackend``, which ``AutoTokenizer`` loads as it is. The ids are the
sentencepiece ids; tests check that both agree and that CJK text round-trips.

The tokenizer of a version is trained on the corpus as it stands there (the version and its
ancestors). Layout (docs/CONTRACTS.md)::

    <root>/tokenizers/<corpus>/<corpus_version>/sentencepiece.bpe.model
                                               /tokenizer.json, tokenizer_config.json
                                               /metadata.json     written last
"""

from __future__ import annotations

import io
import logging
import math
import os
import posixpath
import random
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from crossling.storage import DataRoot, config_hash, file_sha256, read_json, write_json
from crossling.train.corpus import TrainCorpus, temperature_probs

log = logging.getLogger(__name__)

SPM_FILE = "sentencepiece.bpe.model"  # the name XLM-R checkpoints use
METADATA = "metadata.json"
TOKENIZER_FORMAT = "crossling-spm-v1"

# Special pieces, with XLM-R's ids for the first four so XLM-R-shaped configs fit unchanged.
BOS, PAD, EOS, UNK = "<s>", "<pad>", "</s>", "<unk>"
BOS_ID, PAD_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
MASK = "<mask>"
BT_TAG = "<BT>"  # marks back-translated (synthetic) sources, Caswell et al. 2019


def lang_tag(lang: str) -> str:
    """The piece that names a language, e.g. ``<lang:de>`` (a target-language tag for translation)."""
    return f"<lang:{lang}>"


@dataclass(frozen=True)
class TokenizerConfig:
    """How the tokenizer of a corpus version is trained."""

    # Largest vocabulary. Small corpora get fewer pieces (see chars_per_piece): a 32k vocabulary
    # learned from 200 kB of text is mostly noise. XLM-R uses 250k for 100 languages.
    vocab_size: int = 32_000
    # At least this many characters of sample per piece, which caps the vocabulary of small
    # corpora. Lower it to get bigger vocabularies out of little text.
    chars_per_piece: int = 40
    # Exponent of language sampling: 1.0 = proportional to size, 0.0 = uniform. 0.3 is XLM-R's.
    alpha: float = 0.3
    # Characters in the training sample (all languages). 20M is plenty for 32k pieces; more only
    # costs memory and time in the trainer.
    sample_chars: int = 20_000_000
    # Share of characters that must be pieces of their own; the rest fall back to bytes. 0.9995
    # keeps the common CJK characters as pieces; 1.0 would make every rare character one.
    character_coverage: float = 0.9995
    # Longest piece, in characters.
    max_piece_length: int = 16
    # Pieces never span digits (1984 -> 1 9 8 4): numbers generalize better, as in LLaMA/XLM-R.
    split_digits: bool = True
    # Lines longer than this many characters are cut before training (sentencepiece skips
    # "sentences" over max_sentence_length bytes).
    max_line_chars: int = 2_000
    # Seeds the sample and sentencepiece's own sampling.
    seed: int = 0
    # Threads of the sentencepiece trainer.
    num_threads: int = max(1, min(8, os.cpu_count() or 1))


@dataclass(frozen=True)
class TokenizerInfo:
    """Where a trained tokenizer is, and what identifies it in lineage."""

    path: str  # directory, on the root's filesystem
    sha256: str  # of the sentencepiece model file
    vocab_size: int
    languages: list[str]

    def lineage(self) -> dict[str, str]:
        return {"path": self.path, "sha256": self.sha256}


# --- the sample ------------------------------------------------------------------------------------


def _lines(text: str, max_chars: int) -> list[str]:
    out = []
    for line in text.split("\n"):
        line = line.strip()
        for i in range(0, len(line), max_chars):
            if chunk := line[i : i + max_chars]:
                out.append(chunk)
    return out


def sample_text(corpus: TrainCorpus, cfg: TokenizerConfig) -> tuple[list[str], dict[str, int]]:
    """Lines drawn from the train split with p_lang ∝ n_lang ** alpha, and characters per language.

    The train split is that of every version ``corpus`` reads (the corpus as it stands). Each
    language's quota is ``budget * p_lang`` characters, where the budget is the smaller of
    ``sample_chars`` and the corpus size. Rows are taken in a seeded random order; a language
    smaller than its quota is repeated (that is the upsampling alpha asks for), one larger is
    subsampled row by row, so memory holds the sample only.
    """
    rng = random.Random(cfg.seed)
    sizes: dict[str, float] = dict(corpus.docs_sizes())
    pair_chars: dict[str, float] = {}
    for lang, text in _pair_sides(corpus):
        pair_chars[lang] = pair_chars.get(lang, 0.0) + len(text)
    for lang, n in pair_chars.items():
        sizes[lang] = sizes.get(lang, 0.0) + n
    probs = temperature_probs(sizes, cfg.alpha)
    budget = min(cfg.sample_chars, sum(sizes.values()))
    lines: list[str] = []
    taken: dict[str, int] = {}
    for lang, p in probs.items():
        quota = budget * p
        rate = quota / sizes[lang]  # >1: repeat, <1: subsample
        got = 0
        whole, frac = int(math.floor(rate)), rate - math.floor(rate)
        for text in _language_texts(corpus, lang):
            copies = whole + (1 if rng.random() < frac else 0)
            if copies:
                for line in _lines(text, cfg.max_line_chars):
                    lines.extend([line] * copies)
                    got += len(line) * copies
        taken[lang] = got
    rng.shuffle(lines)
    return lines, taken


def _pair_sides(corpus: TrainCorpus, lang: str | None = None) -> Iterator[tuple[str, str]]:
    """(language, text) of both sides of every train pair (of one language)."""
    for b in corpus.pairs(columns=["src_lang", "tgt_lang", "src_text", "tgt_text"]):
        for side in ("src", "tgt"):
            for l_, text in zip(
                b.column(f"{side}_lang").to_pylist(),
                b.column(f"{side}_text").to_pylist(),
                strict=True,
            ):
                if lang is None or l_ == lang:
                    yield l_, text


def _language_texts(corpus: TrainCorpus, lang: str) -> Iterator[str]:
    for b in corpus.docs(langs=[lang], columns=["text"]):
        yield from b.column("text").to_pylist()
    for _, text in _pair_sides(corpus, lang):
        yield text


# --- training ---------------------------------------------------------------------------------------


def special_pieces(languages: list[str]) -> list[str]:
    """User-defined pieces: always encoded whole, never split or merged."""
    return [MASK, BT_TAG, *(lang_tag(lang) for lang in sorted(languages))]


def train_sentencepiece(lines: list[str], languages: list[str], cfg: TokenizerConfig) -> bytes:
    """Train a unigram model on ``lines``; returns the serialized model."""
    import sentencepiece as spm

    chars = sum(len(x) for x in lines)
    specials = special_pieces(languages)
    # The trainer refuses a vocabulary smaller than the characters it must cover, plus the 256
    # byte pieces and the specials; below the cap it stops early (hard_vocab_limit=False).
    distinct = len({c for line in lines for c in line})
    floor = distinct + 256 + len(specials) + 8
    vocab = max(min(cfg.vocab_size, chars // max(1, cfg.chars_per_piece)), floor)
    spm.set_random_generator_seed(cfg.seed)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        model_type="unigram",
        vocab_size=vocab,
        hard_vocab_limit=False,
        character_coverage=cfg.character_coverage,
        byte_fallback=True,
        split_digits=cfg.split_digits,
        max_sentencepiece_length=cfg.max_piece_length,
        max_sentence_length=4 * cfg.max_line_chars + 16,  # bytes: 4 per character at most
        # Text is already NFC-normalized upstream; any further normalization (nmt_nfkc maps
        # full-width CJK punctuation to ASCII) would break the round trip.
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        bos_id=BOS_ID,
        pad_id=PAD_ID,
        eos_id=EOS_ID,
        unk_id=UNK_ID,
        bos_piece=BOS,
        pad_piece=PAD,
        eos_piece=EOS,
        unk_piece=UNK,
        user_defined_symbols=specials,
        num_threads=cfg.num_threads,
        input_sentence_size=0,  # the sample is already the size we want
        shuffle_input_sentence=False,
        minloglevel=2,
    )
    return model.getvalue()


def build_hf_tokenizer(spm_path: str, languages: list[str]) -> Any:
    """A transformers tokenizer with the sentencepiece model's ids, byte fallback kept.

    ``tokenizer("text")`` gives ``<s> ... </s>`` (XLM-R's template); language tags and ``<BT>`` are
    special tokens, so ``decode(..., skip_special_tokens=True)`` drops them.
    """
    from tokenizers import processors
    from transformers.convert_slow_tokenizer import SpmConverter, import_protobuf
    from transformers.tokenization_utils_tokenizers import TokenizersBackend

    proto = import_protobuf().ModelProto()
    with open(spm_path, "rb") as f:
        proto.ParseFromString(f.read())
    vocab = [(p.piece, p.score) for p in proto.pieces]
    try:
        backend = SpmConverter.build_tokenizer_from_spm_proto(proto=proto, vocab=vocab, legacy=True)
    except (
        TypeError
    ):  # transformers 5.0-5.1 had no `legacy` (their pre-tokenizer is the legacy one)
        backend = SpmConverter.build_tokenizer_from_spm_proto(proto=proto, vocab=vocab)
    backend.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}",
        pair=f"{BOS} $A {EOS} {EOS} $B {EOS}",
        special_tokens=[(BOS, BOS_ID), (EOS, EOS_ID)],
    )
    extra = [BT_TAG, *(lang_tag(lang) for lang in sorted(languages))]
    tok = TokenizersBackend(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=UNK,
        pad_token=PAD,
        mask_token=MASK,
        cls_token=BOS,
        sep_token=EOS,
        additional_special_tokens=extra,
        model_max_length=512,
    )
    return tok


def _check_ids(tok: Any, spm_path: str) -> None:
    """The transformers tokenizer must give sentencepiece's ids (a cheap guard on conversion)."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=spm_path)
    for name, want in (
        (BOS, BOS_ID),
        (PAD, PAD_ID),
        (EOS, EOS_ID),
        (UNK, UNK_ID),
        (MASK, sp.piece_to_id(MASK)),
    ):
        got = tok.convert_tokens_to_ids(name)
        if got != want:
            raise RuntimeError(f"tokenizer conversion: {name} has id {got}, sentencepiece {want}")


def train_tokenizer(
    corpus: TrainCorpus, out_dir: str, cfg: TokenizerConfig | None = None
) -> TokenizerInfo:
    """Train the tokenizer of ``corpus`` into ``out_dir`` (a local directory, replaced atomically)."""
    cfg = cfg or TokenizerConfig()
    languages = corpus.languages()
    lines, taken = sample_text(corpus, cfg)
    if not lines:
        raise ValueError(
            f"corpus {corpus.name}@{corpus.version} has no train rows to train a tokenizer on"
        )
    model_bytes = train_sentencepiece(lines, languages, cfg)
    parent = os.path.dirname(out_dir.rstrip("/"))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.tmp-", dir=parent)
    try:
        spm_path = os.path.join(tmp, SPM_FILE)
        with open(spm_path, "wb") as f:
            f.write(model_bytes)
        tok = build_hf_tokenizer(spm_path, languages)
        _check_ids(tok, spm_path)
        tok.save_pretrained(tmp)
        sha = file_sha256(DataRoot(tmp).fs, spm_path)
        meta = {
            "format": TOKENIZER_FORMAT,
            "corpus": corpus.lineage(),
            "corpus_versions": corpus.versions_lineage(),
            "config": asdict(cfg),
            "config_hash": tokenizer_config_hash(cfg),
            "languages": languages,
            "sample_chars": taken,
            "vocab_size": len(tok),
            "sha256": sha,
            "special_tokens": special_pieces(languages),
            "created_at": datetime.now(UTC).isoformat(),
        }
        write_json(DataRoot(tmp).fs, os.path.join(tmp, METADATA), meta)
        if os.path.exists(out_dir):  # a stale or different tokenizer: move it aside, then drop it
            old = f"{out_dir}.old-{uuid.uuid4().hex[:8]}"
            os.replace(out_dir, old)
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("tokenizer of %s@%s: %d pieces, %s", corpus.name, corpus.version, len(tok), taken)
    return TokenizerInfo(out_dir, sha, len(tok), languages)


def tokenizer_config_hash(cfg: TokenizerConfig) -> str:
    d = asdict(cfg)
    d.pop("num_threads")  # does not change the model much and should not force a retrain
    return config_hash(d)


def ensure_tokenizer(
    out_root: str, corpus: TrainCorpus, cfg: TokenizerConfig | None = None
) -> TokenizerInfo:
    """The tokenizer of a corpus at a version under ``out_root``, trained now if missing or stale.

    It is trained on the corpus as it stands at that version (the version and its ancestors), so
    every model of that version, fresh or trained on the whole chain, shares it. A finished one
    (its metadata.json exists) trained with the same config on the same manifests is reused. A
    derived version (back-translation) uses its source version's tokenizer
    (:meth:`TrainCorpus.tokenizer_source`).
    """
    cfg = cfg or TokenizerConfig()
    chain = list(reversed(corpus.head.chain()))
    if [v.version for v in corpus.versions] != [v.version for v in chain]:
        corpus = TrainCorpus(corpus.head, chain)  # a run that skips versions: still the whole one
    corpus = corpus.tokenizer_source()
    out = DataRoot(out_root)
    path = out.tokenizer_dir(corpus.name, corpus.version)
    meta_path = posixpath.join(path, METADATA)
    if out.fs.exists(meta_path):
        meta = read_json(out.fs, meta_path)
        trained_on = meta.get("corpus_versions") or [meta.get("corpus") or {}]
        same = meta.get("config_hash") == tokenizer_config_hash(cfg) and [
            (v.get("version"), v.get("manifest_sha256")) for v in trained_on
        ] == [(v["version"], v["manifest_sha256"]) for v in corpus.versions_lineage()]
        if same:
            return TokenizerInfo(path, meta["sha256"], meta["vocab_size"], meta["languages"])
        log.warning("tokenizer at %s was trained with another config or manifest: retraining", path)
    return train_tokenizer(corpus, path, cfg)


def load_tokenizer(path: str) -> Any:
    """The transformers tokenizer saved in a tokenizer or checkpoint directory (local files only)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path, local_files_only=True)
