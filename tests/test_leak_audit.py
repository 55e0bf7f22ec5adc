"""Leak audit: run the example workflow with a key set, then search everything the run produced for the key.

What ComfyUI itself would write is reproduced from the workflow (the prompt it builds from the widgets, the
workflow JSON it saves, the prompt and workflow it embeds in a saved MP4), so the audit covers every place
the internals notes list: workflow, prompt/history, file metadata, previews, cache, logs, errors, node text.

Then the key is set badly, the ways people do (a comment in the key file, the key pasted twice, a line break,
a byte-order mark, typographic quotes), and a server quotes it back in ways that defeat a plain search (across
the point where a quote is cut short, or only part of it); none of that may show any 12-character run of the
key in an error, a route's answer or a log record.
"""

import io
import json
import time
import traceback
from pathlib import Path

import av
import pytest

from comfy_host import run_node, tensor_of
from conftest import leaked_runs, textured_image
from fake_segmind import TEST_KEY, FakeSegmind
from nodes.node_inputs import input_types
from route_server import Client, RouteServer

WORKFLOW = Path(__file__).resolve().parents[1] / "example_workflows" / "motionctrl_svd_save_video.json"


def prompt_from_workflow(workflow):
    """What the frontend's graphToPrompt sends for our node: every widget value except the seed control."""
    names = [n for n in input_types()["required"] if n != "image"]
    prompt = {}
    for node in workflow["nodes"]:
        if node["type"] == "SegmindMotionCtrlSVD":
            values = list(node["widgets_values"])
            del values[names.index("seed") + 1]
            prompt[str(node["id"])] = {"class_type": node["type"], "inputs": dict(zip(names, values))}
        elif node["type"] != "MarkdownNote":
            prompt[str(node["id"])] = {"class_type": node["type"], "inputs": {}}
    return prompt


def save_video_like_comfyui(data, path, metadata):
    """SaveVideo stream-copies the MP4 and writes the prompt and workflow into the container's tags."""
    with av.open(io.BytesIO(data)) as source, av.open(str(path), "w", format="mp4", options={"movflags": "use_metadata_tags"}) as target:
        for key, value in metadata.items():
            target.metadata[key] = json.dumps(value)
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)


def every_file_holds_no_key(root, but=()):
    checked = 0
    for path in Path(root).rglob("*"):
        if path.is_file() and path not in but:
            assert not leaked_runs(path.read_bytes().decode("utf-8", "replace"), TEST_KEY), path
            checked += 1
    return checked


def everything_said_about(error):
    """What ComfyUI can show of a node's exception: its text (execution_error, /history) and the whole
    chained traceback it logs (which /internal/logs serves)."""
    return str(error) + repr(error) + "".join(traceback.format_exception(error))


def pack_key_file(host):
    return host.tmp_path / "user" / "segmind_motionctrl" / "api_key.txt"


