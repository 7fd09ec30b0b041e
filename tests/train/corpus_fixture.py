"""A small, learnable multilingual corpus version, published with the one version writer.

Sentences come from one template rendered in seven languages and five scripts (Latin, Cyrillic,
Han, Arabic, Devanagari) from aligned word lists, so a tiny model can learn masked words and
word-for-word translation in seconds. Document lengths follow a long-tailed distribution, like
web text, which is what makes packing matter.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from crossling.documents import DOCS_SCHEMA, PAIRS_SCHEMA, content_hash, make_id, split_of
from crossling.storage import new_version

# Aligned lexicons: index i of every list means the same thing in every language.
NOUNS = {
    "en": ["cat", "dog", "teacher", "child", "farmer", "doctor", "bird", "king", "girl", "friend"],
    "de": [
        "Katze",
        "Hund",
        "Lehrer",
        "Kind",
        "Bauer",
        "Arzt",
        "Vogel",
        "König",
        "Mädchen",
        "Freund",
    ],
    "fr": [
        "chat",
        "chien",
        "professeur",
        "enfant",
        "fermier",
        "médecin",
        "oiseau",
        "roi",
        "fille",
        "ami",
    ],
    "ru": [
        "кошка",
        "собака",
        "учитель",
        "ребёнок",
        "фермер",
        "врач",
        "птица",
        "король",
        "девочка",
        "друг",
    ],
    "zh": ["猫", "狗", "老师", "孩子", "农民", "医生", "鸟", "国王", "女孩", "朋友"],
    "ar": [
        "القط",
        "الكلب",
        "المعلم",
        "الطفل",
        "المزارع",
        "الطبيب",
        "الطائر",
        "الملك",
        "الفتاة",
        "الصديق",
    ],
    "hi": ["बिल्ली", "कुत्ता", "शिक्षक", "बच्चा", "किसान", "डॉक्टर", "पक्षी", "राजा", "लड़की", "दोस्त"],
}
VERBS = {
    "en": ["sees", "likes", "finds", "helps", "calls", "knows", "follows", "visits"],
    "de": ["sieht", "mag", "findet", "hilft", "ruft", "kennt", "folgt", "besucht"],
    "fr": ["voit", "aime", "trouve", "aide", "appelle", "connaît", "suit", "visite"],
    "ru": ["видит", "любит", "находит", "помогает", "зовёт", "знает", "следует", "посещает"],
    "zh": ["看见", "喜欢", "找到", "帮助", "叫", "认识", "跟着", "拜访"],
    "ar": ["يرى", "يحب", "يجد", "يساعد", "ينادي", "يعرف", "يتبع", "يزور"],
    "hi": [
        "देखता है",
        "पसंद करता है",
        "ढूंढता है",
        "मदद करता है",
        "बुलाता है",
        "जानता है",
        "पीछा करता है",
        "मिलता है",
    ],
}
PLACES = {
    "en": [
        "in the garden",
        "in the city",
        "at school",
        "at home",
        "in the forest",
        "at the market",
    ],
    "de": ["im Garten", "in der Stadt", "in der Schule", "zu Hause", "im Wald", "auf dem Markt"],
    "fr": [
        "dans le jardin",
        "dans la ville",
        "à l'école",
        "à la maison",
        "dans la forêt",
        "au marché",
    ],
    "ru": ["в саду", "в городе", "в школе", "дома", "в лесу", "на рынке"],
    "zh": ["在花园里", "在城市里", "在学校", "在家", "在森林里", "在市场上"],
    "ar": ["في الحديقة", "في المدينة", "في المدرسة", "في البيت", "في الغابة", "في السوق"],
    "hi": ["बगीचे में", "शहर में", "स्कूल में", "घर पर", "जंगल में", "बाज़ार में"],
}
SCRIPTS = {
    "en": "Latn",
    "de": "Latn",
    "fr": "Latn",
    "ru": "Cyrl",
    "zh": "Hans",
    "ar": "Arab",
    "hi": "Deva",
}


def sentence(lang: str, s: int, v: int, o: int, p: int) -> str:
    """One sentence: subject ``s`` verb ``v`` object ``o`` place ``p``, in ``lang``'s word order."""
    n, vb, pl = NOUNS[lang], VERBS[lang], PLACES[lang]
    if lang == "zh":
        return f"{n[s]}{pl[p]}{vb[v]}{n[o]}。"
    if lang == "hi":  # SOV
        return f"{n[s]} {pl[p]} {n[o]} को {vb[v]}।"
    if lang == "ar":
        return f"{vb[v]} {n[s]} {n[o]} {pl[p]}."
    if lang == "de":
        return f"Der {n[s]} {vb[v]} den {n[o]} {pl[p]}."
    if lang == "fr":
        return f"Le {n[s]} {vb[v]} le {n[o]} {pl[p]}."
    if lang == "ru":
        return f"{n[s].capitalize()} {vb[v]} {n[o]} {pl[p]}."
    return f"The {n[s]} {vb[v]} the {n[o]} {pl[p]}."


