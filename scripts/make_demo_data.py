#!/usr/bin/env python3
"""Write the crossling demo data into ``crossling/data/demo/`` (committed as package data).

    python scripts/make_demo_data.py [--out crossling/data/demo]

Outputs (see docs/CONTRACTS.md, "Demo data"):

- ``docs.jsonl``      monolingual documents in 13 languages / 8 scripts, plus deliberately bad
                      lines, told apart by id prefix: ``doc-`` (clean), ``dup-`` (exact duplicates,
                      some differing only by whitespace or NFC/NFD), ``near-`` (1-3 words changed or
                      a sentence appended), ``mixed-`` (two languages, 40/60-60/40 by characters),
                      ``junk-`` (too short, repeated lines, symbols, boilerplate, nonsense, numbers,
                      code, mojibake; ``junk-014-allcaps`` is real English in capitals and should be
                      kept by a sane quality filter).
- ``pages.warc.gz``   a gzipped WARC 1.0 as a crawler writes it: warcinfo, then request/response
                      pairs: HTML pages in 13 languages, charsets declared in the HTTP header, only in
                      <meta> (windows-1251, Shift_JIS, GB18030, bytes really in that charset) or not
                      at all; a 404, a 301, an image/png and one exact duplicate at another URL.
- ``parallel.jsonl``  en-de and en-fr pairs from a small compositional grammar (agreement, gender,
                      case, conjugation, word order), so a tiny seq2seq model can learn it.
- ``labeled.jsonl``   topic classification (sport, food, tech, weather) in en, de, fr, es, ru.
- ``site/``           a small website (home and topic pages in 13 languages, translations linked
                      with hreflang, a robots.txt) that ``crossling demo`` serves on 127.0.0.1 and
                      crawls over HTTP.

Deterministic: a fixed seed, fixed WARC dates and record ids (uuid5), so two runs are
byte-identical. Standard library and warcio only. All text was written for this project.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import random
import re
import struct
import unicodedata
import uuid
import zlib
from datetime import datetime, timedelta
from pathlib import Path

SEED = 20240517
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "crossling" / "data" / "demo"

TOPICS = ("weather", "cooking", "travel", "city", "science", "sport", "tech", "history")
PER_TOPIC = 6
DOC_LANGS = ("en", "de", "fr", "es", "pt", "ru", "uk", "zh", "ja", "ar", "hi", "el", "ko")
NO_SPACE_LANGS = {"zh", "ja"}

# ---------------------------------------------------------------------------------------------
# Text written for the demo, kept as data files beside this script (scripts/demo_data/):
# - pools/<lang>.txt: 8 topics x 6 sentences, in TOPICS order, one sentence a line (DOC_LANGS);
# - labeled/<lang>.txt: 12 sentences per label, labels in LABELS order; line i is the same
#   content in every language (LABELED_LANGS);
# - page_furniture.json: per language, the topic names (TOPICS order), the nav menu (home, news,
#   about, contact) and the footer line of the WARC pages and the website.
# ---------------------------------------------------------------------------------------------

DATA_DIR = Path(__file__).resolve().parent / "demo_data"
LABELS = ("sport", "food", "tech", "weather")
LABELED_LANGS = ("en", "de", "fr", "es", "ru")


def _text_lines(path: Path) -> list[str]:
    """The non-empty lines of a data file, stripped."""
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _furniture() -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, str]]:
    data = json.loads((DATA_DIR / "page_furniture.json").read_text(encoding="utf-8"))
    return data["topic_names"], data["nav"], data["footer"]


TOPIC_NAMES, NAV, FOOTER = _furniture()

# ---------------------------------------------------------------------------------------------
# Parallel grammar (English -> German, English -> French).
# ---------------------------------------------------------------------------------------------

# The lexicon tables below are laid out one entry a line on purpose.
# fmt: off
# People: en, de noun, de gender, fr noun, fr gender, which adjectives fit.
PERSONS = (
    ("man", "Mann", "m", "homme", "m", "adult"),
    ("woman", "Frau", "f", "femme", "f", "adult"),
    ("child", "Kind", "n", "enfant", "m", "kid"),
    ("boy", "Junge", "m", "garçon", "m", "kid"),
    ("girl", "Mädchen", "n", "fille", "f", "kid"),
    ("teacher", "Lehrer", "m", "professeur", "m", "adult"),
    ("doctor", "Arzt", "m", "médecin", "m", "adult"),
    ("student", "Student", "m", "étudiant", "m", "young"),
    ("cook", "Koch", "m", "cuisinier", "m", "adult"),
    ("farmer", "Bauer", "m", "fermier", "m", "adult"),
    ("neighbour", "Nachbar", "m", "voisin", "m", "adult"),
    ("grandmother", "Großmutter", "f", "grand-mère", "f", "old"),
)
PERSON_ADJS = {
    "adult": ("old", "young", "tired", "happy"),
    "kid": ("little", "tired", "happy"),
    "young": ("young", "tired", "happy"),
    "old": ("old", "tired", "happy"),
}
# en, de stem, fr (masc, fem, masc before a vowel), position in French.
SUBJ_ADJ = {
    "old": ("old", "alt", ("vieux", "vieille", "vieil"), "pre"),
    "young": ("young", "jung", ("jeune", "jeune", "jeune"), "pre"),
    "little": ("little", "klein", ("petit", "petite", "petit"), "pre"),
    "tired": ("tired", "müde", ("fatigué", "fatiguée", "fatigué"), "post"),
    "happy": ("happy", "glücklich", ("heureux", "heureuse", "heureux"), "post"),
}
POSSESSED = (  # en, de, fr, fr gender
    ("my brother", "mein Bruder", "mon frère", "m"),
    ("my sister", "meine Schwester", "ma sœur", "f"),
    ("my father", "mein Vater", "mon père", "m"),
    ("my mother", "meine Mutter", "ma mère", "f"),
    ("my friend", "mein Freund", "mon ami", "m"),
)
# en, de, fr, English person ("3sg"/"base"), English "be", German slot, French slot, fr gender, plural
PRONOUNS = (
    ("I", "ich", "je", "base", "am", "1sg", "1sg", "m", False),
    ("he", "er", "il", "3sg", "is", "3sg", "3sg", "m", False),
    ("she", "sie", "elle", "3sg", "is", "3sg", "3sg", "f", False),
    ("we", "wir", "nous", "base", "are", "pl", "1pl", "m", True),
    ("they", "sie", "ils", "base", "are", "pl", "3pl", "m", True),
)
DE_SLOT = {"3sg": 0, "1sg": 1, "pl": 2}
FR_SLOT = {"3sg": 0, "1sg": 1, "1pl": 2, "3pl": 3}

# Countable things: en, en plural, de noun, de gender, de plural, fr noun, fr gender, fr plural,
# adjectives that fit.
THING_ADJS = ("red", "green", "blue", "new", "old", "small", "big", "beautiful")
OBJECTS = {
    "book": ("book", "books", "Buch", "n", "Bücher", "livre", "m", "livres", ("red", "blue", "new", "old", "small", "big", "beautiful")),
    "letter": ("letter", "letters", "Brief", "m", "Briefe", "lettre", "f", "lettres", ("new", "old", "beautiful")),
    "newspaper": ("newspaper", "newspapers", "Zeitung", "f", "Zeitungen", "journal", "m", "journaux", ("new", "old")),
    "story": ("story", "stories", "Geschichte", "f", "Geschichten", "histoire", "f", "histoires", ("new", "old", "beautiful")),
    "postcard": ("postcard", "postcards", "Postkarte", "f", "Postkarten", "carte postale", "f", "cartes postales", ("new", "old", "beautiful")),
    "apple": ("apple", "apples", "Apfel", "m", "Äpfel", "pomme", "f", "pommes", ("red", "green", "small", "big", "beautiful")),
    "pear": ("pear", "pears", "Birne", "f", "Birnen", "poire", "f", "poires", ("green", "small", "big")),
    "orange": ("orange", "oranges", "Orange", "f", "Orangen", "orange", "f", "oranges", ("small", "big")),
    "cake": ("cake", "cakes", "Kuchen", "m", "Kuchen", "gâteau", "m", "gâteaux", ("small", "big", "beautiful")),
    "cup": ("cup", "cups", "Tasse", "f", "Tassen", "tasse", "f", "tasses", THING_ADJS),
    "bicycle": ("bicycle", "bicycles", "Fahrrad", "n", "Fahrräder", "vélo", "m", "vélos", THING_ADJS),
    "car": ("car", "cars", "Auto", "n", "Autos", "voiture", "f", "voitures", THING_ADJS),
    "ticket": ("ticket", "tickets", "Fahrkarte", "f", "Fahrkarten", "billet", "m", "billets", ("new", "old")),
    "hat": ("hat", "hats", "Hut", "m", "Hüte", "chapeau", "m", "chapeaux", THING_ADJS),
    "table": ("table", "tables", "Tisch", "m", "Tische", "table", "f", "tables", THING_ADJS),
    "lamp": ("lamp", "lamps", "Lampe", "f", "Lampen", "lampe", "f", "lampes", THING_ADJS),
    "chair": ("chair", "chairs", "Stuhl", "m", "Stühle", "chaise", "f", "chaises", THING_ADJS),
    "bag": ("bag", "bags", "Tasche", "f", "Taschen", "sac", "m", "sacs", THING_ADJS),
    "key": ("key", "keys", "Schlüssel", "m", "Schlüssel", "clé", "f", "clés", ("new", "old", "small", "big")),
    "door": ("door", "doors", "Tür", "f", "Türen", "porte", "f", "portes", ("red", "green", "blue", "old", "small", "big")),
    "window": ("window", "windows", "Fenster", "n", "Fenster", "fenêtre", "f", "fenêtres", ("old", "small", "big")),
    "box": ("box", "boxes", "Kiste", "f", "Kisten", "boîte", "f", "boîtes", THING_ADJS),
    "dog": ("dog", "dogs", "Hund", "m", "Hunde", "chien", "m", "chiens", ("old", "small", "big", "beautiful")),
    "cat": ("cat", "cats", "Katze", "f", "Katzen", "chat", "m", "chats", ("old", "small", "big", "beautiful")),
    "bird": ("bird", "birds", "Vogel", "m", "Vögel", "oiseau", "m", "oiseaux", ("old", "small", "big", "beautiful")),
    "horse": ("horse", "horses", "Pferd", "n", "Pferde", "cheval", "m", "chevaux", ("old", "small", "big", "beautiful")),
    "house": ("house", "houses", "Haus", "n", "Häuser", "maison", "f", "maisons", ("red", "new", "old", "small", "big", "beautiful")),
    "tree": ("tree", "trees", "Baum", "m", "Bäume", "arbre", "m", "arbres", ("old", "small", "big", "beautiful")),
    "flower": ("flower", "flowers", "Blume", "f", "Blumen", "fleur", "f", "fleurs", ("red", "blue", "small", "beautiful")),
}
# en, de stem, fr (masc, fem, masc before a vowel), position in French.
OBJ_ADJ = {
    "red": ("red", "rot", ("rouge", "rouge", "rouge"), "post"),
    "green": ("green", "grün", ("vert", "verte", "vert"), "post"),
    "blue": ("blue", "blau", ("bleu", "bleue", "bleu"), "post"),
    "new": ("new", "neu", ("nouveau", "nouvelle", "nouvel"), "pre"),
    "old": ("old", "alt", ("vieux", "vieille", "vieil"), "pre"),
    "small": ("small", "klein", ("petit", "petite", "petit"), "pre"),
    "big": ("big", "groß", ("grand", "grande", "grand"), "pre"),
    "beautiful": ("beautiful", "schön", ("beau", "belle", "bel"), "pre"),
    "hot": ("hot", "heiß", ("chaud", "chaude", "chaud"), "post"),
    "cold": ("cold", "kalt", ("froid", "froide", "froid"), "post"),
}
MASS = {  # en, de noun, de gender, fr noun, fr gender
    "coffee": ("coffee", "Kaffee", "m", "café", "m"),
    "tea": ("tea", "Tee", "m", "thé", "m"),
    "water": ("water", "Wasser", "n", "eau", "f"),
    "milk": ("milk", "Milch", "f", "lait", "m"),
    "juice": ("juice", "Saft", "m", "jus", "m"),
}
PLACES = {
    "garden": ("in the garden", "im Garten", "dans le jardin"),
    "kitchen": ("in the kitchen", "in der Küche", "dans la cuisine"),
    "park": ("in the park", "im Park", "dans le parc"),
    "school": ("at school", "in der Schule", "à l'école"),
    "home": ("at home", "zu Hause", "à la maison"),
    "library": ("in the library", "in der Bibliothek", "à la bibliothèque"),
    "market": ("at the market", "auf dem Markt", "au marché"),
    "office": ("in the office", "im Büro", "au bureau"),
    "station": ("at the station", "am Bahnhof", "à la gare"),
    "street": ("in the street", "auf der Straße", "dans la rue"),
    "shop": ("in the shop", "im Laden", "au magasin"),
    "city": ("in the city", "in der Stadt", "en ville"),
}
TIMES = (  # en, de, fr, may open the sentence
    ("today", "heute", "aujourd'hui", True),
    ("now", "jetzt", "maintenant", False),
    ("every morning", "jeden Morgen", "chaque matin", True),
    ("every day", "jeden Tag", "chaque jour", True),
    ("in the evening", "am Abend", "le soir", True),
    ("on Sundays", "sonntags", "le dimanche", True),
)
# verb: English (base, 3sg), German (3sg, 1sg, plural), French (3sg, 1sg, 1pl, 3pl),
# objects ("mass" for drink), places that fit.
VERBS = {
    "read": (("read", "reads"), ("liest", "lese", "lesen"), ("lit", "lis", "lisons", "lisent"),
             ("book", "letter", "newspaper", "story"),
             ("garden", "kitchen", "park", "library", "home", "office", "station")),
    "write": (("write", "writes"), ("schreibt", "schreibe", "schreiben"), ("écrit", "écris", "écrivons", "écrivent"),
              ("letter", "story", "postcard"),
              ("office", "home", "library", "kitchen", "school")),
    "buy": (("buy", "buys"), ("kauft", "kaufe", "kaufen"), ("achète", "achète", "achetons", "achètent"),
            ("book", "newspaper", "apple", "pear", "cake", "cup", "bicycle", "car", "ticket", "hat", "table", "lamp", "chair", "bag", "flower"),
            ("market", "shop", "city")),
    "see": (("see", "sees"), ("sieht", "sehe", "sehen"), ("voit", "vois", "voyons", "voient"),
            ("dog", "cat", "bird", "horse", "car", "house", "tree", "flower"),
            ("park", "garden", "street", "city", "station")),
    "find": (("find", "finds"), ("findet", "finde", "finden"), ("trouve", "trouve", "trouvons", "trouvent"),
             ("key", "book", "bag", "ticket", "hat", "cat", "dog", "letter"),
             ("garden", "kitchen", "office", "park", "street", "station", "home")),
    "open": (("open", "opens"), ("öffnet", "öffne", "öffnen"), ("ouvre", "ouvre", "ouvrons", "ouvrent"),
             ("door", "window", "box", "letter", "bag", "book"),
             ("kitchen", "office", "home", "school")),
    "wash": (("wash", "washes"), ("wäscht", "wasche", "waschen"), ("lave", "lave", "lavons", "lavent"),
             ("car", "cup", "dog", "window", "bicycle", "table"),
             ("garden", "kitchen", "home", "street")),
    "eat": (("eat", "eats"), ("isst", "esse", "essen"), ("mange", "mange", "mangeons", "mangent"),
            ("apple", "pear", "orange", "cake"),
            ("kitchen", "garden", "park", "school", "home", "office")),
    "draw": (("draw", "draws"), ("zeichnet", "zeichne", "zeichnen"), ("dessine", "dessine", "dessinons", "dessinent"),
             ("house", "tree", "horse", "cat", "dog", "bird", "flower", "car"),
             ("school", "home", "park", "garden")),
    "drink": (("drink", "drinks"), ("trinkt", "trinke", "trinken"), ("boit", "bois", "buvons", "boivent"),
              "mass",
              ("kitchen", "office", "home", "garden", "station")),
}
DESTINATIONS = (
    ("to the station", "zum Bahnhof", "à la gare"),
    ("to school", "zur Schule", "à l'école"),
    ("to the market", "zum Markt", "au marché"),
    ("to the park", "in den Park", "au parc"),
    ("to the office", "ins Büro", "au bureau"),
    ("to the library", "in die Bibliothek", "à la bibliothèque"),
    ("to the museum", "ins Museum", "au musée"),
    ("to the beach", "an den Strand", "à la plage"),
    ("to the city", "in die Stadt", "en ville"),
)
TRANSPORT = (  # en, de, fr, German verb of motion
    ("by bus", "mit dem Bus", "en bus", "fahren"),
    ("by train", "mit dem Zug", "en train", "fahren"),
    ("by bike", "mit dem Fahrrad", "à vélo", "fahren"),
    ("by car", "mit dem Auto", "en voiture", "fahren"),
    ("on foot", "zu Fuß", "à pied", "gehen"),
)
DE_MOTION = {"fahren": ("fährt", "fahre", "fahren"), "gehen": ("geht", "gehe", "gehen")}
PRED_ADJ = {  # en, de, fr (m, f, m pl, f pl)
    "tired": ("tired", "müde", ("fatigué", "fatiguée", "fatigués", "fatiguées")),
    "happy": ("happy", "glücklich", ("heureux", "heureuse", "heureux", "heureuses")),
    "sick": ("sick", "krank", ("malade", "malade", "malades", "malades")),
    "busy": ("busy", "beschäftigt", ("occupé", "occupée", "occupés", "occupées")),
    "sad": ("sad", "traurig", ("triste", "triste", "tristes", "tristes")),
    "ready": ("ready", "bereit", ("prêt", "prête", "prêts", "prêtes")),
}
NUMBERS = (("two", "zwei", "deux"), ("three", "drei", "trois"), ("four", "vier", "quatre"),
           ("five", "fünf", "cinq"), ("six", "sechs", "six"))
HAVE_OBJECTS = ("dog", "cat", "horse", "bird", "book", "bicycle", "car", "key", "bag", "hat", "cup", "lamp", "chair")
ANIMALS = {"dog", "cat", "horse", "bird"}
# fmt: on

_VOWEL = "aeiouyhéèêàâîôûœAEIOUYHÉÈÊÀÂÎÔÛŒ"


def _de_adj(stem: str, ending: str) -> str:
    return stem + (ending[1:] if stem.endswith("e") else ending)


def de_np(case: str, det: str, noun: str, gender: str, adj: str | None = None) -> str:
    """German singular noun phrase. det: def, indef, neg (kein), poss (mein), none."""
    base = {
        "nom": {"m": "ein", "f": "eine", "n": "ein"},
        "acc": {"m": "einen", "f": "eine", "n": "ein"},
    }[case][gender]
    article = {
        "def": {
            "nom": {"m": "der", "f": "die", "n": "das"},
            "acc": {"m": "den", "f": "die", "n": "das"},
        }[case][gender],
        "indef": base,
        "neg": "k" + base,
        "poss": "m" + base,
        "none": "",
    }[det]
    words = [article] if article else []
    if adj:
        if det == "def":
            ending = "en" if (case == "acc" and gender == "m") else "e"
        else:  # mixed and strong declension agree in the singular nominative/accusative
            ending = {"m": "er" if case == "nom" else "en", "f": "e", "n": "es"}[gender]
        words.append(_de_adj(adj, ending))
    words.append(noun)
    return " ".join(words)


def fr_np(det: str, noun: str, gender: str, adj: tuple | None = None) -> str:
    """French singular noun phrase. det: def, indef, neg (de), part (du), poss (mon/ma).
    Elision and contraction happen in fr_fix()."""
    pre = post = ""
    if adj:
        forms, pos = adj
        if gender == "f":
            form = forms[1]
        else:
            form = forms[2] if (pos == "pre" and noun[0] in _VOWEL) else forms[0]
        pre, post = (form, "") if pos == "pre" else ("", form)
    first = pre or noun
    article = {
        "def": "le" if gender == "m" else "la",
        "indef": "un" if gender == "m" else "une",
        "neg": "de",
        "part": "de le" if gender == "m" else "de la",
        "poss": "mon" if (gender == "m" or first[0] in _VOWEL) else "ma",
    }[det]
    return " ".join(w for w in (article, pre, noun, post) if w)


def fr_fix(s: str) -> str:
    s = re.sub(
        r"\b(je|Je|ne|le|Le|la|La|de|De|que)\s+(?=[" + _VOWEL + "])",
        lambda m: m.group(1)[:-1] + "'",
        s,
    )
    s = re.sub(r"\bde le ", "du ", s)
    s = re.sub(r"\bà le ", "au ", s)
    s = re.sub(r"\bde les ", "des ", s)
    s = re.sub(r"\bà les ", "aux ", s)
    return s[0].upper() + s[1:]


def en_fix(s: str) -> str:
    s = re.sub(r"\ba (?=[aeiouAEIOU])", "an ", s)
    return s[0].upper() + s[1:]


def de_fix(s: str) -> str:
    return s[0].upper() + s[1:]


def _subject(rng: random.Random, allow_adj: tuple = ("old", "young", "little", "tired", "happy")):
    r = rng.random()
    if r < 0.6:
        en, de, dg, fr, fg, kind = rng.choice(PERSONS)
        adjs = [a for a in PERSON_ADJS[kind] if a in allow_adj]
        adj = rng.choice(adjs) if adjs and rng.random() < 0.35 else None
        if adj:
            a_en, a_de, a_fr, a_pos = SUBJ_ADJ[adj]
            en_s = f"the {a_en} {en}"
            de_s = de_np("nom", "def", de, dg, a_de)
            fr_s = fr_np("def", fr, fg, (a_fr, a_pos))
        else:
            en_s, de_s, fr_s = f"the {en}", de_np("nom", "def", de, dg), fr_np("def", fr, fg)
        return dict(
            en=en_s,
            de=de_s,
            fr=fr_s,
            en_p="3sg",
            be="is",
            de_p="3sg",
            fr_p="3sg",
            g=fg,
            pl=False,
            adj=adj,
        )
    if r < 0.75:
        en, de, fr, fg = rng.choice(POSSESSED)
        return dict(
            en=en,
            de=de,
            fr=fr,
            en_p="3sg",
            be="is",
            de_p="3sg",
            fr_p="3sg",
            g=fg,
            pl=False,
            adj=None,
        )
    en, de, fr, en_p, be, de_p, fr_p, g, pl = rng.choice(PRONOUNS)
    return dict(en=en, de=de, fr=fr, en_p=en_p, be=be, de_p=de_p, fr_p=fr_p, g=g, pl=pl, adj=None)


def _time(rng: random.Random, p: float = 0.45):
    if rng.random() >= p:
        return None, False
    t = rng.choice(TIMES)
    return t, bool(t[3] and rng.random() < 0.5)


def _assemble(subj, time, front, en_rest, de_verb, de_rest, fr_rest):
    """en_rest: words after the subject; de_rest: words after verb (and time); fr_rest likewise."""
    if time is None:
        en = [subj["en"], *en_rest]
        de = [subj["de"], de_verb, *de_rest]
        fr = [subj["fr"], *fr_rest]
    elif front:
        en = [time[0], subj["en"], *en_rest]
        de = [time[1], de_verb, subj["de"], *de_rest]
        fr = [time[2] + ",", subj["fr"], *fr_rest]
    else:
        en = [subj["en"], *en_rest, time[0]]
        de = [subj["de"], de_verb, time[1], *de_rest]
        fr = [subj["fr"], *fr_rest, time[2]]
    return en, de, fr


def _s_transitive(rng: random.Random):
    v_en, v_de, v_fr, objs, places = VERBS[rng.choice(list(VERBS))]
    subj = _subject(rng)
    neg = rng.random() < 0.15
    place = PLACES[rng.choice(places)] if rng.random() < 0.6 else None
    time, front = _time(rng)
    if objs == "mass":
        en_n, de_n, de_g, fr_n, fr_g = MASS[rng.choice(list(MASS))]
        adj = OBJ_ADJ[rng.choice(("hot", "cold"))] if rng.random() < 0.4 else None
        en_o = f"{adj[0]} {en_n}" if adj else en_n
        de_o = de_np("acc", "neg" if neg else "none", de_n, de_g, adj[1] if adj else None)
        fr_o = fr_np("neg" if neg else "part", fr_n, fr_g, (adj[2], adj[3]) if adj else None)
    else:
        en_n, _, de_n, de_g, _, fr_n, fr_g, _, adjs = OBJECTS[rng.choice(objs)]
        adj = OBJ_ADJ[rng.choice(adjs)] if rng.random() < 0.4 else None
        en_o = f"a {adj[0]} {en_n}" if adj else f"a {en_n}"
        de_o = de_np("acc", "neg" if neg else "indef", de_n, de_g, adj[1] if adj else None)
        fr_o = fr_np("neg" if neg else "indef", fr_n, fr_g, (adj[2], adj[3]) if adj else None)
    third = subj["en_p"] == "3sg"
    if neg:
        en_v = ("does not " if third else "do not ") + v_en[0]
    else:
        en_v = v_en[1] if third else v_en[0]
    de_v = v_de[DE_SLOT[subj["de_p"]]]
    fr_v = v_fr[FR_SLOT[subj["fr_p"]]]
    fr_v = f"ne {fr_v} pas" if neg else fr_v
    p = [place] if place else []
    return _assemble(
        subj,
        time,
        front,
        [en_v, en_o, *[x[0] for x in p]],
        de_v,
        [de_o, *[x[1] for x in p]],
        [fr_v, fr_o, *[x[2] for x in p]],
    )


def _s_go(rng: random.Random):
    subj = _subject(rng)
    dest = rng.choice(DESTINATIONS)
    tr = rng.choice(TRANSPORT)
    time, front = _time(rng, 0.5)
    third = subj["en_p"] == "3sg"
    if tr[3] == "gehen":
        en_rest = ["walks" if third else "walk", dest[0]]
    else:
        en_rest = ["goes" if third else "go", dest[0], tr[0]]
    de_v = DE_MOTION[tr[3]][DE_SLOT[subj["de_p"]]]
    fr_v = ("va", "vais", "allons", "vont")[FR_SLOT[subj["fr_p"]]]
    return _assemble(subj, time, front, en_rest, de_v, [tr[1], dest[1]], [fr_v, dest[2], tr[2]])


def _s_be(rng: random.Random):
    subj = _subject(rng, allow_adj=("old", "young", "little"))
    a_en, a_de, a_fr = PRED_ADJ[rng.choice(list(PRED_ADJ))]
    very = rng.random() < 0.25
    time, front = _time(rng, 0.5)
    fr_form = a_fr[(2 if subj["pl"] else 0) + (1 if subj["g"] == "f" else 0)]
    de_v = ("ist", "bin", "sind")[DE_SLOT[subj["de_p"]]]
    fr_v = ("est", "suis", "sommes", "sont")[FR_SLOT[subj["fr_p"]]]
    return _assemble(
        subj,
        time,
        front,
        [subj["be"], *(["very"] if very else []), a_en],
        de_v,
        [*(["sehr"] if very else []), a_de],
        [fr_v, *(["très"] if very else []), fr_form],
    )


def _s_have(rng: random.Random):
    subj = _subject(rng)
    n_en, n_de, n_fr = rng.choice(NUMBERS)
    key = rng.choice(HAVE_OBJECTS)
    _, en_pl, _, _, de_pl, _, _, fr_pl, _ = OBJECTS[key]
    place = (
        PLACES[rng.choice(("home", "garden"))] if key in ANIMALS and rng.random() < 0.5 else None
    )
    p = [place] if place else []
    third = subj["en_p"] == "3sg"
    de_v = ("hat", "habe", "haben")[DE_SLOT[subj["de_p"]]]
    fr_v = ("a", "ai", "avons", "ont")[FR_SLOT[subj["fr_p"]]]
    return _assemble(
        subj,
        None,
        False,
        ["has" if third else "have", n_en, en_pl, *[x[0] for x in p]],
        de_v,
        [n_de, de_pl, *[x[1] for x in p]],
        [fr_v, n_fr, fr_pl, *[x[2] for x in p]],
    )


def _s_like(rng: random.Random):
    subj = _subject(rng)
    en_n, _, de_n, de_g, _, fr_n, fr_g, _, adjs = OBJECTS[rng.choice(list(OBJECTS))]
    adj = OBJ_ADJ[rng.choice(adjs)] if rng.random() < 0.6 else None
    neg = rng.random() < 0.25
    third = subj["en_p"] == "3sg"
    en_o = f"the {adj[0]} {en_n}" if adj else f"the {en_n}"
    de_o = de_np("acc", "def", de_n, de_g, adj[1] if adj else None)
    fr_o = fr_np("def", fr_n, fr_g, (adj[2], adj[3]) if adj else None)
    if neg:
        en_v = "does not like" if third else "do not like"
    else:
        en_v = "likes" if third else "like"
    de_v = ("mag", "mag", "mögen")[DE_SLOT[subj["de_p"]]]
    fr_v = ("aime", "aime", "aimons", "aiment")[FR_SLOT[subj["fr_p"]]]
    return _assemble(
        subj,
        None,
        False,
        [en_v, en_o],
        de_v,
        [de_o, *(["nicht"] if neg else [])],
        [f"ne {fr_v} pas" if neg else fr_v, fr_o],
    )


def _s_where(rng: random.Random):
    en_n, _, de_n, de_g, _, fr_n, fr_g, _, adjs = OBJECTS[rng.choice(list(OBJECTS))]
    adj = OBJ_ADJ[rng.choice(adjs)]
    det = rng.choice(("def", "poss"))
    en = ["where", "is", "the" if det == "def" else "my", adj[0], en_n]
    de = ["wo", "ist", de_np("nom", det, de_n, de_g, adj[1])]
    fr = ["où", "est", fr_np(det, fr_n, fr_g, (adj[2], adj[3]))]
    return en, de, fr, "?"


TEMPLATES = (
    (_s_transitive, 0.50),
    (_s_go, 0.15),
    (_s_be, 0.12),
    (_s_have, 0.10),
    (_s_like, 0.08),
    (_s_where, 0.05),
)


def make_parallel(seed: int = SEED, n_de: int = 720, n_fr: int = 420) -> list[dict]:
    rng = random.Random(seed + 3)
    funcs, weights = zip(*TEMPLATES, strict=True)
    triples: list[tuple[str, str, str]] = []
    seen_en: set[str] = set()
    seen_de: set[str] = set()
    seen_fr: set[str] = set()
    tries = 0
    while len(triples) < n_de + n_fr:
        tries += 1
        if tries > 200_000:
            raise RuntimeError("grammar too small for the requested number of pairs")
        out = rng.choices(funcs, weights)[0](rng)
        end = "."
        if len(out) == 4:
            en, de, fr, end = out
        else:
            en, de, fr = out
        en_s = en_fix(" ".join(en) + end)
        de_s = de_fix(" ".join(de) + end)
        fr_s = fr_fix(" ".join(fr) + end)
        if not 5 <= len(en_s.split()) <= 12:
            continue
        if en_s in seen_en or de_s in seen_de or fr_s in seen_fr:
            continue
        seen_en.add(en_s)
        seen_de.add(de_s)
        seen_fr.add(fr_s)
        triples.append((en_s, de_s, fr_s))
    rows = []
    for i, (en_s, de_s, _) in enumerate(triples[:n_de]):
        rows.append(
            dict(
                id=f"en-de-{i + 1:05d}", src_lang="en", tgt_lang="de", src_text=en_s, tgt_text=de_s
            )
        )
    for i, (en_s, _, fr_s) in enumerate(triples[n_de:]):
        rows.append(
            dict(
                id=f"en-fr-{i + 1:05d}", src_lang="en", tgt_lang="fr", src_text=en_s, tgt_text=fr_s
            )
        )
    return rows


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------


def load_pools() -> dict[str, dict[str, list[str]]]:
    pools = {}
    for lang in DOC_LANGS:
        lines = _text_lines(DATA_DIR / "pools" / f"{lang}.txt")
        assert len(lines) == len(TOPICS) * PER_TOPIC, (lang, len(lines))
        pools[lang] = {t: lines[i * PER_TOPIC : (i + 1) * PER_TOPIC] for i, t in enumerate(TOPICS)}
    return pools


def _join(lang: str, sentences: list[str]) -> str:
    return ("" if lang in NO_SPACE_LANGS else " ").join(sentences)


def _paragraphs(rng: random.Random, lang: str, sentences: list[str]) -> list[str]:
    paras, i = [], 0
    while i < len(sentences):
        k = rng.randint(1, 3)
        paras.append(_join(lang, sentences[i : i + k]))
        i += k
    return paras


def _pick_sentences(rng, pools, lang, topic, n_main, n_other, exclude=()):
    main = [s for s in pools[lang][topic] if s not in exclude]
    others = [s for t in TOPICS if t != topic for s in pools[lang][t] if s not in exclude]
    return rng.sample(main, min(n_main, len(main))) + rng.sample(others, n_other)


def compose_doc(rng: random.Random, pools, lang: str, topic: str) -> tuple[str, list[str]]:
    """3-8 sentences, mostly on one topic, paragraphs separated by newlines, 200-1500 chars."""
    k = rng.randint(3, 8)
    n_main = min(k, rng.randint(2, 4))
    sentences = _pick_sentences(rng, pools, lang, topic, n_main, k - n_main)
    while len(_join(lang, sentences)) < 200:
        sentences += _pick_sentences(rng, pools, lang, topic, 0, 1, exclude=sentences)
    text = "\n".join(_paragraphs(rng, lang, sentences))
    assert 200 <= len(text) <= 1500, (lang, len(text))
    return text, sentences


def _url(lang: str, *parts: object) -> str:
    return f"https://{lang}.example.org/" + "/".join(str(p) for p in parts)


NONSENSE_SYLLABLES = (
    "lo ra ven tis qua dor mel ip sa tum fer ni co bal us tre mo gan pel ex vi sor dul cam "
    "ne fra lum or pi tal ser um ge bri nox ha ul ter"
).split()


def _nonsense(rng: random.Random, n_words: int) -> str:
    words, sentence = [], []
    for _ in range(n_words):
        w = "".join(rng.choice(NONSENSE_SYLLABLES) for _ in range(rng.randint(1, 4)))
        sentence.append(w)
        if len(sentence) >= rng.randint(6, 14):
            words.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    if sentence:
        words.append(" ".join(sentence).capitalize() + ".")
    return " ".join(words)


CODE_SNIPPET = """\
import os
from collections import defaultdict

