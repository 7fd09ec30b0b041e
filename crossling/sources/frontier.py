"""The crawl's persistent state (SQLite): runs, the frontier and seen-set, what each URL gave.

One database per crawl, ``<root>/crawls/<name>/state.sqlite``:

- ``runs``: one row per crawl run (``crawling`` -> ``crawled`` -> ``finished``, then the corpus
  version built from it).
- ``frontier``: every URL discovered in a run, once (the run's seen-set): ``queued`` -> ``sent``
  (committed *before* the request goes out, so a crawl killed and restarted never sends it again)
  -> ``done`` with an outcome: ``page`` (archived in a pages WARC) or a reject reason.
- ``urls``: what the last fetch of a URL gave (validators for conditional requests, where its
  body is archived, its links and hreflang alternates), across runs.

WAL mode with ``synchronous=NORMAL``: a commit survives the process being killed (not a power
cut), at a few tens of microseconds per commit.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

QUEUED, SENT, DONE = "queued", "sent", "done"
PAGE = "page"  # outcome of a URL whose response is archived in a pages WARC

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run TEXT PRIMARY KEY, status TEXT NOT NULL, started_at TEXT NOT NULL, crawled_at TEXT,
    seeds TEXT NOT NULL, config TEXT NOT NULL, files TEXT, version TEXT, stats TEXT
);
CREATE TABLE IF NOT EXISTS frontier (
    run TEXT NOT NULL, url TEXT NOT NULL, seq INTEGER NOT NULL, host TEXT NOT NULL,
    depth INTEGER NOT NULL, chain TEXT, referrer TEXT, state TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0, not_before REAL NOT NULL DEFAULT 0,
    outcome TEXT, detail TEXT, status INTEGER, PRIMARY KEY (run, url)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS frontier_queue ON frontier (run, host, state, seq);
CREATE TABLE IF NOT EXISTS robots (
    host TEXT PRIMARY KEY, fetched_at REAL NOT NULL, status INTEGER, body BLOB, detail TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS urls (
    url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, status INTEGER, fetched_at TEXT,
    run TEXT, warc_file TEXT, warc_offset INTEGER, record_id TEXT, lang TEXT,
    links TEXT, alternates TEXT
) WITHOUT ROWID;
"""


