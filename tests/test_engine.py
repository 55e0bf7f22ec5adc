"""Paid nodes side by side, identical work paid once, the stop after a systemic failure, and cancel in every
state: the nodes run through the host emulation (several node coroutines in one event loop, the way ComfyUI's
executor runs async nodes) against the fake Segmind server over real HTTP."""

import asyncio
import threading
import time

import numpy as np
import pytest

from comfy_host import InterruptProcessingException, load_pack, mp4_bytes, run_graph, run_node, tensor_of, widgets
from conftest import textured_image
from fake_segmind import FakeSegmind
from nodes.media.image_codec import image_to_base64
from nodes.media.video_codec import decode_video

PAID = "SegmindMotionCtrlSVD"


def node(node_id, image, **changes):
    return (node_id, PAID, dict(image=image, **widgets(**changes)))


def in_background(fn, *args, **kwargs):
    """Run fn in a thread; returns a holder whose ["result"] or ["error"] is set when it ends."""
    holder = {}

    def work():
        try:
            holder["result"] = fn(*args, **kwargs)
        except BaseException as exc:
            holder["error"] = exc
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    holder["thread"] = thread
    return holder


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def interrupt_when(host, condition):
    """ComfyUI's Cancel (POST /interrupt sets the flag) as soon as `condition()` holds; returns when it fired."""
    fired = {}

    def watch():
        wait_for(condition, 20)
        fired["at"] = time.monotonic()
        host.interrupt = True
    threading.Thread(target=watch, daemon=True).start()
    return fired


def statuses(host, node_id):
    return [d for e, d in host.events if e == "segmind_motionctrl.status" and d["node"] == node_id]


# ---- side by side ------------------------------------------------------------------------------------------

def test_three_paid_nodes_of_one_graph_run_at_once(pack, server):
    server.latency = 1.5
    image = tensor_of(textured_image())
    started = time.monotonic()
    out = run_graph(pack, [node("1", image, motion="Pan Left"), node("2", image, motion="Zoom In"),
                           node("3", image, motion="CW")])
    took = time.monotonic() - started
    posts = server.posts()
    assert len(posts) == 3 and {p.json["motion"] for p in posts} == {"Pan Left", "Zoom In", "CW"}
    # All three were submitted before the first job could have finished: they overlapped.
    assert max(p.time for p in posts) - min(p.time for p in posts) < server.latency
    assert took < 2 * 1.5 + 2.5  # strictly one after another would take over 3 x 1.5 s plus polling
    for node_id in "123":
        assert out[node_id]["result"][0].shape[0] == 14


def test_the_event_loop_stays_free_while_a_node_works(pack, server):
    """Hashing, encoding, HTTP and decoding run in the engine's threads, never on ComfyUI's event loop."""
    server.latency = 0.5
    big = tensor_of(*[textured_image(1024, 576, seed=s) for s in range(3)])
    gaps = []

    class Probe:
        FUNCTION = "probe"

        async def probe(self, unique_id=None):
            last = time.monotonic()
            for _ in range(150):
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now
            return {"result": ()}
    pack.NODE_CLASS_MAPPINGS["Probe"] = Probe
    try:
        run_graph(pack, [node("1", big), ("2", "Probe", {})])
    finally:
        del pack.NODE_CLASS_MAPPINGS["Probe"]
    assert max(gaps) < 0.15, max(gaps)


# ---- identical work is paid once ---------------------------------------------------------------------------

def test_a_batch_holding_one_image_three_times_makes_one_call(pack, server):
    image = textured_image(seed=5)
    frames = run_node(pack, tensor_of(image, image, image))["result"][0]
    assert len(server.posts()) == 1
    assert frames.shape[0] == 42
    np.testing.assert_array_equal(frames[:14].numpy(), frames[28:].numpy())
    expected = decode_video(server.expected_video(image_to_base64(image), widgets())).frames
    np.testing.assert_array_equal(frames[14:28].numpy(), expected)


