"""The spend guard and the usage ledger, through the node (host emulation) and the routes (a real aiohttp
server), against the fake server: a run that would pass a limit sends nothing and says which limit; every
billed call is in the ledger with the cost Segmind reported."""

import json

import pytest

from comfy_host import run_graph, run_node, tensor_of, widgets
from conftest import textured_image
from fake_segmind import TEST_KEY, FakeSegmind
from route_server import RouteServer


def images(count, seed=0):
    return tensor_of(*[textured_image(seed=seed + i) for i in range(count)])


def ledger_lines(host):
    path = host.tmp_path / "user" / "segmind_motionctrl" / "usage.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_batch_over_the_per_run_limit_is_refused_with_nothing_sent(pack, server, monkeypatch):
    monkeypatch.setenv("SEGMIND_MAX_CALLS_PER_RUN", "3")
    with pytest.raises(Exception) as caught:
        run_node(pack, images(5))
    text = str(caught.value)
    assert server.recorded() == []
    assert "5 paid calls" in text and "$0.445" in text and "at most 3" in text and "Nothing was sent" in text
    assert "SEGMIND_MAX_CALLS_PER_RUN is set in ComfyUI's environment" in text  # so Settings cannot raise it


def test_the_refusal_says_where_to_raise_a_limit_set_in_settings(pack, server, host):
    (host.tmp_path / "user" / "segmind_motionctrl").mkdir(parents=True, exist_ok=True)
    (host.tmp_path / "user" / "segmind_motionctrl" / "settings.json").write_text('{"max_calls_per_run": 1}')
    with pytest.raises(Exception) as caught:
        run_node(pack, images(2))
    assert "Raise it in Settings > Segmind MotionCtrl" in str(caught.value) and server.recorded() == []


def test_a_batch_at_the_limit_runs(pack, server, monkeypatch):
    monkeypatch.setenv("SEGMIND_MAX_CALLS_PER_RUN", "3")
    run_node(pack, images(3))
    assert len(server.accepted_posts()) == 3


def test_cached_images_do_not_count(pack, server, monkeypatch):
    run_node(pack, images(3))  # three of them are cached now
    monkeypatch.setenv("SEGMIND_MAX_CALLS_PER_RUN", "2")
    out = run_node(pack, images(5))  # 5 images, 2 new calls: within the limit
    assert len(server.accepted_posts()) == 5 and out["result"][0].shape[0] == 70


def test_two_nodes_of_one_run_share_the_limit(pack, server, monkeypatch):
    monkeypatch.setenv("SEGMIND_MAX_CALLS_PER_RUN", "3")
    first = ("1", "SegmindMotionCtrlSVD", dict(image=images(2, seed=10), **widgets()))
    second = ("2", "SegmindMotionCtrlSVD", dict(image=images(2, seed=20), **widgets()))
    run_graph(pack, [first], prompt_id="one-run")  # a node that ran earlier in the same queued run
    with pytest.raises(Exception) as caught:
        run_graph(pack, [second], prompt_id="one-run")
    assert "at most 3 (2 already made in this run)" in str(caught.value)
    assert len(server.posts()) == 2  # the second node sent nothing


def test_two_nodes_running_at_once_cannot_both_pass_the_limit(pack, server, monkeypatch):
    monkeypatch.setenv("SEGMIND_MAX_CALLS_PER_RUN", "3")
    server.latency = 0.5
    with pytest.raises(Exception) as caught:
        run_graph(pack, [("1", "SegmindMotionCtrlSVD", dict(image=images(2, seed=11), **widgets())),
                         ("2", "SegmindMotionCtrlSVD", dict(image=images(2, seed=21), **widgets()))])
    assert "at most 3 (2 already made in this run)" in str(caught.value)
    assert len(server.posts()) <= 2  # the refusal ends the run; the other node's calls may have gone out


def test_a_new_run_starts_a_new_count(pack, server, monkeypatch):
    monkeypatch.setenv("SEGMIND_MAX_CALLS_PER_RUN", "2")
    run_node(pack, images(2, seed=30))
    run_node(pack, images(2, seed=40))
    assert len(server.accepted_posts()) == 4


def test_the_sequence_node_counts_every_move(pack, server, monkeypatch):
    monkeypatch.setenv("SEGMIND_MAX_CALLS_PER_RUN", "4")
    inputs = dict(image=images(3, seed=50), motions="Pan Left, Zoom In", fps=7, motion_bucket_id=127,
                  cond_aug=0.02, seed=1, decoding_t=1, maintain_aspect_ratio=True, color_match=True)
    with pytest.raises(Exception) as caught:
        run_graph(pack, [("5", "SegmindMotionCtrlSequence", inputs)])
    assert "6 paid calls" in str(caught.value) and server.recorded() == []


def test_the_daily_budget_allows_two_calls_and_refuses_the_third(pack, server, host, monkeypatch):
    monkeypatch.setenv("SEGMIND_DAILY_BUDGET", "0.2")
    first = run_node(pack, images(1, seed=60))
    run_node(pack, images(1, seed=61))
    assert first["ui"]["segmind_status"][0].endswith("today $0.09 of $0.20")
    with pytest.raises(Exception) as caught:
        run_node(pack, images(1, seed=62))
    text = str(caught.value)
    assert len(server.posts()) == 2
    assert "SEGMIND_DAILY_BUDGET" in text and "today's spend is $0.18 of the daily budget $0.20" in text


