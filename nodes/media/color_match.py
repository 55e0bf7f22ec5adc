"""Colour matching for chained clips: take out the colour jump where one MotionCtrl clip continues another.

A sequence of clips starts each one from the last frame of the one before. SVD's VAE shifts the colours a
little on every pass, so at each join the picture jumps slightly in tint and brightness, and the drift adds
up along the chain. The clip's first frame and the previous clip's (already corrected) last frame show the
same picture, so the difference between their colour statistics is that shift: `match_colors` measures it
on those two frames and takes it out of every frame of the clip.

The statistics are per-channel mean and standard deviation in CIE Lab (from sRGB, D65 white), a space in
which equal steps look about equally large and lightness is apart from colour, so matching them moves
lightness and tint separately, the way the eye judges a jump. The transfer is the classic affine one,
(x - mean_source) / std_source * std_target + mean_target in each Lab channel, applied to every pixel, then
converted back to sRGB and clipped to 0..1. An affine map in Lab undoes an offset in Lab exactly; a gain on
R, G and B (a white-balance shift) only on average, since it moves dark and light colours by different
amounts in Lab.

Everything is float32 numpy on planar chunks of pixels, so the extra memory is a few MiB whatever the
clip's length, and the chunks run on a few threads (numpy's loops release the GIL).
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.polynomial import chebyshev

# Linear sRGB → CIE XYZ for the sRGB primaries and the D65 white (IEC 61966-2-1), and the D65 white itself.
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_WHITE = np.array([0.95047, 1.0, 1.08883])
# XYZ relative to the white (X/Xn, Y/Yn, Z/Zn), which is what Lab's f() takes.
_RGB_TO_XYZN = (_RGB_TO_XYZ / _WHITE[:, None]).astype(np.float32)
_XYZN_TO_RGB = np.linalg.inv(_RGB_TO_XYZ / _WHITE[:, None]).astype(np.float32)

# sRGB's transfer curve: a power near 2.4, with a straight segment near black.
_SRGB_KNEE = 0.04045           # in sRGB values
_LINEAR_KNEE = 0.0031308       # the same point in linear values
_SRGB_SLOPE = 12.92
# CIE Lab's f(t): a cube root, with a straight segment near black where the cube root is too steep.
_DELTA = 6.0 / 29.0
_F_KNEE = _DELTA ** 3
_F_SLOPE = 1.0 / (3.0 * _DELTA ** 2)
_F_OFFSET = 4.0 / 29.0
# Lab from (fx, fy, fz): L = 116 fy - 16, a = 500 (fx - fy), b = 200 (fy - fz).
_F_TO_LAB = np.array([[0.0, 116.0, 0.0], [500.0, -500.0, 0.0], [0.0, 200.0, -200.0]])
_LAB_OFFSET = np.array([-16.0, 0.0, 0.0])
_F_TO_LAB32, _LAB_OFFSET32 = _F_TO_LAB.astype(np.float32), _LAB_OFFSET.astype(np.float32)[:, None]

# Guards for the gain std_target / std_source. Below MIN_STD (in Lab units, about one just-noticeable step)
# a channel is flat (a grey picture's a and b, a clear sky's lightness): its std is noise, and a ratio of
# noises would amplify it, so only the mean is moved. The two reference frames show the same picture, so a
# real gain is close to 1; MAX_GAIN only keeps a mismatched pair of references from wrecking the clip.
MIN_STD = 1.0
MAX_GAIN = 2.0

CHUNK_PIXELS = 1 << 16  # 768 KiB per float32 plane: a chunk's working set stays in the CPU caches
MAX_WORKERS = 4


def match_colors(frames, source_ref, target_ref, *, chunk_pixels=CHUNK_PIXELS, workers=None):
    """Shift the colours of `frames` so that `source_ref` would match `target_ref`; returns the frames.

    frames: [N,H,W,3] float32 in 0..1. A C-contiguous, writeable float32 numpy array is corrected IN PLACE
    and returned; anything else is copied to a new float32 array, which is corrected and returned. Use the
    return value either way.
    source_ref: the frame of this clip that overlaps the previous clip (its first frame; it may be a view of
    `frames`: it is measured before anything changes). target_ref: the previous clip's last frame, as
    already corrected. Both [H,W,3] in 0..1, of any size: only their statistics are used.
    workers: threads (default: the CPU count, at most MAX_WORKERS); the result does not depend on it.
    """
    frames = _as_frames(frames)
    transfer = _transfer(_lab_stats(source_ref), _lab_stats(target_ref))
    _run_chunked(frames.reshape(-1, 3), chunk_pixels, workers, lambda block, work: _apply(block, work, transfer))
    return frames


def srgb_to_lab(rgb):
    """sRGB 0..1 [...,3] → CIE Lab [...,3] float32 (L 0..100), with the same code match_colors measures with."""
    pixels = np.asarray(rgb, dtype=np.float32).reshape(-1, 3)
    lab = np.empty(pixels.shape, np.float32)
    work = _Work(min(CHUNK_PIXELS, max(1, pixels.shape[0])))
    for start in range(0, pixels.shape[0], CHUNK_PIXELS):
        lab[start:start + CHUNK_PIXELS] = _lab_of(pixels[start:start + CHUNK_PIXELS], work).T
    return lab.reshape(np.shape(rgb))


def _as_frames(frames):
    if isinstance(frames, np.ndarray) and frames.dtype == np.float32 and frames.flags.c_contiguous \
            and frames.flags.writeable:
        array = frames
    else:
        array = np.array(frames, dtype=np.float32, order="C")  # a copy: the caller's data is not changed
    if array.ndim != 4 or array.shape[3] != 3:
        raise ValueError(f"match_colors takes frames [N,H,W,3], not {array.shape}.")
    return array


# ---- statistics and the transfer ---------------------------------------------------------------------------

def _lab_stats(reference):
    """Per-channel (mean, std) in Lab of a reference frame, summed in float64 chunk by chunk."""
    pixels = np.asarray(reference, dtype=np.float32).reshape(-1, 3)
    if pixels.shape[0] == 0:
        raise ValueError("match_colors needs non-empty reference frames.")
    if not np.isfinite(pixels).all():
        raise ValueError("match_colors: a reference frame contains NaN or infinite values.")
    sums, squares = np.zeros(3), np.zeros(3)
    work = _Work(min(CHUNK_PIXELS, pixels.shape[0]))
    for start in range(0, pixels.shape[0], CHUNK_PIXELS):
        lab = _lab_of(pixels[start:start + CHUNK_PIXELS], work)
        sums += lab.sum(axis=1, dtype=np.float64)
        squares += np.square(lab, out=work.planes[0][:, :lab.shape[1]]).sum(axis=1, dtype=np.float64)
    mean = sums / pixels.shape[0]
    std = np.sqrt(np.maximum(squares / pixels.shape[0] - mean * mean, 0.0))
    return mean, std


def _transfer(source, target):
    """The Lab transfer folded into one affine map on (fx, fy, fz): (matrix, offset), float32.

    Lab = A f + c, Lab' = g (Lab - mean_s) + mean_t, so f' = A^-1 (Lab' - c) = A^-1 diag(g) A f +
    A^-1 (g (c - mean_s) + mean_t - c): one 3x3 product per pixel instead of three steps.
    """
    (mean_s, std_s), (mean_t, std_t) = source, target
    gain = np.where(std_s < MIN_STD, 1.0, std_t / np.maximum(std_s, MIN_STD))
    gain = np.clip(gain, 1.0 / MAX_GAIN, MAX_GAIN)
    inverse = np.linalg.inv(_F_TO_LAB)
    matrix = inverse @ np.diag(gain) @ _F_TO_LAB
    offset = inverse @ (gain * (_LAB_OFFSET - mean_s) + mean_t - _LAB_OFFSET)
    return matrix.astype(np.float32), offset.astype(np.float32)[:, None]


# ---- chunks and threads ------------------------------------------------------------------------------------

class _Work:
    """One thread's scratch: three float32 planes [3,P] and a mask, reused for every chunk it converts."""

    def __init__(self, size):
        self.planes = [np.empty((3, size), np.float32) for _ in range(3)]
        self.mask = np.empty((3, size), bool)

    def view(self, size):
        return [plane[:, :size] for plane in self.planes], self.mask[:, :size]


def _run_chunked(pixels, chunk_pixels, workers, convert):
    """convert(block, work) over consecutive blocks of `pixels` [P,3], each thread with its own _Work."""
    total = pixels.shape[0]
    chunk = max(1, min(chunk_pixels, total))
    spans = [(start, min(start + chunk, total)) for start in range(0, total, chunk)]
    count = max(1, min(workers or min(MAX_WORKERS, os.cpu_count() or 1), len(spans)))

    def run(share):
        work = _Work(chunk)
        for start, stop in share:
            convert(pixels[start:stop], work)

    if count == 1:
        run(spans)
        return
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="color-match") as pool:
        for future in [pool.submit(run, spans[i::count]) for i in range(count)]:
            future.result()