def test_two_identical_nodes_running_at_once_make_one_call(pack, server):
    server.latency = 1.0
    image = tensor_of(textured_image(seed=6))
    out = run_graph(pack, [node("1", image), node("2", image)])
    assert len(server.posts()) == 1
    assert mp4_bytes(out["1"]["result"][2]) == mp4_bytes(out["2"]["result"][2])
    # The call decoded the clip into the first node's frames as it arrived; the node that joined it decodes its own.
    expected = decode_video(server.expected_video(image_to_base64(textured_image(seed=6)), widgets())).frames
    for node_id in "12":
        np.testing.assert_array_equal(out[node_id]["result"][0].numpy(), expected)


@pytest.mark.parametrize("mode", ["v1", "v2"])
def test_a_requeue_after_a_cancel_while_the_post_is_in_flight_makes_one_call(pack, server, host, monkeypatch, mode):
    """Cancel while the POST is on its way, queue again at once: the second run joins the first call."""
    monkeypatch.setenv("SEGMIND_API_MODE", mode)
    server.inject("delay", on=mode, seconds=1.5)  # the POST is in flight for 1.5 s
    image = tensor_of(textured_image(seed=7))
    interrupt_when(host, lambda: server.posts())
    with pytest.raises(InterruptProcessingException):
        run_node(pack, image)
    assert len(server.posts()) == 1
    out = run_node(pack, image)  # the re-run, while the first POST is still waiting for its answer
    assert len(server.posts()) == 1
    assert mp4_bytes(out["result"][2]) == server.expected_video(image_to_base64(textured_image(seed=7)), widgets())


def test_a_paid_v1_video_arriving_after_a_cancel_is_kept_and_the_node_says_so(pack, server, host, monkeypatch):
    monkeypatch.setenv("SEGMIND_API_MODE", "v1")
    server.latency = 1.0
    image = tensor_of(textured_image(seed=8))
    interrupt_when(host, lambda: server.posts())
    with pytest.raises(InterruptProcessingException):
        run_node(pack, image)
    assert statuses(host, "7")[-1]["text"] == "cancelled — the paid video will be kept when it arrives"
    wait_for(lambda: any(s["state"] == "kept" for s in statuses(host, "7")))
    before = len(server.recorded())
    out = run_node(pack, image)
    assert len(server.recorded()) == before and "from cache, $0" in out["ui"]["segmind_status"][0]


def test_an_accepted_v2_job_is_collected_after_a_cancel_and_kept(pack, server, host):
    # The default mode (auto: v2). Cancel while the job is processing: the node stops at once, but the paid job
    # is polled to its end and cached, so the video is not left to expire in Segmind's one-hour retention.
    server.latency = 1.5
    image = tensor_of(textured_image(seed=9))
    fired = interrupt_when(host, lambda: server.recorded("status"))
    with pytest.raises(InterruptProcessingException):
        run_node(pack, image)
    assert time.monotonic() - fired["at"] < 1.0
    assert statuses(host, "7")[-1]["text"] == "cancelled — the paid video will be kept when it arrives"
    wait_for(lambda: any(s["state"] == "kept" for s in statuses(host, "7")))
    assert server.recorded("result")  # collected with nobody waiting
    assert "was kept" in [t for n, t in host.texts if str(n) == "7"][-1]  # ComfyUI's own node text too
    before = len(server.recorded())
    out = run_node(pack, image)
    assert len(server.recorded()) == before and "from cache, $0" in out["ui"]["segmind_status"][0]
    assert len(server.posts()) == 1


def test_queueing_again_while_a_cancelled_v2_job_is_collected_joins_it(pack, server, host):
    # A user who cancels and presses Queue at once: the job still being collected in the background is joined,
    # not paid again and not resumed from its record in parallel.
    server.latency = 2.0
    image = tensor_of(textured_image(seed=10))
    interrupt_when(host, lambda: server.recorded("status"))  # the first poll: the fake's brief 404 after accept
    with pytest.raises(InterruptProcessingException):
        run_node(pack, image)
    out = run_node(pack, image)
    assert len(server.posts()) == 1
    assert len({r.path for r in server.recorded("result")}) == 1  # one job, fetched once it was done
    assert mp4_bytes(out["result"][2]) == server.expected_video(image_to_base64(textured_image(seed=10)), widgets())


