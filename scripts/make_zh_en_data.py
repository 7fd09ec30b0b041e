#!/usr/bin/env python3
"""Write the demo's Chinese-English data into ``crossling/data/demo/`` (committed as package data).

    python scripts/make_zh_en_data.py [--out crossling/data/demo]

Outputs (see docs/CONTRACTS.md, "Demo data"):

- ``zh-en.parallel.jsonl.gz``  real en-zh sentence pairs ``{"id", "src_lang", "tgt_lang",
                               "src_text", "tgt_text"}``
- ``en.mono.jsonl.gz``         monolingual English documents ``{"id", "text", "lang"}``, several
                               sentences each, with more sentences than the parallel data has pairs

Both come from one small compositional grammar written for this project: subjects (people,
possessives, pronouns), verbs with the objects and places that fit them, measure words (一本书,
一只猫, 一辆车), adjectives with and without 的, times, negation, "there is", "have", "like",
"go by" and "where" sentences. Each rule builds the English and the Chinese sentence together, so
every pair is a correct translation (Chinese word order: subject, time, place, verb, object).
No English sentence of the monolingual documents occurs in the parallel data, so back-translating
them cannot leak a held-out reference into training.

Deterministic (fixed seed, gzip without a timestamp): two runs are byte-identical. Standard library
only. All text was written for this project.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import re
from pathlib import Path

SEED = 20261129
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "crossling" / "data" / "demo"
N_PAIRS = 3000
N_MONO_DOCS = 1500
SENTENCES_PER_DOC = (4, 7)

# fmt: off
# People: English, Chinese, the Chinese demonstrative for "the", adjectives that fit.
PERSONS = (
    ("man", "男人", "那个", ("young", "happy", "tired")),
    ("woman", "女人", "那个", ("young", "happy", "tired")),
    ("child", "孩子", "那个", ("little", "happy", "tired")),
    ("boy", "男孩", "那个", ("little", "happy", "tired")),
    ("girl", "女孩", "那个", ("little", "happy", "tired")),
    ("teacher", "老师", "那位", ("young", "happy", "tired")),
    ("doctor", "医生", "那位", ("young", "tired")),
    ("student", "学生", "那个", ("young", "happy", "tired")),
    ("cook", "厨师", "那个", ("young", "happy")),
    ("farmer", "农民", "那个", ("young", "tired")),
    ("neighbour", "邻居", "那个", ("young", "happy")),
    ("grandmother", "奶奶", "那位", ("happy", "tired")),
    ("driver", "司机", "那个", ("young", "tired")),
    ("worker", "工人", "那个", ("young", "tired")),
)
# English, Chinese (a one-character adjective attaches directly: 小女孩; others take 的).
PERSON_ADJS = {
    "young": ("young", "年轻的"),
    "happy": ("happy", "快乐的"),
    "tired": ("tired", "很累的"),
    "little": ("little", "小"),
}
POSSESSED = (
    ("my brother", "我的哥哥"), ("my sister", "我的姐姐"), ("my father", "我的爸爸"),
    ("my mother", "我的妈妈"), ("my friend", "我的朋友"), ("our teacher", "我们的老师"),
    ("his son", "他的儿子"), ("her daughter", "她的女儿"),
)
# English, Chinese, English verb person ("3sg" or "base"), English "be".
PRONOUNS = (
    ("I", "我", "base", "am"), ("he", "他", "3sg", "is"), ("she", "她", "3sg", "is"),
    ("we", "我们", "base", "are"), ("they", "他们", "base", "are"), ("you", "你", "base", "are"),
)
# Countable things: English, English plural, Chinese noun, measure word, adjectives that fit.
OBJECTS = {
    "book": ("book", "books", "书", "本", ("red", "blue", "new", "old", "small", "big", "beautiful")),
    "letter": ("letter", "letters", "信", "封", ("new", "old", "long", "short")),
    "newspaper": ("newspaper", "newspapers", "报纸", "份", ("new", "old")),
    "story": ("story", "stories", "故事", "个", ("new", "old", "long", "short", "beautiful")),
    "postcard": ("postcard", "postcards", "明信片", "张", ("new", "old", "beautiful")),
    "apple": ("apple", "apples", "苹果", "个", ("red", "green", "small", "big")),
    "pear": ("pear", "pears", "梨", "个", ("green", "small", "big")),
    "orange": ("orange", "oranges", "橙子", "个", ("small", "big")),
    "cake": ("cake", "cakes", "蛋糕", "块", ("small", "big", "beautiful")),
    "cup": ("cup", "cups", "杯子", "个", ("red", "green", "blue", "new", "old", "small", "big")),
    "bicycle": ("bicycle", "bicycles", "自行车", "辆", ("red", "green", "blue", "new", "old")),
    "car": ("car", "cars", "车", "辆", ("red", "green", "blue", "new", "old", "small", "big")),
    "ticket": ("ticket", "tickets", "票", "张", ("new", "old")),
    "hat": ("hat", "hats", "帽子", "顶", ("red", "green", "blue", "new", "old", "small", "big")),
    "table": ("table", "tables", "桌子", "张", ("new", "old", "small", "big")),
    "lamp": ("lamp", "lamps", "灯", "盏", ("red", "blue", "new", "old", "small", "big")),
    "chair": ("chair", "chairs", "椅子", "把", ("red", "green", "blue", "new", "old", "small")),
    "bag": ("bag", "bags", "包", "个", ("red", "green", "blue", "new", "old", "small", "big")),
    "key": ("key", "keys", "钥匙", "把", ("new", "old", "small", "big")),
    "door": ("door", "doors", "门", "扇", ("red", "green", "blue", "old", "small", "big")),
    "window": ("window", "windows", "窗户", "扇", ("old", "small", "big")),
    "box": ("box", "boxes", "盒子", "个", ("red", "blue", "new", "old", "small", "big")),
    "dog": ("dog", "dogs", "狗", "只", ("old", "small", "big", "beautiful")),
    "cat": ("cat", "cats", "猫", "只", ("old", "small", "big", "beautiful")),
    "bird": ("bird", "birds", "鸟", "只", ("small", "big", "beautiful")),
    "horse": ("horse", "horses", "马", "匹", ("old", "small", "big", "beautiful")),
    "house": ("house", "houses", "房子", "座", ("red", "new", "old", "small", "big", "beautiful")),
    "tree": ("tree", "trees", "树", "棵", ("old", "small", "big", "beautiful")),
    "flower": ("flower", "flowers", "花", "朵", ("red", "blue", "small", "beautiful")),
}
ANIMALS = {"dog", "cat", "bird", "horse"}
# English, Chinese for things, Chinese for animals (an old dog is 老狗, an old book 旧书).
OBJ_ADJS = {
    "red": ("red", "红色的", "红色的"), "green": ("green", "绿色的", "绿色的"),
    "blue": ("blue", "蓝色的", "蓝色的"), "new": ("new", "新", "新"), "old": ("old", "旧", "老"),
    "small": ("small", "小", "小"), "big": ("big", "大", "大"),
    "beautiful": ("beautiful", "漂亮的", "漂亮的"), "long": ("long", "长", "长"),
    "short": ("short", "短", "短"),
}
# Uncountable drinks: English, Chinese; temperature adjectives for them.
MASS = (("coffee", "咖啡"), ("tea", "茶"), ("water", "水"), ("milk", "牛奶"), ("juice", "果汁"))
TEMPS = (("hot", "热"), ("cold", "冷"))
# English place phrase, Chinese place phrase (before the verb, with 在).
PLACES = {
    "garden": ("in the garden", "在花园里"), "kitchen": ("in the kitchen", "在厨房里"),
    "park": ("in the park", "在公园里"), "school": ("at school", "在学校"),
    "home": ("at home", "在家"), "library": ("in the library", "在图书馆"),
    "market": ("at the market", "在市场"), "office": ("in the office", "在办公室"),
    "station": ("at the station", "在车站"), "street": ("in the street", "在街上"),
    "shop": ("in the shop", "在商店里"), "city": ("in the city", "在城里"),
}
# English, Chinese, may open the English sentence.
TIMES = (
    ("today", "今天", True), ("now", "现在", False), ("every morning", "每天早上", True),
    ("every day", "每天", True), ("in the evening", "晚上", True),
    ("on Sundays", "每个星期天", True), ("on Saturdays", "每个星期六", True),
    ("at noon", "中午", True),
)
# English (base, 3sg), Chinese, may be negated, objects ("mass" for drinks), places that fit.
VERBS = {
    "read": (("read", "reads"), "读", True, ("book", "letter", "newspaper", "story"),
             ("garden", "kitchen", "park", "library", "home", "office", "station")),
    "write": (("write", "writes"), "写", True, ("letter", "story", "postcard"),
              ("office", "home", "library", "kitchen", "school")),
    "buy": (("buy", "buys"), "买", True,
            ("book", "newspaper", "apple", "pear", "orange", "cake", "cup", "bicycle", "car",
             "ticket", "hat", "table", "lamp", "chair", "bag", "flower"),
            ("market", "shop", "city")),
    "sell": (("sell", "sells"), "卖", True,
             ("book", "newspaper", "apple", "pear", "orange", "cake", "bicycle", "car", "hat",
              "flower", "cup"),
             ("market", "shop", "street", "city")),
    "see": (("see", "sees"), "看见", False,
            ("dog", "cat", "bird", "horse", "car", "house", "tree", "flower"),
            ("park", "garden", "street", "city", "station")),
    "find": (("find", "finds"), "找到", False,
             ("key", "book", "bag", "ticket", "hat", "cat", "dog", "letter"),
             ("garden", "kitchen", "office", "park", "street", "station", "home")),
    "open": (("open", "opens"), "打开", True, ("door", "window", "box", "letter", "bag", "book"),
             ("kitchen", "office", "home", "school")),
    "wash": (("wash", "washes"), "洗", True, ("car", "cup", "dog", "window", "bicycle", "table"),
             ("garden", "kitchen", "home", "street")),
    "eat": (("eat", "eats"), "吃", True, ("apple", "pear", "orange", "cake"),
            ("kitchen", "garden", "park", "school", "home", "office")),
    "draw": (("draw", "draws"), "画", True,
             ("house", "tree", "horse", "cat", "dog", "bird", "flower", "car"),
             ("school", "home", "park", "garden")),
    "drink": (("drink", "drinks"), "喝", True, "mass",
              ("kitchen", "office", "home", "garden", "station")),
    "need": (("need", "needs"), "需要", True,
             ("ticket", "key", "bag", "cup", "chair", "table", "lamp", "bicycle", "car", "box"),
             ()),
    "want": (("want to buy", "wants to buy"), "想买", True,
             ("book", "cake", "bicycle", "car", "hat", "lamp", "bag", "flower", "house"),
             ()),
}
# English destination, Chinese destination (after 去).
DESTINATIONS = (
    ("to the station", "车站"), ("to school", "学校"), ("to the market", "市场"),
    ("to the park", "公园"), ("to the office", "办公室"), ("to the library", "图书馆"),
    ("to the museum", "博物馆"), ("to the beach", "海边"), ("to the city", "城里"),
    ("to the hospital", "医院"),
)
TRANSPORT = (("by bus", "坐公共汽车"), ("by train", "坐火车"), ("by bike", "骑自行车"),
             ("by car", "开车"), ("on foot", "走路"))
# Predicative adjectives: English, Chinese (after 很 / 非常).
PRED_ADJS = (("tired", "累"), ("happy", "高兴"), ("busy", "忙"), ("sad", "难过"),
             ("hungry", "饿"), ("thirsty", "渴"))
NUMBERS = (("two", "两"), ("three", "三"), ("four", "四"), ("five", "五"), ("six", "六"))
HAVE_OBJECTS = ("dog", "cat", "horse", "bird", "book", "bicycle", "car", "key", "bag", "hat",
                "cup", "lamp", "chair", "box")
# "There is/are ... <location>": English location, Chinese location (before 有).
LOCATIONS = (
    ("in the garden", "花园里"), ("in the kitchen", "厨房里"), ("in the park", "公园里"),
    ("in the office", "办公室里"), ("in the street", "街上"), ("in the shop", "商店里"),
    ("on the table", "桌子上"), ("on the chair", "椅子上"), ("in the box", "盒子里"),
    ("in the bag", "包里"),
)
THERE_OBJECTS = {
    "in the garden": ("dog", "cat", "bird", "tree", "flower", "bicycle", "chair", "table"),
    "in the kitchen": ("cup", "table", "chair", "lamp", "cake", "apple", "cat", "box"),
    "in the park": ("dog", "bird", "tree", "flower", "horse", "bicycle"),
    "in the office": ("table", "chair", "lamp", "box", "newspaper", "book"),
    "in the street": ("car", "bicycle", "dog", "tree"),
    "in the shop": ("hat", "bag", "cup", "lamp", "book", "cake"),
    "on the table": ("book", "cup", "apple", "pear", "orange", "key", "letter", "newspaper", "cake"),
    "on the chair": ("bag", "hat", "book", "cat", "newspaper"),
    "in the box": ("key", "letter", "postcard", "apple", "ticket", "cup"),
    "in the bag": ("key", "book", "ticket", "apple", "letter", "newspaper", "postcard"),
}
# fmt: on


# --- noun phrases ---------------------------------------------------------------------------


def _zh_adj(adj: str | None, animal: bool) -> str:
    if adj is None:
        return ""
    return OBJ_ADJS[adj][2 if animal else 1]


def zh_np(key: str, adj: str | None, *, count: str | None = "一", det: str | None = None) -> str:
    """A Chinese noun phrase: [det|count] [measure word] [adjective] noun."""
    _, _, noun, measure, _ = OBJECTS[key]
    a = _zh_adj(adj, key in ANIMALS)
    head = (det or count or "") + (measure if (det or count) else "")
    return f"{head}{a}{noun}"


def en_np(key: str, adj: str | None, det: str = "a") -> str:
    noun = OBJECTS[key][0]
    words = [det, *([OBJ_ADJS[adj][0]] if adj else []), noun]
    s = " ".join(w for w in words if w)
    return re.sub(r"\ba (?=[aeiou])", "an ", s)


def _subject(rng: random.Random) -> dict:
    r = rng.random()
    if r < 0.55:
        en, zh, det, adjs = rng.choice(PERSONS)
        adj = rng.choice(adjs) if rng.random() < 0.35 else None
        if adj:
            a_en, a_zh = PERSON_ADJS[adj]
            return dict(en=f"the {a_en} {en}", zh=f"{det}{a_zh}{zh}", p="3sg", be="is")
        return dict(en=f"the {en}", zh=f"{det}{zh}", p="3sg", be="is")
    if r < 0.75:
        en, zh = rng.choice(POSSESSED)
        return dict(en=en, zh=zh, p="3sg", be="is")
    en, zh, p, be = rng.choice(PRONOUNS)
    return dict(en=en, zh=zh, p=p, be=be)


def _time(rng: random.Random, p: float) -> tuple[tuple | None, bool]:
    if rng.random() >= p:
        return None, False
    t = rng.choice(TIMES)
    return t, bool(t[2] and rng.random() < 0.5)


def _place_time(subj: dict, time, front: bool, en_rest: list[str], zh_rest: str) -> tuple[str, str]:
    """English: [time,] subject rest [time]; Chinese: [time] subject [time] rest."""
    if time is None:
        return " ".join([subj["en"], *en_rest]), subj["zh"] + zh_rest
    if front:
        return " ".join([time[0], subj["en"], *en_rest]), time[1] + subj["zh"] + zh_rest
    return " ".join([subj["en"], *en_rest, time[0]]), subj["zh"] + time[1] + zh_rest


# --- sentence rules: each returns (English without final punctuation, Chinese, end mark) ------


def s_transitive(rng: random.Random) -> tuple[str, str, str]:
    verb = rng.choice(list(VERBS))
    (v_base, v_3sg), v_zh, can_neg, objs, places = VERBS[verb]
    subj = _subject(rng)
    neg = can_neg and rng.random() < 0.15
    place = PLACES[rng.choice(places)] if places and rng.random() < 0.55 else None
    time, front = _time(rng, 0.4)
    if objs == "mass":
        en_n, zh_n = rng.choice(MASS)
        temp = rng.choice(TEMPS) if rng.random() < 0.4 else None
        en_o = f"{temp[0]} {en_n}" if temp else en_n
        zh_o = f"{temp[1]}{zh_n}" if temp else zh_n
    else:
        key = rng.choice(objs)
        adj = rng.choice(OBJECTS[key][4]) if rng.random() < 0.4 else None
        en_o = en_np(key, adj)
        zh_o = zh_np(key, adj, count=None if neg else "一")
    third = subj["p"] == "3sg"
    if neg:
        en_v = ("does not " if third else "do not ") + v_base
    else:
        en_v = v_3sg if third else v_base
    zh_rest = ("不" if neg else "") + (place[1] if place else "") + v_zh + zh_o
    en_rest = [en_v, en_o, *([place[0]] if place else [])]
    en, zh = _place_time(subj, time, front, en_rest, zh_rest)
    return en, zh, "."


def s_go(rng: random.Random) -> tuple[str, str, str]:
    subj = _subject(rng)
    dest_en, dest_zh = rng.choice(DESTINATIONS)
    tr_en, tr_zh = rng.choice(TRANSPORT)
    time, front = _time(rng, 0.45)
    third = subj["p"] == "3sg"
    if tr_en == "on foot":
        en_rest = ["walks" if third else "walk", dest_en]
    else:
        en_rest = ["goes" if third else "go", dest_en, tr_en]
    en, zh = _place_time(subj, time, front, en_rest, f"{tr_zh}去{dest_zh}")
    return en, zh, "."


def s_be(rng: random.Random) -> tuple[str, str, str]:
    subj = _subject(rng)
    a_en, a_zh = rng.choice(PRED_ADJS)
    very = rng.random() < 0.3
    time, front = _time(rng, 0.45)
    en_rest = [subj["be"], *(["very"] if very else []), a_en]
    en, zh = _place_time(subj, time, front, en_rest, ("非常" if very else "很") + a_zh)
    return en, zh, "."


def s_have(rng: random.Random) -> tuple[str, str, str]:
    subj = _subject(rng)
    n_en, n_zh = rng.choice(NUMBERS)
    key = rng.choice(HAVE_OBJECTS)
    place = (
        PLACES[rng.choice(("home", "garden"))] if key in ANIMALS and rng.random() < 0.5 else None
    )
    third = subj["p"] == "3sg"
    en_rest = ["has" if third else "have", n_en, OBJECTS[key][1], *([place[0]] if place else [])]
    zh = subj["zh"] + (place[1] if place else "") + "有" + zh_np(key, None, count=n_zh)
    return " ".join([subj["en"], *en_rest]), zh, "."


def s_like(rng: random.Random) -> tuple[str, str, str]:
    subj = _subject(rng)
    key = rng.choice(list(OBJECTS))
    adj = rng.choice(OBJECTS[key][4]) if rng.random() < 0.6 else None
    neg = rng.random() < 0.25
    third = subj["p"] == "3sg"
    if neg:
        en_v = "does not like" if third else "do not like"
    else:
        en_v = "likes" if third else "like"
    zh = subj["zh"] + ("不" if neg else "") + "喜欢" + zh_np(key, adj, count=None, det="那")
    return " ".join([subj["en"], en_v, en_np(key, adj, "the")]), zh, "."


def s_where(rng: random.Random) -> tuple[str, str, str]:
    key = rng.choice(list(OBJECTS))
    adj = rng.choice(OBJECTS[key][4])
    if rng.random() < 0.5:
        en_o, zh_o = en_np(key, adj, "the"), zh_np(key, adj, count=None, det="那")
    else:
        en_o = en_np(key, adj, "my")
        zh_o = "我的" + _zh_adj(adj, key in ANIMALS) + OBJECTS[key][2]
    return f"where is {en_o}", f"{zh_o}在哪里", "?"


def s_there(rng: random.Random) -> tuple[str, str, str]:
    loc_en, loc_zh = rng.choice(LOCATIONS)
    key = rng.choice(THERE_OBJECTS[loc_en])
    if rng.random() < 0.4:
        n_en, n_zh = rng.choice(NUMBERS)
        en = f"there are {n_en} {OBJECTS[key][1]} {loc_en}"
        zh = f"{loc_zh}有{zh_np(key, None, count=n_zh)}"
    else:
        adj = rng.choice(OBJECTS[key][4]) if rng.random() < 0.4 else None
        en = f"there is {en_np(key, adj)} {loc_en}"
        zh = f"{loc_zh}有{zh_np(key, adj)}"
    return en, zh, "."


RULES = (
    (s_transitive, 0.46),
    (s_go, 0.13),
    (s_be, 0.10),
    (s_have, 0.09),
    (s_like, 0.08),
    (s_where, 0.05),
    (s_there, 0.09),
)


def sentence(rng: random.Random) -> tuple[str, str]:
    """One (English, Chinese) sentence pair with final punctuation."""
    funcs, weights = zip(*RULES, strict=True)
    en, zh, end = rng.choices(funcs, weights)[0](rng)
    en = en[0].upper() + en[1:] + end
    zh = zh + ("？" if end == "?" else "。")
    return en, zh


def make_data(
    seed: int = SEED, n_pairs: int = N_PAIRS, n_docs: int = N_MONO_DOCS
) -> tuple[list[dict], list[dict]]:
    """(parallel rows, monolingual English documents); no English sentence is in both."""
    rng = random.Random(seed)
    seen_en: set[str] = set()
    seen_zh: set[str] = set()

    def fresh() -> tuple[str, str]:
        for _ in range(10_000):
            en, zh = sentence(rng)
            if 3 <= len(en.split()) <= 13 and en not in seen_en and zh not in seen_zh:
                seen_en.add(en)
                seen_zh.add(zh)
                return en, zh
        raise RuntimeError("grammar too small for the requested number of sentences")

    pairs = []
    for i in range(n_pairs):
        en, zh = fresh()
        pairs.append(
            {"id": f"en-zh-{i + 1:05d}", "src_lang": "en", "tgt_lang": "zh", "src_text": en,
             "tgt_text": zh}
        )  # fmt: skip
    docs = []
    for i in range(n_docs):
        n = rng.randint(*SENTENCES_PER_DOC)
        text = " ".join(fresh()[0] for _ in range(n))
        docs.append({"id": f"mono-en-{i + 1:05d}", "text": text, "lang": "en"})
    return pairs, docs


def write_jsonl_gz(path: Path, rows: list[dict]) -> None:
    buf = io.BytesIO()
    # mtime=0 and no file name: the same rows always give the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        for row in rows:
            gz.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
    path.write_bytes(buf.getvalue())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pairs, docs = make_data(args.seed)
    write_jsonl_gz(args.out / "zh-en.parallel.jsonl.gz", pairs)
    write_jsonl_gz(args.out / "en.mono.jsonl.gz", docs)
    n_sent = sum(len(re.findall(r"[.?](?: |$)", d["text"])) for d in docs)
    for name in ("zh-en.parallel.jsonl.gz", "en.mono.jsonl.gz"):
        print(f"{args.out / name}: {(args.out / name).stat().st_size:,} bytes")
    print(f"{len(pairs)} en-zh pairs; {len(docs)} English documents, {n_sent} sentences")


if __name__ == "__main__":
    main()
