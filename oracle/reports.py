"""Signed reports for RiskOracle (EIP-712), and the batches a relayer sends.

Each keeper operator signs its own report: `Report(uint256 observedAt,uint256 deadline,uint256[] updates)`
under the domain `("Ballast RiskOracle", "1", chainId, oracle)`, where `updates` are its report words
(`oracle.model.pack_report`: two assets per word). A relayer (anyone) combines the reports of
one round, signed for the same observation time, deadline and assets, into one `RiskOracle.post`:

    post(observed_at, deadline, signer_ids, signatures, words)

with the signers' words one after the other, two words per signature (r, and EIP-2098 `vs` = s with the
parity of y in the top bit) and each signer's index in the oracle's signer set in 8 bits of
`signer_ids`. The digest here is computed by hand and checked against eth_account's EIP-712 encoder in
the tests, so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from oracle import model

DOMAIN_NAME = "Ballast RiskOracle"
DOMAIN_VERSION = "1"
REPORT_TYPE = "Report(uint256 observedAt,uint256 deadline,uint256[] updates)"
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
REPORT_TYPEHASH = keccak(text=REPORT_TYPE)
DOMAIN_TYPEHASH = keccak(text=DOMAIN_TYPE)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
POST_SIGNATURE = "post(uint256,uint256,uint256,uint256[],uint256[])"
POST_SELECTOR = keccak(text=POST_SIGNATURE)[:4]
MAX_SIGNERS = 16


def report_assets(words) -> list[int]:
    """The asset ids a report's words cover, in order."""
    return [h >> model.HALF_ID_SHIFT for h in model.unpack_words(list(words))]


def domain_separator(chain_id: int, oracle: str) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPEHASH, keccak(text=DOMAIN_NAME), keccak(text=DOMAIN_VERSION), chain_id,
             to_checksum_address(oracle)],
        )
    )  # fmt: skip


def struct_hash(observed_at: int, deadline: int, words: list[int]) -> bytes:
    updates = keccak(b"".join(w.to_bytes(32, "big") for w in words))
    return keccak(abi_encode(["bytes32", "uint256", "uint256", "bytes32"], [REPORT_TYPEHASH, observed_at, deadline, updates]))


def digest(chain_id: int, oracle: str, observed_at: int, deadline: int, words: list[int]) -> bytes:
    """The EIP-712 digest a signer signs (and the oracle recovers from)."""
    return keccak(b"\x19\x01" + domain_separator(chain_id, oracle) + struct_hash(observed_at, deadline, words))


