"""MarketFactory.__init__ and the Market constructor's own checks. Reverting deployments are checked
with a plain eth_call of the init code, which reports the revert reason without ape's error enrichment."""

import pytest
from eth_abi import encode
from web3.exceptions import ContractLogicError

ZERO = "0x0000000000000000000000000000000000000000"
MARKET_ARGS = ["address", "address", "address", "uint256", "address", "string", "string"]


def deploy_reverts(chain, container, types, args, sender, message):
    init = container.contract_type.deployment_bytecode.bytecode
    data = bytes.fromhex(init[2:]) + encode(types, args)
    with pytest.raises(ContractLogicError) as info:
        chain.provider.web3.eth.call({"from": sender.address, "data": data})
    assert message in str(info.value)


def test_factory_constructor(factory, blueprint, risk_oracle, feed_check, admin):
    assert factory.MARKET_BLUEPRINT() == blueprint
    assert factory.ORACLE() == risk_oracle.address
    assert factory.FEED_CHECK() == feed_check.address
    assert factory.owner() == admin.address
    assert factory.num_markets() == 0


def test_factory_constructor_zero_address_reverts(project, chain, admin, blueprint):
    types = ["address", "address", "address"]
    for args in ([blueprint, ZERO, blueprint], [ZERO, blueprint, blueprint], [blueprint, blueprint, ZERO]):
        deploy_reverts(chain, project.MarketFactory, types, args, admin, "factory: zero address")


def test_market_constructor_checks(project, chain, admin, factory, loan_token, coll_token, risk_oracle):
    def args(loan, coll, asset_id):
        return [
            loan.address,
            coll.address,
            risk_oracle.address,
            asset_id,
            admin.address,
            "n",
            "s",
        ]

    deploy_reverts(
        chain, project.Market, MARKET_ARGS, args(loan_token, loan_token, 1), admin, "market: same token"
    )
    deploy_reverts(
        chain, project.Market, MARKET_ARGS, args(loan_token, coll_token, 0), admin, "market: zero asset id"
    )
    # deployed by an account (not a factory) the market cannot ask for its feed checker: it reverts
    with pytest.raises(ContractLogicError):
        chain.provider.web3.eth.call(
            {
                "from": admin.address,
                "data": bytes.fromhex(project.Market.contract_type.deployment_bytecode.bytecode[2:])
                + encode(MARKET_ARGS, args(loan_token, coll_token, 1)),
            }
        )


def test_initialize_only_by_the_factory_and_once(create_market, loan_token, coll_token, admin, attacker):
    import ape
    from market_fixtures import rate_tuple, risk_tuple

    m = create_market(loan_token, coll_token)
    for who, msg in [(attacker, "market: not the factory"), (admin, "market: not the factory")]:
        with ape.reverts(msg):
            m.initialize(risk_tuple(), rate_tuple(), sender=who)
