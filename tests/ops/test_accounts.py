"""oracle.accounts: the one account loader (keystore accounts end to end: tests/integration/
test_operator_deploy.py, in a temporary ape data folder)."""

import pytest

from oracle.accounts import address_of, is_local_network, load_account, parse_test_alias
from oracle.errors import BallastError


def test_test_aliases():
    assert parse_test_alias("TEST::3") == 3 and parse_test_alias("test:0") == 0
    assert parse_test_alias("TEST::x") is None and parse_test_alias("deployer") is None


def test_local_networks():
    assert is_local_network("local") and is_local_network("sepolia-fork")
    assert not is_local_network("sepolia") and not is_local_network("mainnet")


def test_test_account_on_a_local_network(accounts):
    assert load_account("TEST::1", local=True).address == accounts[1].address
    assert load_account(None, local=True).address == accounts[0].address  # deploy's default


@pytest.mark.parametrize(
    "alias, message",
    [
        ("TEST::1", "test account 'TEST::1' is only for local networks, not 'ethereum:sepolia'"),
        (None, "--account is required on ethereum:sepolia"),
    ],
)
def test_refused_on_a_live_network(alias, message):
    with pytest.raises(BallastError) as info:
        load_account(alias, local=False, network="ethereum:sepolia")
    assert info.value.format_message().startswith(message)


@pytest.mark.parametrize(
    "alias, message",
    [
        ("TEST::99999", "no test account TEST::99999"),
        ("TEST:one", "bad test account 'TEST:one'"),
        ("no-such-alias", "no ape account named 'no-such-alias'"),
    ],
)
def test_unknown_accounts_are_one_line(alias, message):
    with pytest.raises(BallastError) as info:
        load_account(alias, local=True)
    text = info.value.format_message()
    assert text.startswith(message) and "\n" not in text


def test_address_of_names_addresses_test_accounts_and_aliases(accounts):
    checksummed = accounts[2].address
    assert address_of(checksummed.lower()) == checksummed
    assert address_of("TEST::2") == checksummed
    for name, message in [("0x1234", "'0x1234' is not an address"),
                          ("no-such-alias", "'no-such-alias' is neither an address nor an ape account")]:  # fmt: skip
        with pytest.raises(BallastError, match=message):
            address_of(name)
    with pytest.raises(BallastError, match="only for local networks"):
        address_of("TEST::2", local=False)