def typed_data(chain_id: int, oracle: str, observed_at: int, deadline: int, words: list[int]) -> dict:
    """The same report as EIP-712 typed data (what a wallet or `eth_account` signs)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Report": [
                {"name": "observedAt", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
                {"name": "updates", "type": "uint256[]"},
            ],
        },
        "primaryType": "Report",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id,
                   "verifyingContract": to_checksum_address(oracle)},
        "message": {"observedAt": observed_at, "deadline": deadline, "updates": list(words)},
    }  # fmt: skip


def compact(v: int, r: int, s: int) -> tuple[int, int]:
    """EIP-2098: (r, vs) from (v, r, s); s is normalised to the lower half of the curve order."""
    parity = v - 27 if v >= 27 else v
    if s > SECP256K1_N // 2:
        s, parity = SECP256K1_N - s, 1 - parity
    return r, (parity << 255) | s


def recover(digest_: bytes, r: int, vs: int) -> str | None:
    """The address that signed `digest_` with the compact signature (r, vs), or None."""
    s = vs & (2**255 - 1)
    try:
        sig = keys.Signature(vrs=(vs >> 255, r, s))
        return sig.recover_public_key_from_msg_hash(digest_).to_checksum_address()
    except Exception:  # noqa: BLE001 - any malformed signature recovers nobody
        return None


@dataclass(frozen=True)
class SignedReport:
    """One signer's report for one round."""

    signer: str
    observed_at: int
    deadline: int
    words: tuple[int, ...]
    r: int
    vs: int
    meta: dict = field(default_factory=dict, compare=False)  # what the signer wants its peers to know

    def digest(self, chain_id: int, oracle: str) -> bytes:
        return digest(chain_id, oracle, self.observed_at, self.deadline, list(self.words))

    def verify(self, chain_id: int, oracle: str) -> bool:
        """The signature is the signer's, for this chain and this oracle."""
        who = recover(self.digest(chain_id, oracle), self.r, self.vs)
        return who is not None and who.lower() == self.signer.lower()

    def to_json(self) -> dict:
        return {"signer": self.signer, "observed_at": self.observed_at, "deadline": self.deadline,
                "words": [hex(w) for w in self.words], "r": hex(self.r), "vs": hex(self.vs),
                "meta": self.meta}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict) -> SignedReport:
        """Parse a peer's JSON; raises ValueError on anything malformed."""
        try:
            return cls(
                signer=to_checksum_address(data["signer"]),
                observed_at=int(data["observed_at"]),
                deadline=int(data["deadline"]),
                words=tuple(int(w, 16) if isinstance(w, str) else int(w) for w in data["words"]),
                r=int(data["r"], 16) if isinstance(data["r"], str) else int(data["r"]),
                vs=int(data["vs"], 16) if isinstance(data["vs"], str) else int(data["vs"]),
                meta=dict(data.get("meta") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed report: {exc}") from None


def sign(signer, chain_id: int, oracle: str, observed_at: int, deadline: int, words: list[int],
         meta: dict | None = None) -> SignedReport:  # fmt: skip
    """Sign a report with a private key (hex or bytes), an eth_account LocalAccount, or an ape account
    (`sign_message` of the EIP-712 message; a keystore account must be unlocked with autosign)."""
    message = encode_typed_data(full_message=typed_data(chain_id, oracle, observed_at, deadline, words))
    if isinstance(signer, (str, bytes)):
        signer = Account.from_key(signer)
    if hasattr(signer, "sign_message") and hasattr(signer, "key"):  # eth_account LocalAccount
        signed = signer.sign_message(message)
        v, r, s = signed.v, signed.r, signed.s
    else:  # an ape account
        sig = signer.sign_message(message)
        if sig is None:
            raise ValueError(f"account {signer.address} refused to sign the report")
        v, r, s = sig.v, int.from_bytes(bytes(sig.r), "big"), int.from_bytes(bytes(sig.s), "big")
    r, vs = compact(v, r, s)
    return SignedReport(to_checksum_address(signer.address), observed_at, deadline, tuple(words), r, vs,
                        dict(meta or {}))  # fmt: skip


@dataclass(frozen=True)
class Batch:
    """The arguments of one `RiskOracle.post`."""

    observed_at: int
    deadline: int
    words: list[int]
    signatures: list[int]
    signer_ids: int
    signers: list[str]

    @property
    def args(self) -> tuple:
        return self.observed_at, self.deadline, self.signer_ids, self.signatures, self.words

    def calldata(self) -> bytes:
        return POST_SELECTOR + abi_encode(["uint256", "uint256", "uint256", "uint256[]", "uint256[]"],
                                          list(self.args))  # fmt: skip


def build_batch(reports: list[SignedReport], signer_set: list[str]) -> Batch:
    """One post from reports of the same round (same observation time, deadline and assets), ordered by
    the signers' indexes in the oracle's `signer_set`. Raises ValueError if they cannot be combined."""
    if not reports:
        raise ValueError("no reports")
    index = {a.lower(): i for i, a in enumerate(signer_set)}
    first = reports[0]
    assets = report_assets(first.words)
    seen: set[int] = set()
    ordered = []
    for rep in reports:
        if rep.observed_at != first.observed_at or rep.deadline != first.deadline:
            raise ValueError(f"report of {rep.signer} is for another round")
        if report_assets(rep.words) != assets:
            raise ValueError(f"report of {rep.signer} covers other assets")
        i = index.get(rep.signer.lower())
        if i is None:
            raise ValueError(f"{rep.signer} is not a signer of the oracle")
        if i in seen:
            raise ValueError(f"two reports of {rep.signer}")
        seen.add(i)
        ordered.append((i, rep))
    ordered.sort(key=lambda x: x[0])
    words: list[int] = []
    signatures: list[int] = []
    ids = 0
    for k, (i, rep) in enumerate(ordered):
        words.extend(rep.words)
        signatures.extend([rep.r, rep.vs])
        ids |= i << (8 * k)
    return Batch(first.observed_at, first.deadline, words, signatures, ids, [rep.signer for _, rep in ordered])


# --- keeper side: which reports can go into one batch (pure) ------------------------------------------

MAX_WORDS = 160  # RiskOracle.post takes at most this many words (signers x words per report)
INVALID, MISMATCH, OUTLIER = "invalid", "mismatch", "outlier"  # the fault kinds of `check_report`


def report_values(report: SignedReport) -> dict[int, tuple[int, int, int]]:
    """asset_id -> (price at PRICE_SCALE, depth in raw units, sigma WAD) as the report carries them."""
    out = {}
    for half in model.unpack_words(list(report.words)):
        aid, price, depth, sigma = model.unpack_half(half)
        out[aid] = (price, depth, sigma)
    return out


def check_report(report: SignedReport, chain_id: int, oracle: str, signers: list[str], observed_at: int,
                 deadline: int, assets: list[int] | None = None,
                 base: dict | None = None) -> tuple[str, str] | None:  # fmt: skip
    """Why `report` cannot join this round's batch, as (fault kind, detail), or None when it can:
    `invalid` when its signature is not its signer's for this chain and oracle, or its signer is not in
    the oracle's `signers`; `mismatch` when it is for another round (observation time or deadline), other
    assets, or says it was clipped against another on-chain state (`meta["base"]`, the stored observation
    times per asset; unsigned, so it only ever excludes)."""
    if not report.verify(chain_id, oracle):
        return INVALID, f"signature is not {report.signer}'s for chain {chain_id} and oracle {oracle}"
    if report.signer.lower() not in {s.lower() for s in signers}:
        return INVALID, f"{report.signer} is not a signer of the oracle"
    if report.observed_at != observed_at or report.deadline != deadline:
        return MISMATCH, (
            f"signed for observed_at {report.observed_at} deadline {report.deadline}, "
            f"not {observed_at} {deadline}"
        )
    try:
        theirs = report_assets(report.words)
    except (ValueError, AssertionError) as exc:
        return INVALID, f"malformed words ({exc})"
    if assets is not None and theirs != list(assets):
        return MISMATCH, f"covers assets {theirs}, not {list(assets)}"
    if base is not None:
        claimed = report.meta.get("base")
        want = {str(k): int(v) for k, v in base.items()}
        if not isinstance(claimed, dict) or {str(k): _int_or_none(v) for k, v in claimed.items()} != want:
            return MISMATCH, f"clipped against base {claimed}, not {want}"
    return None


def _int_or_none(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _reference(values: list[int], preferred: int | None) -> int:
    """The median of `values`; with an even count the `preferred` value (the judge's own) breaks the tie."""
    pool = sorted(values + ([preferred] if preferred is not None and len(values) % 2 == 0 else []))
    if len(pool) % 2 == 0:  # even and nothing preferred: the lower middle
        return pool[len(pool) // 2 - 1]
    return pool[len(pool) // 2]


def select_agreeing(reports: list[SignedReport], max_disagreement: int, max_ratio: float = 2.0,
                    prefer: str | None = None, max_words: int = MAX_WORDS,
                    max_signers: int = MAX_SIGNERS) -> tuple[list[SignedReport], dict[str, str]]:  # fmt: skip
    """Outlier rejection among reports of one round for the same assets. Returns (the reports that agree,
    {signer: why it was left out}).

    Per asset, the reference of each field is the median over all the reports (with an even count, the
    report of `prefer`, the judge's own signer, breaks the tie). A report is an outlier when, for any
    asset, its price lies further than `max_disagreement / 2` (WAD, the oracle's bound on the spread of
    a batch) from the reference price, or its sigma or depth lies beyond a factor `max_ratio` of the
    reference. The oracle's own check then runs on what is left (`model.aggregate`: the spread of the
    prices must be at most `max_disagreement`); while it fails, the report furthest from the reference
    price goes. At most `max_signers` reports, and their words within `max_words`: the closest first."""
    if not reports:
        return [], {}
    values = {rep.signer: report_values(rep) for rep in reports}
    assets = list(next(iter(values.values())))
    own = values.get(prefer) if prefer else None
    refs: dict[int, tuple[int, int, int]] = {}
    for aid in assets:
        refs[aid] = tuple(  # type: ignore[assignment]
            _reference([v[aid][f] for v in values.values()], own[aid][f] if own else None) for f in range(3)
        )
    half = max_disagreement / 2 / model.WAD
    left_out: dict[str, str] = {}
    distance: dict[str, float] = {}
    for rep in reports:
        worst = 0.0
        for aid in assets:
            price, depth, sigma = values[rep.signer][aid]
            ref_p, ref_d, ref_s = refs[aid]
            dev = abs(price - ref_p) / ref_p if ref_p else float("inf")
            worst = max(worst, dev)
            if dev > half:
                left_out[rep.signer] = f"asset {aid}: price {dev:.2%} from the median (limit {half:.2%})"
                break
            for name, mine, ref in (("sigma", sigma, ref_s), ("depth", depth, ref_d)):
                if ref > 0 and not (ref / max_ratio <= mine <= ref * max_ratio):
                    why = f"asset {aid}: {name} {mine / ref:.3g}x the median (limit {max_ratio:g}x)"
                    left_out[rep.signer] = why
                    break
            if rep.signer in left_out:
                break
        distance[rep.signer] = worst
    kept = sorted((r for r in reports if r.signer not in left_out), key=lambda r: distance[r.signer])
    wps = len(next(iter(reports)).words)
    limit = min(max_signers, max_words // wps if wps else max_signers)
    for rep in kept[limit:]:
        left_out[rep.signer] = f"more reports than one batch holds ({limit})"
    kept = kept[:limit]
    while len(kept) > 1:
        bad = _spread_too_wide(kept, max_disagreement)
        if bad is None:
            break
        aid = bad
        far = max(kept, key=lambda r: abs(values[r.signer][aid][0] - refs[aid][0]))
        left_out[far.signer] = f"asset {aid}: the batch's price spread would exceed the oracle's bound"
        kept.remove(far)
    return kept, left_out


def _spread_too_wide(kept: list[SignedReport], max_disagreement: int) -> int | None:
    """The first asset whose medians RiskOracle would refuse for their spread, or None."""
    halves = [model.unpack_words(list(r.words)) for r in kept]
    for i in range(len(halves[0])):
        agg = model.aggregate([h[i] for h in halves])
        if agg.spread > max_disagreement:
            return agg.asset_id
    return None
