"""One HTTP exchange with Segmind, done the way a careful client must do it behind CDNs and storage redirects.

- Bodies are decoded per `Content-Encoding` (gzip, deflate), by the pack itself and in bounded steps, so the
  size limit applies to the *decoded* size (a small compressed answer cannot blow up memory).
- Redirects are followed here, not by requests, because of the key: `x-api-key` is attached only while the
  target is the API's own origin, never to a storage or CDN host, and never again once a hop has left the
  origin. A request that needs the key follows a redirect off the origin only for a 303 ("the answer is
  over there", fetched without the key); a download of a public output URL follows any. A POST is re-sent
  along a 307/308 only to the API's own origin (the server said it did not take it).
- Every failure says whether any byte of the request may have left the machine, because that decides whether
  a POST may be re-sent (see retry.py). Failure texts are written here, never copied from library exceptions,
  which can quote header values.

The exchange blocks its thread; a wall-clock deadline and short socket timeouts bound it.
"""

import json
import os
import re
import threading
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

MiB = 1024 * 1024
READ_CHUNK = 256 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "segmind-motionctrl-comfyui"
# Only what _Decoder can decode; requests would also offer br/zstd when those libraries happen to be installed.
ACCEPT_ENCODING = "gzip, deflate"
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass
class Answer:
    status: int
    headers: dict  # lower-cased names
    body: bytes  # decoded
    url: str  # after redirects
    hops: list = field(default_factory=list)  # the URLs redirected through

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def request_id(self):
        return self.headers.get("x-request-id")


class TransportFailure(Exception):
    """No usable answer. `sent` is False only when nothing of the request can have reached the server."""

    def __init__(self, reason, *, sent, url):
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        self.url = url


class NeverSent(TransportFailure):
    """Refused, unresolvable or unreachable before any byte left: nothing can have been billed."""

    def __init__(self, reason, url):
        super().__init__(reason, sent=False, url=url)


class NoAnswer(TransportFailure):
    """Sent (or possibly sent), then a timeout or a dropped connection before the answer was complete."""


class Truncated(TransportFailure):
    """The answer began but was cut off."""


class TooLarge(TransportFailure):
    def __init__(self, size, limit, url, sent=True):
        super().__init__(f"the answer is larger than the {limit // MiB} MiB limit", sent=sent, url=url)
        self.size = size
        self.limit = limit


class TooManyRedirects(TransportFailure):
    """A redirect chain longer than MAX_REDIRECTS (a loop, in practice): asking again would loop again."""


class Unbuildable(TransportFailure):
    """The request could not even be built (a header value or the address refused): nothing was sent."""

    def __init__(self, part, url):
        super().__init__(f"the {part} was refused while building the request", sent=False, url=url)
        self.part = part


class Untrusted(TransportFailure):
    """The TLS certificate could not be verified: nothing was sent."""


class Undecodable(TransportFailure):
    """An answer in an encoding the pack cannot read (e.g. brotli sent although not asked for)."""


def origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class Transport:
    def __init__(self, api_base_url, api_key, *, connect_timeout=10.0, max_response_bytes=512 * MiB,
                 max_redirects=MAX_REDIRECTS):
        self.api_origin = origin(api_base_url)
        self._key = api_key
        self.connect_timeout = connect_timeout
        self.max_response_bytes = max_response_bytes
        self.max_redirects = max_redirects
        self._local = threading.local()  # a requests.Session is not meant to be shared between threads

    def __repr__(self):  # never the key, in tracebacks or debug logs
        return f"Transport({self.api_origin!r})"

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def close(self):
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None

    def request(self, method, url, *, json_body=None, read_timeout, deadline, public=False):
        """Send, follow redirects, and return the final Answer (any status). Raises a TransportFailure.

        `public`: the URL is a public output file (storage, CDN): redirects anywhere are followed.
        """
        body = json.dumps(json_body).encode("utf-8") if json_body is not None else None
        hops = []
        left_origin = False
        answered = False  # a POST that got any answer (e.g. 303) is no longer "never sent"
        for _ in range(self.max_redirects + 1):
            if origin(url) != self.api_origin:
                left_origin = True
            with_key = not left_origin
            try:
                answer = self._exchange(method, url, body, with_key, read_timeout, deadline)
            except NeverSent:
                if answered:
                    raise NoAnswer("a redirect target could not be reached", sent=True, url=url) from None
                raise
            if answer.status not in _REDIRECTS or not answer.headers.get("location"):
                answer.hops = hops
                return answer
            answered = True
            target = urljoin(url, answer.headers["location"].strip())
            offsite = origin(target) != self.api_origin
            if offsite and not (public or answer.status == 303):
                answer.hops = hops
                return answer  # an API request sent elsewhere would go without its key: reported, not followed
            if answer.status in (307, 308) and method != "GET" and offsite:
                answer.hops = hops
                return answer  # re-sending a paid request elsewhere is not ours to decide: reported as is
            if answer.status in (301, 302, 303) and method != "GET":
                method, body = "GET", None  # what every HTTP client does after a POST is redirected
            hops.append(url)
            url = target
        raise TooManyRedirects(f"more than {self.max_redirects} redirects", sent=answered, url=url)

    def _exchange(self, method, url, body, with_key, read_timeout, deadline):
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING, "Accept": "*/*"}
        if with_key:
            headers["x-api-key"] = self._key
        if body is not None:
            headers["Content-Type"] = "application/json"
        left = deadline - time.time()
        if left <= 0:
            raise NoAnswer("no complete answer within the time limit", sent=False, url=url)
        kwargs = dict(headers=headers, data=body, stream=True, allow_redirects=False,
                      timeout=(min(self.connect_timeout, left), max(0.05, min(read_timeout, left))))
        ca_bundle = _ca_bundle()
        if ca_bundle:
            kwargs["verify"] = ca_bundle
        try:
            raw = self._session().request(method, url, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every library failure is classified below, never re-raised
            raise _classify(exc, url) from None
        try:
            return self._read(raw, url, deadline)
        finally:
            raw.close()

    def _read(self, raw, url, deadline):
        headers = {k.lower(): v for k, v in raw.headers.items()}
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > self.max_response_bytes and not headers.get("content-encoding"):
            raise TooLarge(int(declared), self.max_response_bytes, url)
        decoder = _Decoder(headers.get("content-encoding", ""), url)
        stream = raw.raw
        read = getattr(stream, "read1", None) or stream.read
        chunks, size = [], 0
        try:
            while True:
                chunk = read(READ_CHUNK, decode_content=False)
                if not chunk:
                    break
                for piece in decoder.feed(chunk, self.max_response_bytes - size + 1):
                    size += len(piece)
                    if size > self.max_response_bytes:
                        raise TooLarge(size, self.max_response_bytes, url)
                    chunks.append(piece)
                if time.time() > deadline:
                    raise NoAnswer("no complete answer within the time limit", sent=True, url=url)
            tail = decoder.finish()
        except TransportFailure:
            raise
        except Exception as exc:  # noqa: BLE001
            raise _classify_read(exc, url) from None
        size += len(tail)
        if size > self.max_response_bytes:
            raise TooLarge(size, self.max_response_bytes, url)
        chunks.append(tail)
        return Answer(raw.status_code, headers, b"".join(chunks), url)


class _Decoder:
    """Content-Encoding decoding in bounded steps: gzip, deflate (zlib-wrapped or raw, both seen in the wild)."""

    def __init__(self, encoding, url):
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip() and c.strip().lower() != "identity"]
        self.url = url
        self._zlib = None
        self._first = True
        self._kind = None
        if not codings:
            return
        if len(codings) > 1 or codings[0] not in ("gzip", "x-gzip", "deflate"):
            raise Undecodable(f"the answer is encoded as {encoding.strip()!r}, which the pack did not ask for "
                              "and cannot read", sent=True, url=url)
        self._kind = "gzip" if codings[0] in ("gzip", "x-gzip") else "deflate"

    def feed(self, chunk, limit):
        if self._kind is None:
            return [chunk]
        if self._zlib is None:
            wbits = 31 if self._kind == "gzip" else (15 if _looks_zlib(chunk) else -15)
            self._zlib = zlib.decompressobj(wbits)
        out = []
        data = chunk
        try:
            while data:
                piece = self._zlib.decompress(data, max(1, limit))
                out.append(piece)
                limit -= len(piece)
                data = self._zlib.unconsumed_tail
                if limit <= 0:
                    break  # the caller sees the size pass its limit and stops
        except zlib.error:
            raise Undecodable(f"the answer claims {self._kind} encoding but does not decode", sent=True,
                              url=self.url) from None
        return out

    def finish(self):
        if self._kind is None:
            return b""
        if self._zlib is None:
            return b""  # an empty body
        try:
            tail = self._zlib.flush()
        except zlib.error:
            raise Undecodable(f"the answer claims {self._kind} encoding but does not decode", sent=True,
                              url=self.url) from None
        if not self._zlib.eof:
            raise Truncated("the compressed answer is cut off", sent=True, url=self.url)
        return tail


