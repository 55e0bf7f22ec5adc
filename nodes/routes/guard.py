"""The checks every route that changes something runs before it acts (the key routes; later ones too).

ComfyUI's HTTP API has no login, and its own origin check applies only when the request's Host is a
loopback name. So when ComfyUI listens beyond localhost, a web page on any other site the user visits could
send a "simple" cross-site request (a form post or fetch with a text/plain body, which browsers send
without asking the server first) and save the attacker's key, after which every image goes to, and is
billed to, the attacker's account; or delete the user's key. Two checks close that:

- the body must be declared `application/json`: a browser sends that type to another origin only after a
  CORS preflight, which ComfyUI does not grant unless started with --enable-cors-header;
- a request whose Origin or Sec-Fetch-Site header says it comes from another site is refused even then.

A client that is not a browser can send any headers it likes; against it only not exposing the port helps
(or SEGMIND_API_KEY, which no route can change).
"""

import functools
import ipaddress
from urllib.parse import urlsplit

from aiohttp import web

JSON_TYPE = "application/json"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Headers a reverse proxy adds; their presence means the peer address is the proxy's, not the browser's.
_PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


class Refused(Exception):
    """A request refused before it changed anything; the message is shown to the caller as is."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def guarded(handler):
    """Wrap a state-changing aiohttp handler: origin and content type checked first, refusals answered as
    JSON `{"error": ...}` (also those raised later by read_body)."""
    return _checked(handler, check_json)


def own_page_only(handler):
    """Wrap a handler that only reads: refused to pages of other sites, which could read the answer if
    ComfyUI runs with --enable-cors-header."""
    return _checked(handler)


def _checked(handler, *checks):
    @functools.wraps(handler)
    async def checked(request):
        try:
            check_origin(request.headers)
            for check in checks:
                check(request)
            return await handler(request)
        except Refused as refused:
            return web.json_response({"error": refused.message}, status=refused.status)

    return checked


def check_origin(headers):
    """Refuse (403) a request that a browser says comes from another site, or from a page with no origin."""
    fetch_site = headers.get("Sec-Fetch-Site", "").strip().lower()
    if fetch_site in ("cross-site", "same-site"):  # same-site is still another origin, e.g. another port
        raise Refused(403, _FOREIGN)
    origin = headers.get("Origin")
    if origin is None:
        return  # not sent by a browser, or sent by an old one for its own page
    if origin.strip().lower() == "null":
        raise Refused(403, "Refused: the request comes from a page without an origin (a sandboxed frame, a "
                           "local file or a redirect), which may not change the pack's settings.")
    if not same_origin(origin, headers.get("Host", "")):
        raise Refused(403, _FOREIGN)


_FOREIGN = ("Refused: the request comes from a web page on another site; only ComfyUI's own page may change "
            "the pack's settings. (Behind a reverse proxy, make the proxy pass the browser's Host header on.)")


def same_origin(origin, host):
    """Whether a browser's Origin names the server the request was addressed to (its Host header).

    The scheme is not compared, only the host name and the port: behind a proxy that ends TLS, the server
    cannot tell whether the browser used http or https. A Host without a port was addressed to a default
    port, 80 or 443.
    """
    try:
        origin_parts = urlsplit(origin.strip())
        host_parts = urlsplit("//" + host.strip())
        origin_name, origin_port = origin_parts.hostname, origin_parts.port
        host_name, host_port = host_parts.hostname, host_parts.port
    except ValueError:  # a port that is not a number
        return False
    scheme = origin_parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not origin_name or not host_name:
        return False
    if origin_name.rstrip(".") != host_name.rstrip("."):
        return False
    if origin_port is None:
        origin_port = _DEFAULT_PORTS[scheme]
    if host_port is None:
        return origin_port in _DEFAULT_PORTS.values()
    return origin_port == host_port


def check_json(request):
    """Refuse (415) a body not declared as JSON, even an empty one: the declared type is the CSRF check."""
    if "Content-Type" not in request.headers or request.content_type.lower() != JSON_TYPE:
        raise Refused(415, f'This route accepts only JSON: send the header "Content-Type: {JSON_TYPE}". '
                           "(Other types are refused so that web pages on other sites cannot call it.)")


async def read_body(request, limit):
    """The whole body, however many packets it arrived in; 413 above `limit` bytes."""
    too_large = Refused(413, f"The request body is larger than {limit} bytes; send only the JSON asked for.")
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large
    chunks, size = [], 0
    while True:
        # read(n) returns what has arrived so far, up to n bytes; only b"" means the body is complete.
        chunk = await request.content.read(limit + 1 - size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise too_large


def is_local_client(remote, headers=None):
    """Whether a request comes from this machine: a loopback peer address, and no proxy header saying the
    request was forwarded (a local proxy's address says nothing about the browser behind it). The proxy
    headers are only ever trusted to withhold something, never to grant it."""
    if headers is not None and any(name in headers for name in _PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address((remote or "").split("%", 1)[0])
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