def load_config(path):
    cfg = defaultdict(dict)
    with open(path) as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            section, _, name = key.strip().partition(".")
            cfg[section][name] = value.strip()
    return cfg

if __name__ == "__main__":
    cfg = load_config(os.environ.get("APP_CONFIG", "app.ini"))
    for section, values in sorted(cfg.items()):
        print(f"[{section}]", len(values))
// TODO: remove once the new loader is merged
function retry(fn, n) { for (let i = 0; i < n; i++) { try { return fn(); } catch (e) {} } }
"""


def make_junk(rng: random.Random, pools) -> list[tuple[str, str, str]]:
    """(id suffix, text, url lang). Everything here should be dropped except 014-allcaps."""
    junk = [
        ("001-short", "ok", "en"),
        ("002-short", "Click here", "en"),
        ("003-short", "Read more »", "en"),
        (
            "004-repeat",
            "\n".join(["Subscribe to our newsletter and never miss a deal!"] * 30),
            "en",
        ),
        ("005-repeat", "\n".join(["Лучшие цены только сегодня — жмите сюда!"] * 30), "ru"),
        (
            "006-symbols",
            "\n".join(
                " ".join(
                    rng.choice(
                        [
                            "####",
                            "$$$",
                            "%%%",
                            "&&&",
                            "***",
                            "@@@",
                            "!!!",
                            "^^^",
                            "~~~",
                            "+++",
                            "===",
                            "|||",
                            "<<<",
                            ">>>",
                            "///",
                        ]
                    )
                    for _ in range(12)
                )
                for _ in range(10)
            ),
            "en",
        ),
        (
            "007-symbols",
            "\n".join(
                " ".join(
                    rng.choice(
                        ["★☆★", "♥♥♥", "✓✓", "►►", "◄◄", "■■■", "□□", "●●●", "○○", "♦♦", "→→", "※※"]
                    )
                    for _ in range(10)
                )
                for _ in range(8)
            ),
            "ja",
        ),
        ("008-nav", "\n".join(["Home | About | Contact | Login"] * 25), "en"),
        (
            "009-nav",
            "\n".join(
                [
                    "Startseite | Über uns | Kontakt | Anmelden | Warenkorb (0)",
                    "Impressum | Datenschutz | AGB | Cookie-Einstellungen",
                ]
                * 12
            ),
            "de",
        ),
        ("010-lorem", _nonsense(rng, 140), "en"),
        ("011-lorem", "\n".join(_nonsense(rng, 45) for _ in range(4)), "fr"),
        (
            "012-numbers",
            "\n".join(" ".join(str(rng.randint(0, 99999)) for _ in range(12)) for _ in range(15)),
            "en",
        ),
        ("013-code", CODE_SNIPPET, "en"),
        (
            "014-allcaps",
            "\n".join(s.upper() for s in pools["en"]["sport"][:3] + pools["en"]["weather"][2:5]),
            "en",
        ),
        (
            "015-cookie",
            "We use cookies to improve your experience on our website. By continuing to browse, "
            "you agree to our use of cookies.\nAccept all | Reject all | Settings",
            "en",
        ),
        ("016-whitespace", "   \n\t\n    \n", "en"),
        (
            "017-urls",
            "\n".join(
                f"https://shop.example.com/item?id={rng.randint(1000, 9999)}&ref=feed&page={i}"
                for i in range(25)
            ),
            "en",
        ),
        (
            "018-charrepeat",
            "aaaaaaaaaaaaaaaaaaaaaaaa!!!!!!!!!!!! " * 6 + "hahahahahahahahahahaha",
            "en",
        ),
        (
            "019-mojibake",
            "\n".join(
                s.encode("utf-8").decode("cp1252", errors="replace")
                for s in pools["de"]["cooking"][:3] + pools["fr"]["travel"][:2]
            ),
            "de",
        ),
        (
            "020-keywords",
            " ".join(
                rng.choice(
                    [
                        "cheap flights",
                        "best price",
                        "cheap hotels",
                        "buy now",
                        "discount",
                        "free shipping",
                        "top deals",
                        "cheap tickets",
                    ]
                )
                for _ in range(60)
            ),
            "en",
        ),
    ]
    return junk


def _overlap(a: list[str], b: list[str]) -> float:
    return len(set(a) & set(b)) / len(set(a) | set(b))


def _is_word(w: str) -> bool:
    return len(w) >= 4 and all(unicodedata.category(c)[0] in "LM" for c in w)


def _spaced(rng: random.Random, text: str) -> str:
    """Same text, different whitespace: doubled spaces, trailing spaces, blank lines."""
    out = []
    for line in text.split("\n"):
        words = line.split(" ")
        line = "".join(w + (" " * rng.choice((1, 1, 2, 3))) for w in words).rstrip(" ")
        out.append("  " + line + "   ")
    return "\n\n".join(out) + "\n"


def make_docs(seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    pools = load_pools()
    per_lang = 27
    by_lang: dict[str, list[dict]] = {}
    for lang in DOC_LANGS:
        docs = []
        topics = [TOPICS[i % len(TOPICS)] for i in range(per_lang)]
        rng.shuffle(topics)
        for i, topic in enumerate(topics):
            # Clean documents must not be near-duplicates of each other by accident: two
            # documents of a language share at most a third of their sentences.
            for _ in range(1000):
                text, sentences = compose_doc(rng, pools, lang, topic)
                if all(_overlap(sentences, d["_sentences"]) <= 1 / 3 for d in docs):
                    break
            else:
                raise RuntimeError(f"could not compose distinct documents for {lang}")
            doc = {
                "id": f"doc-{lang}-{i + 1:03d}",
                "text": text,
                "url": _url(lang, topic, f"{i + 1:03d}.html"),
            }
            if i % 3 == 0:
                doc["lang"] = lang
            docs.append(doc)
            doc["_sentences"] = sentences
        by_lang[lang] = docs
    # Interleave languages, as a crawl would.
    clean = [by_lang[lang][i] for i in range(per_lang) for lang in DOC_LANGS]

    # Exact duplicates (some only after NFC / whitespace normalization).
    dups = []
    variants = ["exact"] * 8 + ["nfd"] * 5 + ["spaces"] * 4 + ["crlf"] * 2 + ["nfd-spaces"]
    nfd_ok = [d for d in clean if unicodedata.normalize("NFD", d["text"]) != d["text"]]
    chosen: set[str] = set()
    for i, variant in enumerate(variants):
        source_pool = nfd_ok if "nfd" in variant else clean
        src = rng.choice([d for d in source_pool if d["id"] not in chosen])
        chosen.add(src["id"])
        text = src["text"]
        if "nfd" in variant:
            text = unicodedata.normalize("NFD", text)
        if "spaces" in variant:
            text = _spaced(rng, text)
        if variant == "crlf":
            text = text.replace("\n", "\r\n") + "\r\n"
        lang = src["url"].split("//")[1].split(".")[0]
        dups.append(
            {
                "id": f"dup-{i + 1:03d}-{variant}",
                "text": text,
                "url": _url(lang, "mirror", f"{i + 1:03d}", src["url"].rsplit("/", 1)[1]),
            }
        )

    # Near duplicates: 1-3 words swapped, or one sentence appended, on longer documents.
    near = []
    long_docs = [d for d in clean if len(d["_sentences"]) >= 5 and d["id"] not in chosen]
    for i, src in enumerate(rng.sample(long_docs, 20)):
        lang = src["url"].split("//")[1].split(".")[0]
        text = src["text"]
        if lang in NO_SPACE_LANGS or i % 2 == 1:
            kind = "append"
            extra = _pick_sentences(rng, pools, lang, TOPICS[0], 0, 1, exclude=src["_sentences"])
            text = text + "\n" + extra[0]
        else:
            kind = "words"
            vocab = sorted(
                {w for t in TOPICS for s in pools[lang][t] for w in s.split() if _is_word(w)}
            )
            tokens = text.split(" ")
            positions = [j for j, w in enumerate(tokens) if _is_word(w)]
            for j in rng.sample(positions, rng.randint(1, 3)):
                tokens[j] = rng.choice([w for w in vocab if w != tokens[j]])
            text = " ".join(tokens)
        near.append(
            {
                "id": f"near-{i + 1:03d}-{kind}",
                "text": text,
                "url": _url(lang, "archive", f"{i + 1:03d}", src["url"].rsplit("/", 1)[1]),
            }
        )

    # Mixed-language pages: alternating paragraphs, each language 40-60% of the characters.
    mixed = []
    pairs = [
        ("en", "de"),
        ("ru", "en"),
        ("zh", "en"),
        ("fr", "es"),
        ("ja", "en"),
        ("ar", "en"),
        ("hi", "en"),
        ("de", "fr"),
        ("el", "en"),
        ("ko", "en"),
        ("uk", "ru"),
        ("pt", "es"),
        ("es", "en"),
        ("en", "fr"),
        ("de", "ru"),
    ]
    for i, (a, b) in enumerate(pairs):
        # Same topic, but never a sentence next to its own translation: the two languages get
        # disjoint sentence slots (pools are aligned line by line).
        t = rng.randrange(len(TOPICS))
        slots = rng.sample(range(PER_TOPIC), PER_TOPIC)
        rest = rng.sample([j for j in range(len(TOPICS) * PER_TOPIC) if j // PER_TOPIC != t], 40)
        flat = {x: [s for tp in TOPICS for s in pools[x][tp]] for x in (a, b)}
        left = {
            a: [flat[a][t * PER_TOPIC + j] for j in slots[:3]] + [flat[a][j] for j in rest[:20]],
            b: [flat[b][t * PER_TOPIC + j] for j in slots[3:]] + [flat[b][j] for j in rest[20:]],
        }
        paras: list[tuple[str, str]] = []
        chars = {a: 0, b: 0}
        while True:
            lang = a if chars[a] <= chars[b] else b
            para = _join(lang, [left[lang].pop(0) for _ in range(rng.randint(1, 2))])
            paras.append((lang, para))
            chars[lang] += len(para)
            total = chars[a] + chars[b]
            if total >= 600 and 0.42 <= chars[a] / total <= 0.58 and len(paras) >= 4:
                break
        mixed.append(
            {
                "id": f"mixed-{i + 1:03d}-{a}-{b}",
                "text": "\n".join(p for _, p in paras),
                "url": _url(a, "mixed", f"{i + 1:03d}.html"),
            }
        )

    junk = [
        {"id": f"junk-{suffix}", "text": text, "url": _url(lang, "misc", f"{suffix}.html")}
        for suffix, text, lang in make_junk(rng, pools)
    ]

    for d in clean:
        del d["_sentences"]
    return clean + dups + near + mixed + junk


# ---------------------------------------------------------------------------------------------
# Labeled topic set
# ---------------------------------------------------------------------------------------------


def make_labeled() -> list[dict]:
    rows = []
    for lang in LABELED_LANGS:
        lines = _text_lines(DATA_DIR / "labeled" / f"{lang}.txt")
        assert len(lines) == 12 * len(LABELS), (lang, len(lines))
        for i in range(12):
            for k, label in enumerate(LABELS):
                rows.append({"text": lines[k * 12 + i], "label": label, "lang": lang})
    return rows


# ---------------------------------------------------------------------------------------------
# WARC
# ---------------------------------------------------------------------------------------------

WARC_START = datetime(2024, 5, 14, 9, 30, 0)
HTTP_DATE = "%a, %d %b %Y %H:%M:%S GMT"
USER_AGENT = "crossling-demo-crawler/0.1 (+https://example.org/crossling-bot)"


def _record_id(name: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'crossling-demo:' + name)}>"


def _tiny_png(width: int = 16, height: int = 16) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 16, y * 16, 128)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def make_html(rng: random.Random, pools, lang: str, topic_i: int, meta: str | None) -> str:
    """A page with a head, a nav menu, one <article> of several paragraphs, an aside, a footer."""
    topic = TOPICS[topic_i]
    title = TOPIC_NAMES[lang][topic_i]
    nav = NAV[lang]
    k = rng.randint(5, 8)
    sentences = _pick_sentences(rng, pools, lang, topic, min(k, 4), k - min(k, 4))
    paras = [_join(lang, sentences[i : i + 2]) for i in range(0, len(sentences), 2)]
    other = [TOPIC_NAMES[lang][j] for j in rng.sample(range(len(TOPICS)), 3)]
    esc = html.escape
    dir_attr = ' dir="rtl"' if lang == "ar" else ""
    head_meta = f"\n{meta}" if meta else ""
    nav_items = "\n".join(
        f'      <li><a href="{href}">{esc(label)}</a></li>'
        for href, label in zip(("/", "/news/", "/about/", "/contact/"), nav, strict=True)
    )
    section_items = "\n".join(
        f'      <li><a href="/{TOPICS[TOPIC_NAMES[lang].index(t)]}/">{esc(t)}</a></li>'
        for t in other
    )
    body = "\n".join(f"    <p>{esc(p)}</p>" for p in paras)
    return f"""<!DOCTYPE html>
