"""Files llmpath writes for the user behave like any other tool's output (issue 11, problem 13).

`-o -` is standard output; `--force` writes through a symlink and into a FIFO or a device, as shell
redirection, curl and git do; new files follow the umask and a replaced file keeps its mode; the folders
made for LLMPATH_HOME are private whatever the umask. Real symlinks, a real FIFO and /dev/null, no mocks.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmpath import files, store
from llmpath.errors import LlmpathError
from tests.conftest import Cli


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


class FifoReader:
    """Reads a FIFO to its end in a thread, as `cat fifo` in another terminal would."""

    def __init__(self, fifo: Path):
        self.data = b""
        self.thread = threading.Thread(target=self._read, args=(fifo,), daemon=True)
        self.thread.start()

    def _read(self, fifo: Path) -> None:
        with open(fifo, "rb") as handle:  # blocks until a writer opens the other end
            self.data = handle.read()

    def result(self) -> bytes:
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "nothing was written into the FIFO"
        return self.data


# --- -o - -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["markdown", "json"])
def test_export_dash_output_is_stdout(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, format: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    cli("done", "python")
    at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    monkeypatch.setattr(store, "now", lambda: at)  # the JSON export is stamped with the time
    expected = cli("export", "-f", format)
    result = cli("export", "-f", format, "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == expected.stdout and result.stdout
    assert result.stderr == ""  # no "Wrote … export to -"
    assert list(work.iterdir()) == []  # no file named `-`


def test_export_dash_output_ignores_a_file_named_dash(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").write_text("precious\n")
    result = cli("export", "--output", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("# Mini Path\n")
    assert (tmp_path / "-").read_text() == "precious\n"


# --- --force onto symlinks, FIFOs and devices ---------------------------------------------------------


def test_force_onto_a_symlink_writes_the_target(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "real" / "progress.md"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "progress.md"
    link.symlink_to(target)
    result = cli("export", "-o", str(link), "--force")
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("# Mini Path\n")
    assert _mode(target) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["progress.md"]  # no temporary left


def test_force_onto_a_chain_of_relative_symlinks(tmp_path: Path) -> None:
    (tmp_path / "data.json").write_text("old\n")
    (tmp_path / "middle").symlink_to("data.json")
    (tmp_path / "outer").symlink_to("middle")
    files.write_file_atomically(tmp_path / "outer", "new\n", overwrite=True)
    assert os.readlink(tmp_path / "outer") == "middle" and os.readlink(tmp_path / "middle") == "data.json"
    assert (tmp_path / "data.json").read_text() == "new\n"


def test_force_onto_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "out.md"
    link.symlink_to(tmp_path / "elsewhere.md")
    files.write_file_atomically(link, "new\n", overwrite=True)
    assert link.is_symlink()
    assert (tmp_path / "elsewhere.md").read_text() == "new\n"


def test_without_force_a_symlink_is_refused_dangling_or_not(tmp_path: Path) -> None:
    target = tmp_path / "target.md"
    target.write_text("precious\n")
    for name, points_to in (("live", target), ("dangling", tmp_path / "missing.md")):
        link = tmp_path / name
        link.symlink_to(points_to)
        with pytest.raises(LlmpathError, match="already exists"):
            files.write_file_atomically(link, "new\n", overwrite=False)
        assert link.is_symlink()
    assert target.read_text() == "precious\n"
    assert not (tmp_path / "missing.md").exists()


def test_force_onto_a_fifo_writes_into_it(cli: Cli, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    result = cli("export", "-f", "json", "-o", str(fifo), "--force")
    assert result.exit_code == 0, result.stderr
    assert reader.result().decode().startswith('{\n  "format": "llmpath-progress"')
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["llmpath-home", "pipe"]


def test_force_through_a_symlink_to_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    reader = FifoReader(fifo)
    files.write_file_atomically(link, "through\n", overwrite=True)
    assert reader.result() == b"through\n"
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_without_force_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(LlmpathError, match="already exists"):  # would block forever if it opened the FIFO
        files.write_file_atomically(fifo, "x", overwrite=False)


def test_force_onto_a_symlink_to_dev_null(cli: Cli, tmp_path: Path) -> None:
    """A device (here /dev/null) is written into; the symlink to it is not replaced by a file."""
    link = tmp_path / "sink"
    link.symlink_to("/dev/null")
    result = cli("export", "-o", str(link), "--force")
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_force_onto_dev_null_itself(cli: Cli) -> None:
    # Before the fix this replaced /dev/null with a regular file when run as root: do not run it on old code.
    result = cli("export", "-o", "/dev/null", "--force")
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    assert not [p for p in Path("/dev").iterdir() if p.name.startswith(".null.")]


def test_force_onto_a_folder_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(LlmpathError) as caught:
        files.write_file_atomically(tmp_path, "x", overwrite=True)
    assert str(caught.value) == f"cannot write {tmp_path}: it is a folder"


def test_force_onto_a_regular_file_still_replaces_it_atomically(tmp_path: Path) -> None:
    """A new inode renamed into place (a reader with the old file open keeps the old bytes), nothing left."""
    target = tmp_path / "out.md"
    target.write_text("old\n")
    with open(target) as already_open:
        before = os.stat(target).st_ino
        files.write_file_atomically(target, "new\n", overwrite=True)
        assert already_open.read() == "old\n"
    assert os.stat(target).st_ino != before
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]


# --- modes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0, 0o666)])
def test_new_export_follows_the_umask(cli: Cli, tmp_path: Path, mask: int, expected: int) -> None:
    target = tmp_path / "progress.md"
    with umask(mask):
        result = cli("export", "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert _mode(target) == expected


def test_init_and_fork_follow_the_umask(tmp_path: Path) -> None:
    invoke = Cli()
    with umask(0o022):
        assert invoke("init", str(tmp_path / "starter.yaml")).exit_code == 0
        assert invoke("fork", str(tmp_path / "fork.yaml")).exit_code == 0
    assert _mode(tmp_path / "starter.yaml") == 0o644
    assert _mode(tmp_path / "fork.yaml") == 0o644


def test_force_keeps_the_mode_of_the_file_it_replaces(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "progress.md"
    target.write_text("old\n")
    target.chmod(0o644)
    with umask(0o077):
        result = cli("export", "-o", str(target), "--force")
    assert result.exit_code == 0, result.stderr
    assert target.read_text().startswith("# Mini Path\n")
    assert _mode(target) == 0o644


def test_home_and_its_missing_parents_are_private_under_umask_000(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "made" / "for" / "home"
    monkeypatch.setenv("LLMPATH_HOME", str(home))
    tmp_path.chmod(0o755)
    with umask(0):
        result = Cli()("status", "--json")
        exported = tmp_path / "out.json"
        assert Cli()("export", "-f", "json", "-o", str(exported)).exit_code == 0
    assert result.exit_code == 0, result.stderr
    assert [_mode(p) for p in (tmp_path / "made", tmp_path / "made" / "for", home)] == [0o700] * 3
    assert _mode(home / "llmpath.db") == 0o600
    assert _mode(tmp_path) == 0o755  # a folder that was already there is not llmpath's to change
    assert _mode(exported) == 0o666  # the export is the user's file: the umask decides
