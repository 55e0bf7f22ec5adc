"""Deterministic, photo-like inputs for the benchmark.

Random noise would make PNG look far worse than it is on photos (noise does not compress) and flat test cards
far better, so the inputs imitate a photo's statistics instead: occluding objects of every size (a 1/f spectrum with sharp
edges), a slight lens blur, slow shading across the frame and faint sensor noise.
"""

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from nodes.camera.preview import render_preview

PHOTO_SIZE = (4032, 3024)  # a 12 MP phone photo, 4:3
MODEL_SIZE = (1024, 576)
LEAVES = 10000  # covers the frame several times over, so little background shows


def _dead_leaves(width, height, rng):
    """Occluding disks with power-law sizes (the "dead leaves" model of natural images): edges at every scale."""
    canvas = Image.new("RGB", (width, height), (118, 122, 112))
    draw = ImageDraw.Draw(canvas)
    scale = width / 1024.0
    r_min, r_max = 4.0 * scale, 400.0 * scale
    # Radius density ~ r^-3 (inverse-CDF sampling), the exponent that makes the picture scale-invariant.
    u = rng.random(LEAVES)
    radii = 1.0 / np.sqrt(1.0 / r_min ** 2 - u * (1.0 / r_min ** 2 - 1.0 / r_max ** 2))
    centres = rng.random((LEAVES, 2)) * (width, height)
    light = rng.beta(2.0, 2.0, LEAVES)
    tint = rng.normal(0.0, 0.12, (LEAVES, 3))
    colours = np.clip((light[:, None] + tint) * 255.0, 0, 255).astype(int)
    for (x, y), r, c in zip(centres, radii, colours):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in c))
    # A lens is never perfectly sharp: soften edges by about a pixel at 12 MP.
    return canvas.filter(ImageFilter.GaussianBlur(0.6 * scale))


def _texture(width, height, rng):
    """Fine surface texture (grain, foliage, fabric): only the high octaves of 1/f noise, one grey field."""
    total = np.zeros((height, width), dtype=np.float32)
    for octave in range(5, 9):
        cells = 3 * 2 ** octave
        grid = rng.standard_normal((max(2, cells * height // width), cells)).astype(np.float32)
        # Pillow's float mode resizes in C; numpy interpolation would dominate the run time.
        total += np.float32(0.75 ** octave) * np.asarray(
            Image.fromarray(grid, "F").resize((width, height), Image.Resampling.BICUBIC))
    return (total / total.std())[:, :, None]


def _shading(width, height, rng):
    """Slow light falloff over the frame (a sky-to-ground gradient plus soft blotches)."""
    grid = rng.standard_normal((4, 5)).astype(np.float32)
    blotches = np.asarray(Image.fromarray(grid, "F").resize((width, height), Image.Resampling.BICUBIC))
    sky = np.linspace(0.15, -0.15, height, dtype=np.float32)[:, None]
    return (1.0 + sky + 0.08 * blotches)[:, :, None]


def photo_like(width, height, seed=0):
    """[H,W,3] float32 in 0..1 with photo-like structure (see the module docstring)."""
    rng = np.random.default_rng(seed)
    image = np.asarray(_dead_leaves(width, height, rng), dtype=np.float32) / np.float32(255.0)
    image *= _shading(width, height, rng)
    image *= 1.0 + 0.07 * _texture(width, height, rng)
    image += rng.normal(0.0, 1.5 / 255.0, image.shape).astype(np.float32)  # sensor noise, ~1.5 levels
    return np.clip(image, 0.0, 1.0, out=image)


def flat_graphic(width, height, seed=0):
    """[H,W,3] float32: a flat-colour graphic (panels, bars, thin lines, like a UI screenshot or a chart), the
    kind of picture PNG's default match search compresses best: where the pack's PNG strategy costs bytes."""
    rng = np.random.default_rng(seed)
    canvas = Image.new("RGB", (width, height), (242, 242, 238))
    draw = ImageDraw.Draw(canvas)
    for _ in range(40):
        x, y = rng.integers(0, width), rng.integers(0, height)
        w, h = rng.integers(20, width // 3), rng.integers(10, height // 4)
        draw.rectangle((x, y, x + w, y + h), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    words = ["motion", "camera", "frames", "segmind", "queue", "image", "video", "seed", "batch", "node"]
    for row in range(4, height - 12, 14):  # lines of text: the same glyphs over and over, as on a screen
        line = " ".join(words[int(i)] for i in rng.integers(0, len(words), 24))
        draw.text((int(rng.integers(0, 40)), row), line, fill=(20, 20, 20))
    return np.asarray(canvas, dtype=np.float32) / np.float32(255.0)


def resized(image, width, height, left=0.0, top=0.0):
    """A crop of `image` with the target's aspect ratio, resized like an editor would (Lanczos), in 0..1."""
    src_h, src_w = image.shape[:2]
    scale = min(src_w / width, src_h / height)
    crop_w, crop_h = width * scale, height * scale
    x0, y0 = left * (src_w - crop_w), top * (src_h - crop_h)
    pixels = Image.fromarray(np.rint(image * 255).astype(np.uint8), "RGB")
    out = pixels.resize((width, height), Image.Resampling.LANCZOS, box=(x0, y0, x0 + crop_w, y0 + crop_h))
    return np.asarray(out, dtype=np.float32) / np.float32(255.0)


def model_sized_batch(photo, count):
    """`count` different 1024x576 views of the photo (distinct pixels, so no call shares a cache entry)."""
    views = []
    for i in range(count):
        fraction = i / max(1, count - 1)
        views.append(resized(photo, *MODEL_SIZE, left=fraction, top=1.0 - fraction))
    return np.stack(views)


def result_frames(image):
    """The 14 uint8 frames of a 1024x576 clip that moves like a MotionCtrl Pan Left of `image`."""
    return render_preview(image, "Pan Left", 1.0, maintain_aspect_ratio=True)