# ---- a systemic failure stops the rest ---------------------------------------------------------------------

def test_after_an_unreadable_answer_the_images_not_yet_sent_are_held_back(pack, server, monkeypatch):
    monkeypatch.setenv("SEGMIND_CONCURRENCY", "2")
    server.inject("unknown_json", on="v2", times=10)  # accepted (billed) but unreadable: the same for every image
    images = tensor_of(*[textured_image(seed=s) for s in range(6)])
    with pytest.raises(Exception) as caught:
        run_node(pack, images)
    text = str(caught.value)
    assert len(server.posts()) == 2, text  # the two that were already on their way; the other four never left
    assert "4 image(s) not yet sent were held back; nothing was billed for them" in text
    assert "has no request id (keys: something, status)" in text  # the cause itself is still explained


def test_after_a_rejected_key_nothing_more_is_sent_and_a_fixed_key_works_at_once(pack, server, monkeypatch):
    monkeypatch.setenv("SEGMIND_CONCURRENCY", "1")
    monkeypatch.setenv("SEGMIND_API_KEY", "SG_wrong_key_0000000000")
    images = tensor_of(*[textured_image(seed=s) for s in range(4)])
    with pytest.raises(Exception) as caught:
        run_node(pack, images)
    assert len(server.posts()) == 1 and "did not accept the API key" in str(caught.value)
    assert "3 image(s) not yet sent were held back" in str(caught.value)
    monkeypatch.setenv("SEGMIND_API_KEY", server.api_key)
    monkeypatch.setenv("SEGMIND_CONCURRENCY", "4")
    run_node(pack, images)  # the stop applies to that queued run, not to the next one
    assert len(server.accepted_posts()) == 4


# ---- cancel ------------------------------------------------------------------------------------------------

def test_cancel_stops_every_concurrent_node_within_a_second_and_a_rerun_pays_nothing(pack, server, host):
    server.latency = 30
    image = tensor_of(textured_image(seed=9))
    fired = interrupt_when(host, lambda: len(server.accepted_posts()) == 3)
    started = time.monotonic()
    with pytest.raises(InterruptProcessingException):
        run_graph(pack, [node("1", image, motion="Pan Left"), node("2", image, motion="Zoom In"),
                         node("3", image, motion="CW")])
    assert time.monotonic() - fired["at"] < 1.0
    assert time.monotonic() - started < 5
    for node_id in "123":  # each node says so, although ComfyUI itself reports the cancel for one of them
        assert statuses(host, node_id)[-1]["state"] == "cancelled", statuses(host, node_id)
    for job in server.jobs.values():
        job.ready_at = 0  # the three jobs finish meanwhile
    restarted = load_pack()  # even after a restart: the three jobs were recorded before waiting
    run_graph(restarted, [node("1", image, motion="Pan Left"), node("2", image, motion="Zoom In"),
                          node("3", image, motion="CW")])
    assert len(server.posts()) == 3


def _refused_url():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


CANCEL_STATES = [
    # (state, API mode, fault, fault on, fault options, condition to cancel at)
    ("v1 request in flight", "v1", "hang", "v1", {"seconds": 30}, "posted"),
    ("v2 submit in flight", "v2", "delay", "v2", {"seconds": 5}, "posted"),
    ("v2 job queued / processing", "v2", None, None, {}, "posted"),
    ("v2 result download", "v2", "hang", "output_redirect", {"seconds": 30}, "downloading"),
    ("waiting out a 429", "v1", "rate_limit", "v1", {"headers": "reset-at"}, "posted"),
    ("backing off after a connection refused", "v1", "refused", None, {}, "soon"),
]


@pytest.mark.parametrize("mode,fault,on,options,when", [s[1:] for s in CANCEL_STATES],
                         ids=[s[0] for s in CANCEL_STATES])
