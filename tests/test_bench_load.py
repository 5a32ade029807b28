"""The load generators never send the same `{seq}` twice, across runs too.

welfare_spend sends `Idempotency-Key: spend-{seq}`: a key seen before is answered from the stored
response without buying anything, so a repeated `{seq}` (a warm-up and the measured run after it, a
run on data kept from an earlier one) would measure replays instead of purchases.
"""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def load(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import load

    return load


@pytest.fixture
def server():
    """A local HTTP server that answers 201 to every POST and keeps each Idempotency-Key it got."""
    keys: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            keys.append(self.headers["Idempotency-Key"])
            self.send_response(201)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", keys
    httpd.shutdown()
    httpd.server_close()


def in_own_thread(function, *args, **kwargs):
    # The browser tests' Playwright leaves an event loop running in this thread, where asyncio.run refuses.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def spending(load):
    from scenarios import JSON, Request, Scenario

    return Scenario("spend", [Request("/orders", method="POST", headers={**JSON, "Idempotency-Key": "spend-{seq}"},
                                      body='{"service": 1}')])


def test_two_runs_of_the_python_client_send_no_key_twice(load, server):
    base_url, keys = server
    for _run in range(2):
        run = load.run_python(spending(load), base_url, duration=0.5, concurrency=4, run_id=load.secrets.token_hex(4))
        result = in_own_thread(asyncio.run, run)
        assert result.requests > 0 and result.errors == 0
    assert len(keys) > 2 and len(set(keys)) == len(keys)


def test_two_runs_through_load_run_send_no_key_twice(load, server):
    # load.run picks wrk when installed (as on the benchmark machine), else the Python client.
    base_url, keys = server
    for _run in range(2):
        result = in_own_thread(load.run, spending(load), base_url, duration=1, concurrency=2, threads=1)
        assert result.requests > 0 and result.errors == 0
    assert len(keys) > 2 and len(set(keys)) == len(keys)
