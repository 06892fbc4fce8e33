"""The floor for `llmpath next`, `status`, `show` and `done`: the unavoidable cost of llmpath's stack.

    python benchmarks/floor_db.py FILE.db

A one-command Typer app that imports SQLModel, defines one small table, opens the SQLite file (creating
the table with a few rows if missing), runs one SELECT and prints the rows as a Rich table. Starting
Python and importing Typer, SQLModel (so SQLAlchemy and pydantic) and Rich is most of a data command's
time; anything llmpath adds on top is its own overhead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Field, Session, SQLModel, create_engine, select


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    hours: float


app = typer.Typer()


@app.command()
def main(database: Annotated[Path, typer.Argument(help="SQLite file (created if missing).")]) -> None:
    """Print the rows of a small table."""
    engine = create_engine(f"sqlite:///{database}")
    SQLModel.metadata.create_all(engine)  # checks for the table; creates it only the first time
    with Session(engine) as session:
        rows = session.exec(select(Item)).all()
        if not rows:
            session.add_all(Item(title=f"Topic {i}", hours=float(i)) for i in range(1, 6))
            session.commit()
            rows = session.exec(select(Item)).all()
        table = Table("Id", "Title", "Hours")
        for row in rows:
            table.add_row(str(row.id), row.title, f"{row.hours:.0f} h")
    Console().print(table)


if __name__ == "__main__":
    app()