def _choice(rng: random.Random) -> tuple[int, int, int, int]:
    return rng.randrange(10), rng.randrange(8), rng.randrange(10), rng.randrange(6)


def write_version(
    root: str,
    name: str,
    version: str,
    *,
    docs: list[dict],
    pairs: list[dict] = (),
    parent: str | None = None,
    config: dict | None = None,
) -> str:
    """Publish rows as a corpus version with the one version writer (``VersionWriter``), as the
    pipeline does: files by language / direction and split, dataset card, manifest last."""
    from collections import Counter

    from crossling.corpus import VersionWriter

    writer = VersionWriter(root, name, version)
    with writer.part(0) as part:
        if docs:
            part.docs(pa.Table.from_pylist(list(docs), schema=DOCS_SCHEMA))
        if pairs:
            part.pairs(pa.Table.from_pylist(list(pairs), schema=PAIRS_SCHEMA))
        written = part.close()
    inputs = Counter(r["source"] for r in [*docs, *pairs])
    writer.commit(
        [written],
        parent=parent,
        config=config or {},
        inputs=sorted(inputs),
        inputs_by_source=dict(inputs),
    )
    return version


def doc_row(lang: str, doc_id: str, text: str, source: str, heldout_fraction: float) -> dict:
    return {
        "id": doc_id,
        "text": text,
        "lang": lang,
        "script": SCRIPTS.get(lang, "Zyyy"),
        "lang_score": 0.99,
        "url": f"https://{lang}.example.org/{doc_id[:12]}.html",
        "source": source,
        "fetched_at": None,
        "content_hash": content_hash(text),
        "n_chars": len(text),
        "dup_cluster_size": 1,
        "split": split_of(doc_id, heldout_fraction),
        "lang_mixed": None,
        "lang2": None,
        "lang2_share": None,
    }


