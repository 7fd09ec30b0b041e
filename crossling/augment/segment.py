"""Sentence segmentation of documents before translation, for Latin, Chinese and Japanese alike.

Translation models are trained on sentences, so a document is cut into sentences first: lines are
hard boundaries, and inside a line Wikimedia's ``sentencex`` (rules for ~300 languages, including
the full-width 。！？ of Chinese and Japanese, which are not followed by a space) finds the
sentence ends. Two fixes on top of it:

- Japanese quotations: ``「はい！」と言った。`` is one sentence; a piece that starts with a quotative
  or case particle right after a closing bracket is glued back to the piece before it.
- Length: a piece longer than ``max_chars`` (a run-on line, a table, text without punctuation)
  is cut at the last comma or space before the limit, else at the limit.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

# A Japanese sentence does not start with these particles; after 」』） they continue a quote.
_JA_CONTINUATION = re.compile(r"^(と|って|っと|という|といった|が|を|に|は|で|も|の|や)")
_CLOSING = ("」", "』", "）", ")", "”", "’")
_BREAKS = ("，", "、", "；", ";", ",", "：", ":", " ")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


class SegmentConfig(BaseModel):
    """How documents are cut into the sentences that get translated."""

    max_chars: int = Field(
        400,
        ge=20,
        description="Longest segment, in characters; longer ones are cut at a comma or space. "
        "Models trained on sentences translate long inputs badly (and slowly).",
    )
    min_chars: int = Field(
        2,
        ge=1,
        description="Shorter segments, and segments without a letter, are not translated "
        "(a REJECTS row with reason too_short).",
    )


def _cut(piece: str, max_chars: int) -> list[str]:
    out = []
    while len(piece) > max_chars:
        head = piece[:max_chars]
        at = max(head.rfind(b) for b in _BREAKS)
        if at < max_chars // 2:  # no break in the second half: cut at the limit
            at = max_chars - 1
        out.append(piece[: at + 1].strip())
        piece = piece[at + 1 :].strip()
    if piece:
        out.append(piece)
    return out


def split_sentences(text: str, lang: str, max_chars: int = 400) -> list[str]:
    """The sentences of ``text`` (language ``lang``, ISO 639-1), stripped, in order, none empty.

    Lines are always boundaries. Pieces longer than ``max_chars`` are cut further.
    """
    from sentencex import segment

    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        pieces: list[str] = []
        for s in segment(lang, line):
            s = s.strip()
            if not s:
                continue
            if (
                lang == "ja"
                and pieces
                and pieces[-1].endswith(_CLOSING)
                and _JA_CONTINUATION.match(s)
            ):
                pieces[-1] += s
            else:
                pieces.append(s)
        for p in pieces:
            out.extend(_cut(p, max_chars))
    return out


def is_translatable(segment: str, min_chars: int) -> bool:
    """Long enough, and holds at least one letter (not only digits, symbols or punctuation)."""
    return len(segment) >= min_chars and bool(_LETTER.search(segment))
