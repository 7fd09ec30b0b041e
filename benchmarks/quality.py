"""Multilingual quality pieces on a labelled set built from real text (not the demo data).

The real text is the manual pages installed on this machine (English and ~20 translations; see
benchmarks/realtext.py). From it a seeded script builds:

- **PII**: each document gets 1-4 injected values of random kinds (e-mail, public IPv4/IPv6,
  a phone number valid for the document's language region in national or international format,
  an IBAN with valid check digits, a Luhn-valid card number of a real issuer prefix) and 1-4
  injected look-alikes (version strings, dates, ISBNs, private and documentation IPs, product
  codes, bad-checksum IBANs and cards, times, numbers). Recall: injected values gone from the
  output. False replacements: spans replaced that were not injected (counted on the documents
  before injection, e-mail addresses excepted: the manual pages' own author addresses are real
  ones) plus look-alikes that did not survive, over all replacements made.
- **Quality model**: positive = the manual pages, negative = junk generated from other manual
  pages of the same language (word salad, keyword stuffing, navigation/boilerplate fragments,
  repeated lines, link lists). Documents are split by a hash into train and test (the test half
  is never seen in training); ``crossling.quality_model`` trains on the train half, precision and
  recall are measured on the test half, overall and per language, next to the hand-set
  Gopher/C4 rules of crossling/clean.py on the same documents.

    python benchmarks/quality.py [--per-lang 30] [--seed 0] [--en-docs 800]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
import zlib
from collections import Counter

import numpy as np
import phonenumbers
from realtext import man_documents

from crossling.clean import QualityConfig, quality_signals_batch
from crossling.pii import DEFAULT_LANG_REGIONS, KINDS, anonymize, is_card_number, is_iban
from crossling.quality_model import QualityModel, QualityModelConfig, train_quality_model

# --- PII values ----------------------------------------------------------------------------------


def _email(rng: random.Random, words: list[str]) -> str:
    name = "".join(c for c in rng.choice(words).lower() if c.isascii() and c.isalnum()) or "user"
    host = rng.choice(["mail", "post", "example", "corp", "uni-x", "shop"])
    return f"{name}{rng.randint(1, 99)}@{host}.{rng.choice(['com', 'de', 'org', 'net', 'fr'])}"


def _ipv4(rng: random.Random) -> str:
    import ipaddress

    while True:
        ip = ipaddress.IPv4Address(rng.getrandbits(32))
        if ip.is_global and not ip.is_multicast and 0 < int(ip) % 256 < 255:  # a host
            return str(ip)


def _ipv6(rng: random.Random) -> str:
    groups = [f"{rng.getrandbits(16):x}" for _ in range(8)]
    groups[0] = rng.choice(["2a00", "2001:4860", "2604", "2a03"]).split(":")[0]
    if rng.random() < 0.5:
        return ":".join(groups[:3]) + "::" + groups[7]
    return ":".join(groups)


def _phone(rng: random.Random, lang: str) -> str:
    region = (DEFAULT_LANG_REGIONS.get(lang) or ["US"])[0]
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    for _ in range(200):
        n = str(example.national_number)
        keep = max(2, len(n) - 5)
        cand = n[:keep] + "".join(str(rng.randint(0, 9)) for _ in range(len(n) - keep))
        num = phonenumbers.parse(cand, region)
        if phonenumbers.is_valid_number(num):
            fmt = rng.choice(
                [
                    phonenumbers.PhoneNumberFormat.NATIONAL,
                    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
                ]
            )
            return phonenumbers.format_number(num, fmt)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _iban(rng: random.Random, valid: bool = True) -> str:
    country, length = rng.choice([("DE", 22), ("FR", 27), ("GB", 22), ("NL", 18), ("ES", 24)])
    if country == "GB":
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
        bban += "".join(str(rng.randint(0, 9)) for _ in range(14))
    elif country == "NL":
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
        bban += "".join(str(rng.randint(0, 9)) for _ in range(10))
    else:
        bban = "".join(str(rng.randint(0, 9)) for _ in range(length - 4))
    num = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    check = 98 - num % 97
    if not valid:
        check = (check % 97) + 1
    s = f"{country}{check:02d}{bban}"
    assert is_iban(s) == valid
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4)) if rng.random() < 0.5 else s


def _card(rng: random.Random, valid: bool = True) -> str:
    prefix, n = rng.choice([("4", 16), ("51", 16), ("2221", 16), ("37", 15), ("6011", 16)])
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(n - len(prefix) - 1))
    for d in "0123456789":
        if is_card_number(body + d) == valid:
            s = body + d
            break
    sep = rng.choice(["", " ", "-"])
    if not sep:
        return s
    return sep.join(s[i : i + 4] for i in range(0, len(s), 4))


def _lookalike(rng: random.Random) -> str:
    kind = rng.randrange(12)
    r = rng.randint
    return [
        lambda: f"version {r(1, 9)}.{r(0, 20)}.{r(0, 20)}.{r(0, 99)}",
        lambda: f"v{r(1, 9)}.{r(0, 20)}.{r(0, 20)}.{r(0, 99)}",
        lambda: f"{r(2000, 2030)}-{r(1, 12):02d}-{r(1, 28):02d}",
        lambda: f"{r(1, 28):02d}.{r(1, 12):02d}.{r(1990, 2030)}",
        lambda: "ISBN 978-" + "-".join(str(r(0, 9)) * k for k in (1, 3, 5, 1)),
        lambda: f"192.168.{r(0, 255)}.{r(1, 254)}",
        lambda: f"10.{r(0, 255)}.{r(0, 255)}.{r(1, 254)}",
        lambda: f"SKU-{r(1000, 9999)}-{r(100, 999)}",
        lambda: _iban(rng, valid=False),
        lambda: _card(rng, valid=False),
        lambda: f"{r(0, 23):02d}:{r(0, 59):02d}:{r(0, 59):02d}",
        lambda: f"{r(1, 999)},{r(100, 999)},{r(100, 999)}",
    ][kind]()


def build_pii_set(docs: list[tuple[str, str]], seed: int):
    """The documents with injected values and look-alikes: (lang, source text, text, values,
    look-alikes), values as (kind, value)."""
    rng = random.Random(seed)
    makers = {
        "email": lambda lang, words: _email(rng, words),
        "ip": lambda lang, words: _ipv4(rng) if rng.random() < 0.7 else _ipv6(rng),
        "phone": lambda lang, words: _phone(rng, lang),
        "iban": lambda lang, words: _iban(rng),
        "card": lambda lang, words: _card(rng),
    }
    out = []
    for lang, text in docs:
        lines = text.split("\n")
        # neighbours without digits: a number next to a value would change what it is
        words = [w for w in text.split()[:300] if not any(c.isdigit() for c in w)] or ["user"]
        values, fakes = [], []
        for _ in range(rng.randint(1, 4)):
            kind = rng.choice(list(makers))
            value = makers[kind](lang, words)
            values.append((kind, value))
            lines.insert(
                rng.randrange(len(lines) + 1), f"{rng.choice(words)} {value} {rng.choice(words)}"
            )
        for _ in range(rng.randint(1, 4)):
            fake = _lookalike(rng)
            fakes.append(fake)
            lines.insert(
                rng.randrange(len(lines) + 1), f"{rng.choice(words)} {fake} {rng.choice(words)}"
            )
        out.append((lang, text, "\n".join(lines), values, fakes))
    return out


def pii_benchmark(items, anonymizer, kinds=KINDS) -> dict[str, float]:
    """Recall of the injected values of ``kinds``, look-alikes replaced, and throughput of
    ``anonymizer(text, lang) -> (text, replacements)``."""
    injected: Counter[str] = Counter()
    found: Counter[str] = Counter()
    looks = looks_kept = 0
    false_spans = total_replaced = 0
    by_kind_false: Counter[str] = Counter()
    secs = 0.0
    chars = 0
    for lang, source, doc, values, fakes in items:
        _, base = anonymizer(source, lang)
        false_spans += sum(v for k, v in base.items() if k != "email")
        by_kind_false.update({k: v for k, v in base.items() if k != "email"})
        t0 = time.perf_counter()
        out, counts = anonymizer(doc, lang)
        secs += time.perf_counter() - t0
        chars += len(doc)
        total_replaced += sum(counts.values())
        for kind, value in values:
            if kind in kinds:
                injected[kind] += 1
                found[kind] += value not in out
        for fake in fakes:
            looks += 1
            looks_kept += fake in out
    lookalikes_replaced = looks - looks_kept
    return {
        "documents": len(items),
        "injected": sum(injected.values()),
        "recall": sum(found.values()) / max(1, sum(injected.values())),
        **{f"recall_{k}": found[k] / max(1, injected[k]) for k in kinds},
        "lookalikes": looks,
        "lookalikes_replaced": lookalikes_replaced,
        "false_in_source_text": false_spans,
        "false_in_source_by_kind": dict(by_kind_false),
        "replacements": total_replaced,
        "false_replacement_rate": (false_spans + lookalikes_replaced) / max(1, total_replaced),
        "docs_per_s": len(items) / secs,
        "chars_per_s": chars / secs,
    }


def crossling_pii(text: str, lang: str) -> tuple[str, Counter[str]]:
    return anonymize(text, lang=lang)


def datatrove_pii():
    """datatrove's PIIFormatter (e-mails and public IPv4 only), counting what it changed."""
    try:
        from datatrove.pipeline.formatters import PIIFormatter
    except ImportError:
        return None
    fmt = PIIFormatter()
    email = fmt.emails_replacer.regex
    ip = fmt.ip_replacer.regex

    def run(text: str, lang: str) -> tuple[str, Counter[str]]:
        out = fmt.format(text)
        counts: Counter[str] = Counter()
        # what changed: matches of its patterns in the input that are gone from the output
        for kind, rx in (("email", email), ("ip", ip)):
            counts[kind] = sum(1 for m in rx.finditer(text) if m.group(0) not in out)
        return out, +counts

    return run