def _apply(block, work, transfer):
    """One chunk of pixels [P,3], corrected in place."""
    (a, b, c), mask = work.view(block.shape[0])
    matrix, offset = transfer
    _load(block, a)
    _srgb_to_f(a, b, c, mask)       # b = (fx, fy, fz)
    _product(matrix, b, a)          # a = f after the transfer
    a += offset
    _f_inverse(a, c, mask)          # a = XYZ / white
    _product(_XYZN_TO_RGB, a, b)    # b = linear RGB
    np.clip(b, 0.0, 1.0, out=b)     # out-of-gamut colours to the nearest displayable one, channel by channel
    _linear_to_srgb(b, a, c, mask)  # b = sRGB
    np.clip(b, 0.0, 1.0, out=b)     # float rounding at the ends
    for channel in range(3):
        block[:, channel] = b[channel]


def _lab_of(block, work):
    """Lab [3,P] float32 of a chunk of sRGB pixels [P,3], in the work's third plane."""
    (a, b, c), mask = work.view(block.shape[0])
    _load(block, a)
    _srgb_to_f(a, b, c, mask)
    _product(_F_TO_LAB32, b, c)
    c += _LAB_OFFSET32
    return c


def _load(block, plane):
    """Interleaved pixels [P,3] → planar [3,P], clipped to 0..1 (where the transfer curves are defined)."""
    for channel in range(3):
        plane[channel] = block[:, channel]
    np.clip(plane, 0.0, 1.0, out=plane)