def _looks_zlib(data):
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0


def _ca_bundle():
    # requests reads REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE itself, but not SSL_CERT_FILE.
    if os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"):
        return None
    return os.environ.get("SSL_CERT_FILE") or None


def _classify(exc, url):
    """A failure before or while sending, as a TransportFailure with a text of our own."""
    if isinstance(exc, requests.exceptions.SSLError):
        return Untrusted("the server's TLS certificate could not be verified", sent=False, url=url)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NeverSent("timed out connecting", url)
    if isinstance(exc, requests.exceptions.ProxyError) and _never_connected(exc):
        return NeverSent("the proxy refused the connection", url)
    if _never_connected(exc):
        return NeverSent(_errno_text(exc) or "could not connect", url)
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema)):
        return Unbuildable("address", url)
    if isinstance(exc, (requests.exceptions.InvalidHeader, UnicodeError, TypeError)) or (
            isinstance(exc, ValueError) and not isinstance(exc, requests.exceptions.RequestException)):
        # Never quote these: requests' header errors repeat the header's value, which can be the key.
        return Unbuildable("header value", url)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return NoAnswer("no answer within the read timeout", sent=True, url=url)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return NoAnswer("the connection was closed before an answer came", sent=True, url=url)
    return NoAnswer(f"the request failed ({type(exc).__name__})", sent=True, url=url)


def _classify_read(exc, url):
    if isinstance(exc, (urllib3.exceptions.ReadTimeoutError, requests.exceptions.ReadTimeout, TimeoutError)):
        return NoAnswer("the answer stopped arriving (read timeout)", sent=True, url=url)
    if isinstance(exc, (urllib3.exceptions.ProtocolError, urllib3.exceptions.IncompleteRead,
                        requests.exceptions.ChunkedEncodingError, ConnectionError, OSError)):
        return Truncated("the connection broke while the answer was arriving", sent=True, url=url)
    return Truncated(f"the answer could not be read ({type(exc).__name__})", sent=True, url=url)


def _never_connected(exc):
    """True when the chain of causes shows the TCP connection itself failed (refused, DNS, unreachable)."""
    seen = set()
    todo = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue  # e.g. UnicodeEncodeError.reason is a str: only exceptions are walked
        seen.add(id(item))
        if isinstance(item, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.NameResolutionError,
                             ConnectionRefusedError)):
            return True
        todo.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
        todo.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
    return False


def _errno_text(exc):
    """"[Errno 111] Connection refused" says it all; the pool internals around it do not (and are not ours)."""
    found = re.search(r"\[Errno -?\d+\] [A-Za-z ,'-]+", str(exc))
    if found:
        return found.group(0).strip()
    if "Name or service not known" in str(exc) or "NameResolution" in type(exc).__name__:
        return "could not resolve the host name"
    return None