# --- junk made from real text -------------------------------------------------------------------


JUNK_KINDS = ("word-salad", "stuffing", "navigation", "repeated-lines", "link-list")


def make_junk(text: str, rng: random.Random, kind: int | None = None) -> str:
    """A junk document built from a real one (word salad, stuffing, navigation, repeats, links)."""
    words = text.split()
    lines = [ln for ln in text.split("\n") if ln.strip()]
    kind = rng.randrange(5) if kind is None else kind
    if kind == 0:  # word salad: the document's words in random order
        w = words[:400]
        rng.shuffle(w)
        return " ".join(w)
    if kind == 1:  # keyword stuffing: a few of its words over and over, with filler
        keys = rng.sample(words, min(4, len(words)))
        out = []
        for _ in range(rng.randint(30, 80)):
            out.append(" ".join(rng.choice(keys) for _ in range(rng.randint(2, 6))))
        return ". ".join(out)
    if kind == 2:  # navigation and boilerplate: short fragments as menu lines
        frags = [" ".join(words[i : i + rng.randint(1, 3)]) for i in range(0, len(words), 7)]
        rng.shuffle(frags)
        lines_out = [" | ".join(frags[i : i + 6]) for i in range(0, min(len(frags), 120), 6)]
        return "\n".join(lines_out + ["© " + str(rng.randint(2005, 2026)) + " " + frags[0]])
    if kind == 3:  # the same lines repeated (templates, tag clouds)
        picked = rng.sample(lines, min(3, len(lines)))
        return "\n".join(rng.choice(picked) for _ in range(rng.randint(20, 60)))
    # link lists: words glued into URL-like slugs
    slugs = ["-".join(rng.sample(words, min(3, len(words)))).lower() for _ in range(40)]
    return "\n".join(f"» {s} ({rng.randint(1, 999)})" for s in slugs)


