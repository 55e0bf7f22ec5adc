"""One run of a paid node inside ComfyUI: its progress bar, its text, its end state, and cancel.

Each paid node keeps its own progress bar and status text while several run at once. Besides ComfyUI's own
node text, every end state is sent to the pack's frontend as a `segmind_motionctrl.status` event
({node, state, text, prompt_id}; state = running, done, cancelled, failed, kept), because with several async
nodes ComfyUI reports a cancel for only one of them, and a paid video that arrives after a cancel is
otherwise only in the server log.
"""

import asyncio
import time

from .comfy_bridge import Progress, current_prompt_id, interrupted, raise_interrupt, send_event
from .common.errors import CancelledError
from .common.paths import cache_dir, key_file, ledger_file, settings_file
from .common.settings import load_settings
from .common.stored_settings import read_stored
from .jobs.cache import ResultCache
from .jobs.engine import get_engine
from .jobs.ledger import ledger_for
from .segmind.client import SegmindClient

STATUS_EVENT = "segmind_motionctrl.status"
SETTINGS_PLACE = "paste it in ComfyUI's Settings > Segmind MotionCtrl > Segmind API key (it is saved to that file)"
RUNNING_EVENT_EVERY_S = 1.0
SHORT_REASON = 140


class NodeRun:
    def __init__(self, unique_id):
        self.node_id = None if unique_id is None else str(unique_id)
        self.prompt_id = current_prompt_id()
        self.progress = Progress(unique_id)
        self.started = time.monotonic()
        self.batch = None  # the batch's Progress, once it runs
        self.budget_note = ""  # ", today $0.27 of $5.00" when a daily budget is set
        self._last_text = None
        self._last_event = 0.0

    def tick(self, batch):
        """Every tick of a running batch (on the event loop). The progress bar may raise ComfyUI's interrupt."""
        self.batch = batch
        self.progress.update(batch.fraction() * self.progress.total)
        text = batch.text()
        if text != self._last_text:
            self._last_text = text
            self.progress.text(text)
        now = time.monotonic()
        if now - self._last_event >= RUNNING_EVENT_EVERY_S:
            self._last_event = now
            self._event("running", text)

    def done(self, status):
        self.progress.update(self.progress.total)
        self.progress.text(status)
        self._event("done", status)

    def cancelled(self):
        paid_in_flight = self.batch is not None and self.batch.any_sent()
        text = ("cancelled — the paid video will be kept when it arrives" if paid_in_flight
                else "cancelled — nothing was billed")
        self.progress.text(text)
        self._event("cancelled", text)

    def failed(self, error):
        text = "failed: " + short_reason(error)
        self._event("failed", text)

    def kept(self):
        """A paid video arrived after this node was cancelled and was cached (runs in the engine's thread)."""
        text = "the video that arrived after the cancel was kept; running again uses it (free)"
        self.progress.text(text)  # ComfyUI's node text still says "cancelled — … will be kept when it arrives"
        self._event("kept", text)

    def _event(self, state, text):
        if self.node_id is not None:
            send_event(STATUS_EVENT, {"node": self.node_id, "state": state, "text": text,
                                      "prompt_id": self.prompt_id})


def short_reason(error):
    """The first sentence of an error, for one line on the node (the full text is in ComfyUI's error dialog)."""
    text = " ".join(str(error).split())
    head = text.split(". ")[0].rstrip(".")
    return head if len(head) <= SHORT_REASON else head[:SHORT_REASON - 1] + "…"


def client_factory():
    return SegmindClient.from_env(key_files=[key_file()], other_places=[SETTINGS_PLACE])


async def run_paid(run, start):
    """Run a paid batch coroutine `start(env)` with the engine, cache, cancel and end states wired in."""
    try:
        settings = load_settings(stored=read_stored(settings_file()))
        engine = get_engine()
        engine.set_concurrency(settings.concurrency)
        ledger, guard = ledger_for(ledger_file()), engine.guard
        engine.listen(ledger.listener)

        def check_spend(calls):
            guard.check(calls, prompt_id=run.prompt_id, settings=settings, ledger=ledger)
        env = dict(engine=engine, base_url=settings.base_url, cache=ResultCache(cache_dir()),
                   client_factory=client_factory, should_cancel=interrupted, on_tick=run.tick, on_kept=run.kept,
                   guard=check_spend, owner=(run.node_id, run.prompt_id))
        outcome = await start(env)
        if settings.daily_budget is not None:
            spent = ledger.totals()["today"]["spent"]
            run.budget_note = f", today ${spent:.2f} of ${settings.daily_budget:.2f}"
        return outcome
    except CancelledError as exc:
        run.cancelled()
        raise_interrupt(exc)
    except asyncio.CancelledError:
        run.cancelled()  # another node's cancel or failure ended the prompt
        raise
    except Exception as exc:
        if type(exc).__name__ == "InterruptProcessingException":  # raised by ComfyUI's progress bar hook
            run.cancelled()
        else:
            run.failed(exc)
        raise
