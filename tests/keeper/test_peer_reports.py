"""The keepers' side channel without a chain: reports served and fetched over real HTTP, every peer fault
classified, and the relayer's checks (signature, signer, round, assets, base) and outlier rejection."""

import socket
import threading
import time

import pytest
import requests
from eth_account import Account
from eth_utils import keccak

from oracle import model, peers, reports
from oracle.errors import BallastError

CHAIN_ID = 31337
ORACLE = "0x" + "0c" * 20
KEYS = [keccak(text=f"ballast-keeper-net-{i}") for i in range(5)]
SIGNERS = [Account.from_key(k) for k in KEYS]
SET = [a.address for a in SIGNERS]
AT, DEADLINE = 1_800_000_000, 1_800_000_120
PRICE = model.price_from_human(2_000, 6, 18)  # loan raw per collateral raw at 1e36: 2,000 USDC per WETH
DEPTH = 10_000_000 * 10**6
SIGMA = model.WAD // 2
MAX_DISAGREEMENT = model.GuardParams().max_disagreement  # 5%


def words(price=PRICE, depth=DEPTH, sigma=SIGMA, assets=(1,)):
    return model.pack_report([(aid, price, depth, sigma) for aid in assets])


def signed(i, price=PRICE, depth=DEPTH, sigma=SIGMA, assets=(1,), at=AT, deadline=DEADLINE, chain_id=CHAIN_ID,
           oracle=ORACLE, base=None):  # fmt: skip
    meta = {"round": at // 60, "base": base if base is not None else {str(a): AT - 60 for a in assets}}
    return reports.sign(KEYS[i], chain_id, oracle, at, deadline, words(price, depth, sigma, assets), meta)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- URLs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, url",
    [
        ("http://127.0.0.1:9464", "http://127.0.0.1:9464/report"),
        ("http://127.0.0.1:9464/", "http://127.0.0.1:9464/report"),
        ("https://keeper2.example:443/report", "https://keeper2.example:443/report"),
    ],
)
def test_peer_urls(given, url):
    assert peers.report_url(given) == url


@pytest.mark.parametrize("bad", ["127.0.0.1:9464", "ftp://x:1", "http://:9464", "http://host", "http://h:99999",
                                 "http://h:1/?x=1", "keeper2"])  # fmt: skip
def test_bad_peer_url_is_one_line(bad):
    with pytest.raises(BallastError, match=r"^bad --peer '"):
        peers.report_url(bad)


# --- serving and fetching --------------------------------------------------------------------------------


@pytest.fixture
def server():
    from prometheus_client import CollectorRegistry, Counter

    registry = CollectorRegistry()
    Counter("ballast_test_hits", "a test counter", registry=registry).inc()
    book = peers.ReportBook(CHAIN_ID, ORACLE)
    port = free_port()
    srv = peers.serve(port, "127.0.0.1", registry, book)
    yield book, f"http://127.0.0.1:{port}"
    srv.shutdown()
    srv.server_close()


def test_a_report_travels_intact(server):
    book, base = server
    rep = signed(0)
    book.publish(rep)
    got = peers.fetch_report(peers.report_url(base), AT, 2, CHAIN_ID, ORACLE)
    assert got.fault is None and got.report == rep and got.report.meta == rep.meta
    assert got.report.verify(CHAIN_ID, ORACLE)
    body = requests.get(base + "/report", timeout=2).json()  # the newest, without a round
    assert body["version"] == 1 and body["chain_id"] == CHAIN_ID and body["report"]["signer"] == SET[0]
    assert "ballast_test_hits_total 1.0" in requests.get(base + "/metrics", timeout=2).text


def test_a_peer_without_this_rounds_report_is_behind(server):
    book, base = server
    assert peers.fetch_report(base + "/report", AT, 2, CHAIN_ID, ORACLE).fault == peers.BEHIND
    book.publish(signed(0, at=AT - 60, deadline=DEADLINE - 60))
    got = peers.fetch_report(base + "/report", AT, 2, CHAIN_ID, ORACLE)
    assert got.fault == peers.BEHIND and f"latest {AT - 60}" in got.detail


def test_the_book_keeps_the_newest_rounds():
    book = peers.ReportBook(CHAIN_ID, ORACLE)
    for k in range(peers.KEEP_ROUNDS + 3):
        book.publish(signed(0, at=AT + 60 * k, deadline=DEADLINE + 60 * k))
    assert book.get(AT) is None and book.get(AT + 60 * 3).observed_at == AT + 60 * 3
    assert book.latest_round() == AT + 60 * (peers.KEEP_ROUNDS + 2)


def test_a_peer_serving_another_chain_or_oracle_is_invalid():
    book = peers.ReportBook(1, ORACLE)  # a keeper of mainnet
    book.publish(signed(0))
    srv = peers.serve(free_port(), "127.0.0.1", None, book)
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/report"
        got = peers.fetch_report(url, AT, 2, CHAIN_ID, ORACLE)
    finally:
        srv.shutdown()
        srv.server_close()
    assert got.fault == peers.INVALID and "serves chain 1" in got.detail


def test_a_dead_peer_is_down():
    got = peers.fetch_report(f"http://127.0.0.1:{free_port()}/report", AT, 2, CHAIN_ID, ORACLE)
    assert got.fault == peers.DOWN


def test_a_peer_that_never_answers_is_slow():
    with socket.socket() as s:  # accepts connections, never answers
        s.bind(("127.0.0.1", 0))
        s.listen()
        started = time.monotonic()
        got = peers.fetch_report(f"http://127.0.0.1:{s.getsockname()[1]}/report", AT, 0.3, CHAIN_ID, ORACLE)
    assert got.fault == peers.SLOW and time.monotonic() - started < 5