@dataclass(slots=True)
class Entry:
    """A frontier row on its way to be fetched."""

    url: str
    host: str
    depth: int
    seq: int
    chain: tuple[str, ...] = ()  # the redirect chain that led here (oldest first)
    tries: int = 0
    not_before: float = 0.0
    prev_next_at: float = 0.0  # the host's next request time before this entry reserved it


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class CrawlState:
    """The SQLite state of one crawl. Not thread-safe: one event loop owns it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        self._seq = 0
        self._recent: dict[str, None] = {}  # a bounded cache of URLs known to be in the frontier

    def close(self) -> None:
        self.db.close()

    def begin(self, run: str) -> None:
        """Forget per-run caches (a state serves one run at a time)."""
        self._seq = 0
        self._recent.clear()

    # --- runs ------------------------------------------------------------------------------

    def open_run(self) -> dict[str, Any] | None:
        """The last run, if it is still crawling (it was killed or stopped): to be resumed."""
        row = self.db.execute(
            "SELECT run, status, seeds, config FROM runs ORDER BY run DESC LIMIT 1"
        ).fetchone()
        if row and row[1] == "crawling":
            return {"run": row[0], "seeds": json.loads(row[2]), "config": json.loads(row[3])}
        return None

    def start_run(self, run: str, seeds: list[str], config: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO runs (run, status, started_at, seeds, config) VALUES (?, ?, ?, ?, ?)",
            (run, "crawling", now_iso(), json.dumps(seeds), json.dumps(config)),
        )

    def set_run(self, run: str, **fields: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        vals = [json.dumps(v) if isinstance(v, dict | list) else v for v in fields.values()]
        self.db.execute(f"UPDATE runs SET {cols} WHERE run = ?", (*vals, run))

    def runs(self) -> list[dict[str, Any]]:
        cur = self.db.execute(
            "SELECT run, status, started_at, crawled_at, files, version, stats FROM runs "
            "ORDER BY run"
        )
        out = []
        for run, status, started, crawled, files, version, stats in cur:
            out.append(
                {
                    "run": run,
                    "status": status,
                    "started_at": started,
                    "crawled_at": crawled,
                    "files": json.loads(files) if files else [],
                    "version": version,
                    "stats": json.loads(stats) if stats else {},
                }
            )
        return out

    def previous_run(self, run: str) -> str | None:
        row = self.db.execute(
            "SELECT run FROM runs WHERE run < ? ORDER BY run DESC LIMIT 1", (run,)
        ).fetchone()
        return row[0] if row else None

    # --- the frontier ----------------------------------------------------------------------

    def _next_seq(self, run: str) -> int:
        if not self._seq:
            row = self.db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM frontier WHERE run = ?", (run,)
            ).fetchone()
            self._seq = row[0]
        self._seq += 1
        return self._seq

    def add(
        self,
        run: str,
        url: str,
        host: str,
        depth: int,
        *,
        chain: Iterable[str] = (),
        referrer: str | None = None,
        outcome: str | None = None,
        detail: str | None = None,
    ) -> int | None:
        """Record a discovered URL once per run; its seq when new, None when already seen.

        With ``outcome`` the URL is recorded as finished at once (out of scope, too deep, ...).
        """
        if url in self._recent:
            return None
        seq = self._next_seq(run)
        cur = self.db.execute(
            "INSERT OR IGNORE INTO frontier (run, url, seq, host, depth, chain, referrer, state, "
            "outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run,
                url,
                seq,
                host,
                depth,
                json.dumps(list(chain)) if chain else None,
                referrer,
                DONE if outcome else QUEUED,
                outcome,
                detail[:1000] if detail else None,
            ),
        )
        self._remember_recent(url)
        if cur.rowcount == 0:
            self._seq -= 1
            return None
        return seq

    def _remember_recent(self, url: str) -> None:
        self._recent[url] = None
        if len(self._recent) > 200_000:
            for old in list(self._recent)[:50_000]:
                del self._recent[old]

    def queued(self, run: str, host: str, after_seq: int, limit: int) -> list[Entry]:
        """Queued URLs of a host in discovery order, after ``after_seq``."""
        cur = self.db.execute(
            "SELECT url, host, depth, seq, chain, tries, not_before FROM frontier "
            "WHERE run = ? AND host = ? AND state = ? AND seq > ? ORDER BY seq LIMIT ?",
            (run, host, QUEUED, after_seq, limit),
        )
        return [
            Entry(u, h, d, s, tuple(json.loads(c)) if c else (), t, nb)
            for u, h, d, s, c, t, nb in cur
        ]

    def queued_hosts(self, run: str) -> list[str]:
        cur = self.db.execute(
            "SELECT DISTINCT host FROM frontier WHERE run = ? AND state = ?", (run, QUEUED)
        )
        return [r[0] for r in cur]

    def count(self, run: str, state: str | None = None) -> int:
        if state is None:
            q, args = "SELECT COUNT(*) FROM frontier WHERE run = ?", (run,)
        else:
            q, args = "SELECT COUNT(*) FROM frontier WHERE run = ? AND state = ?", (run, state)
        return self.db.execute(q, args).fetchone()[0]

    def fetched(self, run: str) -> int:
        """Requests sent for pages in this run (the max-pages budget)."""
        return self.db.execute(
            "SELECT COUNT(*) FROM frontier WHERE run = ? AND (state = ? OR (state = ? AND "
            "status IS NOT NULL))",
            (run, SENT, DONE),
        ).fetchone()[0]

    def mark_sent(self, run: str, url: str, tries: int) -> None:
        """Committed before the request is sent: a URL in ``sent`` is never requested again."""
        self.db.execute(
            "UPDATE frontier SET state = ?, tries = ? WHERE run = ? AND url = ?",
            (SENT, tries, run, url),
        )

    def requeue(self, run: str, url: str, not_before: float, detail: str) -> None:
        self.db.execute(
            "UPDATE frontier SET state = ?, not_before = ?, detail = ? WHERE run = ? AND url = ?",
            (QUEUED, not_before, detail[:1000], run, url),
        )

    def finish(
        self, run: str, url: str, outcome: str, detail: str = "", status: int | None = None
    ) -> None:
        self.db.execute(
            "UPDATE frontier SET state = ?, outcome = ?, detail = ?, status = ? "
            "WHERE run = ? AND url = ?",
            (DONE, outcome, detail[:1000] if detail else None, status, run, url),
        )

    def in_state(self, run: str, state: str) -> list[tuple[str, str, int]]:
        """(url, host, depth) of the run's URLs in ``state``."""
        cur = self.db.execute(
            "SELECT url, host, depth FROM frontier WHERE run = ? AND state = ? ORDER BY seq",
            (run, state),
        )
        return list(cur)

    def outcomes(self, run: str) -> Iterable[tuple[str, str, str, str | None, str | None, int]]:
        """(url, host, state, outcome, detail, status) of every URL of the run, in order."""
        return self.db.execute(
            "SELECT url, host, state, outcome, detail, status FROM frontier WHERE run = ? "
            "ORDER BY seq",
            (run,),
        )

    def transaction(self) -> _Tx:
        return _Tx(self.db)

    # --- what each URL gave ------------------------------------------------------------------

    def known(self, url: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT etag, last_modified, warc_file, warc_offset, record_id, lang, links, "
            "alternates, run FROM urls WHERE url = ?",
            (url,),
        ).fetchone()
        if row is None:
            return None
        keys = ("etag", "last_modified", "warc_file", "warc_offset", "record_id", "lang")
        out = dict(zip(keys, row[:6], strict=True))
        out["links"] = json.loads(row[6]) if row[6] else []
        out["alternates"] = json.loads(row[7]) if row[7] else {}
        out["run"] = row[8]
        return out

    def remember(
        self,
        url: str,
        *,
        run: str,
        status: int,
        etag: str | None,
        last_modified: str | None,
        warc_file: str | None,
        warc_offset: int | None,
        record_id: str | None,
        lang: str | None,
        links: list[str],
        alternates: dict[str, str],
    ) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO urls (url, etag, last_modified, status, fetched_at, run, "
            "warc_file, warc_offset, record_id, lang, links, alternates) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                url,
                etag,
                last_modified,
                status,
                now_iso(),
                run,
                warc_file,
                warc_offset,
                record_id,
                lang,
                json.dumps(links),
                json.dumps(alternates, sort_keys=True),
            ),
        )

    def robots(self, host: str, max_age: float) -> tuple[int | None, bytes | None, str] | None:
        """A cached robots.txt of ``host`` (status, body, detail) younger than ``max_age`` s."""
        row = self.db.execute(
            "SELECT fetched_at, status, body, detail FROM robots WHERE host = ?", (host,)
        ).fetchone()
        if row is None or time.time() - row[0] > max_age:
            return None
        return row[1], row[2], row[3] or ""

    def store_robots(self, host: str, status: int | None, body: bytes | None, detail: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO robots (host, fetched_at, status, body, detail) "
            "VALUES (?, ?, ?, ?, ?)",
            (host, time.time(), status, body, detail),
        )

    def pages_with_alternates(self, run: str) -> list[tuple[str, str | None, dict[str, str]]]:
        """(url, lang, alternates) of this run's pages (fetched or unchanged) that name others."""
        cur = self.db.execute(
            "SELECT u.url, u.lang, u.alternates, f.outcome FROM frontier f "
            "JOIN urls u ON u.url = f.url WHERE f.run = ? AND f.outcome IN (?, ?) "
            "AND u.alternates IS NOT NULL AND u.alternates != '{}' ORDER BY f.seq",
            (run, PAGE, "not_modified"),
        )
        return [(u, lang, json.loads(a)) for u, lang, a, _ in cur]

    def page_outcome(self, run: str, url: str) -> str | None:
        row = self.db.execute(
            "SELECT outcome FROM frontier WHERE run = ? AND url = ?", (run, url)
        ).fetchone()
        return row[0] if row else None


class _Tx:
    """``with state.transaction():`` groups statements into one commit."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> _Tx:
        self.db.execute("BEGIN")
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def backoff(tries: int, base: float) -> float:
    """The wall-clock time (``time.time()``) of retry number ``tries`` (exponential backoff)."""
    return time.time() + base * (2 ** max(0, tries - 1))