def test_the_status_line_shows_todays_spend_against_the_budget(pack, server, monkeypatch):
    monkeypatch.setenv("SEGMIND_DAILY_BUDGET", "5")
    out = run_node(pack, images(1, seed=63))
    assert out["ui"]["segmind_status"][0].endswith("today $0.09 of $5.00")


@pytest.mark.parametrize("mode", ["v1", "v2"])
def test_the_ledger_holds_each_billed_call_with_the_reported_cost(pack, host, monkeypatch, mode):
    with FakeSegmind(cost=0.0913) as fake:
        monkeypatch.setenv("SEGMIND_BASE_URL", fake.base_url)
        monkeypatch.setenv("SEGMIND_API_KEY", TEST_KEY)
        monkeypatch.setenv("SEGMIND_API_MODE", mode)
        run_node(pack, images(2, seed=70))
        run_node(pack, images(2, seed=70))  # from the cache: no new line
    lines = ledger_lines(host)
    final = {}
    for line in lines:
        final[line["request_id"]] = line
    assert len(final) == 2 and len(fake.accepted_posts()) == 2
    for line in final.values():
        assert line["outcome"] == "completed" and line["cost"] == pytest.approx(0.0913)
        assert line["cost_source"] == "reported" and line["api_version"] == mode and line["node_id"] == "7"
        assert line["prompt_id"] and len(line["key"]) == 12 and line["time"]
    if mode == "v2":  # written the moment Segmind accepted each job, then again when it ended
        assert [l["outcome"] for l in lines].count("submitted") == 2
    text = json.dumps(lines)
    assert TEST_KEY not in text and "input_image" not in text


def test_a_damaged_ledger_line_is_skipped(pack, server, host, monkeypatch):
    run_node(pack, images(1, seed=80))
    path = host.tmp_path / "user" / "segmind_motionctrl" / "usage.jsonl"
    path.write_text(path.read_text() + '{"ts": 17, "outcome": "compl\n\x00garbage\n')
    monkeypatch.setenv("SEGMIND_DAILY_BUDGET", "1")
    out = run_node(pack, images(1, seed=81))
    assert out["ui"]["segmind_status"][0].endswith("today $0.18 of $1.00")


def test_the_usage_route_answers_the_totals_and_the_limits_without_the_key(pack, server, host, monkeypatch):
    monkeypatch.setenv("SEGMIND_DAILY_BUDGET", "2.5")
    run_node(pack, images(2, seed=90))
    with RouteServer() as routes:
        import requests
        answer = requests.get(routes.url("/usage"), timeout=5)
        data = answer.json()
        assert data["today"] == {"spent": pytest.approx(0.178), "calls": 2}
        assert data["month"]["calls"] >= 2 and data["price_per_call"] == 0.089
        assert data["limits"]["daily_budget"] == {"value": 2.5, "source": "env", "variable": "SEGMIND_DAILY_BUDGET"}
        assert data["limits"]["max_calls_per_run"]["value"] == 16
        assert TEST_KEY[4:16] not in answer.text and str(host.tmp_path) not in answer.text


def test_limits_saved_in_settings_apply_and_the_environment_wins(pack, server, host, monkeypatch):
    import requests
    with RouteServer() as routes:
        json_post = dict(headers={"Content-Type": "application/json"}, timeout=5)
        saved = requests.post(routes.url("/limits"), data=json.dumps({"max_calls_per_run": 1}), **json_post)
        assert saved.status_code == 200 and saved.json()["limits"]["max_calls_per_run"]["source"] == "settings"
        with pytest.raises(Exception) as caught:
            run_node(pack, images(2, seed=100))
        assert "at most 1" in str(caught.value) and server.recorded() == []
        bad = requests.post(routes.url("/limits"), data=json.dumps({"daily_budget": -3}), **json_post)
        assert bad.status_code == 400 and "SEGMIND_DAILY_BUDGET" in bad.json()["error"]
        cross_site = requests.post(routes.url("/limits"), data=json.dumps({"max_calls_per_run": 0}),
                                   headers={"Content-Type": "text/plain", "Origin": "http://evil.example"}, timeout=5)
        assert cross_site.status_code in (403, 415)
        monkeypatch.setenv("SEGMIND_MAX_CALLS_PER_RUN", "5")
        fixed = requests.post(routes.url("/limits"), data=json.dumps({"max_calls_per_run": 2}), **json_post)
        assert fixed.status_code == 409 and "environment" in fixed.json()["error"]
        run_node(pack, images(2, seed=100))  # the environment's 5 wins over the saved 1
        cleared = requests.post(routes.url("/limits"), data=json.dumps({"max_calls_per_run": None}), **json_post)
        assert cleared.status_code == 409  # still the environment's
    stored = json.loads((host.tmp_path / "user" / "segmind_motionctrl" / "settings.json").read_text())
    assert stored == {"max_calls_per_run": 1}
