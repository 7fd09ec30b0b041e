"""Builders for the evaluation tests: a small corpus version in five scripts and tiny checkpoints.

The checkpoints are real transformers models (random weights, a few thousand parameters) with a
sentencepiece tokenizer trained on the fixture text, saved with ``save_pretrained`` plus the
``metadata.json`` of docs/CONTRACTS.md, so the evaluation code loads them exactly as it loads
trained ones.
"""

from __future__ import annotations

import io
import json
import posixpath
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from crossling.documents import content_hash, make_id
from crossling.storage import file_sha256, new_version
from crossling.tokenizer import lang_tag

CORPUS = "fixture"
CORPUS_VERSION = new_version("c0ffee00")

# Short paragraphs per language (Latin, Cyrillic, Han, Arabic, Devanagari); index i of every
# language says the same thing, so row i of two languages is a parallel pair.
TEXTS: dict[str, list[str]] = {
    "en": [
        "The river flows slowly through the old town.",
        "My sister reads a book every evening.",
        "The market opens early on Saturday morning.",
        "We planted three apple trees in the garden.",
        "The train to the capital leaves at noon.",
        "Children play football in the park after school.",
        "The museum shows paintings from many centuries.",
        "It rained all night and the streets are wet.",
        "He drinks a cup of tea with lemon.",
        "The library is closed on public holidays.",
    ],
    "de": [
        "Der Fluss fliesst langsam durch die Altstadt.",
        "Meine Schwester liest jeden Abend ein Buch.",
        "Der Markt oeffnet frueh am Samstagmorgen.",
        "Wir haben drei Apfelbaeume im Garten gepflanzt.",
        "Der Zug in die Hauptstadt faehrt um zwoelf Uhr.",
        "Kinder spielen nach der Schule Fussball im Park.",
        "Das Museum zeigt Gemaelde aus vielen Jahrhunderten.",
        "Es hat die ganze Nacht geregnet und die Strassen sind nass.",
        "Er trinkt eine Tasse Tee mit Zitrone.",
        "Die Bibliothek ist an Feiertagen geschlossen.",
    ],
    "ru": [
        "Река медленно течёт через старый город.",
        "Моя сестра каждый вечер читает книгу.",
        "Рынок открывается рано в субботу утром.",
        "Мы посадили в саду три яблони.",
        "Поезд в столицу отправляется в полдень.",
        "Дети играют в футбол в парке после школы.",
        "В музее показывают картины многих веков.",
        "Всю ночь шёл дождь, и улицы мокрые.",
        "Он пьёт чашку чая с лимоном.",
        "Библиотека закрыта в праздничные дни.",
    ],
    "zh": [
        "河水慢慢地流过老城。",
        "我的姐姐每天晚上读一本书。",
        "市场在星期六早上很早开门。",
        "我们在花园里种了三棵苹果树。",
        "去首都的火车中午出发。",
        "孩子们放学后在公园里踢足球。",
        "博物馆展出许多世纪的绘画。",
        "下了一整夜的雨，街道都湿了。",
        "他喝一杯加柠檬的茶。",
        "图书馆在公共假日关闭。",
    ],
    "ar": [
        "يجري النهر ببطء عبر المدينة القديمة.",
        "أختي تقرأ كتابا كل مساء.",
        "يفتح السوق مبكرا صباح يوم السبت.",
        "زرعنا ثلاث أشجار تفاح في الحديقة.",
        "يغادر القطار إلى العاصمة عند الظهر.",
        "يلعب الأطفال كرة القدم في الحديقة بعد المدرسة.",
        "يعرض المتحف لوحات من قرون عديدة.",
        "أمطرت طوال الليل والشوارع مبللة.",
        "يشرب كوبا من الشاي بالليمون.",
        "المكتبة مغلقة في العطل الرسمية.",
    ],
    "hi": [
        "नदी पुराने शहर से धीरे धीरे बहती है।",
        "मेरी बहन हर शाम एक किताब पढ़ती है।",
        "बाज़ार शनिवार सुबह जल्दी खुलता है।",
        "हमने बगीचे में सेब के तीन पेड़ लगाए।",
        "राजधानी की ट्रेन दोपहर में निकलती है।",
        "बच्चे स्कूल के बाद पार्क में फुटबॉल खेलते हैं।",
        "संग्रहालय कई सदियों के चित्र दिखाता है।",
        "रात भर बारिश हुई और सड़कें गीली हैं।",
        "वह नींबू वाली चाय का एक कप पीता है।",
        "पुस्तकालय सार्वजनिक छुट्टियों पर बंद रहता है।",
    ],
}
SCRIPTS = {"en": "Latn", "de": "Latn", "ru": "Cyrl", "zh": "Hans", "ar": "Arab", "hi": "Deva"}
LANGS = list(TEXTS)
HELDOUT_INDEXES = {1, 4, 7}  # rows 1, 4 and 7 of every language (and pair) are held out
TOPICS = ["nature", "family", "city", "nature", "city", "city", "city", "nature", "family", "city"]


