# pragma version ~=0.4.3
"""
@title Mock ERC-20 for pool tests (tests and demo only)
@notice snekmate's ERC-20 with the deployer as minter; tests mint balances
        for the actors that trade against `ConstantProductPool`.
@custom:security Test token: anyone holding the minter role (the deployer)
        mints at will. Never deploy outside a test or a local demo.
"""

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: erc20.__interface__


@deploy
def __init__(name_: String[25], symbol_: String[5], decimals_: uint8):
    """
    @notice Deploys the token; the deployer becomes owner and minter.
    @param name_ Token name.
    @param symbol_ Token symbol.
    @param decimals_ Decimal places.
    """
    ownable.__init__()
    erc20.__init__(name_, symbol_, decimals_, name_, "1")
