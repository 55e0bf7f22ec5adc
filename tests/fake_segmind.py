"""A fake Segmind MotionCtrl-SVD server on 127.0.0.1, for tests and benchmarks.

It speaks the contract of shared/reference/segmind-api.md on its own terms (its validation rules are written
out here, not taken from the pack, so the pack's checks are tested against an independent copy): v1 sync,
v2 submit/status/result, key check (401), parameter validation (400), credits (406), a rate limit (429),
FAILED jobs as 422, and injectable faults. Its videos are real 14-frame H.264 MP4s made from the input image
with the pack's camera renderer, so they move like MotionCtrl's would. Every request is recorded so tests can
assert what was sent and how many times.

By default it behaves like an API behind a CDN and a load balancer, not like the pack expects:
- answers (JSON, errors and MP4s) are gzip-compressed whenever the client accepts it (`compression`);
- v2 output URLs point at the API's own origin and redirect there once, then to a separate storage server
  (another origin, which records whether it ever received an API key) (`output_mode="redirect"`);
- a job's first status poll answers 404, as if the status store had not caught up yet (`early_404`);
- accounting comes under Segmind's names only: `x-cost` / `x-remaining-credits` / `x-seed-value` on v1,
  `metrics.cost` / `metrics.remaining_credits` on v2; a 429 carries only `x-rate-limit-reset-at-utc`.
"""

import base64
import binascii
import gzip
import hashlib
import io
import json
import re
import socket
import ssl
import threading
import time
import uuid
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image

from nodes.camera.preview import fit_image, plane_homographies, warp_frames
from nodes.media.video_codec import encode_mp4

TEST_KEY = "SG_fake0123456789abcdef"
COST = 0.089
MOTIONS = ("Pan Up", "Pan Down", "Pan Right", "Pan Left", "Zoom In", "Zoom Out", "CW", "ACW")
# Segmind's documented ranges, restated independently of the pack's own table.
INT_RANGES = {"fps": (5, 30), "motion_bucket_id": (127, 255), "decoding_t": (1, 14), "seed": (-1, 2 ** 32 - 1)}
NUMBER_RANGES = {"cond_aug": (0.0, 1.0), "motion_speed": (0.0, 10.0)}
REQUIRED = ("input_image", "fps", "motion", "motion_bucket_id", "cond_aug")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes
    time: float
    kind: str
    accepted: bool = False  # a POST that Segmind would bill (v1 200, or v2 submit)

    @property
    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class Job:
    request_id: str
    video: bytes
    created: float
    ready_at: float
    polls: int = 0
    failed: str = None
    charged: bool = False
    early_404s: int = 0
    result_fetches: int = 0


@dataclass
class Fault:
    kind: str
    on: str
    times: int
    options: dict = field(default_factory=dict)
    after: int = 0  # matching requests let through before the fault applies


