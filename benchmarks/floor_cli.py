"""The floor for `llmpath --help`, `llmpath --version` and Tab completion: the smallest Typer program.

    python benchmarks/floor_cli.py --help

One command with one option. Whatever it costs (starting Python, importing Typer, rendering help) no
Typer CLI can avoid, so llmpath's cheap paths are measured against it.
"""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer()


@app.command()
def main(name: Annotated[str, typer.Option(help="Who to greet.")] = "world") -> None:
    """Greet someone."""
    typer.echo(f"hello {name}")


if __name__ == "__main__":
    app()
