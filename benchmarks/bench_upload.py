"""Image tensor → the JSON body the client POSTs: the pack's stages, and the alternatives it is compared to.

The stages call the pack's own functions in the order run_batch() and SegmindClient.generate() call them;
the last stage uses the client's request_body() and the same json.dumps(...).encode() as its transport's
request(), because that is exactly the body that goes on the wire.
"""

import base64
import io
import json

from PIL import Image

from nodes.media.image_codec import PNG_COMPRESS_LEVEL, encode_png, image_to_uint8, to_numpy_batch, upload_size
from nodes.jobs.cache import cache_key
from nodes.segmind.client import SegmindClient

PIL_DEFAULT_LEVEL = 6  # what Image.save(format="PNG") uses when no compress_level is given
BASE_URL = "https://api.segmind.com"
_client = SegmindClient("benchmark-not-a-key", base_url=BASE_URL)


# ---- the pack's stages ----------------------------------------------------------------------------------

def to_uint8(tensor):
    return image_to_uint8(to_numpy_batch(tensor)[0])


def key_of(pixels, wire_params):
    return cache_key(BASE_URL, pixels, wire_params)


def to_base64(png):
    return base64.b64encode(png).decode("ascii")


def to_body(b64, params):
    return json.dumps(_client.request_body(b64, params)).encode("utf-8")


def downscale_only(pixels):
    """encode_png's resize step on its own, to split that stage (same calls as nodes/image_codec.py)."""
    image = Image.fromarray(pixels, "RGB")
    size = upload_size(image.width, image.height)
    return image.resize(size, Image.Resampling.LANCZOS) if size != image.size else image


def pack_stages(params):
    """(label, function, takes) in pipeline order; `takes` names the previous output each stage consumes."""
    return [
        ("tensor → uint8 (to_numpy_batch + image_to_uint8)", to_uint8, "tensor"),
        ("cache key (sha256 of pixels + params)", lambda px: key_of(px, params), "pixels"),
        (f"uint8 → PNG (encode_png: downscale if larger + compress level {PNG_COMPRESS_LEVEL}, run-length strategy)",
         encode_png, "pixels"),
        ("  of which: Lanczos downscale", downscale_only, "pixels"),
        ("PNG → base64", to_base64, "png"),
        ("base64 → JSON body bytes (client.request_body + json.dumps)", lambda b: to_body(b, params), "b64"),
    ]


# ---- alternatives ---------------------------------------------------------------------------------------

def png_at_level(level, downscale, strategy=-1):
    """A PNG encoder: full size or the pack's downscale, at a given zlib level (and strategy; -1: zlib's
    default, what Image.save uses unless told otherwise)."""
    def encode(pixels):
        image = downscale_only(pixels) if downscale else Image.fromarray(pixels, "RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=level, compress_type=strategy)
        return buffer.getvalue()
    return encode
