"""Small real fixtures: short paragraphs in several scripts, written for these tests."""

PARAGRAPHS = {
    "en": "The library on the corner opens at nine every morning. Students come early to find a "
    "quiet table near the window, and the old librarian greets each of them by name.",
    "de": "Die Bibliothek an der Ecke öffnet jeden Morgen um neun Uhr. Studenten kommen früh, um "
    "einen ruhigen Tisch am Fenster zu finden, und die alte Bibliothekarin grüßt jeden.",
    "fr": "La bibliothèque du coin ouvre chaque matin à neuf heures. Les étudiants arrivent tôt "
    "pour trouver une table calme près de la fenêtre, et la vieille bibliothécaire les salue.",
    "es": "La biblioteca de la esquina abre cada mañana a las nueve. Los estudiantes llegan "
    "temprano para encontrar una mesa tranquila junto a la ventana.",
    "ru": "Библиотека на углу открывается каждое утро в девять часов. Студенты приходят рано, "
    "чтобы найти тихий стол у окна, и старая библиотекарша здоровается с каждым из них.",
    "zh": "街角的图书馆每天早上九点开门。学生们很早就来了，想在窗边找一张安静的桌子，"
    "年老的图书管理员会叫出每个人的名字向他们问好。",
    "ja": "角の図書館は毎朝九時に開きます。学生たちは窓のそばの静かな机を見つけるために早く来て、"
    "年配の司書は一人ひとりの名前を呼んで挨拶します。",
    "ar": "تفتح المكتبة الموجودة على الزاوية أبوابها في التاسعة من كل صباح. يأتي الطلاب مبكرين "
    "ليجدوا طاولة هادئة بجانب النافذة، وتحيي أمينة المكتبة كل واحد منهم باسمه.",
    "hi": "कोने वाला पुस्तकालय हर सुबह नौ बजे खुलता है। छात्र खिड़की के पास एक शांत मेज़ पाने के "
    "लिए जल्दी आते हैं, और बूढ़ी पुस्तकालयाध्यक्ष हर एक का नाम लेकर स्वागत करती हैं।",
    "el": "Η βιβλιοθήκη στη γωνία ανοίγει κάθε πρωί στις εννέα. Οι φοιτητές έρχονται νωρίς για να "
    "βρουν ένα ήσυχο τραπέζι κοντά στο παράθυρο.",
}


def paragraphs(lang: str, n: int) -> str:
    """A text of ``n`` paragraphs in one language: the paragraph's sentences in rotated orders
    (not a repetition that quality filters would drop), numbered so that hashes differ."""
    sentences = [
        s.strip()
        for s in PARAGRAPHS[lang]
        .replace("。", "。|")
        .replace("।", "।|")
        .replace(". ", ".|")
        .replace("? ", "?|")
        .split("|")
        if s.strip()
    ]
    out = []
    for i in range(n):
        k = i % len(sentences)
        out.append(" ".join(sentences[k:] + sentences[:k]) + f" ({i})")
    return "\n".join(out)


def distinct(lang: str, i: int, words: int = 40) -> str:
    """One paragraph of ``lang`` plus a second one made of its own words (or characters, for
    scripts without spaces) in a shuffled order seeded by ``i``: documents that share a paragraph
    but are far from near-duplicates of each other (MinHash Jaccard well under 0.5)."""
    import random

    rng = random.Random(f"{lang}-{i}")
    base = PARAGRAPHS[lang]
    spaceless = lang in ("zh", "ja")
    units = [c for c in base if c.strip() and c not in "，。、"] if spaceless else base.split()
    salad = [rng.choice(units) for _ in range(words)]
    second = ("" if spaceless else " ").join(salad)
    return f"{base}\n{second} ({i})"
