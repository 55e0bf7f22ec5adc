"""ComfyUI IMAGE batch → one lossless PNG per image → raw base64, as Segmind's `input_image` wants it.

Accepts torch tensors or numpy arrays shaped [B,H,W,C] or [H,W,C], C = 1, 3 or 4: floats 0..1 (ComfyUI's
IMAGE), or unsigned integers scaled by their type's full range (uint8 /255, uint16 /65535, ...), as a
16-bit PNG loader gives them. Signed integers and booleans are refused: they have no agreed pixel range
(they are usually masks, label maps or latents), and guessing one would upload, and bill, a wrong picture.
An alpha channel is dropped (the colour under it is kept), which is what ComfyUI's own Load Image does with
RGBA files. Values outside 0..1 are clipped; NaN and infinity are errors, since they mean a broken upstream
node. Images under 64 px on a side are refused. Images larger than the model uses are downscaled (Lanczos)
to the smallest size that still covers 1024x576 in the image's own orientation; smaller ones are never
upscaled.
"""

import base64
import io
import zlib

import numpy as np
from PIL import Image

from ..common.errors import InvalidImageError

MODEL_LONG_SIDE = 1024
MODEL_SHORT_SIDE = 576
MIN_SIDE = 64  # smaller is surely a wiring mistake (a mask, a thumbnail): refuse it before paying
PNG_COMPRESS_LEVEL = 4  # lossless either way
# zlib's run-length strategy first, instead of the match search Pillow asks for (Z_FILTERED). Once PNG's row
# filters have run, a photo or a generated image (what MotionCtrl animates) has almost no long repeats for that
# search to find: on the benchmark's photo-like inputs and on real photos the PNG came out the same size or
# smaller (-4% to +0.03%) in 40-45% of the time (137-167 ms -> 56-67 ms at 1024x576). Pictures with exact
# repeats (text, flat graphics, screenshots) come out larger that way (5% to 2.6x), so a PNG smaller than
# GRAPHIC_SHARE of the raw pixels (photos stay above 0.4) is encoded again with the match-search strategies,
# which are fast on such pictures, and the smallest is sent: never larger than Pillow's own choice.
PNG_STRATEGY = zlib.Z_RLE
GRAPHIC_STRATEGIES = (zlib.Z_FILTERED, zlib.Z_DEFAULT_STRATEGY)
GRAPHIC_SHARE = 0.3
NOTHING_SENT = "Nothing was sent to Segmind."  # every refusal says so: the user was not billed


def to_numpy_batch(images, name="image"):
    """A [B,H,W,C] numpy view of a tensor or array, without copying when it can be avoided."""
    array = _as_numpy(images, name)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise InvalidImageError(f"The {name} input has shape {tuple(array.shape)}; expected an IMAGE batch "
                                "[batch, height, width, channels]. Connect an IMAGE output (e.g. Load Image). "
                                f"{NOTHING_SENT}")
    if array.shape[0] == 0:
        raise InvalidImageError(f"The {name} input is an empty batch (0 images). Nothing was sent to Segmind.")
    if array.shape[1] < MIN_SIDE or array.shape[2] < MIN_SIDE:
        raise InvalidImageError(
            f"The {name} input is {array.shape[2]}x{array.shape[1]} pixels; MotionCtrl needs at least "
            f"{MIN_SIDE}x{MIN_SIDE} (it would stretch it to 1024x576). Nothing was sent to Segmind.")
    if array.shape[3] not in (1, 3, 4):
        raise InvalidImageError(f"The {name} input has {array.shape[3]} channels; expected 1 (gray), 3 (RGB) or "
                                "4 (RGBA). Is a MASK or latent connected instead of an IMAGE? "
                                f"{NOTHING_SENT}")
    return array


def _as_numpy(images, name):
    if hasattr(images, "detach"):  # a torch tensor; torch itself is not imported here
        return _tensor_as_numpy(images, name)
    try:
        array = np.asarray(images)
    except Exception as exc:
        raise InvalidImageError(f"The {name} input is not an image ({type(images).__name__}). "
                                f"{NOTHING_SENT}") from exc
    _check_pixel_type(array.dtype.kind, str(array.dtype), name)
    return array


