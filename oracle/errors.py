"""The user-facing error type, at the bottom of the house: every layer (sources, chain, keeper, deploy,
scripts, CLI) raises it without importing the command-line layer it sits under."""

from __future__ import annotations

import click


class BallastError(click.ClickException):
    """A failure the user can cause and fix: printed as one line `ballast: error: ...`, exit code 1."""

    def show(self, file=None):
        click.echo(f"ballast: error: {self.format_message()}", err=True)
