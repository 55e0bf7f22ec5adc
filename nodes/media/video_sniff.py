"""Recognise a video by its bytes, and catch a cut-off MP4 before anything tries to decode it.

Segmind's content types are unreliable (the model page labels a video "image/jpeg"), so the container
signature decides; a cheap walk of the MP4's top-level boxes tells "truncated" from "not a video".
"""

import struct

from ..common.errors import TruncatedResponseError, UnexpectedResponseError

_MP4_TOP_LEVEL = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"moof", b"mfra", b"meta",
                  b"pdin", b"styp", b"sidx", b"udta", b"prft", b"emsg", b"ssix"}


def container_of(data):
    """'mp4', 'webm' or 'gif' when the bytes start like one, else None."""
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if data[:4] == b"GIF8":
        return "gif"
    return None


def check_video(data, *, what="The returned video", **error_details):
    """Return the container name, or raise a clear error if the bytes are not a whole video."""
    if not data:
        raise TruncatedResponseError(f"{what} is empty.", **error_details)
    container = container_of(data)
    if container is None:
        raise UnexpectedResponseError(
            f"{what} is not a video (its first bytes are {bytes(data[:16])!r}). This is a Segmind-side "
            "problem or a proxy rewriting the answer; try again later.", **error_details)
    if container == "mp4":
        _check_mp4_boxes(data, what, error_details)
    return container


def _check_mp4_boxes(data, what, error_details):
    offset, seen = 0, set()
    while offset < len(data):
        if len(data) - offset < 8:
            _truncated(what, error_details)
        size, kind = struct.unpack(">I4s", bytes(data[offset:offset + 8]))
        if size == 1:
            if len(data) - offset < 16:
                _truncated(what, error_details)
            size = struct.unpack(">Q", bytes(data[offset + 8:offset + 16]))[0]
        elif size == 0:
            size = len(data) - offset  # "extends to the end of the file"
        if size < 8 or kind not in _MP4_TOP_LEVEL:
            raise UnexpectedResponseError(f"{what} is a damaged MP4 (bad box at byte {offset}).", **error_details)
        if offset + size > len(data):
            _truncated(what, error_details)
        seen.add(kind)
        offset += size
    if b"moov" not in seen or b"mdat" not in seen:
        _truncated(what, error_details)


def _truncated(what, error_details):
    raise TruncatedResponseError(f"{what} is cut off (an incomplete MP4): the transfer was interrupted.",
                                 **error_details)
