"""Constants and helpers shared by the RiskOracle tests (imported by module name: pytest puts this
directory on sys.path because the test directories are not packages)."""

from oracle import model

WAD = model.WAD
HOUR = model.HOUR
SIGMA_UNIT = model.SIGMA_UNIT

# Default metrics of a first post: price 2,000 WAD, depth 1e12 raw units, sigma 0.8 WAD.
PRICE = 2_000 * WAD
DEPTH = 10**12
SIGMA = 8 * WAD // 10


def advance(chain, seconds):
    """Move the next block's timestamp forward by `seconds`."""
    chain.pending_timestamp += seconds


def pin_next_block(chain, ahead=1):
    """Fix the next block's timestamp (`ahead` seconds past the pending one) and return it. Tests at
    an exact time bound need this: on anvil the pending timestamp follows the wall clock, so a
    transaction sent after reading it may land one second later."""
    ts = chain.pending_timestamp + ahead
    chain.pending_timestamp = ts
    return ts
