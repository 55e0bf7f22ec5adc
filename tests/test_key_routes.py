"""The API key routes over real HTTP: the key is stored owner-only, never answered back, bad input is refused,
and the free key test talks to (the fake) Segmind without spending credits."""

import json
import os
import socket
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiohttp import web

from comfy_host import Host, load_pack
from conftest import leaked_runs
from fake_segmind import TEST_KEY, FakeSegmind
from nodes.routes import key_routes
from nodes.routes.guard import is_local_client, same_origin
from nodes.routes.key_routes import MAX_BODY_BYTES, write_key_file
from route_server import Client, RouteServer

OTHER_KEY = "SG_env0000111122223333"
WRONG_KEY = "SG_wrong99998888777766"
SECRETS = (TEST_KEY, OTHER_KEY, WRONG_KEY)


@pytest.fixture
def key_path(tmp_path, monkeypatch):
    path = tmp_path / "created" / "by" / "save" / "api_key.txt"
    monkeypatch.setenv("SEGMIND_API_KEY_FILE", str(path))
    for name in ("SEGMIND_API_KEY", "SEGMIND_BASE_URL", "SEGMIND_API_MODE", "SEGMIND_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def client(key_path):
    with RouteServer() as server:
        client = Client(server)
        yield client
    leaked = [body for body in client.bodies if leaked_runs(body, *SECRETS)]
    assert not leaked, f"a route answered with (part of) a key: {leaked[:2]}"


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# ---- save --------------------------------------------------------------------------------------------------

def test_save_stores_the_cleaned_key_owner_only_and_answers_only_a_hint(client, key_path, no_key_in_logs):
    response = client.save(f'  "{TEST_KEY}"\n')
    assert response.status_code == 200
    assert response.json() == {"set": True, "hint": "…" + TEST_KEY[-4:], "source": "file"}
    assert key_path.read_text(encoding="utf-8") == TEST_KEY
    assert mode_of(key_path) == 0o600
    assert mode_of(key_path.parent) == 0o700
    assert [p.name for p in key_path.parent.iterdir()] == ["api_key.txt"]  # no temporary file left behind
    assert any("ends in …" + TEST_KEY[-4:] in text for text in no_key_in_logs.texts)


def test_saving_again_replaces_the_key_and_keeps_the_permissions(client, key_path):
    assert client.save(WRONG_KEY).status_code == 200
    assert client.save(TEST_KEY).status_code == 200
    assert key_path.read_text(encoding="utf-8") == TEST_KEY
    assert mode_of(key_path) == 0o600


def test_the_file_is_owner_only_from_its_creation_even_with_an_open_umask(tmp_path, monkeypatch):
    modes = []
    real_replace = os.replace

    def spy(src, dst):
        modes.append(mode_of(src))  # the temporary file, complete, before it takes the key file's name
        return real_replace(src, dst)

    monkeypatch.setattr(key_routes.os, "replace", spy)
    old = os.umask(0)
    try:
        write_key_file(tmp_path / "new" / "api_key.txt", TEST_KEY)
    finally:
        os.umask(old)
    assert modes == [0o600]
    assert mode_of(tmp_path / "new" / "api_key.txt") == 0o600
    assert mode_of(tmp_path / "new") == 0o700


def test_an_existing_folder_keeps_its_permissions(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    write_key_file(folder / "api_key.txt", TEST_KEY)
    assert mode_of(folder) == 0o755
    assert mode_of(folder / "api_key.txt") == 0o600


BAD_BODIES = {
    "empty body": b"",
    "not json": b"SG_fake0123456789abcdef",
    "json list": json.dumps([TEST_KEY]).encode(),
    "no key field": json.dumps({"api_key": TEST_KEY}).encode(),
    "key not a string": json.dumps({"key": 1234567890123}).encode(),
    "empty key": json.dumps({"key": ""}).encode(),
    "whitespace only": json.dumps({"key": "  \t\n "}).encode(),
    "quotes only": json.dumps({"key": '""'}).encode(),
    "space inside": json.dumps({"key": "SG_fake0123 456789abcdef"}).encode(),
    "unbalanced quotes": json.dumps({"key": f'"{TEST_KEY}\''}).encode(),
    "backslash": json.dumps({"key": "SG_fake0123\\456789abcdef"}).encode(),
    "two keys on two lines": json.dumps({"key": TEST_KEY + "\n" + WRONG_KEY}).encode(),
    "control character": json.dumps({"key": "SG_fake0123\x00456789abcdef"}).encode(),
    "non-ascii": json.dumps({"key": "SG_fake0123456789abcdéf"}).encode(),
    "too short": json.dumps({"key": "SG_12"}).encode(),
    "too long": json.dumps({"key": "A" * 300}).encode(),
    "typographic quotes": json.dumps({"key": f"\u201c{TEST_KEY}\u201d"}).encode(),
    "a byte-order mark inside quotes": json.dumps({"key": f'"\ufeff{TEST_KEY}"'}).encode(),
    "not utf-8": b'{"key": "\xff\xfe"}',
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_input_is_refused_with_400_and_nothing_is_written(client, key_path, body):
    response = client.save_raw(body)
    assert response.status_code == 400
    message = response.json()["error"]
    assert isinstance(message, str) and len(message) > 20
    assert not key_path.exists()
    assert not key_path.parent.exists() or not any(key_path.parent.iterdir())


def test_bad_input_leaves_a_saved_key_alone(client, key_path):
    client.save(TEST_KEY)
    assert client.save("SG_fake0123 456789abcdef").status_code == 400
    assert client.save_raw(b"{").status_code == 400
    assert key_path.read_text(encoding="utf-8") == TEST_KEY


def test_a_rejected_key_is_not_quoted_in_the_error(client):
    candidate = "SG_quoted0123 4567abcd"
    response = client.save(candidate)
    assert response.status_code == 400
    assert "SG_quoted" not in response.text and "4567abcd" not in response.text


def test_an_unwritable_key_file_is_a_clear_500_not_a_crash(client, key_path, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SEGMIND_API_KEY_FILE", str(blocker / "api_key.txt"))
    response = client.save(TEST_KEY)
    assert response.status_code == 500
    assert "Could not write the key file" in response.json()["error"]


def test_a_body_above_the_limit_is_refused_with_413(client, key_path):
    declared = client.save_raw(json.dumps({"key": "A" * 100_000}).encode())
    assert declared.status_code == 413 and "larger than" in declared.json()["error"]

    def pieces():  # no Content-Length: the route must count what arrives
        yield b'{"key": "'
        for _ in range(10):
            yield b"A" * 1000
        yield b'"}'

    chunked = client.save_raw(pieces())
    assert chunked.status_code == 413
    assert not key_path.exists()


def send_in_pieces(server, pieces, pause=0.3):
    """One HTTP request written on a raw socket, piece by piece with a pause between (each its own TCP
    segment), as a slow network delivers it; returns (status code, body) of the answer."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for index, piece in enumerate(pieces):
            if index:
                time.sleep(pause)
            sock.sendall(piece)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def request_head(server, extra):
    return (f"POST /segmind_motionctrl/key HTTP/1.1\r\nHost: {server.netloc}\r\n"
            f"Content-Type: application/json\r\nConnection: close\r\n{extra}\r\n").encode()


def test_a_body_split_across_two_packets_is_read_whole(client, key_path):
    body = json.dumps({"key": TEST_KEY}).encode()
    head = request_head(client.server, f"Content-Length: {len(body)}\r\n")
    status, answer = send_in_pieces(client.server, [head + body[:9], body[9:]])
    assert status == 200, answer
    assert key_path.read_text(encoding="utf-8") == TEST_KEY


def test_a_chunked_body_in_two_packets_is_read_whole(client, key_path):
    body = json.dumps({"key": TEST_KEY}).encode()
    head = request_head(client.server, "Transfer-Encoding: chunked\r\n")
    first, second = body[:9], body[9:]
    status, answer = send_in_pieces(client.server, [
        head + b"%x\r\n%s\r\n" % (len(first), first), b"%x\r\n%s\r\n0\r\n\r\n" % (len(second), second)])
    assert status == 200, answer
    assert key_path.read_text(encoding="utf-8") == TEST_KEY


# ---- status ------------------------------------------------------------------------------------------------

def test_status_when_nothing_is_set(client, key_path):
    assert client.status() == {"set": False, "hint": None, "source": None, "path": str(key_path),
                               "file_set": False}


def test_status_reports_the_file_key(client, key_path):
    client.save(TEST_KEY)
    assert client.status() == {"set": True, "hint": "…" + TEST_KEY[-4:], "source": "file", "path": str(key_path),
                               "file_set": True}


def test_the_environment_variable_wins_and_the_answers_say_so(client, monkeypatch):
    monkeypatch.setenv("SEGMIND_API_KEY", f'"{OTHER_KEY}"')
    status = client.status()
    assert (status["set"], status["source"], status["hint"], status["file_set"]) == (True, "env", "…3333", False)
    assert "SEGMIND_API_KEY" in status["note"]
    saved = client.save(TEST_KEY).json()
    assert saved["set"] is True and saved["hint"] == "…" + TEST_KEY[-4:]
    assert saved["source"] == "env" and "SEGMIND_API_KEY" in saved["warning"]
    status = client.status()
    assert (status["source"], status["hint"], status["file_set"]) == ("env", "…3333", True)


def test_a_hand_written_key_file_is_reported_cleaned(client, key_path):
    key_path.parent.mkdir(parents=True)
    key_path.write_text(f"\ufeff '{TEST_KEY}' \r\n", encoding="utf-8")
    assert client.status()["hint"] == "…" + TEST_KEY[-4:]


KEY_FILE_VARIANTS = {
    "a comment line": f"# my Segmind key\n{TEST_KEY}\n",
    "the key twice": f"{TEST_KEY}\n{TEST_KEY}\n",
    "typographic quotes": f"\u201c{TEST_KEY}\u201d",
    "two keys on one line": f"{TEST_KEY} {WRONG_KEY}",
}


@pytest.mark.parametrize("content", KEY_FILE_VARIANTS.values(), ids=KEY_FILE_VARIANTS.keys())
def test_a_key_file_the_node_would_refuse_is_reported_with_the_reason(client, key_path, content):
    key_path.parent.mkdir(parents=True)
    key_path.write_text(content, encoding="utf-8")
    status = client.status()
    assert (status["set"], status["source"], status["hint"], status["file_set"]) == (False, "file", None, False)
    assert status["problem"].startswith("Invalid Segmind API key: the key file " + str(key_path))


def test_an_environment_variable_the_node_would_refuse_is_reported(client, monkeypatch):
    monkeypatch.setenv("SEGMIND_API_KEY", f"{OTHER_KEY}\n{OTHER_KEY}")
    status = client.status()
    assert (status["set"], status["source"], status["hint"]) == (False, "env", None)
    assert "SEGMIND_API_KEY holds more than one line" in status["problem"]
    saved = client.save(TEST_KEY).json()
    assert saved["source"] == "env" and "holds more than one line" in saved["warning"]


def non_loopback_address():
    """An address of this machine that is not a loopback one, or None (then the test is skipped)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only asks which local address would be used
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.fixture
def lan_client(key_path):
    """The routes on this machine's network address, called from it: the server sees a non-loopback peer,
    as it does for another machine when ComfyUI runs with --listen."""
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to call the routes from")
    with RouteServer(host=address) as server:
        client = Client(server)
        yield client
    assert not [body for body in client.bodies if leaked_runs(body, *SECRETS)]


def test_another_machine_is_not_told_the_key_files_path(lan_client, key_path):
    assert lan_client.save(TEST_KEY, headers={"Origin": f"http://{lan_client.server.netloc}"}).status_code == 200
    status = lan_client.status()
    assert status["set"] is True and status["hint"] == "…" + TEST_KEY[-4:]
    assert "path" not in status
    assert str(key_path.parent) not in json.dumps(status)
    key_path.write_text(f"# note\n{TEST_KEY}", encoding="utf-8")
    problem = lan_client.status()["problem"]
    assert "the pack's key file" in problem and str(key_path.parent) not in problem


def test_another_machine_gets_a_write_error_without_the_path(lan_client, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SEGMIND_API_KEY_FILE", str(blocker / "api_key.txt"))
    response = lan_client.save(TEST_KEY)
    assert response.status_code == 500
    assert "Could not write the pack's key file" in response.json()["error"]
    assert str(tmp_path) not in response.text


def test_a_request_through_a_proxy_is_not_told_the_path(client):
    assert "path" in client.status()
    assert "path" not in client.status(headers={"X-Forwarded-For": "203.0.113.9"})
    assert "path" not in client.status(headers={"Forwarded": "for=203.0.113.9"})


@pytest.mark.parametrize("remote, headers, local", [
    ("127.0.0.1", None, True),
    ("127.8.9.10", None, True),
    ("::1", None, True),
    ("::ffff:127.0.0.1", None, True),
    ("192.0.2.2", None, False),
    ("10.0.0.5", None, False),
    ("fd00::2", None, False),
    ("fe80::1%eth0", None, False),
    ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}, False),
    ("127.0.0.1", {"X-Real-IP": "127.0.0.1"}, False),
    (None, None, False),
    ("", None, False),
    ("not an address", None, False),
])
def test_which_clients_count_as_this_machine(remote, headers, local):
    assert is_local_client(remote, headers) is local


# ---- delete ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [("DELETE", "/key"), ("POST", "/key/clear")])
def test_delete_removes_the_file(client, key_path, method, path):
    client.save(TEST_KEY)
    answer = client.call(method, path).json()
    assert answer["deleted"] is True and answer["set"] is False and answer["hint"] is None
    assert not key_path.exists()
    assert client.call(method, path).json()["deleted"] is False


def test_delete_with_the_environment_variable_set_still_reports_it(client, monkeypatch):
    client.save(TEST_KEY)
    monkeypatch.setenv("SEGMIND_API_KEY", OTHER_KEY)
    answer = client.call("DELETE", "/key").json()
    assert answer["deleted"] is True and answer["set"] is True and answer["source"] == "env"


# ---- test the key ------------------------------------------------------------------------------------------

@pytest.fixture
def segmind(monkeypatch):
    with FakeSegmind(echo_key_in_errors=True, credits=12.5) as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        yield fake


def test_a_good_key_is_confirmed_with_its_credits_and_nothing_is_spent(client, segmind):
    client.save(TEST_KEY)
    answer = client.test()
    assert answer["ok"] is True and answer["checked"] is True
    assert answer["credits"] == 12.5
    assert "accepted" in answer["message"] and "cost nothing" in answer["message"]
    calls = segmind.recorded()
    assert [(r.method, r.path) for r in calls] == [("GET", "/v1/get-user-credits")]
    assert calls[0].headers["x-api-key"] == TEST_KEY
    assert segmind.posts() == [] and segmind.credits == 12.5


def test_a_wrong_key_is_reported_and_the_servers_echo_of_it_is_redacted(client, segmind):
    client.save(WRONG_KEY)
    answer = client.test()
    assert answer["ok"] is False and answer["checked"] is True and answer["credits"] is None
    assert "did not accept" in answer["message"] and "…" + WRONG_KEY[-4:] in answer["message"]
    assert "redacted" in answer["message"]  # the fake echoed the key; the answer shows the placeholder


def test_the_environment_key_is_the_one_tested(client, segmind, monkeypatch):
    client.save(WRONG_KEY)
    monkeypatch.setenv("SEGMIND_API_KEY", TEST_KEY)
    assert client.test()["ok"] is True


def test_no_key_means_nothing_is_sent(client, segmind):
    answer = client.test()
    assert answer["ok"] is False and answer["checked"] is False and "No key is set" in answer["message"]
    assert segmind.recorded() == []


def test_a_server_without_the_credits_look_up_says_it_cannot_test_for_free(client, segmind):
    client.save(TEST_KEY)
    segmind.inject("status", on="credits", code=404, error="Not found")
    answer = client.test()
    assert answer["ok"] is False and answer["checked"] is False
    assert "cannot be checked for free" in answer["message"]


@pytest.mark.parametrize("fault, options, words", [
    ("status", {"code": 500}, "server error"),
    ("html", {"code": 200}, "not JSON"),
    ("rate_limit", {}, "rate limit"),
])
def test_other_failures_are_explained(client, segmind, fault, options, words):
    client.save(TEST_KEY)
    segmind.inject(fault, on="credits", **options)
    answer = client.test()
    assert answer["ok"] is False and answer["checked"] is False and words in answer["message"]


def test_an_unreachable_segmind_is_reported(client, monkeypatch):
    with FakeSegmind() as gone:
        base_url = gone.base_url
    monkeypatch.setenv("SEGMIND_BASE_URL", base_url)
    client.save(TEST_KEY)
    answer = client.test()
    assert answer["ok"] is False and answer["checked"] is False and "Could not connect" in answer["message"]


def test_a_redirect_is_not_followed_so_the_key_goes_nowhere_else(client, monkeypatch):
    with FakeSegmind() as elsewhere:
        target = elsewhere.base_url

        class Redirect(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(302)
                self.send_header("Location", target + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        redirector = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        threading.Thread(target=redirector.serve_forever, daemon=True).start()
        try:
            monkeypatch.setenv("SEGMIND_BASE_URL", f"http://127.0.0.1:{redirector.server_address[1]}")
            client.save(TEST_KEY)
            answer = client.test()
        finally:
            redirector.shutdown()
            redirector.server_close()
        assert answer["ok"] is False and "does not follow" in answer["message"]
        assert elsewhere.recorded() == []


def test_a_malformed_setting_is_reported_not_raised(client, segmind, monkeypatch):
    client.save(TEST_KEY)
    monkeypatch.setenv("SEGMIND_API_MODE", "v3")
    answer = client.test()
    assert answer["ok"] is False and "SEGMIND_API_MODE" in answer["message"]


def test_a_base_url_that_does_not_parse_is_a_clear_settings_error(client, monkeypatch, no_key_in_logs):
    # Once a raw ValueError from the client's own URL handling ("Invalid IPv6 URL"); now refused up front.
    monkeypatch.setenv("SEGMIND_BASE_URL", "http://[::1")
    client.save(TEST_KEY)
    answer = client.test()
    assert (answer["ok"], answer["checked"]) == (False, False)
    assert "SEGMIND_BASE_URL" in answer["message"] and "IPv6" not in answer["message"]


# ---- requests from other sites -----------------------------------------------------------------------------

STATE_CHANGING = [("POST", "/key"), ("DELETE", "/key"), ("POST", "/key/clear"), ("POST", "/key/test")]
EVIL = "http://evil.example"


@pytest.fixture
def saved(client, key_path, segmind):
    """A key saved by the user, which no other site may replace, delete or spend a test on."""
    assert client.save(TEST_KEY).status_code == 200
    return key_path


def assert_untouched(key_path, segmind):
    assert key_path.read_text(encoding="utf-8") == TEST_KEY
    assert segmind.recorded() == []


@pytest.mark.parametrize("method, path", STATE_CHANGING)
def test_a_cross_site_simple_request_is_refused(client, saved, segmind, method, path):
    # What a web page on another site can send without asking first: text/plain, with its own Origin.
    response = client.call(method, path, data=json.dumps({"key": WRONG_KEY}),
                           headers={"Content-Type": "text/plain", "Origin": EVIL})
    assert response.status_code == 403
    assert "another site" in response.json()["error"]
    assert_untouched(saved, segmind)


@pytest.mark.parametrize("method, path", STATE_CHANGING)
@pytest.mark.parametrize("headers", [
    {"Origin": EVIL},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},  # this machine, but another port: another site's page
    {"Origin": "http://localhost"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
], ids=["foreign", "null", "other-port", "other-name", "fetch-cross-site", "fetch-same-site"])
def test_a_foreign_origin_is_refused_even_with_json(client, saved, segmind, method, path, headers):
    response = client.call(method, path, json={"key": WRONG_KEY}, headers=headers)
    assert response.status_code == 403 and response.json()["error"].startswith("Refused")
    assert_untouched(saved, segmind)


@pytest.mark.parametrize("method, path", STATE_CHANGING)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_anything_but_json_is_refused_with_415(client, saved, segmind, method, path, content_type):
    response = client.call(method, path, data=json.dumps({"key": WRONG_KEY}), headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    assert_untouched(saved, segmind)


@pytest.mark.parametrize("headers", [
    {},
    {"Sec-Fetch-Site": "same-origin"},
    {"Content-Type": "application/json; charset=utf-8"},
], ids=["no-origin", "fetch-same-origin", "charset"])
def test_same_origin_json_is_accepted(client, key_path, headers):
    origin = {"Origin": f"http://{client.server.netloc}"}
    assert client.save(WRONG_KEY, headers={**origin, **headers}).status_code == 200
    assert key_path.read_text(encoding="utf-8") == WRONG_KEY
    assert client.save(TEST_KEY, headers=headers).status_code == 200  # a client that sends no Origin at all
    assert key_path.read_text(encoding="utf-8") == TEST_KEY
    assert client.call("POST", "/key/clear", headers={**origin, **headers}).json()["deleted"] is True


def test_the_status_is_not_answered_to_another_sites_page(client, saved):
    # Only with --enable-cors-header could such a page read the answer; it is refused all the same.
    refused = client.call("GET", "/key", headers={"Origin": EVIL, "Content-Type": None})
    assert refused.status_code == 403 and "path" not in refused.text
    own = client.call("GET", "/key", headers={"Origin": f"http://{client.server.netloc}", "Content-Type": None})
    assert own.status_code == 200 and own.json()["set"] is True


def test_the_origin_check_works_when_comfyui_listens_on_the_network(lan_client, key_path):
    # ComfyUI's own origin check covers only a loopback Host; this is the case it leaves open.
    lan_client.save(TEST_KEY, headers={"Origin": f"http://{lan_client.server.netloc}"})
    refused = lan_client.call("POST", "/key", data=json.dumps({"key": WRONG_KEY}),
                              headers={"Content-Type": "text/plain", "Origin": EVIL})
    assert refused.status_code == 403
    assert lan_client.call("DELETE", "/key", headers={"Origin": EVIL}).status_code == 403
    assert key_path.read_text(encoding="utf-8") == TEST_KEY


@pytest.mark.parametrize("origin, host, same", [
    ("http://127.0.0.1:8188", "127.0.0.1:8188", True),
    ("https://127.0.0.1:8188", "127.0.0.1:8188", True),  # the scheme is not compared (a TLS proxy in front)
    ("http://COMFY.example", "comfy.example", True),
    ("https://comfy.example", "comfy.example", True),
    ("http://comfy.example:80", "comfy.example", True),
    ("https://comfy.example", "comfy.example:443", True),
    ("http://[::1]:8188", "[::1]:8188", True),
    ("http://localhost:8188", "127.0.0.1:8188", False),
    ("http://127.0.0.1:8189", "127.0.0.1:8188", False),
    ("http://comfy.example", "comfy.example:8188", False),
    ("https://comfy.example:8443", "comfy.example", False),
    ("http://comfy.example.evil.example", "comfy.example", False),
    ("http://evil.example", "comfy.example", False),
    ("null", "comfy.example", False),
    ("file://", "comfy.example", False),
    ("chrome-extension://abcdef", "comfy.example", False),
    ("http://comfy.example:port", "comfy.example", False),
    ("http://comfy.example", "", False),
])
def test_which_origins_match_the_host(origin, host, same):
    assert same_origin(origin, host) is same


# ---- wiring into ComfyUI -----------------------------------------------------------------------------------

def test_the_pack_registers_the_routes_on_comfyuis_server(tmp_path):
    host = Host(tmp_path).install()
    try:
        host.modules["server"].PromptServer.instance.routes = web.RouteTableDef()
        load_pack()
        routes = host.modules["server"].PromptServer.instance.routes
        assert {(r.method, r.path) for r in routes} == {
            ("GET", "/segmind_motionctrl/key"), ("POST", "/segmind_motionctrl/key"),
            ("DELETE", "/segmind_motionctrl/key"), ("POST", "/segmind_motionctrl/key/clear"),
            ("POST", "/segmind_motionctrl/key/test"), ("GET", "/segmind_motionctrl/usage"),
            ("POST", "/segmind_motionctrl/limits")}
        load_pack()  # a second load must not add the handlers twice (aiohttp would refuse to start)
        assert len(list(routes)) == 7
    finally:
        host.uninstall()


def test_the_pack_loads_without_a_route_table(pack):
    # comfy_host's PromptServer has no `routes`, like a ComfyUI too old or a stripped-down host.
    assert set(pack.NODE_CLASS_MAPPINGS) == {"SegmindMotionCtrlSVD", "MotionCtrlCameraPreview", "SegmindMotionCtrlSequence",
                                       "MotionCtrlCameraPreviewSequence"}


def test_a_failing_registration_costs_only_the_routes(tmp_path, no_key_in_logs):
    host = Host(tmp_path).install()
    try:
        host.modules["server"].PromptServer.instance.routes = object()  # not iterable: register() raises
        pack = load_pack()
        assert "SegmindMotionCtrlSVD" in pack.NODE_CLASS_MAPPINGS
    finally:
        host.uninstall()
    assert any("could not be registered" in text for text in no_key_in_logs.texts)
