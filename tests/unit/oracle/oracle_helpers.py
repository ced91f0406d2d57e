"""Constants and helpers shared by the RiskOracle tests (imported by module name: pytest puts this
directory on sys.path because the test directories are not packages)."""

from oracle import model

WAD = model.WAD
HOUR = model.HOUR
SIGMA_UNIT = model.SIGMA_UNIT
G = model.GuardParams()

# Default metrics of a first post: 2,000 USDC (6 decimals) per WETH (18 decimals) at PRICE_SCALE,
# depth 1e12 raw units (1M USDC), sigma 0.8 WAD. All three are exactly representable in a report.
PRICE = model.price_from_human(2_000, 6, 18)
DEPTH = 10**12
SIGMA = 8 * WAD // 10
ZERO = "0x0000000000000000000000000000000000000000"
BOND = WAD // 10


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


def later(chain, at, seconds):
    """Observation time `seconds` after `at`; the next block is no earlier."""
    t = at + seconds
    chain.pending_timestamp = max(chain.pending_timestamp, t)
    return t
