"""`llmpath doctor`: check the database and the roadmap, and say what was found."""

from __future__ import annotations

import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from llmpath import paths, queries
from llmpath.migrations import DATABASE_VERSION


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    detail: str
    warning: bool = False  # worth knowing, not a failure


def run_checks(db_file: Path, roadmap_file: Path) -> list[Finding]:
    """Read-only checks, each independent: one failing does not hide the others."""
    findings: list[Finding] = []
    if not db_file.exists():
        findings.append(Finding("database", True, f"{db_file} does not exist yet (created on first use)"))
    else:
        findings += _database_checks(db_file)
    findings.append(_roadmap_check(roadmap_file))
    folder = paths.data_dir()
    if folder.exists():
        mode = stat.S_IMODE(folder.stat().st_mode)
        findings.append(
            Finding(
                "privacy",
                mode & 0o077 == 0,
                f"{folder} is mode {mode:03o}" + ("" if mode & 0o077 == 0 else " (others can read it)"),
                warning=True,
            )
        )
    return findings


def _database_checks(db_file: Path) -> list[Finding]:
    findings = []
    try:
        conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return [Finding("database", False, f"cannot open {db_file}: {exc}")]
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
        ok = result == [("ok",)]
        detail = "integrity check passed" if ok else "; ".join(r[0] for r in result[:3])
        findings.append(Finding("integrity", ok, f"{db_file}: {detail}"))
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        findings.append(
            Finding(
                "schema",
                version <= DATABASE_VERSION,
                f"schema version {version} (this llmpath: {DATABASE_VERSION})"
                + (" — written by a newer llmpath" if version > DATABASE_VERSION else ""),
            )
        )
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        findings.append(Finding("journal", journal == "wal", f"journal mode {journal}", warning=True))
        if version >= 1:
            orphans = conn.execute(queries.ORPHANED_PROGRESS, {"roadmap_id": None}).fetchall()
            listed = ", ".join(f"{r}/{t} ({s})" for r, t, s in orphans[:5])
            findings.append(
                Finding(
                    "orphans",
                    not orphans,
                    f"progress kept on {len(orphans)} topic(s) no longer in their roadmap: {listed}"
                    if orphans
                    else "no orphaned progress",
                    warning=True,
                )
            )
    except sqlite3.DatabaseError as exc:
        findings.append(Finding("integrity", False, f"{db_file} is damaged: {exc}"))
    finally:
        conn.close()
    return findings


def _roadmap_check(roadmap_file: Path) -> Finding:
    from llmpath.errors import RoadmapError
    from llmpath.roadmap import load_roadmap

    try:
        roadmap = load_roadmap(roadmap_file)
    except RoadmapError as exc:
        first = exc.problems[0].format(str(roadmap_file))
        more = f" (+{len(exc.problems) - 1} more; see `llmpath validate`)" if len(exc.problems) > 1 else ""
        return Finding("roadmap", False, first + more)
    return Finding(
        "roadmap",
        True,
        f"{roadmap_file}: '{roadmap.id}' is valid "
        f"({len(roadmap.topics())} topics, {len(roadmap.phases)} phases)",
    )