def test_cancel_is_seen_within_a_second_in_every_waiting_state(pack, host, monkeypatch, mode, fault, on, options,
                                                               when):
    with FakeSegmind(latency=30, retry_after=30) as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", _refused_url() if fault == "refused" else fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", fake.api_key)
        monkeypatch.setenv("SEGMIND_API_MODE", mode)
        images = [textured_image(seed=40)]
        if when == "downloading":
            fake.latency = 0
        if fault not in (None, "refused"):
            fake.inject(fault, on=on, times=5, **options)
        condition = {"posted": lambda: fake.posts(), "downloading": lambda: fake.recorded("output_redirect"),
                     "soon": lambda: True}[when]
        fired = interrupt_when(host, condition)
        with pytest.raises(InterruptProcessingException):
            run_node(pack, tensor_of(*images))
        assert time.monotonic() - fired["at"] < 1.0
        assert len(fake.accepted_posts()) <= 1


def test_cancel_while_waiting_for_a_free_slot_sends_nothing_more(pack, server, host, monkeypatch):
    monkeypatch.setenv("SEGMIND_CONCURRENCY", "1")
    server.latency = 30
    images = tensor_of(*[textured_image(seed=s) for s in (50, 51, 52)])
    fired = interrupt_when(host, lambda: server.posts())
    with pytest.raises(InterruptProcessingException):
        run_node(pack, images)
    assert time.monotonic() - fired["at"] < 1.0
    time.sleep(0.5)
    assert len(server.posts()) == 1  # the two waiting for the slot were never sent
    assert statuses(host, "7")[-1]["text"] == "cancelled — the paid video will be kept when it arrives"


# ---- what is cached ----------------------------------------------------------------------------------------

def test_a_video_that_does_not_decode_is_never_cached(pack, server, monkeypatch):
    monkeypatch.setenv("SEGMIND_API_MODE", "v1")
    server.inject("undecodable", on="v1")
    image = tensor_of(textured_image(seed=60))
    with pytest.raises(Exception) as caught:
        run_node(pack, image)
    assert "does not decode" in str(caught.value) and "not cached" in str(caught.value)
    out = run_node(pack, image)  # not served from the cache: fetched again
    assert len(server.posts()) == 2 and out["result"][0].shape[0] == 14


def test_a_cached_video_that_no_longer_decodes_is_removed_and_said_so(pack, server, host):
    from fake_segmind import undecodable

    image = tensor_of(textured_image(seed=61))
    run_node(pack, image)
    [entry] = list((host.tmp_path / "cache").rglob("*.mp4"))
    entry.write_bytes(undecodable(entry.read_bytes()))
    (entry.with_suffix(".json")).write_text("{}")  # an entry written by an older version: no frame count
    with pytest.raises(Exception) as caught:
        run_node(pack, image)
    assert "no longer decodes" in str(caught.value) and "removed" in str(caught.value)
    assert not entry.exists()
    run_node(pack, image)
    assert len(server.posts()) == 2


def test_the_fault_matrix_lists_every_cancel_state():
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[1] / "docs" / "fault-matrix.md").read_text()
    for state in [s[0] for s in CANCEL_STATES] + ["waiting for a free slot"]:
        assert f"- {state}" in doc, state


# ---- the CPU: the next paid job starts first ---------------------------------------------------------------

def _batch_events(images, concurrency, **fake_options):
    """run_batch on a fresh engine against a fake server: the clips, and (event, image label) in the order the
    engine told them ("submitted": Segmind accepted the job; "completed": its video was checked)."""
    from conftest import FAST
    from fake_segmind import TEST_KEY
    from nodes.common.params import validate_params
    from nodes.jobs.batch import run_batch
    from nodes.jobs.engine import Engine
    from nodes.segmind.client import SegmindClient

    engine = Engine(concurrency=concurrency)
    events = []
    engine.listen(lambda event, flight, **_: events.append((event, flight.work.label, time.monotonic())))
    with FakeSegmind(**fake_options) as fake:
        outcome = asyncio.run(run_batch(tensor_of(*images), validate_params({}), engine=engine,
                                        base_url=fake.base_url, cache=None,
                                        client_factory=lambda: SegmindClient(TEST_KEY, base_url=fake.base_url,
                                                                             **FAST)))
        expected = [fake.expected_video(image_to_base64(image), validate_params({})) for image in images]
    engine._calls.shutdown(wait=False)
    engine.workers.shutdown(wait=False)
    assert [clip.video for clip in outcome.clips] == expected
    events = [(event, label, at) for event, label, at in events if event in ("submitted", "completed")]
    first = events[0][1]  # with one slot, whichever call got it first: the other got it from this one
    return [(event, "first" if label == first else "second", at) for event, label, at in events]