def _product(matrix, planes, out):
    """out = matrix @ planes for a 3x3 matrix. einsum's own loop rather than BLAS: a 3-row product gains
    nothing from BLAS, and BLAS's worker threads, woken for each of thousands of such small calls, made
    every one several times slower on a busy machine (measured)."""
    np.einsum("ij,jk->ik", matrix, planes, out=out)


# ---- the curves --------------------------------------------------------------------------------------------

class _Curve:
    """A smooth curve on [lo, hi] as a float32 polynomial: numpy's pow() and cbrt() are scalar loops, and
    even exp(log()) costs twice as much as these few multiply-adds, which are the bulk of the work here.

    The curves with a steep start (x ** (1 / 2.4), the cube root) are fitted in s = x ** (1 / 4), two
    square roots, where they are smooth. Chebyshev interpolation in float64, evaluated by Horner's rule in
    float32; the error is at most 1e-6, 1/4000 of an 8-bit step (the degrees were chosen for that, and
    test_media checks the conversion against the published Lab values and a float64 reference).
    """

    def __init__(self, func, lo, hi, degree, quarter_root):
        self.quarter_root = quarter_root
        start, stop = (lo ** 0.25, hi ** 0.25) if quarter_root else (lo, hi)
        centre, half = (start + stop) / 2.0, (stop - start) / 2.0

        def on_unit(z):  # func of z in -1..1
            s = z * half + centre
            return func(s ** 4 if quarter_root else s)

        powers = chebyshev.cheb2poly(chebyshev.chebinterpolate(on_unit, degree))
        self.coefficients = [np.float32(p) for p in powers[::-1]]  # highest power first, for Horner
        self.centre, self.scale = np.float32(centre), np.float32(1.0 / half)

    def __call__(self, x, z, out):
        """out = func(x) for planes x (unchanged); z is scratch. Any finite x gives a finite result."""
        if self.quarter_root:
            np.sqrt(x, out=z)
            np.sqrt(z, out=z)
            z -= self.centre
        else:
            np.subtract(x, self.centre, out=z)
        z *= self.scale
        np.multiply(z, self.coefficients[0], out=out)
        out += self.coefficients[1]
        for coefficient in self.coefficients[2:]:
            out *= z
            out += coefficient


_DECODE = _Curve(lambda x: ((x + 0.055) / 1.055) ** 2.4, _SRGB_KNEE, 1.0, 9, quarter_root=False)
_ENCODE = _Curve(lambda x: 1.055 * x ** (1 / 2.4) - 0.055, _LINEAR_KNEE, 1.0, 7, quarter_root=True)
_CUBE_ROOT = _Curve(np.cbrt, _F_KNEE, 1.0, 7, quarter_root=True)


# Each piecewise curve computes both pieces for every value and keeps one with a 0/1 mask,
# curve + mask * (straight - curve): numpy's masked writes (where=, np.where) are several times slower.
# The curve's polynomial is evaluated outside its range too (on the values the mask then drops); it stays
# finite there, which is all that is needed.

def _srgb_to_linear(x, z, curve, mask):
    np.less_equal(x, np.float32(_SRGB_KNEE), out=mask)
    _DECODE(x, z, curve)
    x *= np.float32(1.0 / _SRGB_SLOPE)
    _keep(x, curve, mask)


def _linear_to_srgb(x, z, curve, mask):
    np.less_equal(x, np.float32(_LINEAR_KNEE), out=mask)
    _ENCODE(x, z, curve)
    x *= np.float32(_SRGB_SLOPE)
    _keep(x, curve, mask)


def _srgb_to_f(rgb, f, z, mask):
    """sRGB 0..1 in rgb → (f(X/Xn), f(Y/Yn), f(Z/Zn)) in f; rgb and z are scratch afterwards."""
    _srgb_to_linear(rgb, f, z, mask)
    _product(_RGB_TO_XYZN, rgb, f)                    # f holds X/Xn, Y/Yn, Z/Zn for now
    np.less_equal(f, np.float32(_F_KNEE), out=mask)
    _CUBE_ROOT(f, z, rgb)
    f *= np.float32(_F_SLOPE)
    f += np.float32(_F_OFFSET)
    _keep(f, rgb, mask)


def _f_inverse(f, cube, mask):
    """f → X/Xn, Y/Yn, Z/Zn, in place; cube is scratch."""
    np.less_equal(f, np.float32(_DELTA), out=mask)
    np.multiply(f, f, out=cube)
    cube *= f
    f -= np.float32(_F_OFFSET)
    f *= np.float32(1.0 / _F_SLOPE)
    _keep(f, cube, mask)


def _keep(straight, curve, mask):
    """straight where mask is True, curve elsewhere, into `straight`."""
    straight -= curve
    straight *= mask
    straight += curve
