"""Ballast off-chain: risk keeper, analytics and the `ballast` command."""

__version__ = "0.1.0"

import warnings

# ape's settings model emits this at import on every command; it is about ape's own config schema
warnings.filterwarnings("ignore", message="Field 'import_remapping' has an incomplete definition")
