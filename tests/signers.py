"""Test signers of the RiskOracle and a helper that relays signed batches.

Signers are plain keys (they never send transactions: anyone relays a batch), derived from fixed seeds so
that every run signs the same bytes. `relay(oracle, sender, observed_at, deadline, words, signers=...)` has
each listed signer sign `words` (or its own words from `own`) and sends one `RiskOracle.post`."""

from eth_account import Account
from eth_utils import keccak

from oracle import reports

SIGNER_KEYS = [keccak(text=f"ballast-test-signer-{i}") for i in range(16)]
SIGNERS = [Account.from_key(k) for k in SIGNER_KEYS]
SIGNER_ADDRESSES = [a.address for a in SIGNERS]
DEFAULT_SIGNERS = (0, 1, 2)  # the test oracle's set: 3 signers, quorum 2
QUORUM = 2


def signed_batch(oracle, chain_id, observed_at, deadline, words, signers=DEFAULT_SIGNERS, own=None):
    """A Batch where each signer index in `signers` signs `words`, or `own[i]` when given for it."""
    own = own or {}
    reps = [
        reports.sign(SIGNERS[i], chain_id, oracle.address, observed_at, deadline, list(own.get(i, words)))
        for i in signers
    ]
    return reports.build_batch(reps, list(oracle.signers()))


def relay(oracle, sender, observed_at, deadline, words, signers=DEFAULT_SIGNERS, own=None, **tx):
    """Sign with `signers` and send one post from `sender` (any account)."""
    from ape import chain

    batch = signed_batch(oracle, chain.chain_id, observed_at, deadline, words, signers, own)
    return oracle.post(*batch.args, sender=sender, **tx)


def claimed_batch(oracle, chain_id, observed_at, deadline, words, claims, own=None):
    """A Batch built by hand: `claims` is a list of (signer key number, index claimed in the oracle's
    set), so a test can put any key at any index (a removed signer, a stranger); `own[key]` gives a key
    its own words (reports that cover other assets)."""
    own = own or {}
    sigs, all_words, ids = [], [], 0
    for k, (key, index) in enumerate(claims):
        rep = reports.sign(SIGNERS[key], chain_id, oracle.address, observed_at, deadline, list(own.get(key, words)))
        all_words.extend(rep.words)
        sigs.extend([rep.r, rep.vs])
        ids |= index << (8 * k)
    return reports.Batch(observed_at, deadline, all_words, sigs, ids, [])