def make_corpus(
    root: str,
    name: str = "fixture",
    *,
    docs_per_lang: dict[str, int] | None = None,
    pair_directions: tuple[str, ...] = ("en-de", "en-fr", "en-ru", "en-zh"),
    pairs_per_direction: int = 300,
    synthetic_pairs: int = 40,
    heldout_fraction: float = 0.1,
    seed: int = 0,
    version: str | None = None,
    parent: str | None = None,
) -> str:
    """Publish a complete corpus version under ``root``; return its version string.

    A different ``seed`` gives other documents (other ids), so versions made with different seeds
    and ``parent`` set form a chain of incremental versions, as the pipeline publishes them.
    """
    rng = random.Random(seed)
    docs_per_lang = docs_per_lang or {
        "en": 200,
        "de": 120,
        "fr": 80,
        "ru": 80,
        "zh": 80,
        "ar": 40,
        "hi": 40,
    }
    when = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=seed)
    version = version or new_version(f"{seed:08x}"[-8:], when)
    docs = []
    for lang, n_docs in docs_per_lang.items():
        source = f"file:{lang}.jsonl" if not seed else f"file:{lang}-{seed}.jsonl"
        for i in range(n_docs):
            # Long-tailed lengths: most documents are a few sentences, some are long.
            n_sent = max(1, min(60, int(rng.lognormvariate(1.3, 0.9))))
            text = " ".join(sentence(lang, *_choice(rng)) for _ in range(n_sent))
            docs.append(doc_row(lang, make_id(source, str(i)), text, source, heldout_fraction))
    pairs = []
    for direction in pair_directions:
        src, tgt = direction.split("-")
        source = f"file:parallel-{direction}.jsonl" + (f"#{seed}" if seed else "")
        for i in range(pairs_per_direction):
            c = _choice(rng)
            pid = make_id(source, str(i))
            pairs.append(
                {
                    "id": pid,
                    "src_lang": src,
                    "tgt_lang": tgt,
                    "src_text": sentence(src, *c),
                    "tgt_text": sentence(tgt, *c),
                    "origin_id": None,
                    "source": source,
                    "synthetic": False,
                    "method": "parallel",
                    "model": None,
                    "score": None,
                    "split": split_of(pid, heldout_fraction),
                }
            )
    # Back-translated rows (de -> en): a machine-made German source for a real English text.
    for i in range(synthetic_pairs):
        c = _choice(rng)
        pid = make_id(f"bt:de-en:{seed}", str(i))
        pairs.append(
            {
                "id": pid,
                "src_lang": "de",
                "tgt_lang": "en",
                "src_text": sentence("de", *c),
                "tgt_text": sentence("en", *c),
                "origin_id": make_id("file:en.jsonl", str(i)),
                "source": "bt:fixture-bt@0",
                "synthetic": True,
                "method": "bt-tagged",
                "model": "fixture-bt@0",
                "score": 0.9,
                "split": split_of(pid, heldout_fraction),
            }
        )
    return write_version(
        root,
        name,
        version,
        docs=docs,
        pairs=pairs,
        parent=parent,
        config={"seed": seed, "heldout_fraction": heldout_fraction},
    )


def demo_data_dir() -> str:
    import os

    return os.path.join(os.path.dirname(__file__), "..", "..", "crossling", "data", "demo")


def corpus_from_demo(root: str, name: str = "demo", heldout_fraction: float = 0.15) -> str | None:
    """A corpus version made straight from the packaged demo files (no LID, no cleaning), for the
    training benchmarks: DOCS from ``docs.jsonl`` (rows without a declared language are ``und``),
    PAIRS from ``parallel.jsonl``. Returns the version, or None when the files are not there."""
    import json
    import os

    d = demo_data_dir()
    docs_path, pairs_path = os.path.join(d, "docs.jsonl"), os.path.join(d, "parallel.jsonl")
    if not (os.path.exists(docs_path) and os.path.exists(pairs_path)):
        return None
    docs, pairs = [], []
    with open(docs_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            doc = doc_row(
                r.get("lang") or "und",
                make_id("file:docs.jsonl", r["id"]),
                r["text"],
                "file:docs.jsonl",
                heldout_fraction,
            )
            doc["url"] = r.get("url")
            docs.append(doc)
    with open(pairs_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            pid = make_id("file:parallel.jsonl", r["id"])
            pairs.append(
                {
                    "id": pid,
                    "src_lang": r["src_lang"],
                    "tgt_lang": r["tgt_lang"],
                    "src_text": r["src_text"],
                    "tgt_text": r["tgt_text"],
                    "origin_id": None,
                    "source": "file:parallel.jsonl",
                    "synthetic": False,
                    "method": "parallel",
                    "model": None,
                    "score": None,
                    "split": split_of(pid, heldout_fraction),
                }
            )
    version = new_version("de300000", datetime(2026, 11, 1, tzinfo=UTC))
    return write_version(root, name, version, docs=docs, pairs=pairs)
