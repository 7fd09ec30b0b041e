"""Blocklists loaded from files: URL domains, URL substrings, URL words, bad words per language.

File format (every kind of list): UTF-8 text, one entry per line; surrounding whitespace is
ignored, blank lines are skipped and a line whose first non-blank character is ``#`` is a comment.
Files ending in ``.gz`` are read decompressed. Entries are compared in lower case.

- *domain* lists: a host name per line (``ads.example.com``); a leading ``*.`` or ``.`` is
  allowed and means the same (the host and all its subdomains are blocked). International names
  may be written in Unicode or punycode. A line with a space, a ``/`` or characters a host name
  cannot have is an error.
- *URL substring* lists: any text; a URL containing it (lower case) is blocked.
- *URL word* lists: single words; a URL is blocked when one of its words (the runs of letters
  and digits of its lower-cased form) is in the list (datatrove's ``banned_words`` rule).
- *bad-word* lists (one per language, LDNOOBW layout: a folder of files named by language code,
  with or without ``.txt``): a word or phrase per line, matched as whole words in languages
  written with spaces and as plain substrings in languages written without (zh, ja, th, ...).

A malformed file raises :class:`BlocklistError` with one line naming the file, the line number
and the problem; a file with no entries is an error too (an empty list is almost always a
mistake: a wrong path, a list that failed to download).

Defaults are shipped only from installed packages that carry lists: ``datatrove-url-words``
(datatrove's banned URL words, its ``assets/banned_words.txt``) and ``datatrove-domains`` (the
UT1 blocklist's ``domains`` file in datatrove's assets; about 5 million hosts, ~0.5 GB in memory
per worker). Nothing is ever downloaded.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import tarfile
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

# Languages written without spaces between words: bad words match as substrings there.
SPACELESS_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "dz"})
BUILTINS = ("datatrove-url-words", "datatrove-domains")


class BlocklistError(ValueError):
    """A blocklist file that cannot be used (the message names the file and the line)."""


class BlocklistConfig(BaseModel):
    """Where documents may not come from, and which words they may not contain."""

    domain_files: list[str] = Field(
        default_factory=list,
        description="Files of blocked hosts, one per line; subdomains are blocked too.",
    )
    url_substring_files: list[str] = Field(
        default_factory=list,
        description="Files of URL substrings, one per line (e.g. '/tag/', '?replytocom=').",
    )
    url_word_files: list[str] = Field(
        default_factory=list,
        description="Files of words that block a URL containing them as a word (e.g. 'porn').",
    )
    bad_word_files: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Bad-word files per language code, e.g. {'en': ['badwords/en.txt']}; "
        "'*' applies to every language.",
    )
    bad_words_dir: str | None = Field(
        None,
        description="A folder of bad-word files named by language code ('de', 'de.txt'), as the "
        "LDNOOBW lists are laid out; merged with bad_word_files.",
    )
    builtin: list[str] = Field(
        default_factory=list,
        description="Lists shipped by installed packages: 'datatrove-url-words', "
        "'datatrove-domains' (needs the datatrove package; the domains list is large).",
    )
    max_bad_words: int = Field(
        0,
        description="Drop a document with more bad-word matches than this (C4: 0, any match "
        "drops). Raise it to tolerate a few.",
    )
    max_bad_word_frac: float = Field(
        1.0,
        description="Also drop when bad-word matches per word exceed this (1.0: off; try 0.01).",
    )


def _open_text(path: str) -> list[str]:
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = Path(path).read_bytes()
    except OSError as e:
        raise BlocklistError(f"{path}: cannot be read ({e.strerror or e})") from None
    lines = raw.split(b"\n")
    out = []
    for n, line in enumerate(lines, 1):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise BlocklistError(f"{path}:{n}: not UTF-8 text") from None
    return out


def parse_entries(lines: list[str], path: str) -> list[tuple[int, str]]:
    """The entries of a list file as (line number, lower-cased entry)."""
    out = []
    for n, line in enumerate(lines, 1):
        entry = line.strip().lstrip("\ufeff") if n == 1 else line.strip()
        if not entry or entry.startswith("#"):
            continue
        if any(ord(c) < 32 for c in entry):
            raise BlocklistError(f"{path}:{n}: control character in entry")
        out.append((n, entry.lower()))
    if not out:
        raise BlocklistError(f"{path}: no entries (one entry per line, '#' starts a comment)")
    return out


_HOST_CHARS = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*$")


def normalize_domain(entry: str) -> str | None:
    """A host name in the form URLs give it (lower case, punycode), or None if it is not one."""
    host = entry.lower().strip()
    if host.startswith("*."):
        host = host[2:]
    host = host.strip(".")
    if not host or any(c in host for c in " /\t:@?#"):
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host if _HOST_CHARS.match(host) else None


def _file_key(path: str) -> tuple[str, int, int]:
    try:
        st = os.stat(path)
    except OSError as e:
        raise BlocklistError(f"{path}: cannot be read ({e.strerror or e})") from None
    return os.path.abspath(path), st.st_size, st.st_mtime_ns


@lru_cache(maxsize=64)
def _load(key: tuple[str, int, int], kind: str) -> frozenset[str]:
    path = key[0]
    entries = parse_entries(_open_text(path), path)
    if kind == "domain":
        out = set()
        for n, e in entries:
            host = normalize_domain(e)
            if host is None:
                raise BlocklistError(f"{path}:{n}: {e[:60]!r} is not a host name")
            out.add(host)
        return frozenset(out)
    if kind == "word":
        for n, e in entries:
            if not e.replace("-", "").replace("_", "").isalnum():
                raise BlocklistError(f"{path}:{n}: {e[:60]!r} is not a single word")
    return frozenset(e for _, e in entries)


def load_list(path: str, kind: str = "text") -> frozenset[str]:
    """Load a list file once per process (cached by path, size and modification time).

    Args:
        path: the file (``.gz`` allowed).
        kind: ``domain`` (host names, validated), ``word`` (single words) or ``text`` (any entry:
            URL substrings, bad words and phrases).
    """
    return _load(_file_key(path), kind)


@lru_cache(maxsize=4)
def load_builtin(name: str) -> frozenset[str]:
    """A list shipped by an installed package (see the module docstring)."""
    if name not in BUILTINS:
        raise BlocklistError(f"builtin list {name!r}: unknown (one of {', '.join(BUILTINS)})")
    try:
        import datatrove
    except ImportError:
        raise BlocklistError(
            f"builtin list {name!r}: needs the datatrove package (pip install datatrove)"
        ) from None
    assets = os.path.join(os.path.dirname(datatrove.__file__), "assets")
    if name == "datatrove-url-words":
        return load_list(os.path.join(assets, "banned_words.txt"), "word")
    archive = os.path.join(assets, "url_filterblacklistsv0_3_0.tar.gz")
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile("domains")
        if member is None:
            raise BlocklistError(f"{archive}: no 'domains' list inside")
        lines = member.read().decode("utf-8", "replace").split("\n")
    # Millions of hosts: those already in normal form are picked out in Arrow (C), only the
    # others go through normalize_domain.
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(lines, pa.string())
    clean = pc.match_substring_regex(arr, _HOST_CHARS.pattern)
    hosts = set(arr.filter(clean).to_pylist())
    for line in arr.filter(pc.invert(clean)).to_pylist():
        host = normalize_domain(line) if line and not line.startswith("#") else None
        if host:
            hosts.add(host)
    return frozenset(hosts)


def _union(sets: list[frozenset[str]]) -> frozenset[str]:
    """One set of several (the only one itself: the built-in domains are not copied)."""
    if len(sets) == 1:
        return sets[0]
    return frozenset().union(*sets)


class Blocklists:
    """The loaded lists of a :class:`BlocklistConfig`, and the checks that use them."""

    def __init__(self, config: BlocklistConfig):
        self.config = config
        # The list files are read (and checked) now; the built-in lists, millions of hosts,
        # when a URL is first checked (the bad-word step never needs them).
        self._domain_sets = [load_list(p, "domain") for p in config.domain_files]
        self._word_sets = [load_list(p, "word") for p in config.url_word_files]
        substrings: set[str] = set()
        for p in config.url_substring_files:
            substrings |= load_list(p, "text")
        self._substrings = sorted(substrings)
        for name in config.builtin:
            if name not in BUILTINS:
                raise BlocklistError(
                    f"builtin list {name!r}: unknown (one of {', '.join(BUILTINS)})"
                )
        self._url_lists: tuple[frozenset[str], frozenset[str], list[str]] | None = None
        self.bad_word_paths = bad_word_paths(config)
        # Loaded now (a snapshot): the digest and the matches come from the same lists.
        self.bad_words: dict[str, frozenset[str]] = {
            lang: frozenset().union(*(load_list(p, "text") for p in paths))
            for lang, paths in self.bad_word_paths.items()
        }
        self._patterns: dict[str, re.Pattern[str] | None] = {}

    # --- URLs --------------------------------------------------------------------------------

    def _load_url_lists(self) -> tuple[frozenset[str], frozenset[str], list[str]]:
        """The URL lists, loaded on first use (the bad-word step never needs them; the built-in
        domains are millions of hosts)."""
        if self._url_lists is None:
            domains, words = list(self._domain_sets), list(self._word_sets)
            for name in self.config.builtin:
                (domains if name == "datatrove-domains" else words).append(load_builtin(name))
            self._url_lists = (_union(domains), _union(words), self._substrings)
        return self._url_lists

    @property
    def domains(self) -> frozenset[str]:
        return self._load_url_lists()[0]

    @property
    def url_words(self) -> frozenset[str]:
        return self._load_url_lists()[1]

    @property
    def substrings(self) -> list[str]:
        return self._load_url_lists()[2]

    @property
    def blocks_urls(self) -> bool:
        cfg = self.config
        return bool(
            cfg.domain_files or cfg.url_substring_files or cfg.url_word_files or cfg.builtin
        )

    def url_verdict(self, url: str | None) -> str | None:
        """Why ``url`` is blocked (a detail without the URL itself), or None."""
        if not url or not self.blocks_urls:
            return None
        low = url.lower()
        host = (urlsplit(low).hostname or "").strip(".")
        if self.domains and host:
            parts = host.split(".")
            for i in range(len(parts)):
                suffix = ".".join(parts[i:])
                if suffix in self.domains:
                    return f"host {host} is blocked ({suffix})"
        for sub in self.substrings:
            if sub in low:
                return f"URL contains {sub!r}"
        if self.url_words:
            for word in re.findall(r"[^\W_]+", low):
                if word in self.url_words:
                    return f"URL word {word!r} is blocked"
        return None

    # --- bad words ---------------------------------------------------------------------------

    def pattern(self, lang: str | None) -> re.Pattern[str] | None:
        """The compiled bad-word matcher of a language (its list and the '*' list), or None."""
        key = lang or ""
        if key not in self._patterns:
            words = self.bad_words.get(key, frozenset()) | self.bad_words.get("*", frozenset())
            if not words:
                self._patterns[key] = None
            else:
                alt = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
                body = alt if key in SPACELESS_LANGS else rf"(?<!\w)(?:{alt})(?!\w)"
                self._patterns[key] = re.compile(body)
        return self._patterns[key]

    def count_bad_words(self, text: str, lang: str | None) -> int:
        """How many bad-word matches ``text`` has in its language's list."""
        pat = self.pattern(lang)
        return 0 if pat is None else sum(1 for _ in pat.finditer(text.lower()))

    def lists_digest(self) -> str:
        """A hash of the bad-word lists' contents (what changes the measured counts)."""
        h = hashlib.sha256()
        for lang in sorted(self.bad_words):
            h.update(f"{lang}\x00".encode())
            for w in sorted(self.bad_words[lang]):
                h.update(w.encode() + b"\n")
        return h.hexdigest()[:16]


def bad_word_paths(config: BlocklistConfig) -> dict[str, list[str]]:
    """Language -> its bad-word files (the folder's files and the named ones)."""
    out: dict[str, list[str]] = {k: list(v) for k, v in config.bad_word_files.items()}
    d = config.bad_words_dir
    if d:
        if not os.path.isdir(d):
            raise BlocklistError(f"{d}: not a folder of bad-word lists")
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            lang = name[:-4] if name.endswith(".txt") else name
            if (
                os.path.isfile(path)
                and not name.startswith(".")
                and re.fullmatch(r"[a-z]{2,3}|\*", lang)
            ):
                out.setdefault(lang, []).append(path)
    return out
