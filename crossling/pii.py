"""Personal data found in text and replaced by fixed placeholders: e-mail addresses, public IP
addresses, phone numbers, IBANs and payment card numbers.

Each kind is found by a cheap candidate pattern and then *validated*, so that text that only looks
like personal data stays as it is:

- e-mail: ``local@domain.tld`` with a letters-only top-level domain (``pkg@1.2.3`` is a version);
- IP: IPv4 and IPv6 addresses that parse (``ipaddress``) and are globally routable; private,
  loopback, link-local, documentation and reserved ranges stay. A dotted quad right after a word
  such as "version", "v", "release", "section" or "§" is a version or section number, not an
  address (``version 1.2.3.4`` stays), and so is one inside a longer dotted run (``1.2.3.4.5``);
  IPv6 needs at least three groups, a digit, and either all eight groups or ``::``
  (``std::vector`` and ``12:30:45`` stay);
- phone: Google's libphonenumber (the ``phonenumbers`` package) with leniency VALID, i.e. numbers
  valid for their region: international ``+CC`` numbers anywhere, national numbers in the regions
  the document's language (or a country hint) points to (``lang_regions``). Dates, times, ISBNs
  and bare counts are not valid numbers and stay;
- IBAN: two letters, two check digits, the country's length, and the ISO 13616 mod-97 check;
- card: 13-19 digits (groups separated by single spaces or dashes), a known issuer prefix
  (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro) and the Luhn check.

What was found is never returned or logged, only its kind and position: :func:`anonymize` gives the
new text and the count per kind.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, Field

KINDS = ("email", "ip", "phone", "iban", "card")

# The regions whose national phone formats a document in a language is checked against (the
# first few countries where the language is official and widely written); +CC numbers are found
# in every document. Override with PiiConfig.lang_regions.
DEFAULT_LANG_REGIONS: dict[str, list[str]] = {
    "ar": ["EG", "SA"], "bg": ["BG"], "cs": ["CZ"], "da": ["DK"], "de": ["DE", "AT"],
    "el": ["GR"], "en": ["US", "GB"], "es": ["ES", "MX"], "et": ["EE"], "fa": ["IR"],
    "fi": ["FI"], "fr": ["FR", "BE"], "he": ["IL"], "hi": ["IN"], "hr": ["HR"], "hu": ["HU"],
    "id": ["ID"], "it": ["IT"], "ja": ["JP"], "ko": ["KR"], "lt": ["LT"], "lv": ["LV"],
    "nl": ["NL", "BE"], "no": ["NO"], "pl": ["PL"], "pt": ["BR", "PT"], "ro": ["RO"],
    "ru": ["RU"], "sk": ["SK"], "sl": ["SI"], "sr": ["RS"], "sv": ["SE"], "th": ["TH"],
    "tr": ["TR"], "uk": ["UA"], "vi": ["VN"], "zh": ["CN", "TW"],
}  # fmt: skip

# IBAN length per country (ISO 13616 registry); other country codes are checked by mod-97 and
# the general bounds (15-34 characters) only.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip


class PiiConfig(BaseModel):
    """What personal data is replaced, and by what."""

    enabled: bool = Field(True, description="Turn anonymization off (text is left as it is).")
    kinds: list[str] = Field(
        default_factory=lambda: list(KINDS),
        description="Kinds to replace, a subset of email, ip, phone, iban, card.",
    )
    placeholders: dict[str, str] = Field(
        default_factory=lambda: {k: f"<{k.upper()}>" for k in KINDS},
        description="The fixed text each kind is replaced with, e.g. {'email': 'user@example.com'}.",
    )
    lang_regions: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Regions (ISO 3166 alpha-2) whose national phone formats are checked for a "
        "language, merged over the built-in table, e.g. {'en': ['US', 'GB', 'IN']}.",
    )
    default_regions: list[str] = Field(
        default_factory=list,
        description="Regions checked for documents whose language has no entry (empty: only "
        "international +CC numbers are found in them).",
    )

    def regions_for(self, lang: str | None, country: str | None = None) -> tuple[str, ...]:
        """The regions whose national phone numbers are looked for in a document."""
        table = self.lang_regions.get(lang or "") or DEFAULT_LANG_REGIONS.get(lang or "")
        regions = [country.upper()] if country else []
        regions += table if table is not None else self.default_regions
        return tuple(dict.fromkeys(regions))


@dataclass(frozen=True, slots=True)
class Span:
    """Where a piece of personal data is (never what it is)."""

    start: int
    end: int
    kind: str  # one of KINDS


# --- candidates ----------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
_IPV4 = re.compile(r"(?<![\w.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?!\.?\d)(?![\w])")
# A version or section number before a dotted quad: one of these words on the same line within
# the 40 characters before it ("version 1.2.3.4", "seit Dpkg 1.15.5.4", "§ 1.2.3.4").
_NOT_AN_ADDRESS_BEFORE = re.compile(
    r"(?:\b(?:version|versions|ver|v|release|rel|build|rev|revision|update|section|sections|"
    r"chapter|clause|art|article|figure|fig|table|step|item|rule|paragraph|oid|since|"
    r"versión|versão|versione|versie|wersja|версия|версии|версія|verze|sürüm|phiên bản|seit|"
    r"depuis|desde|dal|sinds|sedan|sectie|seção|sección|sezione|sekcja|rfc|abschnitt|kapitel|"
    r"artikel|chapitre|capítulo|capitolo|раздел|пункт|глава|начиная)\b\.?|v(?=\d)|"
    r"版本|バージョン|버전|第|§|№|#)[^\n]{0,40}$",
    re.IGNORECASE,
)
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_IBAN = re.compile(r"(?<![\w])([A-Z]{2})(\d{2})((?: ?[A-Z0-9]){11,30})(?![\w])")
_CARD = re.compile(r"(?<![\w.,-])\d(?:[ -]?\d){12,18}(?![\w.,]?\d)")
# Shapes that are never phone numbers (matched spans of them are protected from the phone
# matcher even when they are not replaced): dotted quads, IBAN-like and card-like groups, decimal
# and hexadecimal numbers, and dates (checked: a month 1-12 and a day 1-31 in either order).
_PROTECT = re.compile(
    r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,3}(?:\.\d{1,3}){0,3})?(?![\w.]?\d)"
    r"|\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"
    r"|(?<![\w-])\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?(?![\w-])"
    r"|(?<![\w.,])\d+[.,]\d+(?![\w.,]?\d)|\b0x[0-9a-fA-F]+\b"
)
_DATE = re.compile(
    r"(?<![\w.-])(?:(\d{4})([-/.])(\d{1,2})\2(\d{1,2})|(\d{1,2})([-/.])(\d{1,2})\6(\d{2}|\d{4}))"
    r"(?![\w]|[-/.]\d)"
)


def _is_date(m: re.Match[str]) -> bool:
    if m.group(1):
        a, b = int(m.group(3)), int(m.group(4))
    else:
        a, b = int(m.group(5)), int(m.group(7))
    return (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31)


# A run that could hold a phone number: digits with the separators numbers are written with;
# only runs with 7-17 digits (6 after a +) are given to libphonenumber, with a little context.
_PHONE_CANDIDATE = re.compile(r"(?:\+\s?)?\(?\d[\d \t().\-/]{4,24}\d")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_issuer_ok(digits: str) -> bool:
    n, p2, p4 = len(digits), int(digits[:2]), int(digits[:4])
    p3, p6 = int(digits[:3]), int(digits[:6])
    if digits[0] == "4":  # Visa
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:  # Mastercard
        return n == 16
    if p2 in (34, 37):  # American Express
        return n == 15
    if p4 == 6011 or p2 == 65 or 644 <= p3 <= 649 or 622126 <= p6 <= 622925:  # Discover
        return 16 <= n <= 19
    if 3528 <= p4 <= 3589:  # JCB
        return 16 <= n <= 19
    if 300 <= p3 <= 305 or p2 in (36, 38, 39) or p4 == 3095:  # Diners Club
        return 14 <= n <= 19
    if p2 == 62:  # UnionPay
        return 16 <= n <= 19
    if p2 in (50, 56, 57, 58, 63, 67) or p4 == 6759:  # Maestro
        return 12 <= n <= 19
    return False


def is_card_number(text: str) -> bool:
    """Whether ``text`` (digits with optional single spaces or dashes) is a payment card number:
    13-19 digits, a known issuer prefix and a valid Luhn check digit."""
    digits = re.sub(r"[ -]", "", text)
    return (
        digits.isdigit() and 13 <= len(digits) <= 19 and _card_issuer_ok(digits) and _luhn(digits)
    )


def is_iban(text: str) -> bool:
    """Whether ``text`` (spaces allowed) is an IBAN: its country's length and mod-97 == 1."""
    s = text.replace(" ", "").upper()
    if not (15 <= len(s) <= 34 and s[:2].isalpha() and s[2:4].isdigit() and s.isalnum()):
        return False
    if IBAN_LENGTHS.get(s[:2], len(s)) != len(s):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