def doc_row(lang: str, i: int, text: str, split: str) -> dict[str, Any]:
    doc_id = make_id("file:fixture", f"{lang}:{i}")
    return {
        "id": doc_id,
        "text": text,
        "lang": lang,
        "script": SCRIPTS.get(lang, "Zyyy"),
        "lang_score": 0.99,
        "url": f"https://{lang}.example.org/{i}.html",
        "source": "file:fixture",
        "fetched_at": None,
        "content_hash": content_hash(text),
        "n_chars": len(text),
        "dup_cluster_size": 1,
        "split": split,
        "lang_mixed": None,
        "lang2": None,
        "lang2_share": None,
    }


def pair_rows() -> list[dict[str, Any]]:
    """Real en-xx pairs (split like the docs) plus synthetic held-out en-de pairs (never scored)."""
    rows = []
    for lang in LANGS[1:]:
        for i, (src, tgt) in enumerate(zip(TEXTS["en"], TEXTS[lang], strict=True)):
            rows.append(
                {
                    "id": make_id("file:parallel", f"en-{lang}:{i}"),
                    "src_lang": "en",
                    "tgt_lang": lang,
                    # The pair's sides are not DOCS rows of the corpus: suffix them so that a
                    # held-out pair never shares text with a training document.
                    "src_text": f"{src} ({lang})",
                    "tgt_text": tgt.rstrip("。.।") + " (en)",
                    "origin_id": None,
                    "source": "file:parallel",
                    "synthetic": False,
                    "method": "parallel",
                    "model": None,
                    "score": None,
                    "split": "heldout" if i in HELDOUT_INDEXES else "train",
                }
            )
    for i in HELDOUT_INDEXES:
        rows.append(
            {
                "id": make_id("bt", f"en-de:{i}"),
                "src_lang": "en",
                "tgt_lang": "de",
                "src_text": f"synthetic source {i}",
                "tgt_text": f"synthetische Quelle {i}",
                "origin_id": None,
                "source": "bt:fixture-mt",
                "synthetic": True,
                "method": "bt-beam",
                "model": "fixture-mt",
                "score": 0.5,
                "split": "heldout",
            }
        )
    return rows


def write_corpus(root: str, version: str = CORPUS_VERSION, docs: bool = True) -> str:
    """Publish the fixture corpus version under ``root`` with the version writer; return its
    directory. ``docs=False`` publishes the PAIRS alone (a corpus without DOCS)."""
    from tests.train.corpus_fixture import write_version

    rows = [
        doc_row(lang, i, t, "heldout" if i in HELDOUT_INDEXES else "train")
        for lang in LANGS
        for i, t in enumerate(TEXTS[lang])
    ]
    write_version(root, CORPUS, version, docs=rows if docs else [], pairs=pair_rows())
    return posixpath.join(root, "corpora", CORPUS, version)


def _local_fs():
    import fsspec

    return fsspec.filesystem("file")


def file_sha256_local(path: str) -> str:
    return file_sha256(_local_fs(), path)


def train_tokenizer(out_dir: Path, extra_tokens: list[str] | None = None):
    """A sentencepiece unigram model trained on the fixture text, as an XLMRobertaTokenizer."""
    import sentencepiece as spm
    from transformers import XLMRobertaTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    text = [t for lang in LANGS for t in TEXTS[lang]]
    text += [r["src_text"] for r in pair_rows()] + [r["tgt_text"] for r in pair_rows()]
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(text),
        model_writer=buf,
        vocab_size=400,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
        bos_id=0,
        pad_id=1,
        eos_id=2,
        unk_id=3,
    )
    (out_dir / "sentencepiece.bpe.model").write_bytes(buf.getvalue())
    tok = XLMRobertaTokenizer.from_pretrained(str(out_dir))
    if extra_tokens:
        tok.add_special_tokens({"additional_special_tokens": extra_tokens})
    return tok


def write_metadata(ckpt: Path, **meta: Any) -> None:
    (ckpt / "metadata.json").write_text(json.dumps(meta, indent=2))


def base_metadata(root: str, model_name: str, run_version: str, step: int, **kw: Any) -> dict:
    from crossling.corpus import CorpusVersion

    manifest_sha256 = CorpusVersion.open(root, CORPUS, CORPUS_VERSION).manifest_sha256
    meta = {
        "model_name": model_name,
        "run_version": run_version,
        "step": step,
        "objective": "mlm",
        "model_kind": "encoder",
        "preset": "tiny",
        "config": {},
        "corpus": {
            "root": root,
            "name": CORPUS,
            "version": CORPUS_VERSION,
            "manifest_sha256": manifest_sha256,
        },
        "tokenizer": {"path": "", "sha256": ""},
        "tokens_seen": 100 * step,
        "losses": [{"step": step, "loss": 5.0}],
        "code_version": "test",
        "flow_run_id": None,
        "created_at": "2026-11-01T00:00:00+00:00",
        "languages": LANGS,
    }
    meta.update(kw)
    return meta


