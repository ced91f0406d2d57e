# pragma version ~=0.4.3
"""
@title Mock Chainlink-compatible price feed (tests only)
@notice `latestRoundData` and `decimals` as an AggregatorV3 answers them, every field settable, and a
        switch that makes `latestRoundData` revert (a feed that is down).
"""

# @dev Decimals of the answer.
decimals: public(uint8)
# @dev The round returned by latestRoundData.
round_id: public(uint80)
answer: public(int256)
started_at: public(uint256)
updated_at: public(uint256)
answered_in_round: public(uint80)
# @dev latestRoundData reverts while set.
broken: public(bool)


@deploy
def __init__(decimals_: uint8):
    """
    @notice A feed with `decimals_` decimals and no answer yet.
    """
    self.decimals = decimals_


@external
def set_answer(answer: int256, updated_at: uint256):
    """
    @notice A new complete round with this answer.
    """
    self.round_id += 1
    self.answer = answer
    self.started_at = updated_at
    self.updated_at = updated_at
    self.answered_in_round = self.round_id


@external
def set_round(round_id: uint80, answer: int256, started_at: uint256, updated_at: uint256, answered_in_round: uint80):
    """
    @notice Any round, consistent or not.
    """
    self.round_id = round_id
    self.answer = answer
    self.started_at = started_at
    self.updated_at = updated_at
    self.answered_in_round = answered_in_round


@external
def set_broken(broken: bool):
    """
    @notice Make latestRoundData revert (or work again).
    """
    self.broken = broken


@external
@view
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    """
    @notice The current round, as AggregatorV3Interface.
    """
    assert not self.broken, "feed: down"
    return self.round_id, self.answer, self.started_at, self.updated_at, self.answered_in_round
