"""The one HTTP layer: every request the plugin makes (to the WebUI, and to download input
images) goes through :func:`fetch`.

Built on the standard library's ``http.client`` rather than requests, because the plugin
needs control over the socket that requests does not give:

- a **total deadline**: every read and write gets the time left, so a server that
  trickles a byte a second cannot keep a call alive past its deadline;
- **checked, pinned addresses**: the host is resolved once, every address is checked
  against an :class:`AddressPolicy`, and the connection goes to a checked address (no
  DNS rebinding between check and connect);
- **bounded bodies**: the declared and the decoded size (gzip included) are capped;
- **no hidden state**: no cookie jar, no proxy from the environment, no automatic
  redirects (callers decide per hop), no connection pool (one connection per request).

Failures are raised as the small exceptions below; webui/transport/http.py and webui/images/sources.py turn
them into user-facing errors with the context of what was being done.
"""

from __future__ import annotations

import http.client
import io
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Buffer, Iterable
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import urljoin, urlsplit

CONNECT_TIMEOUT = 10.0
_READ_CHUNK = 256 * 1024
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class NetError(Exception):
    """No usable HTTP answer; ``reason`` says why in words a user understands."""

    def __init__(self, reason: str, *, answered: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.answered = answered  # True: something answered, but not with usable HTTP


class DeadlinePassed(Exception):
    """The total deadline passed before the answer was complete."""


class TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class AddressRefused(Exception):
    """The address policy refused the host before any connection was made. ``never``: the
    address is one no setting allows (link-local, cloud metadata)."""

    def __init__(self, host: str, *, never: bool = False) -> None:
        super().__init__(host)
        self.host = host
        self.never = never


@dataclass(frozen=True)
class Deadline:
    """A point in (monotonic) time that a whole request must finish by."""

    end: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise DeadlinePassed
        return left


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NetError("the address is not an http(s) URL")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = parts.hostname.encode("idna").decode("ascii") if not parts.hostname.isascii() else parts.hostname
        except (ValueError, UnicodeError):
            raise NetError("the address has an invalid host or port") from None
        return cls(parts.scheme, host, port)


# Cloud metadata services outside the link-local ranges (Alibaba Cloud; AWS over IPv6).
_METADATA = (ipaddress.ip_network("100.100.100.200/32"), ipaddress.ip_network("fd00:ec2::254/128"))


def _embedded(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    found = [inner for inner in (address.ipv4_mapped, address.sixtofour) if inner is not None]
    if address.teredo:
        found += list(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_never_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Link-local and cloud metadata addresses (169.254.169.254 and the like), also inside
    IPv6 forms: never fetched, whatever the operator allows."""
    if isinstance(address, ipaddress.IPv6Address) and any(is_never_address(inner) for inner in _embedded(address)):
        return True
    return address.is_link_local or any(address in network for network in _METADATA)


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet (not loopback, private, link-local,
    multicast, reserved or unspecified), looking inside IPv6 forms that carry IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and not all(is_public_address(i) for i in _embedded(address)):
        return False
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses a request may connect to.

    ``allow_private`` lets private addresses through (the operator's choice); ``trusted``
    lists origins whose addresses are allowed whatever they are (the file server a
    file URL was handed over for). Everything else must resolve to public addresses only.
    ``guarded`` policies refuse link-local and metadata addresses in every case, and a host
    name that does not resolve like a private address, so that the refusal tells nothing
    about which internal names exist.
    """

    allow_private: bool = False
    trusted: frozenset[Origin] = field(default_factory=frozenset)
    guarded: bool = True

    def allows_any(self, origin: Origin) -> bool:
        return self.allow_private or origin in self.trusted

    def check(self, origin: Origin, addresses: Iterable[str]) -> None:
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if self.guarded and is_never_address(address):
                raise AddressRefused(origin.host, never=True)
            if not self.allows_any(origin) and not is_public_address(address):
                raise AddressRefused(origin.host)

    def unresolved(self, origin: Origin) -> None:
        """A host name without addresses: refused like a private one where private ones are."""
        if self.guarded and not self.allows_any(origin):
            raise AddressRefused(origin.host)


OPEN = AddressPolicy(allow_private=True, guarded=False)  # the WebUI: wherever its operator put it


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes | bytearray
    url: str

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "") or ""

    def redirect(self) -> str | None:
        """The absolute target of a redirect answer, or None."""
        location = self.headers.get("Location")
        if self.status in (301, 302, 303, 307, 308) and location:
            return urljoin(self.url, location.strip())
        return None


class _DeadlineReader(io.RawIOBase):
    """Socket reads that may together take no longer than the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        self._sock.settimeout(self._deadline.remaining())
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """What http.client needs of a socket, with every operation bounded by the deadline."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(self._deadline.remaining())
        self._sock.sendall(data)

    def makefile(self, mode: str = "rb", *args: object, **kwargs: object) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline), _READ_CHUNK)

    def close(self) -> None:
        """http.client closes its connection as soon as it has the headers of a
        ``Connection: close`` answer, before the body is read; fetch() closes the socket."""