def test_a_video_that_arrived_is_checked_once_the_call_that_got_its_slot_is_accepted():
    """Concurrency 1: the second call gets its slot when the first call's video arrives. The first video's check
    (its decode) has time to spare, the second call's submit does not: it goes first, so the next paid job is
    not started late."""
    images = [textured_image(seed=s) for s in (60, 61)]
    events = _batch_events(images, 1, latency=0.3, submit_delay=0.3)  # each accept is answered 0.3 s late
    assert [(e, call) for e, call, _ in events] == [("submitted", "first"), ("submitted", "second"),
                                                    ("completed", "first"), ("completed", "second")]


def test_an_accept_slow_in_coming_holds_the_check_back_only_briefly():
    from nodes.jobs.engine import SUBMIT_PRIORITY_S

    images = [textured_image(seed=s) for s in (62, 63)]
    events = _batch_events(images, 1, latency=0.3, submit_delay=2.0)
    assert [(e, call) for e, call, _ in events] == [("submitted", "first"), ("completed", "first"),
                                                    ("submitted", "second"), ("completed", "second")]
    at = {(e, call): t for e, call, t in events}
    # The second call was accepted 2 s after it got the slot; the first video's check waited SUBMIT_PRIORITY_S of
    # that, not more.
    assert at[("submitted", "second")] - at[("completed", "first")] > 2.0 - SUBMIT_PRIORITY_S - 0.4


def _turn_taker(turns, urgent, log, name, hold=None):
    def take():
        with turns.turn(urgent):
            log.append(name)
            if hold is not None:
                hold.wait(5)
    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    return thread


def test_no_more_cpu_turns_than_cores_and_urgent_ones_first():
    from nodes.jobs.cpu_turns import CpuTurns

    turns, log, hold = CpuTurns(2), [], threading.Event()
    holders = [_turn_taker(turns, True, log, f"hold {i}", hold) for i in range(2)]
    wait_for(lambda: len(log) == 2)
    waiting = [_turn_taker(turns, False, log, "can wait 1")]
    time.sleep(0.05)
    waiting += [_turn_taker(turns, True, log, "urgent"), _turn_taker(turns, False, log, "can wait 2")]
    time.sleep(0.2)
    assert len(log) == 2  # both cores taken: nobody else started
    hold.set()
    for thread in holders + waiting:
        thread.join(5)
    assert log[2:] == ["urgent", "can wait 1", "can wait 2"]  # urgent first, then in the order they asked


def test_work_that_can_wait_starts_when_the_submit_ends_or_its_time_is_up():
    from nodes.jobs.cpu_turns import NOT_TOLD_S, CpuTurns

    until = [time.monotonic() + 30.0]
    turns, log = CpuTurns(2, lambda: max(0.0, until[0] - time.monotonic())), []
    started = time.monotonic()
    _turn_taker(turns, True, log, "urgent").join(5)  # an urgent turn never waits for a submit
    waiting = _turn_taker(turns, False, log, "can wait")
    time.sleep(0.3)
    assert log == ["urgent"]
    until[0] = time.monotonic()  # the submit was accepted, and the engine says so
    turns.poke()
    waiting.join(1)
    assert log == ["urgent", "can wait"] and time.monotonic() - started < 0.3 + 0.2
    until[0] = time.monotonic() + 0.4  # untold: the submit stops counting by itself
    asked = time.monotonic()
    _turn_taker(turns, False, log, "can wait, untold").join(2)
    started = time.monotonic()
    assert log[-1] == "can wait, untold" and 0.4 - 0.05 < started - asked < 0.4 + NOT_TOLD_S + 0.15