<html lang="{lang}"{dir_attr}>
<head>{head_meta}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} | {lang}.example.org</title>
<link rel="stylesheet" href="/static/site.css">
<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}}</script>
</head>
<body>
<header class="site-header">
  <a class="logo" href="/">{lang}.example.org</a>
  <nav class="main-nav">
    <ul>
{nav_items}
    </ul>
  </nav>
</header>
<main>
  <article>
    <h1>{esc(title)}</h1>
    <p class="byline"><time datetime="2024-05-{rng.randint(1, 13):02d}">2024-05</time></p>
{body}
  </article>
  <aside class="related">
    <ul>
{section_items}
    </ul>
  </aside>
</main>
<footer>
  <p>&copy; 2024 {lang}.example.org. {esc(FOOTER[lang])}</p>
  <p><a href="/privacy/">Privacy</a> &middot; <a href="/imprint/">Imprint</a></p>
</footer>
</body>
</html>
"""


def make_warc_pages(seed: int = SEED) -> list[dict]:
    """The crawl: one dict per fetched URL (status, headers, body bytes)."""
    rng = random.Random(seed + 1)
    pools = load_pools()
    utf8_meta = '<meta charset="utf-8">'
    # lang, topic index, how the charset is declared, body encoding
    plan = [
        ("en", 0, "header+meta", "utf-8"),
        ("en", 5, "header", "utf-8"),
        ("en", 6, "header+meta", "utf-8"),
        ("en", 7, "header", "utf-8"),
        ("de", 2, "header+meta", "utf-8"),
        ("de", 1, "header", "utf-8"),
        ("de", 6, "header+meta", "utf-8"),
        ("fr", 3, "header+meta", "utf-8"),
        ("fr", 4, "header", "utf-8"),
        ("es", 1, "header+meta", "utf-8"),
        ("es", 5, "header+meta", "utf-8"),
        ("pt", 2, "header", "utf-8"),
        ("ru", 7, "header+meta", "utf-8"),
        ("ru", 0, "meta-only", "windows-1251"),
        ("uk", 3, "header+meta", "utf-8"),
        ("zh", 6, "header+meta", "utf-8"),
        ("zh", 1, "meta-only", "gb18030"),
        ("ja", 2, "header", "utf-8"),
        ("ja", 4, "meta-only", "shift_jis"),
        ("ar", 5, "header+meta", "utf-8"),
        ("hi", 0, "header+meta", "utf-8"),
        ("el", 3, "header+meta", "utf-8"),
        ("el", 4, "none", "utf-8"),
        ("ko", 7, "header+meta", "utf-8"),
        ("ko", 6, "header", "utf-8"),
    ]
    meta_only = {
        "windows-1251": '<meta charset="windows-1251">',
        "shift_jis": '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">',
        "gb18030": '<meta charset="gb18030">',
    }
    pages = []
    for n, (lang, topic_i, decl, encoding) in enumerate(plan):
        meta = {
            "header+meta": utf8_meta,
            "header": None,
            "none": None,
            "meta-only": meta_only.get(encoding),
        }[decl]
        body = make_html(rng, pools, lang, topic_i, meta).encode(encoding)  # strict: must fit
        ctype = "text/html; charset=utf-8" if decl.startswith("header") else "text/html"
        pages.append(
            dict(
                url=_url(lang, TOPICS[topic_i], f"{n + 1:03d}.html"),
                status="200 OK",
                ctype=ctype,
                body=body,
                lang=lang,
                extra=[],
            )
        )
    # One exact duplicate of a page at another URL (same bytes, query string differs).
    dup_src = pages[4]
    pages.append(dict(dup_src, url=dup_src["url"] + "?utm_source=newsletter&utm_medium=email"))
    # A 404, a redirect and an image.
    not_found = (
        b'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        b"<title>404 Not Found</title></head>\n<body>\n<h1>Not Found</h1>\n"
        b"<p>The requested URL was not found on this server.</p>\n<hr>\n"
        b"<address>nginx</address>\n</body>\n</html>\n"
    )
    pages.append(
        dict(
            url=_url("en", "travel", "old-page.html"),
            status="404 Not Found",
            ctype="text/html; charset=utf-8",
            body=not_found,
            lang=None,
            extra=[],
        )
    )
    moved = (
        "<html><head><title>301 Moved Permanently</title></head><body>"
        "<h1>Moved Permanently</h1><p>The document has moved "
        f'<a href="{pages[0]["url"]}">here</a>.</p></body></html>\n'
    ).encode()
    pages.append(
        dict(
            url=_url("en", "weather", "index.php?id=1"),
            status="301 Moved Permanently",
            ctype="text/html; charset=iso-8859-1",
            body=moved,
            lang=None,
            extra=[("Location", pages[0]["url"])],
        )
    )
    pages.append(
        dict(
            url=_url("de", "static", "logo.png"),
            status="200 OK",
            ctype="image/png",
            body=_tiny_png(),
            lang=None,
            extra=[("Cache-Control", "max-age=86400")],
        )
    )
    # A few more ordinary pages so that there are ~30 responses.
    for lang, topic_i in (("fr", 7), ("es", 2)):
        body = make_html(rng, pools, lang, topic_i, utf8_meta).encode("utf-8")
        pages.append(
            dict(
                url=_url(lang, TOPICS[topic_i], f"{len(pages) + 1:03d}.html"),
                status="200 OK",
                ctype="text/html; charset=utf-8",
                body=body,
                lang=lang,
                extra=[],
            )
        )
    return pages


def write_warc(path: Path, seed: int = SEED) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    pages = make_warc_pages(seed)
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    info = writer.create_warcinfo_record(
        path.name,
        {
            "software": "crossling scripts/make_demo_data.py (warcio)",
            "format": "WARC File Format 1.0",
            "conformsTo": "http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf",
            "isPartOf": "crossling-demo",
            "description": "Synthetic demo crawl of *.example.org; all text written for crossling",
            "robots": "obey",
            "http-header-user-agent": USER_AGENT,
        },
    )
    info.rec_headers.replace_header("WARC-Record-ID", _record_id("warcinfo"))
    info.rec_headers.replace_header("WARC-Date", WARC_START.strftime("%Y-%m-%dT%H:%M:%SZ"))
    writer.write_record(info)
    for i, page in enumerate(pages):
        when = WARC_START + timedelta(seconds=7 * i + 3)
        warc_date = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        host = page["url"].split("/")[2]
        path_q = "/" + page["url"].split("/", 3)[3]
        accept_lang = f"{page['lang']},en;q=0.7,*;q=0.5" if page["lang"] else "en,*;q=0.5"
        req_headers = StatusAndHeaders(
            f"GET {path_q} HTTP/1.1",
            [
                ("Host", host),
                ("User-Agent", USER_AGENT),
                ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                ("Accept-Language", accept_lang),
                ("Accept-Encoding", "identity"),
                ("Connection", "close"),
            ],
            is_http_request=True,
        )
        resp_headers = StatusAndHeaders(
            page["status"],
            [
                ("Date", when.strftime(HTTP_DATE)),
                ("Server", "nginx/1.24.0"),
                ("Content-Type", page["ctype"]),
                ("Content-Length", str(len(page["body"]))),
                *page["extra"],
                ("Last-Modified", (when - timedelta(days=3 + i)).strftime(HTTP_DATE)),
                ("Connection", "close"),
            ],
            protocol="HTTP/1.1",
        )
        ip = f"192.0.2.{10 + (sum(map(ord, host)) % 200)}"
        resp = writer.create_warc_record(
            page["url"],
            "response",
            payload=io.BytesIO(page["body"]),
            length=len(page["body"]),
            http_headers=resp_headers,
            warc_headers_dict={
                "WARC-Record-ID": _record_id(f"response:{i}:{page['url']}"),
                "WARC-Date": warc_date,
                "WARC-IP-Address": ip,
                "WARC-Warcinfo-ID": _record_id("warcinfo"),
            },
        )
        req = writer.create_warc_record(
            page["url"],
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=req_headers,
            warc_headers_dict={
                "WARC-Record-ID": _record_id(f"request:{i}:{page['url']}"),
                "WARC-Date": warc_date,
                "WARC-Warcinfo-ID": _record_id("warcinfo"),
            },
        )
        # Writes the response, then the request with WARC-Concurrent-To pointing at it.
        writer.write_request_response_pair(req, resp)
    data = buf.getvalue()
    path.write_bytes(data)
    return len(pages)


# ---------------------------------------------------------------------------------------------
# The demo website (served on 127.0.0.1 by `crossling demo` and crawled over HTTP)
# ---------------------------------------------------------------------------------------------

SITE_LANGS = DOC_LANGS


def _site_page(lang: str, title: str, nav: str, body: str, alternates: str) -> str:
    dir_attr = ' dir="rtl"' if lang == "ar" else ""
    return f"""<!DOCTYPE html>
