"""URLs for the crawler: normalization, scope rules and the address policy (what may be fetched).

Safety first: only ``http`` and ``https``; every host's resolved addresses are checked before a
connection is made, and again by the connection's own resolver (no DNS-rebinding window).
Private, loopback, link-local, multicast and otherwise non-global addresses are refused unless the
user allowed that exact ``host:port`` (``--allow-host``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import re
import socket
from functools import lru_cache
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are when re-quoting a path or query (RFC 3986 reserved + unreserved + %).
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"


class UrlError(ValueError):
    """A link that is not a usable URL (unparsable, no host, a bad port)."""


@lru_cache(maxsize=1 << 16)
def normalize_url(url: str) -> str:
    """The canonical form of an absolute URL, the key of the seen-set.

    Lowercases the scheme and host (IDNA for non-ASCII hosts), drops the default port, the
    fragment and user info, makes an empty path ``/``, resolves ``.``/``..`` segments and
    percent-encodes what must be encoded (leaving existing escapes alone). The query is kept in
    its order: reordering parameters can change what a server returns.

    Raises:
        UrlError: when the URL cannot be parsed or has no host.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as e:
        raise UrlError(f"{url!r}: {e}") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UrlError(f"{url!r}: no host")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host.lower()
    except UnicodeError as e:
        raise UrlError(f"{url!r}: bad host name: {e}") from None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _remove_dot_segments(parts.path or "/")
    path = quote(unquote_safe(path), safe=_SAFE_PATH)
    query = quote(parts.query, safe=_SAFE_QUERY + "=") if parts.query else ""
    return urlunsplit((scheme, netloc, path, query, ""))


def unquote_safe(path: str) -> str:
    """Decode percent-escapes of unreserved characters only (``%7E`` -> ``~``); keep the rest."""
    if "%" not in path:
        return path
    return _ESCAPE.sub(_unescape_unreserved, path)


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _unescape_unreserved(m: re.Match[str]) -> str:
    ch = chr(int(m.group(1), 16))
    return ch if ch in _UNRESERVED else m.group(0).upper()


def _remove_dot_segments(path: str) -> str:
    if "/." not in path and not path.startswith("."):
        return path
    out: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            if len(out) > 1:
                out.pop()
        elif seg != ".":
            out.append(seg)
    joined = "/".join(out)
    if path.endswith(("/.", "/..")):
        joined += "/"
    return joined if joined.startswith("/") else "/" + joined


def absolute(base: str, href: str) -> str:
    """``href`` resolved against ``base`` (whitespace stripped, as browsers do); an unparsable
    ``href`` comes back as it is (normalizing it then says why it is no URL)."""
    href = href.strip().replace("\n", "").replace("\t", "").replace("\r", "")
    try:
        return urljoin(base, href)
    except ValueError:
        return href


def scheme_of(url: str) -> str:
    i = url.find(":")
    return url[:i].lower() if i > 0 else ""


def netloc_of(url: str) -> str:
    """``host[:port]`` of a normalized URL (the per-host queue key and the ``crawl:`` source)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scheme_of(url) or "-"
    return parts.netloc.lower() or parts.scheme.lower() or "-"


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return host, parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)


# --- scope -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scope:
    """Which URLs a crawl follows. A URL is in scope when its host is allowed or it starts with
    one of the prefixes; hosts are compared without the port (as in Scrapy's allowed_domains), so
    another port of an allowed host is in scope and then meets the address policy."""

    hosts: frozenset[str]
    prefixes: tuple[str, ...] = ()
    include_subdomains: bool = False

    def allows(self, url: str) -> bool:
        if self.prefixes and url.startswith(self.prefixes):
            return True
        host = (urlsplit(url).hostname or "").lower()
        if host in self.hosts:
            return True
        return self.include_subdomains and any(host.endswith("." + h) for h in self.hosts)


# --- the address policy ------------------------------------------------------------------------


class BlockedAddress(ConnectionError):
    """A host resolves to an address the policy refuses (private, loopback, ...)."""


def parse_allow_host(spec: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as ``(host, port)``; ValueError when malformed."""
    spec = spec.strip()
    host, sep, port = spec.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{spec!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]").lower(), int(port)


def refused_reason(ip: str) -> str | None:
    """Why an address is refused ('loopback', 'private', ...), or None for a public address."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for name in ("loopback", "link_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(addr, f"is_{name}"):
            return name.replace("_", "-")
    if not addr.is_global:
        return "not global"
    return None


class AddressPolicy:
    """Resolves hosts and refuses non-public addresses, except exactly allowed ``host:port``s."""

    def __init__(self, allow: list[str] | tuple[str, ...] = ()) -> None:
        self.allowed: frozenset[tuple[str, int]] = frozenset(parse_allow_host(a) for a in allow)
        self._cache: dict[tuple[str, int], list[str]] = {}

    def is_allowed(self, host: str, port: int) -> bool:
        return (host.lower().strip("[]"), port) in self.allowed

    def check_addresses(self, host: str, port: int, addresses: list[str]) -> None:
        """Raise :class:`BlockedAddress` unless every address may be connected to."""
        if self.is_allowed(host, port):
            return
        for ip in addresses:
            why = refused_reason(ip)
            if why:
                raise BlockedAddress(
                    f"{host}:{port} resolves to {ip} ({why}); refused "
                    f"(allow it with --allow-host {host}:{port})"
                )

    async def resolve(self, host: str, port: int) -> list[str]:
        """The host's addresses after the policy check (cached per host and port)."""
        key = (host.lower(), port)
        if key in self._cache:
            return self._cache[key]
        bare = host.strip("[]")
        try:
            ipaddress.ip_address(bare)
            addresses = [bare]
        except ValueError:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(bare, port, type=socket.SOCK_STREAM)
            except socket.gaierror as e:
                raise OSError(f"cannot resolve {host}: {e}") from None
            addresses = sorted({info[4][0] for info in infos})
        self.check_addresses(host, port, addresses)
        self._cache[key] = addresses
        return addresses