def _tls_context(verify: bool) -> ssl.SSLContext:
    if not verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    try:
        import certifi  # installed with the SDK's dependencies; the system store otherwise

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover - depends on the environment
        return ssl.create_default_context()


def _resolve(origin: Origin) -> list[tuple[int, tuple]]:
    try:  # a literal address needs no lookup (other spellings such as 2130706433 go to the resolver)
        literal = ipaddress.ip_address(origin.host)
    except ValueError:
        pass
    else:
        if literal.version == 4:
            return [(socket.AF_INET, (origin.host, origin.port))]
        return [(socket.AF_INET6, (origin.host, origin.port, 0, 0))]
    try:
        infos = socket.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise NetError("the host name does not resolve") from None
    return [(family, address) for family, _, _, _, address in infos]


def _connect(origin: Origin, deadline: Deadline, policy: AddressPolicy, verify: bool) -> socket.socket:
    try:
        addresses = _resolve(origin)
    except NetError:
        policy.unresolved(origin)
        raise
    policy.check(origin, [address[0] for _, address in addresses])
    last: OSError | None = None
    for family, address in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(min(CONNECT_TIMEOUT, deadline.remaining()))
            sock.connect(address)
            if origin.scheme == "https":
                sock = _tls_context(verify).wrap_socket(sock, server_hostname=origin.host)
            return sock
        except ssl.SSLError:
            sock.close()
            raise NetError(
                "the TLS handshake failed (for a self-signed certificate, turn off TLS verification)"
            ) from None
        except TimeoutError:
            sock.close()
            if deadline.end - time.monotonic() <= 0:
                raise DeadlinePassed from None
            last = TimeoutError(f"no connection within {min(CONNECT_TIMEOUT, deadline.seconds):g} s")
        except OSError as error:
            sock.close()
            last = error
    if isinstance(last, ConnectionRefusedError):
        raise NetError("the connection was refused (nothing listens on that port)")
    if isinstance(last, TimeoutError):
        raise NetError(str(last))
    reason = last.strerror.lower() if last is not None and last.strerror else "no address could be connected to"
    raise NetError(reason)


def _decoder(encoding: str) -> zlib._Decompress | None:
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    if encoding in ("", "identity"):
        return None
    raise NetError(f"the answer uses an unsupported Content-Encoding {encoding[:40]!r}", answered=True)


def _read_body(response: http.client.HTTPResponse, max_bytes: int) -> bytearray:
    declared = response.getheader("Content-Length")
    decoder = _decoder(response.getheader("Content-Encoding", "") or "")
    if decoder is None and declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(int(declared))
    body = bytearray()
    while chunk := response.read(_READ_CHUNK):
        if decoder is None:
            body += chunk
        else:
            data = chunk
            while data:
                body += decoder.decompress(data, max_bytes + 1 - len(body))
                data = decoder.unconsumed_tail
                if len(body) > max_bytes:
                    break
        if len(body) > max_bytes:
            raise TooLarge(len(body))
    if response.length:  # http.client returns a body cut short by a closed connection as is
        raise http.client.IncompleteRead(b"", response.length)
    return body  # a bytearray: copying it would hold the answer twice


def fetch(
    method: str,
    url: str,
    *,
    deadline: Deadline,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    policy: AddressPolicy = OPEN,
    verify: bool = True,
) -> Response:
    """One HTTP request and its whole answer, within ``deadline`` and ``max_bytes``.

    Redirects are returned, not followed. Raises NetError, DeadlinePassed, TooLarge or
    AddressRefused; never a socket or http.client exception.
    """
    origin = Origin.of(url)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sock: socket.socket | None = None
    try:
        sock = _connect(origin, deadline, policy, verify)
        connection = http.client.HTTPConnection(origin.host, origin.port)
        connection.sock = _DeadlineSocket(sock, deadline)
        sent = {"Accept-Encoding": "gzip", "Connection": "close", **(headers or {})}
        connection.request(method, target, body=body, headers=sent)
        answer = connection.getresponse()
        data = _read_body(answer, max_bytes) if method != "HEAD" else bytearray()
        return Response(answer.status, answer.msg, data, url)
    except DeadlinePassed:
        raise
    except TimeoutError:  # a read or write given the time left ran out of it
        raise DeadlinePassed from None
    except http.client.RemoteDisconnected:
        raise NetError("the server closed the connection without answering") from None
    except http.client.IncompleteRead:
        raise NetError("the connection dropped while the answer was being read") from None
    except http.client.HTTPException as error:
        raise NetError(f"the answer is not valid HTTP ({type(error).__name__})", answered=True) from None
    except zlib.error:
        raise NetError("the answer's compressed body is corrupt", answered=True) from None
    except (ConnectionResetError, BrokenPipeError):
        raise NetError("the connection dropped while the answer was being read") from None
    except ssl.SSLError:
        raise NetError("the TLS connection failed") from None
    except OSError as error:
        raise NetError(error.strerror.lower() if error.strerror else type(error).__name__) from None
    finally:
        if sock is not None:
            sock.close()
