"""The one account loader of every command: `ballast keeper`, `ballast bot`, `ape run deploy`,
`ape run configure` (STYLE: one way to load an account).

- `TEST::N` (or `test:N`) is ape's test account N, on local networks and local forks only;
- any other alias is an ape account (`ape accounts generate/import ALIAS`). A keystore account is
  unlocked with the passphrase from `BALLAST_PASSPHRASE` or ape's own `APE_ACCOUNTS_<alias>_PASSPHRASE`
  and set to autosign, so that nothing ever waits at a `Sign: [y/N]` prompt: the commands run
  unattended (a service, CI, a cron job). Without a passphrase in the environment the command stops at
  once with one line, never at a prompt halfway through a deployment.

Every fault the user can cause (unknown alias, test account on a live network, no passphrase, a wrong
one) is a `BallastError`: one line, exit code 1.
"""

from __future__ import annotations

import os

from oracle.errors import BallastError

PASSPHRASE_ENV = "BALLAST_PASSPHRASE"
TEST_PREFIXES = ("TEST::", "test::", "test:")


def is_local_network(name: str) -> bool:
    """Local chains and local forks: where test accounts exist (`local`, `sepolia-fork`, ...)."""
    return name == "local" or name.endswith("-fork")


def parse_test_alias(alias: str) -> int | None:
    """N for `TEST::N` / `test:N`, else None."""
    for prefix in TEST_PREFIXES:
        if alias.startswith(prefix) and alias[len(prefix) :].isdigit():
            return int(alias[len(prefix) :])
    return None



def passphrase_for(alias: str) -> str | None:
    """The passphrase of a keystore account from the environment (ours first, then ape's)."""
    return os.environ.get(PASSPHRASE_ENV) or os.environ.get(f"APE_ACCOUNTS_{alias}_PASSPHRASE")


def _test_account(alias: str, local: bool, network: str):
    """The ape test account `TEST::N` names, or None when `alias` is not of that form; one line when it
    is used off a local network or does not exist."""
    from ape import accounts
    from ape.exceptions import ApeException

    index = parse_test_alias(alias)
    if index is None:
        return None
    if not local:
        raise BallastError(f"test account '{alias}' is only for local networks, not '{network}'")
    try:
        return accounts.test_accounts[index]
    except (IndexError, ApeException):
        raise BallastError(f"no test account {alias}") from None


def load_account(alias: str | None, *, local: bool, network: str = "this network"):
    """An ape account ready to sign unattended.

    `alias` None means test account 0 on a local network and is an error on a live one. `network` only
    names the network in messages."""
    from ape import accounts
    from ape.exceptions import ApeException

    if alias is None:
        if local:
            return accounts.test_accounts[0]
        raise BallastError(f"--account is required on {network} (see `ape accounts list`)")
    test = _test_account(alias, local, network)
    if test is not None:
        return test
    if alias.upper().startswith("TEST:"):
        raise BallastError(f"bad test account '{alias}' (expected TEST::N)")
    try:
        account = accounts.load(alias)
    except (KeyError, ValueError):
        raise BallastError(
            f"no ape account named '{alias}' (create one with `ape accounts generate {alias}` "
            "or `ape accounts import`; see `ape accounts list`)"
        ) from None
    if not hasattr(account, "set_autosign"):
        return account  # a plugin's account (hardware wallet, ...) signs its own way
    passphrase = passphrase_for(alias)
    if not passphrase:
        raise BallastError(
            f"account '{alias}' is locked: set {PASSPHRASE_ENV} or APE_ACCOUNTS_{alias}_PASSPHRASE"
        )
    try:
        account.set_autosign(True, passphrase=passphrase)
    except (ApeException, ValueError) as exc:  # InvalidPasswordError, AccountsError
        raise BallastError(f"cannot unlock account '{alias}': {type(exc).__name__}") from None
    return account


def address_of(name: str, *, local: bool = True) -> str:
    """The address `name` stands for: an address as is (checksummed), `TEST::N` (local networks only), or
    an ape account alias (its keyfile names the address: nothing is unlocked). So configs and commands
    may say `keeper1` instead of copying its address around."""
    from web3 import Web3

    name = str(name).strip()
    if Web3.is_address(name):
        return Web3.to_checksum_address(name)
    if name.lower().startswith("0x"):
        raise BallastError(f"'{name}' is not an address")
    from ape import accounts

    test = _test_account(name, local, "this network")
    if test is not None:
        return test.address
    try:
        return accounts.load(name).address
    except (KeyError, ValueError):
        raise BallastError(
            f"'{name}' is neither an address nor an ape account (see `ape accounts list`)"
        ) from None
