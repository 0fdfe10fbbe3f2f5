"""WebhookSink: a real HTTP server on 127.0.0.1 recording what it receives."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from multialpha.execution import Reply, ResponsePlan, WebhookSink, read_sink_log

MakeSink = Callable[..., WebhookSink]


def test_sink_when_posts_arrive_then_recorded_in_order_in_memory_and_file(make_sink: MakeSink) -> None:
    sink = make_sink()
    bodies = [{"ticker": "6AM2024", "action": "buy", "n": n} for n in range(5)]
    for body in bodies:
        assert requests.post(f"{sink.url}/ibs_a", json=body, timeout=5).status_code == 200
    received = sink.received
    assert [r["body"] for r in received] == bodies
    assert {r["path"] for r in received} == {"/ibs_a"} and {r["status"] for r in received} == {200}
    assert read_sink_log(sink.out_path) == received
    assert all(r["received_at"].endswith("Z") for r in received)


def test_sink_when_body_not_json_then_recorded_raw(make_sink: MakeSink) -> None:
    sink = make_sink()
    requests.post(f"{sink.url}/raw?token=abc", data=b"hello", timeout=5)
    assert sink.received[0]["body"] == {"raw": "hello"}
    assert sink.received[0]["path"] == "/raw"  # the query string is not recorded


def test_sink_when_sender_goes_away_mid_body_then_recorded_unanswered_and_plan_kept(make_sink: MakeSink) -> None:
    # A sender killed while writing its request: the gateway got no order it could act on.
    sink = make_sink(Reply(500))
    host, port = sink.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"POST /cut HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"action\": \"bu")
        conn.shutdown(socket.SHUT_WR)
        assert conn.recv(1024) == b""  # no reply
    assert sink.wait_for(1, timeout_secs=5)
    assert [(r["path"], r["status"]) for r in sink.received] == [("/cut", None)]
    assert requests.post(sink.url, json={"n": 1}, timeout=5).status_code == 500  # the plan is untouched


def test_sink_when_plan_rejects_then_reply_scripted_and_status_recorded(make_sink: MakeSink) -> None:
    sink = make_sink(Reply(429, headers={"Retry-After": "3"}), Reply(400), Reply(500))
    replies = [requests.post(sink.url, json={"n": n}, timeout=5) for n in range(4)]
    assert [r.status_code for r in replies] == [429, 400, 500, 200]
    assert replies[0].headers["Retry-After"] == "3"
    assert replies[1].json()["success"] is False and replies[3].json()["success"] is True
    assert [r["status"] for r in read_sink_log(sink.out_path)] == [429, 400, 500, 200]


def test_sink_when_reopened_on_same_file_then_appends(tmp_path: Path) -> None:
    out = tmp_path / "hooks.jsonl"
    for n in range(2):
        with WebhookSink(out) as sink:
            requests.post(sink.url, json={"n": n}, timeout=5)
    assert [r["body"] for r in read_sink_log(out)] == [{"n": 0}, {"n": 1}]


def test_sink_when_stopped_with_a_stalled_reply_then_stops_quickly(tmp_path: Path) -> None:
    sink = WebhookSink(tmp_path / "s.jsonl", plan=ResponsePlan([Reply(200, delay_secs=30.0)])).start()
    with contextlib.suppress(requests.exceptions.ReadTimeout):
        requests.post(sink.url, json={}, timeout=0.2)
    assert sink.wait_for(1, timeout_secs=5)
    started = time.monotonic()
    sink.stop()
    assert time.monotonic() - started < 3.0


def test_read_sink_log_when_last_line_torn_then_ignored_else_corruption_raises(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": ', encoding="utf-8")
    assert read_sink_log(path) == [{"a": 1}, {"a": 2}]
    path.write_text('{"a": 1}\nnot json\n{"a": 2}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_sink_log(path)


def test_serve_forever_prints_url_records_and_stops_on_sigterm(tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl"
    code = "import sys; from multialpha.execution.sink import serve_forever; serve_forever('127.0.0.1', 0, sys.argv[1])"
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.post(f"{url}/ibs_a", json={"action": "exit"}, timeout=5).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert [(r["path"], r["body"]) for r in read_sink_log(out)] == [("/ibs_a", {"action": "exit"})]
    assert json.loads(out.read_text(encoding="utf-8").splitlines()[0])["status"] == 200