def write_key(path, text, encoding="utf-8"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    path.chmod(0o600)


@pytest.fixture
def routes(tmp_path, monkeypatch):
    """The Settings routes over real HTTP, with the key file in a temporary folder."""
    key_file = tmp_path / "user" / "api_key.txt"
    monkeypatch.setenv("SEGMIND_API_KEY_FILE", str(key_file))
    for name in ("SEGMIND_API_KEY", "SEGMIND_API_MODE", "SEGMIND_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    with RouteServer() as server:
        client = Client(server)
        client.key_file = key_file
        yield client
    assert not [body for body in client.bodies if leaked_runs(body, TEST_KEY)]


def test_the_example_workflow_leaves_the_key_nowhere(pack, host, tmp_path, monkeypatch, no_key_in_logs):
    key_file = tmp_path / "user" / "segmind_motionctrl" / "api_key.txt"
    key_file.parent.mkdir(parents=True)
    key_file.write_text(TEST_KEY)
    key_file.chmod(0o600)
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        workflow = json.loads(WORKFLOW.read_text())
        prompt = prompt_from_workflow(workflow)
        node_inputs = next(n["inputs"] for n in prompt.values() if n["class_type"] == "SegmindMotionCtrlSVD")
        out = run_node(pack, tensor_of(textured_image()), **node_inputs)
        assert fake.accepted_posts()[0].headers["x-api-key"] == TEST_KEY  # the key was really used

    output_dir = tmp_path / "output"
    output_dir.mkdir()
    video = out["result"][2]
    video.file.seek(0)
    saved = output_dir / "motionctrl_00001_.mp4"
    save_video_like_comfyui(video.file.read(), saved, {"prompt": prompt, "workflow": workflow})
    (tmp_path / "user" / "default" / "workflows").mkdir(parents=True)
    (tmp_path / "user" / "default" / "workflows" / "saved.json").write_text(json.dumps(workflow))
    history = {"prompt": [0, "id", prompt, {"extra_pnginfo": {"workflow": workflow}}], "outputs": {"2": out["ui"]}}
    (tmp_path / "history.json").write_text(json.dumps(history))

    with av.open(str(saved)) as container:
        tags = json.dumps(dict(container.metadata))
    assert "SegmindMotionCtrlSVD" in tags and TEST_KEY not in tags
    key_file.unlink()  # the one place the key belongs; everything else must be clean
    assert every_file_holds_no_key(tmp_path) >= 5  # output, preview, cache entry, workflow, history
    assert all(TEST_KEY not in text for _, text in host.texts)
    assert TEST_KEY not in json.dumps(out["ui"])
    # The autouse fixture fails the test if any DEBUG log record holds the key; make sure there were some.
    assert any("segmind" in t.lower() for t in no_key_in_logs.texts)


def test_a_server_that_echoes_the_key_in_an_error_is_scrubbed(pack, host, monkeypatch):
    with FakeSegmind(api_key="SG_a_different_key_000", echo_key_in_errors=True) as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", TEST_KEY)
        with pytest.raises(Exception) as caught:
            run_node(pack, tensor_of(textured_image()))
    text = str(caught.value) + repr(caught.value) + "".join(map(str, caught.value.args))
    assert "redacted" in text and TEST_KEY not in text
    every_file_holds_no_key(host.tmp_path)


# ---- a server that quotes the key back ---------------------------------------------------------------------

def filler(length):
    return ("Your request could not be authorised because the key sent is not known here. " * 10)[:length]


ECHOES = {
    # The 300-character cut of a quoted Segmind message, with the key starting just before it.
    **{f"{style} across the cut at {offset}": (style, lambda key, n=offset: filler(n) + key + " was refused.")
       for style in ("json", "text") for offset in (260, 280, 289, 295, 299)},
    "json, part of the key": ("json", lambda key: f"Key {key[2:16]}... is unknown"),
    "text, the key's tail": ("text", lambda key: f"Unknown key ...{key[-13:]}"),
    "json, the key twice in a row": ("json", lambda key: f"Invalid: {key}{key}"),
}


def quoted_the_echo(text):
    """The server's words are in the message (so the test is not passing vacuously); a placeholder that
    started right at the cut may itself be cut short."""
    return "[redacted API key]" in text or filler(40) in text


@pytest.mark.parametrize("style, echo", ECHOES.values(), ids=ECHOES.keys())
def test_a_key_quoted_back_by_the_server_is_scrubbed_from_the_node_error(pack, host, monkeypatch, style, echo):
    with FakeSegmind(api_key="SG_a_different_key_000", echo_key_in_errors=echo, echo_as=style) as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", TEST_KEY)
        with pytest.raises(Exception) as caught:
            run_node(pack, tensor_of(textured_image()))
    text = everything_said_about(caught.value)
    assert type(caught.value).__name__ == "AuthenticationError" and "Segmind said" in text
    assert quoted_the_echo(text)
    assert not leaked_runs(text, TEST_KEY), text
    # Scrubbed before the quote was cut: not even the first few characters of the key are left at the cut.
    assert TEST_KEY[:6] not in text and TEST_KEY[-6:] not in text


@pytest.mark.parametrize("style, echo", ECHOES.values(), ids=ECHOES.keys())
def test_a_key_quoted_back_by_the_server_is_scrubbed_from_the_key_test(routes, monkeypatch, style, echo):
    with FakeSegmind(api_key="SG_a_different_key_000", echo_key_in_errors=echo, echo_as=style) as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        assert routes.save(TEST_KEY).status_code == 200
        answer = routes.test()
        assert fake.recorded()[0].headers["x-api-key"] == TEST_KEY
    assert (answer["ok"], answer["checked"]) == (False, True)
    assert quoted_the_echo(answer["message"])
    assert TEST_KEY[:6] not in answer["message"] and TEST_KEY[-6:] not in answer["message"]


@pytest.mark.parametrize("offset", [40, 60, 70, 79])
def test_a_key_in_a_proxy_pages_title_is_scrubbed_before_the_title_is_cut(pack, host, monkeypatch, offset):
    page = f"<html><head><title>{filler(offset)}{TEST_KEY}</title></head><body>Bad gateway</body></html>"
    with FakeSegmind() as fake:
        fake.inject("status", on="v2", code=200, body=page.encode(), content_type="text/html")
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", TEST_KEY)
        with pytest.raises(Exception) as caught:
            run_node(pack, tensor_of(textured_image()))
    text = everything_said_about(caught.value)
    assert "an HTML page titled" in text
    assert not leaked_runs(text, TEST_KEY) and TEST_KEY[:6] not in text, text


def test_a_logged_traceback_is_scrubbed_too(no_key_in_logs):
    from nodes.common.log import logger, register_secret

    register_secret(TEST_KEY)
    try:
        raise RuntimeError(f"a library quoting the header: {TEST_KEY!r}")
    except RuntimeError:
        logger.exception("Something failed")
    logged = [text for text in no_key_in_logs.texts if "Something failed" in text]
    assert logged and "Traceback" in logged[0] and "[redacted API key]" in logged[0]
    # (the autouse fixture fails the test if any run of the key reached a record)


def test_every_run_of_twelve_or_more_characters_of_a_key_is_scrubbed_in_one_pass():
    from nodes.common.log import MIN_RUN, REDACTED, redact, register_secret

    register_secret(TEST_KEY)
    for start in range(len(TEST_KEY) - MIN_RUN + 1):
        for stop in range(start + MIN_RUN, len(TEST_KEY) + 1):
            assert redact(f"<{TEST_KEY[start:stop]}>") == f"<{REDACTED}>", (start, stop)
    assert redact(f"{TEST_KEY}\\n{TEST_KEY}") == f"{REDACTED}\\n{REDACTED}"  # as a library's repr() shows it
    # Shorter pieces are left: that many characters could be anything, and say little about a random key.
    assert redact(TEST_KEY[:MIN_RUN - 1]) == TEST_KEY[:MIN_RUN - 1]
    big = "lorem ipsum 0123456789 " * 50_000
    started = time.perf_counter()
    assert redact(f"{big}|{TEST_KEY}|{big}") == f"{big}|{REDACTED}|{big}"
    assert time.perf_counter() - started < 2.0  # about 0.1 s for these 2 MB: fine for any error text or log line


# ---- keys set badly ----------------------------------------------------------------------------------------

KEY_FILE_VARIANTS = {
    "a comment line": (f"# my Segmind key\n{TEST_KEY}\n", "holds more than one line"),
    "the key pasted twice": (f"{TEST_KEY}\n{TEST_KEY}\n", "holds more than one line"),
    "the key twice on one line": (f"{TEST_KEY} {TEST_KEY}", "contains a space"),
    "typographic quotes": (f"\u201c{TEST_KEY}\u201d", "outside plain ASCII"),
    "a byte-order mark inside quotes": (f"'\ufeff{TEST_KEY}'", "outside plain ASCII"),
    "a zero-width space": (f"{TEST_KEY[:10]}\u200b{TEST_KEY[10:]}", "outside plain ASCII"),
}

ENV_VARIANTS = {
    "a line break inside": (f"{TEST_KEY}\n{TEST_KEY}", "holds more than one line"),
    "a Windows line break inside": (f"{TEST_KEY}\r\nSG_second_key_0001", "holds more than one line"),
    "a comment after it": (f"{TEST_KEY}  # mine", "contains a space"),
    "a tab inside": (f"{TEST_KEY}\t{TEST_KEY}", "contains a space, tab"),
    "typographic quotes": (f"\u201c{TEST_KEY}\u201d", "outside plain ASCII"),
    "typographic single quotes": (f"\u2018{TEST_KEY}\u2019", "outside plain ASCII"),
    "a byte-order mark inside quotes": (f'"\ufeff{TEST_KEY}"', "outside plain ASCII"),
    "an escape character": (f"{TEST_KEY}\x1b[0m", "control character"),
}


def assert_refused_cleanly(error, place, reason):
    text = everything_said_about(error)
    assert type(error).__name__ == "InvalidApiKeyError", text
    assert str(error).startswith(f"Invalid Segmind API key: {place}"), text
    assert reason in str(error) and "Nothing was sent to Segmind" in str(error)
    assert not leaked_runs(text, TEST_KEY), text


@pytest.mark.parametrize("content, reason", KEY_FILE_VARIANTS.values(), ids=KEY_FILE_VARIANTS.keys())
def test_a_bad_key_file_stops_the_node_with_a_clear_error_that_quotes_none_of_it(pack, host, monkeypatch,
                                                                                content, reason):
    key_file = pack_key_file(host)
    write_key(key_file, content)
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        with pytest.raises(Exception) as caught:
            run_node(pack, tensor_of(textured_image()))
        assert fake.recorded() == []
    assert_refused_cleanly(caught.value, f"the key file {key_file}", reason)
    assert not any(leaked_runs(text, TEST_KEY) for _, text in host.texts)
    every_file_holds_no_key(host.tmp_path, but=[key_file])


@pytest.mark.parametrize("value, reason", ENV_VARIANTS.values(), ids=ENV_VARIANTS.keys())
def test_a_bad_environment_variable_stops_the_node_with_a_clear_error(pack, host, monkeypatch, value, reason):
    write_key(pack_key_file(host), TEST_KEY)  # a good saved key changes nothing: the variable wins
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", value)
        with pytest.raises(Exception) as caught:
            run_node(pack, tensor_of(textured_image()))
        assert fake.recorded() == []
    assert_refused_cleanly(caught.value, "the environment variable SEGMIND_API_KEY", reason)


@pytest.mark.parametrize("where, raw, encoding", [
    ("env", f"\ufeff{TEST_KEY}", None),
    ("env", f' "{TEST_KEY}"\n', None),  # Windows `set SEGMIND_API_KEY="..."` keeps the quotes
    ("file", f"\ufeff{TEST_KEY}\r\n", "utf-8"),  # Notepad's UTF-8 with a byte-order mark
    ("file", f"\ufeff{TEST_KEY}\r\n", "utf-16-le"),  # PowerShell's `echo KEY > api_key.txt`
    ("file", f"'{TEST_KEY}'", "utf-8"),
])
def test_a_byte_order_mark_and_outer_quotes_are_stripped(pack, host, monkeypatch, where, raw, encoding):
    if where == "env":
        monkeypatch.setenv("SEGMIND_API_KEY", raw)
    else:
        write_key(pack_key_file(host), raw, encoding)
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        run_node(pack, tensor_of(textured_image()))
        assert [r.headers["x-api-key"] for r in fake.accepted_posts()] == [TEST_KEY]


@pytest.mark.parametrize("content, reason", KEY_FILE_VARIANTS.values(), ids=KEY_FILE_VARIANTS.keys())
def test_the_key_test_route_refuses_a_bad_key_file_without_quoting_it(routes, monkeypatch, content, reason):
    write_key(routes.key_file, content)
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        answer = routes.test()
        assert fake.recorded() == []
    assert (answer["ok"], answer["checked"]) == (False, False)
    assert answer["message"].startswith(f"Invalid Segmind API key: the key file {routes.key_file}")
    assert reason in answer["message"]


@pytest.mark.parametrize("value, reason", ENV_VARIANTS.values(), ids=ENV_VARIANTS.keys())
def test_the_key_test_route_refuses_a_bad_environment_variable(routes, monkeypatch, value, reason):
    with FakeSegmind() as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", value)
        answer = routes.test()
        assert fake.recorded() == []
    assert (answer["ok"], answer["checked"]) == (False, False)
    assert answer["message"].startswith("Invalid Segmind API key: the environment variable SEGMIND_API_KEY")
    assert reason in answer["message"]


@pytest.mark.parametrize("raw", [f"{TEST_KEY}\n{TEST_KEY}", f"{TEST_KEY}\r\nX-Other: 1", f" {TEST_KEY}",
                                 f"\u201c{TEST_KEY}\u201d", f"\ufeff{TEST_KEY}"])
def test_the_client_never_passes_the_http_librarys_header_errors_on(raw):
    """The second line of defence: a key that skipped the checks (a caller building the client itself) is
    refused by the HTTP library while the request is built; its text, which quotes the header, stays out."""
    from nodes.segmind.client import SegmindClient

    with FakeSegmind() as fake:
        client = SegmindClient(raw, base_url=fake.base_url, connect_retries=0, poll_failures=0)
        for call in (client.credits, lambda: client.generate("aGVsbG8=", {"motion": "CW"})):
            with pytest.raises(Exception) as caught:
                call()
            text = everything_said_about(caught.value)
            assert type(caught.value).__name__ == "InvalidApiKeyError", text
            assert "refused a header value" in text and "Nothing was sent" in text
            assert not leaked_runs(text, TEST_KEY), text
        assert fake.recorded() == []
