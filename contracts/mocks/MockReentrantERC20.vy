# pragma version ~=0.4.3
"""
@title Mock re-entering ERC-20 (tests only)
@notice When armed, every transfer calls `target` with `payload` in the middle of
        the transfer and records whether that inner call succeeded.
"""

# @dev Token balances (raw units).
balanceOf: public(HashMap[address, uint256])
# @dev Allowances (raw units).
allowance: public(HashMap[address, HashMap[address, uint256]])
# @dev Supply (raw units).
totalSupply: public(uint256)
# @dev Name.
name: public(String[32])
# @dev Symbol.
symbol: public(String[16])
# @dev Decimals.
decimals: public(uint8)
# @dev Contract called back during transfers while armed.
target: public(address)
# @dev Calldata of the callback.
payload: public(Bytes[516])
# @dev Whether the next transfers call back.
armed: public(bool)
# @dev Callbacks attempted.
attempts: public(uint256)
# @dev Callbacks that succeeded (a re-entrancy guard keeps this at zero).
successes: public(uint256)


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


@deploy
def __init__(name_: String[32], symbol_: String[16], decimals_: uint8):
    """
    @notice Set name, symbol, decimals.
    """
    self.name = name_
    self.symbol = symbol_
    self.decimals = decimals_


@external
def mint(to: address, amount: uint256):
    """
    @notice Anyone may mint (tests only).
    """
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log Transfer(sender=empty(address), receiver=to, value=amount)


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Standard approve.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    """
    @notice Standard transfer.
    """
    self._move(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice Standard transferFrom (an unlimited allowance stays unlimited).
    """
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed != max_value(uint256):
        self.allowance[owner][msg.sender] = allowed - amount
    self._move(owner, to, amount)
    return True


@external
def arm(target: address, payload: Bytes[516]):
    """
    @notice Call `target` with `payload` during every following transfer.
    """
    self.target = target
    self.payload = payload
    self.armed = True


@external
def disarm():
    """
    @notice Stop calling back.
    """
    self.armed = False


@internal
def _move(owner: address, to: address, amount: uint256):
    """
    @dev Move balance, then call back (before the caller can finish its own bookkeeping).
    """
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount
    log Transfer(sender=owner, receiver=to, value=amount)
    if self.armed:
        self.armed = False
        self.attempts += 1
        ok: bool = raw_call(self.target, self.payload, revert_on_failure=False)
        if ok:
            self.successes += 1
        self.armed = True
