# pragma version ~=0.4.3
"""
@title Mock ERC-20 (tests only)
@notice Plain token with a public `mint` and configurable decimals.
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


@internal
def _move(owner: address, to: address, amount: uint256):
    """
    @dev Move balance.
    """
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount
    log Transfer(sender=owner, receiver=to, value=amount)