def make_encoder(
    root: str,
    model_name: str = "tiny-mlm",
    run_version: str | None = None,
    step: int = 1,
    seed: int = 0,
    train_ids: bool = True,
    **meta_kw: Any,
) -> Path:
    """A tiny XLM-R masked LM checkpoint (random weights) under ``root/models``."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForMaskedLM

    run_version = run_version or new_version("e0c0de01")
    ckpt = Path(root, "models", model_name, run_version, f"checkpoint-{step}")
    tok = train_tokenizer(ckpt)
    torch.manual_seed(seed)
    cfg = XLMRobertaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    XLMRobertaForMaskedLM(cfg).save_pretrained(ckpt)
    tok.save_pretrained(ckpt)
    meta = base_metadata(root, model_name, run_version, step, **meta_kw)
    if train_ids:
        meta["train_ids_path"] = str(write_train_ids(root, ckpt).resolve())
    write_metadata(ckpt, **meta)
    return ckpt


def write_train_ids(root: str, ckpt: Path, extra: list[tuple[str, str]] = ()) -> Path:
    """The train-split ids and content hashes of the fixture corpus (what training could read)."""
    ids, hashes = [], []
    for lang in LANGS:
        for i, t in enumerate(TEXTS[lang]):
            if i not in HELDOUT_INDEXES:
                ids.append(make_id("file:fixture", f"{lang}:{i}"))
                hashes.append(content_hash(t))
    for r in pair_rows():
        if r["split"] == "train":
            ids.append(r["id"])
            hashes.append(None)
    for i, h in extra:
        ids.append(i)
        hashes.append(h)
    path = ckpt / "train_ids.parquet"
    pq.write_table(
        pa.table(
            {"id": ids, "content_hash": hashes},
            pa.schema([("id", pa.string()), ("content_hash", pa.string())]),
        ),
        path,
    )
    return path


def make_seq2seq(root: str, model_name: str = "tiny-mt", step: int = 1) -> Path:
    """A tiny BART translation checkpoint with crossling's ``<lang:xx>`` target-language tags."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    run_version = new_version("5e95e901")
    ckpt = Path(root, "models", model_name, run_version, f"checkpoint-{step}")
    tok = train_tokenizer(ckpt, extra_tokens=[lang_tag(lang) for lang in LANGS])
    torch.manual_seed(0)
    cfg = BartConfig(
        vocab_size=len(tok),
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=130,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        decoder_start_token_id=tok.eos_token_id,
        forced_eos_token_id=tok.eos_token_id,
    )
    BartForConditionalGeneration(cfg).save_pretrained(ckpt)
    tok.save_pretrained(ckpt)
    write_metadata(
        ckpt,
        **base_metadata(
            root, model_name, run_version, step, objective="translation", model_kind="seq2seq"
        ),
    )
    return ckpt


def make_classifier(root: str, labeled_path: str, model_name: str = "tiny-cls") -> Path:
    """A tiny XLM-R sequence classifier over the fixture topics."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    run_version = new_version("c1a55e01")
    ckpt = Path(root, "models", model_name, run_version, "checkpoint-1")
    tok = train_tokenizer(ckpt)
    labels = sorted(set(TOPICS))
    torch.manual_seed(0)
    cfg = XLMRobertaConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=130,
        pad_token_id=tok.pad_token_id,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={n: i for i, n in enumerate(labels)},
    )
    XLMRobertaForSequenceClassification(cfg).save_pretrained(ckpt)
    tok.save_pretrained(ckpt)
    write_metadata(
        ckpt,
        **base_metadata(
            root,
            model_name,
            run_version,
            1,
            objective="classification",
            model_kind="classifier",
            labels=labels,
            config={"labeled_path": labeled_path, "train_langs": ["en"]},
        ),
    )
    return ckpt


def write_labeled(path: Path) -> Path:
    """A labeled topic set: rows 0-7 of English are the fine-tuning data (split train); rows 8-9
    of English are held out (supervised accuracy); other languages are zero-shot."""
    with path.open("w", encoding="utf-8") as f:
        for lang in LANGS:
            for i, t in enumerate(TEXTS[lang]):
                split = "train" if lang == "en" and i < 8 else "heldout"
                # Quoted, so that no labeled text is also a corpus document.
                row = {"text": f"« {t} »", "label": TOPICS[i], "lang": lang, "split": split}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
