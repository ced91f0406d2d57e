"""The keepers' side channel: each keeper serves its latest signed reports over HTTP and fetches its
peers'.

One HTTP server per keeper, on its `--metrics-port`:

    GET /metrics                      Prometheus text (the keeper's registry)
    GET /report                       the newest signed report, JSON (404 before the first)
    GET /report?observed_at=T         the report of the round observed at T (404 if it has none)

A report answer is

    {"version": 1, "chain_id": 31337, "oracle": "0x…", "report": {"signer": "0x…",
     "observed_at": T, "deadline": D, "words": ["0x…", …], "r": "0x…", "vs": "0x…",
     "meta": {"round": N, "base": {"1": T0}, "source_spread": {"1": 0.001}, "sources": {"1": 2}}}}

(`report` is `oracle.reports.SignedReport.to_json()`; `meta` is not signed: a relayer uses it to skip
reports it cannot combine, never to trust values). A 404 answer is `{"error": …, "latest": T or null}`.

`fetch_report(url, observed_at, timeout)` asks one peer and classifies what went wrong as one of the
fault kinds the keeper counts: `down` (no connection), `slow` (no answer within the timeout), `behind`
(no report for this round yet), `invalid` (not a report). Checking the report itself (signature, signer,
round, assets, base, values) is `oracle.reports.check_report` / `select_agreeing`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

from oracle.errors import BallastError
from oracle.reports import SignedReport

REPORT_VERSION = 1
KEEP_ROUNDS = 16  # reports a keeper keeps serving (newest first)
DOWN, SLOW, BEHIND, INVALID, MISMATCH, OUTLIER = "down", "slow", "behind", "invalid", "mismatch", "outlier"
FAULT_KINDS = (DOWN, SLOW, BEHIND, INVALID, MISMATCH, OUTLIER)


def report_url(peer: str) -> str:
    """The /report URL of a `--peer` (a base URL `http://HOST:PORT[/]` or the /report URL itself);
    raises BallastError for anything that is not an http(s) URL with a host and port."""
    parts = urlsplit(peer.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BallastError(f"bad --peer '{peer}' (expected http://HOST:PORT)")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        raise BallastError(f"bad --peer '{peer}' (expected http://HOST:PORT)")
    if parts.query or parts.fragment:
        raise BallastError(f"bad --peer '{peer}' (no query or fragment: http://HOST:PORT)")
    path = parts.path.rstrip("/")
    if not path.endswith("/report"):
        path += "/report"
    return f"{parts.scheme}://{parts.netloc}{path}"


# --- serving -----------------------------------------------------------------------------------------


class ReportBook:
    """The signed reports a keeper serves, by observation time (thread-safe; the newest KEEP_ROUNDS)."""

    def __init__(self, chain_id: int, oracle: str):
        self.chain_id = chain_id
        self.oracle = oracle
        self._lock = threading.Lock()
        self._by_round: OrderedDict[int, SignedReport] = OrderedDict()

    def publish(self, report: SignedReport) -> None:
        with self._lock:
            self._by_round[report.observed_at] = report
            self._by_round.move_to_end(report.observed_at)
            while len(self._by_round) > KEEP_ROUNDS:
                self._by_round.popitem(last=False)

    def get(self, observed_at: int | None = None) -> SignedReport | None:
        with self._lock:
            if observed_at is None:
                return next(reversed(self._by_round.values()), None)
            return self._by_round.get(observed_at)

    def latest_round(self) -> int | None:
        with self._lock:
            return next(reversed(self._by_round), None)

    def answer(self, report: SignedReport) -> dict:
        return {"version": REPORT_VERSION, "chain_id": self.chain_id, "oracle": self.oracle,
                "report": report.to_json()}  # fmt: skip


def make_handler(book: ReportBook | None, registry):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            if parts.path == "/metrics":
                from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

                return self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            if parts.path.rstrip("/") == "/report" and book is not None:
                query = parse_qs(parts.query)
                at = None
                if "observed_at" in query:
                    try:
                        at = int(query["observed_at"][0])
                    except ValueError:
                        return self._json(400, {"error": "observed_at must be an integer"})
                report = book.get(at)
                if report is None:
                    what = "no report yet" if at is None else f"no report for observed_at {at}"
                    return self._json(404, {"error": what, "latest": book.latest_round()})
                return self._json(200, book.answer(report))
            return self._json(404, {"error": f"no such path {parts.path} (try /report or /metrics)"})

        def _json(self, status: int, body: dict):
            self._send(status, json.dumps(body).encode(), "application/json")

        def _send(self, status: int, body: bytes, content_type: str):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # the keeper logs JSON lines, not access logs
            pass

    return Handler


def serve(port: int, addr: str, registry, book: ReportBook | None = None) -> ThreadingHTTPServer:
    """Serve /metrics (and /report when `book` is given) on addr:port in a daemon thread; returns the
    server (`.shutdown()` stops it)."""
    try:
        server = ThreadingHTTPServer((addr, port), make_handler(book, registry))
    except OSError as exc:
        raise BallastError(f"cannot serve metrics on {addr}:{port}: {exc.strerror or exc}") from None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"ballast-http-{port}", daemon=True).start()
    return server


# --- fetching ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    """What one peer answered: a report, or the kind of fault and why."""

    peer: str
    report: SignedReport | None = None
    fault: str | None = None  # one of FAULT_KINDS
    detail: str = ""


def fetch_report(url: str, observed_at: int, timeout: float, chain_id: int, oracle: str,
                 session: requests.Session | None = None) -> Fetched:  # fmt: skip
    """Ask the peer at `url` (a /report URL) for its report of the round observed at `observed_at`."""
    get = session.get if session is not None else requests.get
    try:
        resp = get(url, params={"observed_at": observed_at}, timeout=timeout)
    except requests.exceptions.Timeout:
        return Fetched(url, fault=SLOW, detail=f"no answer within {timeout:g} s")
    except requests.exceptions.RequestException as exc:
        return Fetched(url, fault=DOWN, detail=type(exc).__name__)
    try:
        body = resp.json()
    except ValueError:
        return Fetched(url, fault=INVALID, detail=f"HTTP {resp.status_code}, not JSON")
    if resp.status_code == 404 and isinstance(body, dict) and "latest" in body:
        return Fetched(url, fault=BEHIND, detail=f"no report for {observed_at} (latest {body.get('latest')})")
    if resp.status_code != 200 or not isinstance(body, dict):
        return Fetched(url, fault=INVALID, detail=f"HTTP {resp.status_code}")
    if body.get("chain_id") != chain_id or str(body.get("oracle", "")).lower() != oracle.lower():
        return Fetched(
            url, fault=INVALID, detail=f"serves chain {body.get('chain_id')} oracle {body.get('oracle')}"
        )
    try:
        report = SignedReport.from_json(body["report"])
    except (KeyError, TypeError, ValueError) as exc:
        return Fetched(url, fault=INVALID, detail=str(exc))
    return Fetched(url, report=report)