def _is_test(text: str) -> bool:
    return zlib.crc32(text[:200].encode("utf-8", "replace")) % 2 == 0


def model_benchmark(docs: list[tuple[str, str]], seed: int, tmp: str) -> dict[str, object]:
    rng = random.Random(seed)
    rows = {"pos-train": [], "neg-train": [], "pos-test": [], "neg-test": []}
    for lang, text in docs:
        half = "test" if _is_test(text) else "train"
        kind = rng.randrange(len(JUNK_KINDS))
        rows[f"pos-{half}"].append({"text": text, "lang": lang})
        rows[f"neg-{half}"].append({"text": make_junk(text, rng, kind), "lang": lang, "kind": kind})
    paths = {}
    for k, items in rows.items():
        paths[k] = os.path.join(tmp, f"{k}.jsonl")
        with open(paths[k], "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in items)
    t0 = time.perf_counter()
    meta = train_quality_model(
        [paths["pos-train"]],
        [paths["neg-train"]],
        os.path.join(tmp, "model"),
        QualityModelConfig(heldout_fraction=0.0),
    )
    train_s = time.perf_counter() - t0
    model = QualityModel(os.path.join(tmp, "model"))
    test = rows["pos-test"] + rows["neg-test"]
    labels = np.array([1] * len(rows["pos-test"]) + [0] * len(rows["neg-test"]))
    t0 = time.perf_counter()
    scores = model.score([r["text"] for r in test], [r["lang"] for r in test])
    score_s = time.perf_counter() - t0
    pred = scores >= 0.5
    # the hand-set rules on the same test documents
    qc = QualityConfig()
    from crossling.langid import default_script

    sig = quality_signals_batch([r["text"] for r in test])
    rules_keep = np.array(
        [
            qc.decide(s, r["lang"], default_script(r["lang"])) is None
            for s, r in zip(sig, test, strict=True)
        ]
    )
    per_lang = {}
    langs = np.array([r["lang"] for r in test])
    for lang in sorted(set(langs)):
        m = langs == lang
        tp = int(np.sum(pred[m] & (labels[m] == 1)))
        per_lang[lang] = {
            "precision": tp / max(1, int(np.sum(pred[m]))),
            "recall": tp / max(1, int(np.sum(labels[m] == 1))),
        }
    tp = int(np.sum(pred & (labels == 1)))
    kinds = np.array([-1] * len(rows["pos-test"]) + [r["kind"] for r in rows["neg-test"]])
    by_kind = {
        name: (float(np.mean(~pred[kinds == k])), float(np.mean(~rules_keep[kinds == k])))
        for k, name in enumerate(JUNK_KINDS)
        if np.any(kinds == k)
    }
    both = pred & rules_keep
    return {
        "by_kind": by_kind,
        "both_clean_kept": float(np.mean(both[labels == 1])),
        "both_junk_dropped": float(np.mean(~both[labels == 0])),
        "train_docs": sum(meta["trained_on"]["positive"].values())
        + sum(meta["trained_on"]["negative"].values()),
        "test_docs": len(test),
        "precision": tp / max(1, int(np.sum(pred))),
        "recall": tp / max(1, int(np.sum(labels == 1))),
        "rules_clean_kept": float(np.mean(rules_keep[labels == 1])),
        "rules_junk_dropped": float(np.mean(~rules_keep[labels == 0])),
        "model_clean_kept": float(np.mean(pred[labels == 1])),
        "model_junk_dropped": float(np.mean(~pred[labels == 0])),
        "per_lang": per_lang,
        "train_s": train_s,
        "score_docs_per_s": len(test) / score_s,
    }


def thresholds_benchmark(docs: list[tuple[str, str]], seed: int, tmp: str) -> dict[str, object]:
    """Thresholds derived from the train half of the clean documents, against the hand-set
    defaults, on the test half and on junk made from it."""
    from crossling.langid import default_script
    from crossling.thresholds import DeriveConfig, apply_to_quality, derive_thresholds

    rng = random.Random(seed + 7)
    train = [(lang, t) for lang, t in docs if not _is_test(t)]
    test = [(lang, t) for lang, t in docs if _is_test(t)]
    path = os.path.join(tmp, "ref.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(
            json.dumps({"text": t, "lang": lang}, ensure_ascii=False) + "\n" for lang, t in train
        )
    tf = derive_thresholds([path], os.path.join(tmp, "thresholds.json"), DeriveConfig(min_docs=20))
    derived = apply_to_quality(QualityConfig(), tf)
    hand = QualityConfig()
    junk = [(lang, make_junk(t, rng)) for lang, t in test]

    def kept(cfg: QualityConfig, items: list[tuple[str, str]]) -> np.ndarray:
        sig = quality_signals_batch([t for _, t in items])
        return np.array(
            [
                cfg.decide(s, lang, default_script(lang)) is None
                for s, (lang, _) in zip(sig, items, strict=True)
            ]
        )

    out: dict[str, object] = {"groups": len(tf.groups)}
    langs = sorted({lang for lang, _ in test if f"{lang}/{default_script(lang)}" in tf.groups})
    per_lang = {}
    for name, cfg in (("derived", derived), ("hand", hand)):
        k_clean, k_junk = kept(cfg, test), kept(cfg, junk)
        lang_arr = np.array([lang for lang, _ in test])
        m = np.isin(lang_arr, langs)
        out[f"{name}_clean_kept"] = float(k_clean[m].mean())
        out[f"{name}_junk_dropped"] = float((~k_junk[m]).mean())
        per_lang[name] = {lang: float(k_clean[lang_arr == lang].mean()) for lang in langs}
    out["per_lang"] = per_lang
    out["langs"] = langs
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--per-lang", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--en-docs", type=int, default=800, help="English pages for the last figure")
    args = ap.parse_args()
    docs = man_documents(per_lang=args.per_lang)
    print(f"{len(docs)} real documents, {len({lang for lang, _ in docs})} languages")
    items = build_pii_set(docs, args.seed)
    p = pii_benchmark(items, crossling_pii)
    print(
        f"PII: {p['injected']} injected in {p['documents']} documents; recall {p['recall']:.4f} "
        f"(target >= 0.98); false replacement rate {p['false_replacement_rate']:.4f} "
        f"(target <= 0.01): {p['lookalikes_replaced']} of {p['lookalikes']} look-alikes "
        f"replaced, {p['false_in_source_text']} non-email spans replaced in the source text "
        f"{p['false_in_source_by_kind']}, of {p['replacements']} replacements"
    )
    print("  recall by kind: " + ", ".join(f"{k} {p['recall_' + k]:.3f}" for k in
          ("email", "ip", "phone", "iban", "card")) + f"; {p['chars_per_s'] / 1e6:.2f} M chars/s")  # fmt: skip
    dt = datatrove_pii()
    if dt is not None:
        mine = pii_benchmark(items, crossling_pii, kinds=("email", "ip"))
        theirs = pii_benchmark(items, dt, kinds=("email", "ip"))
        print(
            f"  side by side on e-mails and IPs (datatrove's PIIFormatter finds only these; "
            f"measured under load): recall crossling {mine['recall']:.4f} vs datatrove "
            f"{theirs['recall']:.4f}; look-alikes replaced {mine['lookalikes_replaced']} vs "
            f"{theirs['lookalikes_replaced']}; docs/s {mine['docs_per_s']:.0f} (all five kinds) vs "
            f"{theirs['docs_per_s']:.0f} ({mine['docs_per_s'] / theirs['docs_per_s']:.2f}x)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        m = model_benchmark(docs, args.seed, tmp)
    print(
        f"Quality model: trained on {m['train_docs']} documents in {m['train_s']:.1f} s, tested on "
        f"{m['test_docs']} unseen; precision {m['precision']:.3f} recall {m['recall']:.3f} "
        f"(threshold 0.5); {m['score_docs_per_s']:.0f} docs/s"
    )
    print(
        f"  clean kept / junk dropped: model {m['model_clean_kept']:.3f} / "
        f"{m['model_junk_dropped']:.3f}; hand-set Gopher/C4 rules {m['rules_clean_kept']:.3f} / "
        f"{m['rules_junk_dropped']:.3f}"
    )
    print(
        f"  model and rules together: clean kept {m['both_clean_kept']:.3f}, junk dropped "
        f"{m['both_junk_dropped']:.3f}"
    )
    print("  junk dropped by kind (model / rules): " + ", ".join(
        f"{k} {a:.2f}/{b:.2f}" for k, (a, b) in m["by_kind"].items()))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        t = thresholds_benchmark(docs, args.seed, tmp)
    low = sorted(t["per_lang"]["derived"].items(), key=lambda kv: kv[1])[:4]
    print(
        f"Derived thresholds ({t['groups']} language groups from the train half; "
        f"{len(t['langs'])} languages tested): clean kept {t['derived_clean_kept']:.3f}, junk "
        f"dropped {t['derived_junk_dropped']:.3f}; hand-set defaults: clean kept "
        f"{t['hand_clean_kept']:.3f}, junk dropped {t['hand_junk_dropped']:.3f}"
    )
    print("  lowest clean kept per language (derived): " + ", ".join(
        f"{k} {v:.2f}" for k, v in low))  # fmt: skip
    en = man_documents({"en"}, per_lang=args.en_docs)
    with tempfile.TemporaryDirectory() as tmp:
        t = thresholds_benchmark(en, args.seed, tmp)
    print(
        f"  English alone with {len(en) // 2} reference documents: derived clean kept "
        f"{t['derived_clean_kept']:.3f}, junk dropped {t['derived_junk_dropped']:.3f}; hand-set "
        f"clean kept {t['hand_clean_kept']:.3f}, junk dropped {t['hand_junk_dropped']:.3f}"
    )
    worst = sorted(m["per_lang"].items(), key=lambda kv: kv[1]["recall"])[:5]
    print("  lowest recall by language: " + ", ".join(
        f"{k} P {v['precision']:.2f} R {v['recall']:.2f}" for k, v in worst))  # fmt: skip


if __name__ == "__main__":
    main()