<html lang="{lang}"{dir_attr}>
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
{alternates}
</head>
<body>
<header><nav>
{nav}
</nav></header>
<main>
{body}
</main>
<footer><p>&copy; 2024 crossling demo. {html.escape(FOOTER[lang])}</p>
<p><a href="/private/drafts.html">drafts</a></p></footer>
</body>
</html>
"""


def make_site() -> dict[str, str]:
    """A small multilingual website: per language a home page and one page per topic whose
    six sentences are translations of each other across languages; every page names its
    translations with <link rel="alternate" hreflang>. robots.txt disallows /private/."""
    pools = load_pools()
    files: dict[str, str] = {
        "robots.txt": "User-agent: *\nDisallow: /private/\n",
        "index.html": _site_page(
            "en",
            "crossling demo",
            "",
            "<h1>crossling demo</h1>\n<ul>\n"
            + "".join(f'<li><a href="/{lang}/">{lang}</a></li>\n' for lang in SITE_LANGS)
            + "</ul>",
            "",
        ),
    }
    for lang in SITE_LANGS:
        names = TOPIC_NAMES[lang]
        nav_items = [f'<a href="/{lang}/">{html.escape(NAV[lang][0])}</a>'] + [
            f'<a href="/{lang}/{topic}.html">{html.escape(names[i])}</a>'
            for i, topic in enumerate(TOPICS)
        ]
        nav = "\n".join(nav_items)
        home_alts = "\n".join(
            f'<link rel="alternate" hreflang="{other}" href="/{other}/">' for other in SITE_LANGS
        )
        items = "".join(
            f'<li><a href="/{lang}/{topic}.html">{html.escape(names[i])}</a></li>\n'
            for i, topic in enumerate(TOPICS)
        )
        files[f"{lang}/index.html"] = _site_page(
            lang, NAV[lang][0], nav, f"<ul>\n{items}</ul>", home_alts
        )
        for i, topic in enumerate(TOPICS):
            sentences = pools[lang][topic]
            paras = "\n".join(
                f"<p>{html.escape(_join(lang, sentences[k : k + 2]))}</p>"
                for k in range(0, len(sentences), 2)
            )
            alts = "\n".join(
                f'<link rel="alternate" hreflang="{other}" href="/{other}/{topic}.html">'
                for other in SITE_LANGS
            )
            body = f"<article>\n<h1>{html.escape(names[i])}</h1>\n{paras}\n</article>"
            files[f"{lang}/{topic}.html"] = _site_page(lang, names[i], nav, body, alts)
    return files


def write_site(out: Path) -> int:
    if out.exists():
        for f in sorted(out.rglob("*"), reverse=True):
            f.unlink() if f.is_file() else f.rmdir()
    for rel, text in make_site().items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    return len(list(out.rglob("*.html")))


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    docs = make_docs(args.seed)
    write_jsonl(out / "docs.jsonl", docs)
    n_pages = write_warc(out / "pages.warc.gz", args.seed)
    pairs = make_parallel(args.seed)
    write_jsonl(out / "parallel.jsonl", pairs)
    labeled = make_labeled()
    write_jsonl(out / "labeled.jsonl", labeled)
    n_site = write_site(out / "site")
    for name in ("docs.jsonl", "pages.warc.gz", "parallel.jsonl", "labeled.jsonl"):
        print(f"{out / name}: {(out / name).stat().st_size:,} bytes")
    print(
        f"{len(docs)} docs, {n_pages} responses, {len(pairs)} pairs, {len(labeled)} labeled, "
        f"{n_site} site pages"
    )


if __name__ == "__main__":
    main()
