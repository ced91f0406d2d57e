"""Ballast off-chain: risk keeper, analytics and the `ballast` command."""

__version__ = "0.1.0"
