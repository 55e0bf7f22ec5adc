"""ComfyUI IMAGE batch → one lossless PNG per image → raw base64, as Segmind's `input_image` wants it.

Accepts torch tensors or numpy arrays shaped [B,H,W,C] or [H,W,C], C = 1, 3 or 4, floats 0..1. An alpha
channel is dropped (the colour under it is kept), which is what ComfyUI's own Load Image does with RGBA
files. Values outside 0..1 are clipped; NaN and infinity are errors, since they mean a broken upstream node.
Images under 64 px on a side are refused. Images larger than the model uses are downscaled (Lanczos) to the smallest size that still covers 1024x576
in the image's own orientation; smaller ones are never upscaled.
"""

import base64
import io

import numpy as np
from PIL import Image

from ..common.errors import InvalidImageError

MODEL_LONG_SIDE = 1024
MODEL_SHORT_SIDE = 576
MIN_SIDE = 64  # smaller is surely a wiring mistake (a mask, a thumbnail): refuse it before paying
PNG_COMPRESS_LEVEL = 4  # lossless either way; 4 is near the size of 9 at a fraction of the time


def to_numpy_batch(images, name="image"):
    """A [B,H,W,C] numpy view of a tensor or array, without copying when it can be avoided."""
    array = _as_numpy(images, name)
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise InvalidImageError(f"The {name} input has shape {tuple(array.shape)}; expected an IMAGE batch "
                                "[batch, height, width, channels]. Connect an IMAGE output (e.g. Load Image).")
    if array.shape[0] == 0:
        raise InvalidImageError(f"The {name} input is an empty batch (0 images). Nothing was sent to Segmind.")
    if array.shape[1] < MIN_SIDE or array.shape[2] < MIN_SIDE:
        raise InvalidImageError(
            f"The {name} input is {array.shape[2]}x{array.shape[1]} pixels; MotionCtrl needs at least "
            f"{MIN_SIDE}x{MIN_SIDE} (it would stretch it to 1024x576). Nothing was sent to Segmind.")
    if array.shape[3] not in (1, 3, 4):
        raise InvalidImageError(f"The {name} input has {array.shape[3]} channels; expected 1 (gray), 3 (RGB) or "
                                "4 (RGBA). Is a MASK or latent connected instead of an IMAGE?")
    return array


def _as_numpy(images, name):
    if hasattr(images, "detach"):  # a torch tensor; torch itself is not imported here
        tensor = images.detach()
        if tensor.device.type != "cpu":
            tensor = tensor.cpu()
        if str(tensor.dtype) in ("torch.float32", "torch.uint8"):
            return tensor.numpy()
        return tensor.float().numpy()  # float16 / bfloat16 have no numpy view
    try:
        array = np.asarray(images)
    except Exception as exc:
        raise InvalidImageError(f"The {name} input is not an image ({type(images).__name__}).") from exc
    if array.dtype.kind not in "fiub":
        raise InvalidImageError(f"The {name} input holds {array.dtype} values, not image pixels.")
    return array


def image_to_uint8(image, name="image", index=0):
    """One [H,W,C] float image → [H,W,3] uint8, with the checks above."""
    if image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise InvalidImageError(f"Image {index + 1} of the {name} input contains NaN or infinite values, "
                                    "usually from a broken upstream node. Nothing was sent to Segmind.")
        pixels = np.clip(image, 0.0, 1.0) * 255.0
        pixels = np.rint(pixels, out=pixels).astype(np.uint8)
    elif image.dtype == np.uint8:
        pixels = image
    else:
        pixels = np.clip(image, 0, 255).astype(np.uint8)
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    elif pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    return np.ascontiguousarray(pixels)


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
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def image_to_base64(image, name="image", index=0):
    """One [H,W,C] image → raw base64 of a PNG (no data: prefix)."""
    return base64.b64encode(encode_png(image_to_uint8(image, name, index))).decode("ascii")


def batch_to_base64(images, name="image"):
    """Every image of a batch → a list of raw base64 PNGs, in batch order. Checks all before encoding any."""
    batch = to_numpy_batch(images, name)
    pixels = [image_to_uint8(batch[i], name, i) for i in range(batch.shape[0])]
    return [base64.b64encode(encode_png(p)).decode("ascii") for p in pixels]