def test_garbage_is_invalid():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Garbage(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"version": 1, "chain_id": 31337, "oracle": "' + ORACLE.encode() + b'", "report": {"signer": 7}}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        got = peers.fetch_report(f"http://127.0.0.1:{srv.server_address[1]}/report", AT, 2, CHAIN_ID, ORACLE)
    finally:
        srv.shutdown()
        srv.server_close()
    assert got.fault == peers.INVALID and "malformed report" in got.detail


# --- checking one report -----------------------------------------------------------------------------


def check(rep, assets=(1,), base=None):
    return reports.check_report(rep, CHAIN_ID, ORACLE, SET[:3], AT, DEADLINE, list(assets),
                                base if base is not None else {1: AT - 60})  # fmt: skip


def test_an_honest_report_passes():
    assert check(signed(1)) is None


@pytest.mark.parametrize(
    "rep, kind, why",
    [
        (signed(0, chain_id=1), "invalid", "signature is not"),  # signed for another chain
        (signed(0, oracle="0x" + "0d" * 20), "invalid", "signature is not"),  # for another oracle
        (signed(3), "invalid", "is not a signer"),
        (signed(0, at=AT - 60), "mismatch", "signed for observed_at"),
        (signed(0, deadline=DEADLINE + 1), "mismatch", "signed for observed_at"),
        (signed(0, assets=(1, 2)), "mismatch", "covers assets [1, 2]"),
        (signed(0, base={"1": AT - 120}), "mismatch", "clipped against base"),
    ],
)
def test_a_report_that_cannot_join_says_why(rep, kind, why):
    got = check(rep)
    assert got is not None and got[0] == kind and why in got[1]


def test_a_forged_signer_field_does_not_verify():
    rep = signed(0)
    forged = reports.SignedReport(SET[1], rep.observed_at, rep.deadline, rep.words, rep.r, rep.vs, rep.meta)
    assert check(forged)[0] == "invalid"


# --- outlier rejection ---------------------------------------------------------------------------------


def select(reps, prefer=None):
    kept, left = reports.select_agreeing(reps, MAX_DISAGREEMENT, prefer=prefer)
    return sorted(r.signer for r in kept), left


def test_honest_keepers_disagreeing_slightly_are_all_kept():
    reps = [signed(0), signed(1, price=PRICE * 1_003 // 1_000, sigma=SIGMA * 11 // 10),
            signed(2, price=PRICE * 998 // 1_000, depth=DEPTH * 9 // 10)]  # fmt: skip
    kept, left = select(reps)
    assert kept == sorted(SET[:3]) and left == {}


@pytest.mark.parametrize(
    "attack",
    [
        {"price": PRICE * 100},  # the collateral at x100: borrow everything
        {"price": PRICE // 100},  # x0.01: liquidate everyone
        {"sigma": model.MIN_SIGMA},  # sigma at its minimum: lowest haircuts
        {"depth": DEPTH * 1_000},  # depth x1000: no liquidity term
    ],
)
def test_one_compromised_signer_is_left_out(attack):
    reps = [signed(0), signed(1, price=PRICE * 1_002 // 1_000), signed(2, **attack)]
    kept, left = select(reps, prefer=SET[0])
    assert kept == sorted(SET[:2]) and list(left) == [SET[2]]
    # what the oracle would take from the two honest reports is theirs
    agg = model.aggregate([model.unpack_words(list(r.words))[0] for r in reps[:2]])
    assert agg.price == model.round_price(PRICE) and agg.sigma == SIGMA


def test_with_two_reports_the_judges_own_breaks_the_tie():
    honest, attacker = signed(0), signed(2, price=PRICE * 100)
    kept, left = select([honest, attacker], prefer=SET[0])
    assert kept == [SET[0]] and list(left) == [SET[2]]  # one report: below a quorum of 2, nothing is relayed
    kept, left = select([honest, attacker], prefer=SET[2])  # the attacker, judging, keeps itself
    assert kept == [SET[2]]


def test_a_batch_never_exceeds_the_oracles_spread_bound():
    """Four reports, each within 2.5% of the judge's reference (its own 2,000 breaks the even count's
    tie), but the oracle's median of four is the lower middle (1,952), and (2,049.8 - 1,950.2) / 1,952
    is 5.1%: the report furthest from the reference goes, and what is left passes the oracle's bound."""
    reps = [signed(0, price=PRICE * 9_751 // 10_000), signed(1, price=PRICE * 976 // 1_000), signed(2),
            signed(3, price=PRICE * 10_249 // 10_000)]  # fmt: skip
    halves = [model.unpack_words(list(r.words))[0] for r in reps]
    assert model.aggregate(halves).spread > MAX_DISAGREEMENT
    kept, left = reports.select_agreeing(reps, MAX_DISAGREEMENT, prefer=SET[2])
    assert len(kept) == 3 and list(left) == [SET[0]] and "spread" in left[SET[0]]
    halves = [model.unpack_words(list(r.words))[0] for r in kept]
    assert model.aggregate(halves).spread <= MAX_DISAGREEMENT


def test_the_batch_is_capped_by_the_oracles_word_limit():
    assets = tuple(range(1, 65))  # 32 words per report: 5 reports fill 160 words
    reps = [reports.sign(k, CHAIN_ID, ORACLE, AT, DEADLINE, words(assets=assets)) for k in KEYS]
    extra = reports.sign(keccak(text="sixth"), CHAIN_ID, ORACLE, AT, DEADLINE, words(assets=assets))
    kept, left = reports.select_agreeing([*reps, extra], MAX_DISAGREEMENT)
    assert len(kept) == 5 and len(left) == 1 and "more reports than one batch holds" in next(iter(left.values()))