class FakeSegmind:
    def __init__(self, api_key=TEST_KEY, *, latency=0.0, output_mode="redirect", video_scale=0.25, credits=100.0,
                 rate_limit=None, rate_window=60.0, rate_limit_headers="reset-at", retry_after=1,
                 v2_enabled=True, output_host="localhost", echo_key_in_errors=False, echo_as="json", tls=None,
                 compression="gzip", early_404=1, submit_delay=0.0, color_shift=None, report_cost=True,
                 base64_wrap=None, cost=COST, video_container="mp4"):
        self.api_key = api_key
        self.latency = latency
        # Where v2 puts the video: "redirect" (an API-origin URL that redirects to storage), "storage" (a
        # storage URL directly), "url" (served by this server itself), "base64" (inline).
        self.output_mode = output_mode
        # "gzip", "deflate", "deflate-raw" (when the client accepts it), "forced-gzip" (even when it does
        # not), or "none".
        self.compression = compression
        self.early_404 = early_404  # status polls per job answered 404 before the job is known
        self.submit_delay = submit_delay
        # Per-clip colour drift, as SVD's VAE round trip causes: clip n is multiplied by factor ** n per channel.
        self.color_shift = color_shift
        self.clips_made = 0
        self.report_cost = report_cost  # False: no x-cost / metrics.cost (the pack must then say "~$0.089")
        self.cost = cost  # what one call costs (and is reported as costing)
        self.base64_wrap = base64_wrap  # inline base64 broken into lines of this many characters (MIME style)
        self.video_scale = video_scale  # < 1 renders smaller videos so tests stay fast
        # "mp4" (the frame count in its header), "fragmented" (what an encoder streaming to storage writes:
        # an empty header and the frames in fragments, so nothing says how many there are before decoding) or
        # "trimmed" (an edit list that leaves the last frame out, as a trimming remux writes: the header still
        # counts 14 frames, 13 play and decode).
        self.video_container = video_container
        self.credits = credits
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.rate_limit_headers = rate_limit_headers
        self.retry_after = retry_after
        self.v2_enabled = v2_enabled
        self.output_host = output_host
        # A wrong key is quoted back in the 401 answer: True for "Invalid API key: <key>", or a function of the
        # key received that returns the whole error text (to put the key, or part of it, anywhere in it);
        # echo_as says how that text is sent: "json" ({"error": text}) or "text" (a text/plain body).
        self.echo_key_in_errors = echo_key_in_errors
        self.echo_as = echo_as
        self.tls = tls  # (certfile, keyfile): serve HTTPS with that certificate
        self.requests = []
        self.jobs = {}
        self.faults = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._post_times = []
        self._videos = {}
        self._server = None
        self._storage = None
        self.storage_requests = []  # (path, headers) of every request the storage origin received

    # ---- lifecycle ---------------------------------------------------------------------------------------

    def start(self, port=0):
        self._server = self._serve(_Handler, port)
        self._storage = self._serve(_StorageHandler, 0)
        return self

    def _serve(self, handler_class, port):
        handler = type("Handler", (handler_class,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        server.daemon_threads = True
        server.block_on_close = False
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return server

    def stop(self):
        self.stopping.set()
        for server in (self._server, self._storage):
            if server is not None:
                server.shutdown()
                server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def base_url(self):
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def scheme(self):
        return "https" if self.tls else "http"

    @property
    def storage_url(self):
        """Another origin (other host name and port), like a storage bucket or CDN."""
        return f"{self.scheme}://{self.output_host}:{self._storage.server_address[1]}"

    def keys_seen_by_storage(self):
        return [h for _, h in self.storage_requests if "x-api-key" in h]

    # ---- test helpers ------------------------------------------------------------------------------------

    def inject(self, kind, on="any", times=1, after=0, **options):
        """Make `times` requests of kind `on` (v1, v2, status, result, output, any) misbehave, after letting
        `after` of them through."""
        with self._lock:
            self.faults.append(Fault(kind, on, times, options, after))

    def recorded(self, kind=None):
        with self._lock:
            return [r for r in self.requests if kind is None or r.kind == kind]

    def posts(self):
        return [r for r in self.recorded() if r.method == "POST"]

    def accepted_posts(self):
        return [r for r in self.posts() if r.accepted]

    def inline(self, video):
        text = base64.b64encode(video).decode()
        if self.base64_wrap:
            text = "\r\n".join(text[i:i + self.base64_wrap] for i in range(0, len(text), self.base64_wrap))
        return text

    def expected_video(self, image_b64, params):
        """The MP4 this server returns for an input: tests compare decoded frames against it."""
        return self._video_for(image_b64, params)

    # ---- internals used by the handler -------------------------------------------------------------------

    def _take_fault(self, kind):
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.on in (kind, "any"):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.times -= 1
                    return fault
        return None

    def _rate_limited(self):
        if not self.rate_limit:
            return False
        now = time.monotonic()
        with self._lock:
            self._post_times = [t for t in self._post_times if now - t < self.rate_window]
            if len(self._post_times) >= self.rate_limit:
                return True
            self._post_times.append(now)
        return False

    def _video_for(self, image_b64, params):
        key = hashlib.sha256((image_b64 + json.dumps(params, sort_keys=True)).encode()).hexdigest()
        with self._lock:
            cached = self._videos.get(key)
        if cached is None:
            with self._lock:
                self.clips_made += 1
                drift = self.clips_made - 1
            cached = make_video(image_b64, params, self.video_scale, self.color_shift, drift)
            if self.video_container == "fragmented":
                cached = fragmented(cached)
            elif self.video_container == "trimmed":
                cached = trimmed(cached)
            with self._lock:
                self._videos[key] = cached
        return cached


def make_video(image_b64, params, scale=1.0, color_shift=None, drift=0):
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(image_b64))).convert("RGB"))
    fitted = fit_image(image, bool(params.get("maintain_aspect_ratio", True)))
    if scale != 1.0:
        # A fraction of the real size keeps tests fast; the geometry is the same (focal length = width).
        size = (max(16, round(fitted.shape[1] * scale) // 2 * 2), max(16, round(fitted.shape[0] * scale) // 2 * 2))
        fitted = np.asarray(Image.fromarray(fitted).resize(size, Image.Resampling.BILINEAR))
    height, width = fitted.shape[:2]
    poses = plane_homographies(params["motion"], float(params.get("motion_speed", 1.0)), width, height)
    frames = warp_frames(fitted, poses)
    if color_shift is not None:
        # The drift of the n-th clip made: a chained clip starting from the last frame of the previous one
        # comes back a little off in colour, more with each link.
        gains = np.asarray(color_shift, dtype=np.float32) ** (drift + 1)
        frames = np.clip(frames.astype(np.float32) * gains, 0, 255).round().astype(np.uint8)
    return encode_mp4(frames, int(params["fps"]))


def validate_body(body):
    """Segmind-style validation: the first problem as an error text, or None."""
    if not isinstance(body, dict):
        return "Request body must be a JSON object"
    for name in REQUIRED:
        if name not in body:
            return f"Missing required parameter: {name}"
    image = body["input_image"]
    if not isinstance(image, str) or image.startswith("data:"):
        return "input_image must be a URL or raw base64 image data"
    try:
        Image.open(io.BytesIO(base64.b64decode(image, validate=True))).verify()
    except (binascii.Error, ValueError, OSError):
        return "input_image is not a valid base64-encoded image"
    if body["motion"] not in MOTIONS:
        return f"motion must be one of {', '.join(MOTIONS)}"
    for name, (low, high) in INT_RANGES.items():
        if name in body:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                return f"{name} must be an integer between {low} and {high}"
    for name, (low, high) in NUMBER_RANGES.items():
        if name in body:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                return f"{name} must be a number between {low} and {high}"
    for name in ("maintain_aspect_ratio", "base64"):
        if name in body and not isinstance(body[name], bool):
            return f"{name} must be a boolean"
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; don't wait 40 ms between
    fake = None  # set on the subclass made per server

    def log_message(self, *args):  # keep test output quiet
        pass

    # ---- routing -----------------------------------------------------------------------------------------

    def do_POST(self):
        kind = {"/v1/motionctrl-svd": "v1", "/v2/motionctrl-svd": "v2"}.get(self.path, "unknown")
        self._handle(kind)

    def do_GET(self):
        if re.fullmatch(r"/v2/requests/[\w-]+/status", self.path):
            self._handle("status")
        elif re.fullmatch(r"/v2/requests/[\w-]+", self.path):
            self._handle("result")
        elif re.fullmatch(r"/outputs/[\w-]+\.mp4", self.path):
            self._handle("output")
        elif re.fullmatch(r"/v2/outputs/[\w-]+(\.mp4|/download)", self.path):
            self._handle("output_redirect")
        elif self.path == "/v1/get-user-credits":
            self._handle("credits")
        else:
            self._handle("unknown")

    def _handle(self, kind):
        fake = self.fake
        # Per-request switches set by faults (a handler serves every request of one kept-alive connection).
        self.no_output = False
        self.forced_encoding = None
        fault = fake._take_fault(kind)
        if fault is not None and fault.kind == "drop_before":
            record = self._record(kind, b"")
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = self._read_body()
        record = self._record(kind, body)
        if fault is not None and self._apply_fault(fault, record):
            return
        handler = {"v1": self._v1, "v2": self._v2_submit, "status": self._status, "result": self._result,
                   "output": self._output, "output_redirect": self._output_redirect,
                   "credits": self._credits}.get(kind)
        if handler is None:
            return self._json(404, {"error": "Not found"})
        handler(record)

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _record(self, kind, body):
        record = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                          time.time(), kind)
        with self.fake._lock:
            self.fake.requests.append(record)
            if getattr(self.fake, "request_log", None):
                with open(self.fake.request_log, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"t": round(record.time, 3), "method": record.method,
                                          "path": record.path, "kind": kind,
                                          "accept_encoding": record.headers.get("accept-encoding")}) + "\n")
        return record

    # ---- endpoints ---------------------------------------------------------------------------------------

    def _checked_post(self, record):
        """Key, rate limit, validation and credits, like Segmind; the parsed body, or None once answered."""
        fake = self.fake
        key = self.headers.get("x-api-key")
        if key != fake.api_key:
            return self._wrong_key(key)
        if fake._rate_limited():
            return self._rate_limit_answer()
        try:
            body = json.loads(record.body)
        except ValueError:
            return self._json(400, {"error": "Request body is not valid JSON"})
        problem = validate_body(body)
        if problem:
            return self._json(400, {"error": problem})
        if fake.credits < fake.cost:
            return self._json(406, {"error": "Insufficient credits"})
        return body

    def _params(self, body):
        return {k: v for k, v in body.items() if k not in ("input_image", "base64")}

    def _v1(self, record):
        body = self._checked_post(record)
        if body is None:
            return
        video = self.fake._video_for(body["input_image"], self._params(body))
        self._wait(self.fake.latency)
        record.accepted = True
        request_id = str(uuid.uuid4())
        self.fake.credits -= self.fake.cost
        headers = self._billing_headers(request_id, body)
        if body.get("base64"):
            return self._json(200, {"video": self.fake.inline(video)}, headers)
        self._send(200, video, "video/mp4", headers)

    def _v2_submit(self, record):
        if not self.fake.v2_enabled:
            return self._json(404, {"error": "Not found"})
        body = self._checked_post(record)
        if body is None:
            return
        record.accepted = True
        request_id = str(uuid.uuid4())
        video = self.fake._video_for(body["input_image"], self._params(body))
        now = time.monotonic()
        failure, self.job_failure = getattr(self, "job_failure", None), None
        self.fake.jobs[request_id] = Job(request_id, video, now, now + self.fake.latency, failed=failure)
        self._wait(self.fake.submit_delay)  # accepted (and billed) at once, answered late: a busy load balancer
        self._json(200, {"request_id": request_id, "status": "QUEUED",
                         "status_url": f"{self.fake.base_url}/v2/requests/{request_id}/status",
                         "response_url": f"{self.fake.base_url}/v2/requests/{request_id}",
                         "poll_url": f"{self.fake.base_url}/v2/requests/{request_id}/status"})

    def _job(self, kind):
        if self.headers.get("x-api-key") != self.fake.api_key:
            self._json(401, {"error": "Invalid or missing API key"})
            return None
        request_id = self.path.split("/")[3]
        job = self.fake.jobs.get(request_id)
        if job is not None and kind == "status" and job.early_404s < self.fake.early_404:
            job.early_404s += 1  # the status store has not caught up with the submit yet
            job = None
        if job is None:
            self._json(404, {"error": "Request not found"})
        return job

    def _job_state(self, job):
        job.polls += 1
        if job.failed:
            return "FAILED"
        if time.monotonic() < job.ready_at:
            return "QUEUED" if job.polls == 1 else "PROCESSING"
        if not job.charged:
            job.charged = True
            self.fake.credits -= self.fake.cost
        return "COMPLETED"

    def _status(self, record):
        job = self._job("status")
        if job is None:
            return
        state = self._job_state(job)
        if state == "FAILED":
            return self._json(422, {"status": "FAILED", "error": job.failed})
        self._json(200, {"status": state, "metrics": {"queue_time": 0.1}})

    def _result(self, record):
        job = self._job("result")
        if job is None:
            return
        state = self._job_state(job)
        if state == "FAILED":
            return self._json(422, {"status": "FAILED", "error": job.failed})
        if state != "COMPLETED":
            return self._json(200, {"status": state})
        job.result_fetches += 1
        metrics = {"inference_time": 1.5, "queue_time": 0.1, "total_time": 1.6,
                   "remaining_credits": round(self.fake.credits, 3)}
        if self.fake.report_cost:
            metrics["cost"] = self.fake.cost
        if getattr(self, "no_output", False):
            return self._json(200, {"status": "COMPLETED", "metrics": metrics})  # the output lags behind
        self._json(200, {"status": "COMPLETED", "output": self._output_value(job), "metrics": metrics})

    def _output_value(self, job):
        mode = self.fake.output_mode
        if mode == "base64":
            return self.fake.inline(job.video)
        if mode == "redirect":
            return f"{self.fake.base_url}/v2/outputs/{job.request_id}.mp4"
        if mode == "storage":
            return f"{self.fake.storage_url}/files/{job.request_id}.mp4"
        return f"{self.fake.scheme}://{self.fake.output_host}:{self.fake.port}/outputs/{job.request_id}.mp4"

    def _output(self, record):
        request_id = self.path.rsplit("/", 1)[1][:-4]
        job = self.fake.jobs.get(request_id)
        if job is None:
            return self._json(404, {"error": "No such file"})
        self._send(200, job.video, "video/mp4")

    def _output_redirect(self, record):
        """The API origin's output URL: one hop on the same origin, then off to the storage origin."""
        request_id = self.path.split("/")[3].split(".")[0]
        if request_id not in self.fake.jobs:
            return self._json(404, {"error": "No such file"})
        if self.path.endswith(".mp4"):
            target = f"/v2/outputs/{request_id}/download"
        else:
            target = f"{self.fake.storage_url}/files/{request_id}.mp4?signature=abc123"
        self._send(302, b"", "text/plain", {"Location": target})

    def _credits(self, record):
        """Segmind's free credits look-up (GET /v1/get-user-credits): a key check that bills nothing."""
        key = self.headers.get("x-api-key")
        if key != self.fake.api_key:
            return self._wrong_key(key)
        self._json(200, {"credits": round(self.fake.credits, 4), "free-credits": 0.0})

    def _wrong_key(self, key):
        echo = self.fake.echo_key_in_errors
        if not echo:
            return self._json(401, {"error": "Invalid or missing API key"})
        text = echo(key or "") if callable(echo) else f"Invalid API key: {key}"
        if self.fake.echo_as == "text":
            return self._send(401, text.encode(), "text/plain")
        self._json(401, {"error": text})

    # ---- faults ------------------------------------------------------------------------------------------

    def _apply_fault(self, fault, record):
        """Answer (or fail to answer) as the fault says; False lets the request through."""
        o = fault.options
        kind = fault.kind
        if kind == "status":
            if "body" in o:
                self._send(o["code"], o["body"], o.get("content_type", "application/json"))
            else:
                self._json(o["code"], {"error": o.get("error", f"Injected error {o['code']}")})
        elif kind == "html":
            page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            self._send(o.get("code", 502), page, "text/html")
        elif kind == "rate_limit":
            self._rate_limit_answer(o.get("headers", self.fake.rate_limit_headers))
        elif kind == "drop_after":
            self._drop()
        elif kind == "delay":  # answer normally, but only after a while
            self._wait(o.get("seconds", 1.0))
            return False
        elif kind == "hang":
            self._wait(o.get("seconds", 3600))
            self._drop()
        elif kind == "trickle":
            self._trickle(o.get("interval", 0.5), o.get("size", 1000))
        elif kind == "truncate":
            self._truncated(record)
        elif kind == "undecodable":  # a whole MP4 (its boxes are fine) whose picture data is garbage
            self._send(200, undecodable(self._some_video(record)), "video/mp4")
        elif kind == "not_video":
            self._send(200, b"this is certainly not a video file" * 10, "video/mp4")
        elif kind == "unknown_json":
            self._json(200, {"something": "else", "status": "OK"})
        elif kind == "huge":
            self._huge(o["size"], o.get("declare_length", False))
        elif kind == "huge_gzip":  # a few KB on the wire, many MB once inflated
            self.forced_encoding = None
            payload = gzip.compress(b"\0" * o["size"], compresslevel=9)
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        elif kind == "truncate_gzip":
            payload = gzip.compress(self._some_video(record), compresslevel=5)
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Encoding", "gzip")
            self.end_headers()  # no length: the end of the connection ends the body, cut halfway
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
        elif kind == "fail_job":
            self.job_failure = o.get("error", "CUDA out of memory")
            return False
        elif kind == "no_output":  # a COMPLETED result whose output has not been attached yet
            self.no_output = True
            return False
        elif kind == "encoding":  # answer compressed in a given way, whatever the client asked for
            self.forced_encoding = o["encoding"]
            return False
        elif kind == "redirect":  # a redirect to a given place (e.g. another origin), for any request
            self._send(o.get("code", 302), b"", "text/plain", {"Location": o["location"]})
        else:
            raise ValueError(f"unknown fault {kind}")
        return True

    def _rate_limit_answer(self, mode=None):
        mode = mode or self.fake.rate_limit_headers
        headers = {}
        if mode == "retry-after":
            headers["Retry-After"] = str(self.fake.retry_after)
        elif mode == "reset-at":
            reset = time.gmtime(time.time() + self.fake.retry_after + 0.999)  # whole seconds, rounded up
            headers["x-rate-limit-reset-at-utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", reset)
        self._json(429, {"error": "Rate limit exceeded"}, headers)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _trickle(self, interval, size):
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        for _ in range(size):
            if self.fake.stopping.wait(interval):
                break
            try:
                self.wfile.write(b"\0")
                self.wfile.flush()
            except OSError:
                break
        self._drop()

    def _truncated(self, record):
        video = self._some_video(record)
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(video)))
        self.end_headers()
        self.wfile.write(video[: len(video) // 2])
        self.wfile.flush()
        self._drop()

    def _some_video(self, record):
        try:
            body = json.loads(record.body)
            return self.fake._video_for(body["input_image"], self._params(body))
        except (ValueError, KeyError, TypeError):
            job = next(iter(self.fake.jobs.values()), None)
            return job.video if job else b"\0" * 1000

    def _huge(self, size, declare_length):
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        if declare_length:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"\0" * (1024 * 1024)
        sent = 0
        try:
            while sent < size and not self.fake.stopping.is_set():
                piece = chunk[: min(len(chunk), size - sent)]
                if declare_length:
                    self.wfile.write(piece)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
            if not declare_length:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        self._drop()

    # ---- plumbing ----------------------------------------------------------------------------------------

    def _wait(self, seconds):
        if seconds > 0:
            self.fake.stopping.wait(seconds)

    def _billing_headers(self, request_id, body):
        headers = {"x-request-id": request_id, "x-remaining-credits": f"{self.fake.credits:.3f}",
                   "x-generation-time": "1.5", "x-seed-value": str(body.get("seed", 985445))}
        if self.fake.report_cost:
            headers["x-cost"] = str(self.fake.cost)
        return headers

    def _encoding(self):
        """What a CDN would compress with for this client: only what it accepts, unless told otherwise."""
        forced = getattr(self, "forced_encoding", None)
        if forced:
            return forced
        mode = self.fake.compression
        if mode == "forced-gzip":
            return "gzip"
        accepted = [e.split(";")[0].strip().lower() for e in self.headers.get("Accept-Encoding", "").split(",")]
        wanted = "deflate" if mode in ("deflate", "deflate-raw") else mode
        return mode if wanted in accepted else None

    def _json(self, code, data, headers=None):
        self._send(code, json.dumps(data).encode(), "application/json", headers)

    def _send(self, code, payload, content_type, headers=None):
        payload, encoding = compress(payload, self._encoding())
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
            self.send_header("Vary", "Accept-Encoding")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:
            pass


def fragmented(video):
    """The same frames remuxed (not re-encoded) as a fragmented MP4: an empty moov, no frame count anywhere
    before the fragments are read."""
    import av

    out = io.BytesIO()
    with av.open(io.BytesIO(video)) as source, av.open(out, "w", format="mp4",
                                                         options={"movflags": "frag_keyframe+empty_moov"}) as sink:
        stream = sink.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                sink.mux(packet)
    return out.getvalue()


def trimmed(video, frames=1):
    """The same MP4 with its edit list shortened by `frames` frames at the end: every sample stays in the file and
    in the header's count, but players and decoders stop before the last ones."""
    data = bytearray(video)
    count = _declared_frames(video)
    elst = _box(data, ["moov", "trak", "edts", "elst"])
    if elst is None or count <= frames:
        raise ValueError("this MP4 has no edit list to shorten")
    # elst (version 0): size, type, version+flags, entry count, then segment_duration (movie time scale), ...
    at = elst + 16
    duration = int.from_bytes(data[at:at + 4], "big")
    data[at:at + 4] = (duration * (count - frames) // count).to_bytes(4, "big")
    return bytes(data)


def _declared_frames(video):
    import av

    with av.open(io.BytesIO(video)) as container:
        return int(container.streams.video[0].frames)


def _box(data, path, start=0, end=None):
    """Offset of the box at `path` (a list of box types, outermost first), or None."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = int.from_bytes(data[start:start + 4], "big"), data[start + 4:start + 8].decode("latin-1")
        if size < 8:
            return None
        if kind == path[0]:
            return start if len(path) == 1 else _box(data, path[1:], start + 8, start + size)
        start += size
    return None


def undecodable(video):
    """The same MP4 with the payload of its `mdat` box overwritten: it sniffs as a video, but does not decode."""
    data = bytearray(video)
    at = data.find(b"mdat")
    if at >= 4:
        size = int.from_bytes(data[at - 4:at], "big")
        start, end = at + 4, min(len(data), at - 4 + size)
        data[start:end] = bytes((i * 37 + 11) % 251 for i in range(end - start))
    return bytes(data)


def compress(payload, encoding):
    """(body, Content-Encoding) for an encoding this server can apply: gzip, deflate (zlib), deflate-raw."""
    if not encoding or encoding == "none" or not payload:
        return payload, None
    if encoding == "gzip":
        return gzip.compress(payload, compresslevel=5, mtime=0), "gzip"
    if encoding == "deflate":
        return zlib.compress(payload, 5), "deflate"
    if encoding == "deflate-raw":  # what some servers send as "deflate": no zlib header
        squeeze = zlib.compressobj(5, zlib.DEFLATED, -15)
        return squeeze.compress(payload) + squeeze.flush(), "deflate"
    if encoding == "br":  # a CDN that sends brotli although it was not offered (the bytes need not be real)
        return payload, "br"
    raise ValueError(f"unknown encoding {encoding}")


class _StorageHandler(BaseHTTPRequestHandler):
    """A storage bucket on another origin: serves finished videos by signed URL, needs no key."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    fake = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.fake._lock:
            self.fake.storage_requests.append((self.path, headers))
            if getattr(self.fake, "request_log", None):
                with open(self.fake.request_log, "a", encoding="utf-8") as log:
                    log.write(json.dumps({"t": round(time.time(), 3), "method": "GET", "path": self.path,
                                          "kind": "storage", "api_key_sent": "x-api-key" in headers,
                                          "accept_encoding": headers.get("accept-encoding")}) + "\n")
        found = re.fullmatch(r"/files/([\w-]+)\.mp4(\?.*)?", self.path)
        job = self.fake.jobs.get(found.group(1)) if found else None
        payload = job.video if job else b'{"error": "NoSuchKey"}'
        accepted = headers.get("accept-encoding", "")
        payload, encoding = compress(payload, "gzip" if "gzip" in accepted and self.fake.compression != "none"
                                     else None)
        self.send_response(200 if job else 404)
        self.send_header("Content-Type", "video/mp4" if job else "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:
            pass


def main():
    """Run the fake server by hand, e.g. to point a real ComfyUI at it: prints its base URL and key."""
    import argparse

    parser = argparse.ArgumentParser(description="Fake Segmind MotionCtrl-SVD server on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds each job takes")
    parser.add_argument("--video-scale", type=float, default=1.0, help="render videos smaller (< 1) or full size")
    parser.add_argument("--compression", default="gzip", choices=["gzip", "deflate", "deflate-raw", "forced-gzip",
                                                                 "none"])
    parser.add_argument("--output-mode", default="redirect", choices=["redirect", "storage", "url", "base64"])
    parser.add_argument("--early-404", type=int, default=1, help="status polls per job that answer 404 first")
    parser.add_argument("--submit-delay", type=float, default=0.0, help="seconds before a submit is answered")
    parser.add_argument("--video-container", default="mp4", choices=["mp4", "fragmented", "trimmed"],
                        help="how answer videos are muxed (see FakeSegmind.video_container)")
    parser.add_argument("--log", help="append one JSON line per request (time, method, path, kind) to this file")
    args = parser.parse_args()
    fake = FakeSegmind(latency=args.latency, video_scale=args.video_scale, compression=args.compression,
                       output_mode=args.output_mode, early_404=args.early_404, submit_delay=args.submit_delay,
                       video_container=args.video_container)
    fake.request_log = args.log
    fake.start(args.port)
    print(f"SEGMIND_BASE_URL={fake.base_url} SEGMIND_API_KEY={fake.api_key}", flush=True)
    try:
        fake.stopping.wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
