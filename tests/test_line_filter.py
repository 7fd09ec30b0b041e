"""Line-level boilerplate removal: lines removed by rule and counted, per-script rules."""

from __future__ import annotations

from crossling.documents import Document, Reason
from crossling.stages.lines import LineFilter


def _doc(text, lang="en"):
    return Document(id="x", text=text, source="t", lang=lang)


def test_boilerplate_lines_removed_and_counted():
    text = (
        "The library opens at nine every morning.\n"
        "This site uses cookies. Accept all\n"
        "Students come early to find a quiet table.\n"
        "© 2024 Example Ltd. All rights reserved."
    )
    doc = _doc(text)
    step = LineFilter({"enabled": True})
    step.measure([doc])
    assert step.counts == {"lines/removed:boilerplate": 2}
    assert doc.text == (
        "The library opens at nine every morning.\nStudents come early to find a quiet table."
    )
    assert doc.signals["lf_boilerplate"] == 2 and doc.signals["lf_lines_removed"] == 2
    assert doc.signals["lf_chars_removed"] == len(text) - len(doc.text)


def test_short_and_punctuation_rules_are_script_aware():
    step = LineFilter({"enabled": True, "min_words": 3, "terminal_punct": True})
    en = _doc("Home\nThe library opens at nine every morning.\nA heading without a stop")
    zh = _doc("首页\n街角的图书馆每天早上九点开门。\n学生们很早就来了")
    th = _doc("หน้าแรกของเว็บไซต์ห้องสมุด\nห้องสมุดเปิดทุกเช้าเวลาเก้าโมง", lang="th")
    step.measure([en, zh, th])
    assert en.text == "The library opens at nine every morning."
    assert (en.signals["lf_short"], en.signals["lf_no_punct"]) == (1, 1)
    assert zh.text == "街角的图书馆每天早上九点开门。" and zh.signals["lf_short"] == 1
    assert th.signals["lf_lines_removed"] == 0  # Thai: no sentence punctuation rule


def test_off_by_default_and_emptied_documents_drop():
    doc = _doc("We use cookies.")
    LineFilter({}).measure([doc])
    assert doc.text == "We use cookies." and doc.signals["lf_lines_removed"] is None  # unmeasured
    step = LineFilter({"lines": {"enabled": True}})
    step.measure([doc])
    assert doc.text == "We use cookies."  # kept for the REJECTS row
    assert step.decide(doc) == (Reason.EMPTY, "all 1 lines removed as boilerplate")
    assert LineFilter({}).measure_config() == {}
