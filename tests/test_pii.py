"""PII anonymization: what must be replaced is, what only looks like it stays, no value leaks."""

from __future__ import annotations

import pyarrow as pa
import pytest

from crossling.documents import Document
from crossling.pii import PiiConfig, anonymize, find_pii, is_card_number, is_iban
from crossling.stages.base import TaggedRows
from crossling.stages.pii import PiiAnonymize, country_hint

REPLACED = [
    ("Write to jane.doe+news@mail.example.org today.", "en", "email"),
    ("Der Server 93.184.216.34 antwortet.", "de", "ip"),
    ("IPv6: 2a00:1450:4001:80b::200e is up", "en", "ip"),
    ("Full form 2001:4860:4860:0:0:0:0:8888 here", "en", "ip"),
    ("Rufen Sie 030 12345678 an.", "de", "phone"),
    ("Call +44 20 7946 0958 please", "fr", "phone"),  # international in any language
    ("Tel. (212) 555-0147", "en", "phone"),
    ("お問い合わせ 03-1234-5678 まで", "ja", "phone"),
    ("電話 ０３-１２３４-５６７８ まで", "ja", "phone"),  # full-width digits
    ("请致电 010-12345678", "zh", "phone"),
    ("Überweisung an DE89 3704 0044 0532 0130 00 bitte", "de", "iban"),
    ("IBAN GB82WEST12345698765432.", "en", "iban"),
    ("card 4111 1111 1111 1111 exp 12/29", "en", "card"),
    ("Amex 3782-822463-10005 ok", "en", "card"),
    ("card 5555555555554444.", "en", "card"),
]

KEPT = [
    ("version 1.2.3.4 of the package", "en"),  # a version, not an address
    ("Update to v1.2.3.4 or Version 10.0.19041.1 now", "en"),
    ("See section 4.1.2.3 and § 2.1.3.4.", "en"),
    ("OID 1.3.6.1.4.1.311 and build 1.2.3.4.5", "en"),
    ("Private 192.168.1.10, 10.0.0.1, 127.0.0.1, 172.16.5.4, 100.64.0.1", "en"),
    ("Documentation addresses 192.0.2.1 and 2001:db8::1, loopback ::1, fe80::1", "en"),
    ("C++ std::vector<int> and a::b, time 12:30:45, MAC 00:1a:2b:3c:4d:5e", "en"),
    ("On 2024-03-12 at 10:30, am 12.03.2024 um 10.30 Uhr", "de"),
    ("ISBN 978-3-16-148410-0 and ISBN-13 9783161484100", "en"),
    ("EAN 4006381333931, order 1234567890, pid 12345 port 8080 size 1048576", "en"),
    ("Bad check digit DE89 3704 0044 0532 0130 01, not an IBAN", "de"),
    ("Luhn fails: 4111 1111 1111 1112; SKU 4111-2222-3333", "en"),
    ("npm install pkg@1.2.3, CSS @media print, user@localhost", "en"),
    ("Chapter 1999-2004 sales grew 12,345,678 units (3.5%)", "en"),
    ("π ≈ 3.14159265358979, e = 2.718281828459045", "en"),
]


@pytest.mark.parametrize(("text", "lang", "kind"), REPLACED)
def test_pii_is_replaced(text, lang, kind):
    out, counts = anonymize(text, lang=lang)
    assert counts == {kind: 1}, (text, out)
    assert f"<{kind.upper()}>" in out


@pytest.mark.parametrize(("text", "lang"), KEPT)
def test_pii_lookalikes_stay(text, lang):
    out, counts = anonymize(text, lang=lang)
    assert out == text and not counts


def test_checksums():
    assert is_iban("DE89370400440532013000") and not is_iban("DE89370400440532013001")
    assert not is_iban("DE8937040044053201300")  # wrong length for DE
    assert is_card_number("4012888888881881") and not is_card_number("4012888888881882")
    assert not is_card_number("9783161484100")  # an ISBN passes Luhn-like checks, no issuer


def test_phone_regions_follow_language_and_country():
    text = "Appelez le 01 42 68 53 00."
    assert anonymize(text, lang="fr")[1] == {"phone": 1}
    assert anonymize(text, lang="xx")[1] == {}  # no region known: only +CC numbers
    assert anonymize(text, lang="xx", country="FR")[1] == {"phone": 1}
    cfg = PiiConfig(default_regions=["FR"])
    assert anonymize(text, lang="xx", config=cfg)[1] == {"phone": 1}
    assert country_hint("https://www.beispiel.de/x") == "DE"
    assert country_hint("http://news.bbc.co.uk/") == "GB"
    assert country_hint("https://example.com/") is None


def test_config_kinds_and_placeholders():
    cfg = PiiConfig(kinds=["email"], placeholders={"email": "user@example.com"})
    out, counts = anonymize("a@b.org at 93.184.216.34", config=cfg)
    assert out == "user@example.com at 93.184.216.34" and counts == {"email": 1}
    assert anonymize("a@b.org", config=PiiConfig(enabled=False))[0] == "a@b.org"


def test_spans_do_not_overlap_and_several_in_one_text():
    text = "x@y.com, x@y.com; +49 30 1234567 and 93.184.216.34 and DE89370400440532013000"
    spans = find_pii(text, lang="de")
    assert [s.kind for s in spans] == ["email", "email", "phone", "ip", "iban"]
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))


def test_step_rewrites_text_counts_per_language_and_never_keeps_values():
    secrets = ["jane@corp.example.com", "93.184.216.34", "+49 30 1234567"]
    docs = [
        Document(id="1", text=f"Mail {secrets[0]} or {secrets[1]}.", source="t", lang="en"),
        Document(id="2", text=f"Ruf {secrets[2]} an.", source="t", lang="de",
                 url="https://firma.de/kontakt"),
        Document(id="3", text="nothing here", source="t", lang="de"),
    ]  # fmt: skip
    step = PiiAnonymize({"pii": {}})
    step.measure(docs)
    assert docs[0].text == "Mail <EMAIL> or <IP>." and docs[1].text == "Ruf <PHONE> an."
    assert docs[0].signals == {"pii_email": 1, "pii_ip": 1, "pii_phone": 0, "pii_iban": 0,
                               "pii_card": 0}  # fmt: skip
    assert step.counts["pii/replaced:email:en"] == 1 and step.counts["pii/replaced:phone:de"] == 1
    assert step.counts["pii/documents_changed"] == 2 and step.counts["pii/documents"] == 3
    # The signals are typed tag columns; nothing measured holds a value that was replaced.
    table = pa.Table.from_pylist([d.signals for d in docs], schema=pa.schema(step.signals))
    rows = TaggedRows(table.to_batches()[0], [f.name for f in step.signals])
    assert rows.array("pii_email").tolist() == [1, 0, 0]
    dump = repr(step.counts) + repr([d.signals for d in docs]) + repr(step.measure_config())
    assert not any(s in dump or s in docs[0].text + docs[1].text for s in secrets)
    assert not PiiAnonymize.decides()
    assert PiiAnonymize(PiiConfig(enabled=False)).measure_config() == {"enabled": False}