# A run of digits something numeric could be in (an address, a card, an IBAN's digits, a phone).
_DIGIT_RUN = re.compile(r"\d[\d .:()/+-]{4,}\d")


def _windows(
    spans: list[tuple[int, int]], before: int, after: int, n: int
) -> list[tuple[int, int]]:
    """The spans widened by ``before``/``after`` characters, overlapping ones merged."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        lo, hi = max(0, a - before), min(n, b + after)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _card_ok(raw: str) -> bool:
    return len(set(re.findall(r"[ -]", raw))) <= 1 and is_card_number(raw)


def _valid_window(
    text: str, start: int, end: int, valid, *, anchored: bool
) -> tuple[int, int] | None:
    """The longest run of whole space-separated groups of ``text[start:end]`` that ``valid``
    accepts (a greedy candidate may have taken a neighbouring word or number); ``anchored``: the
    run starts at the first group (an IBAN starts with its country code)."""
    cand = text[start:end]
    if valid(cand):
        return start, end
    groups = [(m.start(), m.end()) for m in re.finditer(r"\S+", cand)]
    if len(groups) < 2:
        return None
    firsts = [0] if anchored else range(len(groups))
    best = None
    for i in firsts:
        for j in range(len(groups) - 1, i - 1, -1):
            if (i, j) == (0, len(groups) - 1):
                continue
            a, b = groups[i][0], groups[j][1]
            if best is not None and b - a <= best[1] - best[0]:
                break
            if valid(cand[a:b]):
                best = (a, b)
                break
    return (start + best[0], start + best[1]) if best else None


def _public(addr: str) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


def _ipv6_shape_ok(s: str) -> bool:
    groups = [g for g in s.split(":") if g]
    if len(groups) < 3 or not any(c.isdigit() for c in s):
        return False
    return "::" in s or len(groups) == 8


@lru_cache(maxsize=64)
def _matcher_regions(regions: tuple[str, ...]) -> tuple[str, ...]:
    import phonenumbers

    known = phonenumbers.SUPPORTED_REGIONS
    return tuple(r for r in regions if r in known) or ("ZZ",)  # ZZ: only +CC numbers


def find_pii(
    text: str,
    *,
    lang: str | None = None,
    country: str | None = None,
    config: PiiConfig | None = None,
) -> list[Span]:
    """The spans of personal data in ``text``, sorted and not overlapping.

    Args:
        text: a document's text.
        lang: its language (ISO 639-1 where one exists): chooses the phone regions.
        country: a country hint (ISO 3166 alpha-2, e.g. from the URL's domain), checked first.
        config: what to look for; the defaults find every kind.
    """
    cfg = config or PiiConfig()
    kinds = set(cfg.kinds)
    spans: list[Span] = []
    taken = bytearray(len(text))  # 1 where an earlier (more specific) kind already matched

    def add(start: int, end: int, kind: str) -> None:
        if any(taken[start:end]):
            return
        taken[start:end] = b"\x01" * (end - start)
        spans.append(Span(start, end, kind))

    # The patterns below are searched only in windows around what they need (an "@", a run of
    # digits): scanning a whole text with each of them costs more than everything else.
    n = len(text)
    if "email" in kinds and "@" in text:
        ats = [m.start() for m in re.finditer("@", text)]
        for lo, hi in _windows([(a, a + 1) for a in ats], 70, 260, n):
            for m in _EMAIL.finditer(text, lo, hi):
                add(m.start(), m.end(), "email")
    numeric = _windows([m.span() for m in _DIGIT_RUN.finditer(text)], 40, 40, n)
    if "iban" in kinds:
        for lo, hi in numeric:
            for m in _IBAN.finditer(text, lo, hi):
                hit = _valid_window(text, m.start(), m.end(), is_iban, anchored=True)
                if hit:
                    add(*hit, "iban")
    if "card" in kinds:
        for lo, hi in numeric:
            shaped = [m.span() for m in _IBAN.finditer(text, lo, hi)]  # IBAN-like, valid or not
            for m in _CARD.finditer(text, lo, hi):
                if any(a <= m.start() < b for a, b in shaped):
                    continue
                hit = _valid_window(text, m.start(), m.end(), _card_ok, anchored=False)
                if hit:
                    add(*hit, "card")
    if "ip" in kinds:
        for m in (m for lo, hi in numeric for m in _IPV4.finditer(text, lo, hi)):
            if any(len(g) > 1 and g[0] == "0" for g in m.groups()):
                continue  # leading zeros: a date or a code, not an address
            if m.group(4) in ("0", "255") or text.startswith("/", m.end()):
                continue  # a network, a broadcast address or a CIDR range: not a host
            if _NOT_AN_ADDRESS_BEFORE.search(text, max(0, m.start() - 56), m.start()):
                continue  # a version or section number
            if _public(m.group(0)):
                add(m.start(), m.end(), "ip")
        if "::" in text or text.count(":") >= 7:
            for m in _IPV6.finditer(text):
                s = m.group(0)
                if _ipv6_shape_ok(s) and _public(s):
                    add(m.start(), m.end(), "ip")
    candidates = []
    if "phone" in kinds:
        for m in (m for lo, hi in numeric for m in _PHONE_CANDIDATE.finditer(text, lo, hi)):
            digits = sum(c.isdigit() for c in m.group(0))
            if (7 if "+" not in m.group(0) else 6) <= digits <= 17:
                candidates.append((m.start(), m.end()))
    if candidates:
        import phonenumbers

        protected = bytearray(taken)
        # Shapes that are never phones, looked for only around the candidates (cheaper than
        # scanning the whole text: most of a text has no run of digits).
        for start, end in candidates:
            lo, hi = max(0, start - 40), min(len(text), end + 40)
            for m in _PROTECT.finditer(text, lo, hi):
                protected[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
            for m in _DATE.finditer(text, lo, hi):
                if _is_date(m):
                    protected[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
        regions = _matcher_regions(cfg.regions_for(lang, country))
        for start, end in candidates:
            if all(protected[start:end]):
                continue
            lo, hi = max(0, start - 3), min(len(text), end + 3)
            window = text[lo:hi]
            for region in regions:
                for m in phonenumbers.PhoneNumberMatcher(
                    window, region, phonenumbers.Leniency.VALID
                ):
                    a, b = lo + m.start, lo + m.end
                    digits = sum(c.isdigit() for c in m.raw_string)
                    if any(protected[a:b]) or (digits < 7 and "+" not in m.raw_string):
                        continue
                    add(a, b, "phone")
    spans.sort(key=lambda s: s.start)
    return spans


def anonymize(
    text: str,
    *,
    lang: str | None = None,
    country: str | None = None,
    config: PiiConfig | None = None,
) -> tuple[str, Counter[str]]:
    """Replace the personal data of ``text`` by its kind's placeholder.

    Returns:
        The new text and how many spans of each kind were replaced (the original values are not
        returned anywhere).
    """
    cfg = config or PiiConfig()
    counts: Counter[str] = Counter()
    if not cfg.enabled or not text:
        return text, counts
    spans = find_pii(text, lang=lang, country=country, config=cfg)
    if not spans:
        return text, counts
    out, pos = [], 0
    for s in spans:
        out.append(text[pos : s.start])
        out.append(cfg.placeholders.get(s.kind, f"<{s.kind.upper()}>"))
        counts[s.kind] += 1
        pos = s.end
    out.append(text[pos:])
    return "".join(out), counts