def _tensor_as_numpy(tensor, name):
    dtype = str(tensor.dtype).removeprefix("torch.")
    if dtype.startswith(("float", "bfloat")):
        kind = "f"
    elif dtype in ("uint8", "uint16", "uint32", "uint64"):
        kind = "u"
    elif dtype == "bool":
        kind = "b"
    elif dtype.startswith("int"):
        kind = "i"
    else:  # complex, quantized, bit-packed...
        kind = "?"
    _check_pixel_type(kind, dtype, name)
    device = getattr(tensor.device, "type", str(tensor.device))
    if device == "meta":
        raise InvalidImageError(f"The {name} input is a tensor on the 'meta' device: it has a shape but no pixel "
                                "data (an upstream node passed a placeholder instead of an image). Connect an IMAGE "
                                f"output that holds pixels (e.g. Load Image). {NOTHING_SENT}")
    try:
        tensor = tensor.detach()
        if device != "cpu":
            tensor = tensor.cpu()
        if kind == "f" and dtype != "float32":
            tensor = tensor.float()  # bfloat16 and the float8 types have no numpy view; one rule for all
        return tensor.numpy()
    except (NotImplementedError, RuntimeError, TypeError) as exc:  # what torch raises for unreadable data
        raise InvalidImageError(f"The pixel data of the {name} input could not be read ({type(exc).__name__}: "
                                f"{exc}). Connect an IMAGE output that holds pixels (e.g. Load Image). "
                                f"{NOTHING_SENT}") from exc


def _check_pixel_type(kind, dtype, name):
    """Floats and unsigned integers are pixels; anything else is refused with what to do instead."""
    if kind in ("f", "u"):
        return
    if kind == "i":
        problem = (f"holds {dtype} values (signed integers), which have no agreed pixel range (is it a mask, a "
                   "label map or a latent?)")
        fix = " (e.g. divide it by its largest possible value)"
    elif kind == "b":
        problem, fix = "holds boolean values (a mask?), not pixels", " (e.g. with Convert Mask to Image)"
    else:
        problem, fix = f"holds {dtype} values, not image pixels", ""
    raise InvalidImageError(f"The {name} input {problem}. Convert it to a float 0..1 IMAGE first{fix}. "
                            f"{NOTHING_SENT}")


def image_to_uint8(image, name="image", index=0):
    """One [H,W,C] float or unsigned-integer image → [H,W,3] uint8, with the checks above."""
    if image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise InvalidImageError(f"Image {index + 1} of the {name} input contains NaN or infinite values, "
                                    "usually from a broken upstream node. Nothing was sent to Segmind.")
        pixels = np.clip(image, 0.0, 1.0) * 255.0
        pixels = np.rint(pixels, out=pixels).astype(np.uint8)
    elif image.dtype == np.uint8:
        pixels = image
    elif image.dtype.kind == "u":
        pixels = _unsigned_to_uint8(image)
    else:  # only reachable when called without to_numpy_batch's checks
        _check_pixel_type(image.dtype.kind, str(image.dtype), name)
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    elif pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    return np.ascontiguousarray(pixels)


def _unsigned_to_uint8(image):
    """Unsigned integers → uint8 by the type's full range, rounded to nearest, in integer arithmetic (exact,
    and no float copy of a large 16-bit image). Every such maximum is 255 x an odd divisor (65535 = 255 x 257),
    so the result is round(x / divisor), and a remainder is never exactly half of it."""
    divisor = np.iinfo(image.dtype).max // 255
    quotient, remainder = np.divmod(image, image.dtype.type(divisor))
    quotient += remainder > divisor // 2
    return quotient.astype(np.uint8)


def upload_size(width, height):
    """The smallest size, never above the original, that still covers the model's frame in this orientation."""
    long_box, short_box = MODEL_LONG_SIDE, MODEL_SHORT_SIDE
    box_w, box_h = (long_box, short_box) if width >= height else (short_box, long_box)
    scale = max(box_w / width, box_h / height)
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def encode_png(pixels):
    image = Image.fromarray(pixels, "RGB")
    size = upload_size(image.width, image.height)
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    png = _png(image, PNG_STRATEGY)
    if len(png) < GRAPHIC_SHARE * image.width * image.height * 3:
        png = min([png] + [_png(image, strategy) for strategy in GRAPHIC_STRATEGIES], key=len)
    return png


def _png(image, strategy):
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL, compress_type=strategy)
    return buffer.getvalue()


def image_to_base64(image, name="image", index=0):
    """One [H,W,C] image → raw base64 of a PNG (no data: prefix)."""
    return base64.b64encode(encode_png(image_to_uint8(image, name, index))).decode("ascii")


def batch_to_base64(images, name="image"):
    """Every image of a batch → a list of raw base64 PNGs, in batch order. Checks all before encoding any."""
    batch = to_numpy_batch(images, name)
    pixels = [image_to_uint8(batch[i], name, i) for i in range(batch.shape[0])]
    return [base64.b64encode(encode_png(p)).decode("ascii") for p in pixels]
