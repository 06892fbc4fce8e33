"""A throwaway PostgreSQL server for the tests: one per pytest-xdist worker, started on first use.

`PgServer.launch()` runs `initdb` into a fresh temp folder and starts the server there on a free port,
listening on 127.0.0.1 and on a socket in that folder only. As root (the server refuses root) every server
command runs as the `postgres` system user through `runuser`, in a folder of mode 0777. Settings are for
speed, not safety (`fsync`, `synchronous_commit` and `full_page_writes` off): after a crash-like
`stop("immediate")` the last commits may be gone; a plain `stop()` or `restart()` shuts down cleanly.

Authentication: trust on the socket and on 127.0.0.1, except that a role made with
`create_role(password=...)` (a member of `PASSWORD_GROUP`) must give its password (scram-sha-256) over TCP.

Why not pytest-postgresql: its process fixture cannot switch user, so it fails as root, and its `noproc`
fixtures take host and port when the fixture is declared, before a worker has picked its port; what is left
(create and drop a database per test) is three SQL statements here.

Where the binaries are missing or the server does not start, `launch()` raises `Unavailable` with the
reason (the conftest fixture skips with it, or fails under CI=true). `python tests/pg_server.py` starts a
server, prints what it costs and stops it.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
HOST = "127.0.0.1"
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"  # who runs the server when the tests run as root (the Debian package's user)
PASSWORD_GROUP = "password_login"  # members log in over TCP with a password only
FOLDER_PREFIX = "llmpath-pg-"
FAST = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
HBA = f"""\
# written by tests/pg_server.py
local all all                    trust
host  all +{PASSWORD_GROUP} {HOST}/32 scram-sha-256
host  all all               {HOST}/32 trust
"""


class Unavailable(Exception):
    """Why no PostgreSQL server can run here (a reason to skip, not a failure)."""


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres: `LLMPATH_TEST_PG_BINDIR` (that folder only), else
    `pg_config --bindir`, PATH, the newest /usr/lib/postgresql/*/bin (Debian keeps the server off PATH)."""
    candidates: list[Path] = []
    if explicit := os.environ.get("LLMPATH_TEST_PG_BINDIR"):
        candidates.append(Path(explicit))
    else:
        if pg_config := shutil.which("pg_config"):
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
                if done.returncode == 0 and done.stdout.strip():
                    candidates.append(Path(done.stdout.strip()))
        if initdb := shutil.which("initdb"):
            candidates.append(Path(initdb).parent)
        debian = (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin"))
        candidates += sorted(debian, key=_version, reverse=True)
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in SERVER_PROGRAMS):
            return folder
    looked = ", ".join(dict.fromkeys(map(str, candidates))) or "nowhere: no pg_config, no initdb on PATH"
    programs = ", ".join(SERVER_PROGRAMS)
    raise Unavailable(f"PostgreSQL server binaries not found ({programs}); looked in {looked}")


def _version(bindir: Path) -> tuple[int, ...]:
    """/usr/lib/postgresql/15/bin → (15,)."""
    return tuple(int(part) for part in bindir.parent.name.split(".") if part.isdigit())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the kernel's pick; free until someone takes it)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def closed_port_url(dbname: str = "postgres") -> str:
    """A PostgreSQL URL to a port with no server: connecting is refused at once."""
    return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{free_port()}/{dbname}"


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A URL to a server that accepts TCP connections and never answers (for connect-timeout tests)."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"postgresql+psycopg://{SUPERUSER}@{HOST}:{listener.getsockname()[1]}/postgres"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def scratch_root() -> Path:
    """Where server folders go: /dev/shm when it has room (memory: CREATE DATABASE there takes ~10 ms, on
    this machine's disk 40-70 ms), else the temp folder."""
    shm = Path("/dev/shm")
    with contextlib.suppress(OSError):
        room = os.statvfs(shm)
        if os.access(shm, os.W_OK | os.X_OK) and room.f_bavail * room.f_frsize >= 512 * 2**20:
            return shm
    return Path(tempfile.gettempdir())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PgServer:
    """One server in `folder` (data in folder/data, socket and log in folder), owned by this process."""

    def __init__(self, bindir: Path, folder: Path, settings: tuple[str, ...] = FAST):
        self.bindir = bindir
        self.folder = folder
        self.settings = settings  # server options (-c name=value) at every start
        self.data = folder / "data"
        self.log = folder / "server.log"
        self.port = 0
        self.running = False
        self.as_root = os.geteuid() == 0
        self.start_seconds = 0.0  # initdb + first start, for the record
        self._admin: Any = None  # the superuser's connection to `postgres`, kept while the server runs

    # -- life cycle ---------------------------------------------------------------------------------------

    @classmethod
    def launch(cls, *, durable: bool = False) -> PgServer:
        """initdb + start in a fresh temp folder; stopped and removed at exit, however the session ends.
        `durable` (for benchmarks): PostgreSQL's own settings (fsync on) and a folder on disk, as a real
        server has, instead of FAST in memory."""
        began = time.perf_counter()
        try:
            import psycopg  # noqa: F401  (the tests talk to the server through it)
        except ImportError as error:
            raise Unavailable(f'psycopg is not installed ({error}); pip install -e ".[test]"') from None
        bindir = find_bindir()
        if os.geteuid() == 0:
            try:
                pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise Unavailable(
                    f"running as root and there is no {SYSTEM_USER!r} user to run the server"
                ) from None
            if shutil.which("runuser") is None:
                raise Unavailable(
                    "running as root and runuser is not installed to start the server as postgres"
                )
        remove_stale_servers()
        root = Path(tempfile.gettempdir()) if durable else scratch_root()
        folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=root))
        folder.chmod(0o777)  # the postgres user creates data/ and the socket here when we are root
        (folder / "owner.pid").write_text(f"{os.getpid()}\n")
        server = cls(bindir, folder, () if durable else FAST)
        atexit.register(server.close)
        try:
            server._initdb()
            server._start_on_free_port()
            server.execute(f"CREATE ROLE {PASSWORD_GROUP} NOLOGIN")
        except BaseException:
            server.close()
            raise
        server.start_seconds = time.perf_counter() - began
        return server

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return subprocess.run(
            command, cwd=self.folder, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def _initdb(self) -> None:
        done = self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        if done.returncode != 0:
            raise Unavailable(f"initdb failed: {(done.stderr or done.stdout).strip()[-500:]}")
        (self.data / "pg_hba.conf").write_text(HBA)

    def _start_on_free_port(self) -> None:
        for _attempt in range(3):  # another process may take the port between our pick and the server's bind
            self.port = free_port()
            try:
                self.start()
                return
            except Unavailable as error:
                if "already in use" not in str(error):
                    raise
        raise Unavailable(f"PostgreSQL could not bind a free port three times; see {self.log}")

    def start(self) -> None:
        """Start the server (again) on its port; waits until it accepts connections."""
        options = [
            "-p",
            str(self.port),
            "-k",
            str(self.folder),
            "-c",
            f"listen_addresses={HOST}",
            *self.settings,
        ]
        done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                         "-o", shlex.join(options), "start", timeout=90)  # fmt: skip
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
            raise Unavailable(f"PostgreSQL did not start: {done.stderr.strip()} {log.strip()}")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """`fast`: a clean shutdown (everything committed is kept); `immediate`: like a crash."""
        self._close_admin()
        done = self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        if done.returncode != 0 and (self.data / "postmaster.pid").exists():
            raise RuntimeError(f"pg_ctl stop failed: {done.stderr.strip()}")
        self.running = False

    def restart(self, mode: str = "fast") -> None:
        """Stop and start again on the same port and data folder (open connections are cut)."""
        self.stop(mode)
        self.start()

    def close(self) -> None:
        """Stop the server at once and remove its folder; safe to call twice (fixture teardown and atexit)."""
        self._close_admin()
        if self.folder.exists():
            if (self.data / "postmaster.pid").exists():
                with contextlib.suppress(Exception):
                    self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=30)
            self.running = False
            shutil.rmtree(self.folder, ignore_errors=True)

    # -- talking to it ------------------------------------------------------------------------------------

    def url(self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        """The SQLAlchemy URL over TCP: postgresql+psycopg://user[:password]@127.0.0.1:PORT/dbname."""
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password is not None else "")
        return f"postgresql+psycopg://{auth}@{HOST}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres", user: str = SUPERUSER) -> str:
        """libpq keywords for psycopg.connect over the socket (the superuser needs no password there)."""
        return f"host={self.folder} port={self.port} dbname={dbname} user={user} connect_timeout=10"

    def execute(self, sql: str, dbname: str = "postgres", params: tuple | dict | None = None) -> list[tuple]:
        """Run one statement as superuser (autocommit); the rows it returns, if any. On `postgres` (creating
        and dropping databases, roles) through one kept connection: a new one costs a server process each
        time, about half of what a CREATE or DROP DATABASE costs here. Other databases get a connection of
        their own, closed at once, so that nothing of ours stays connected to a test's database."""
        import psycopg

        if dbname == "postgres":
            cursor = self._admin_connection().execute(sql, params)
            return cursor.fetchall() if cursor.description else []
        with psycopg.connect(self.conninfo(dbname), autocommit=True) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def _admin_connection(self) -> Any:
        import psycopg

        if self._admin is None or self._admin.closed or self._admin.broken:
            self._close_admin()
            self._admin = psycopg.connect(self.conninfo(), autocommit=True)
        return self._admin

    def _close_admin(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None

    def create_database(self, template: str = "template0") -> str:
        """A new database, copied from `template` (empty by default; a prepared database with tables and rows
        copies as fast, if nothing is connected to it); returns its name."""
        name = f"test_{uuid.uuid4().hex}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def drop_database(self, name: str) -> None:
        if not self.running:
            self.start()  # a test that stopped the server gets it back
        self.disconnect(name)
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def disconnect(self, name: str) -> None:
        """End every connection to database `name` and wait until each is gone. (In-process commands leave
        their pooled connection open until garbage collection; DROP DATABASE … WITH (FORCE) alone would
        then poll for them every 100 ms.)"""
        conn = self._admin_connection()
        pids = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
            )
        ]
        if not pids:
            return
        conn.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        deadline = time.monotonic() + 10  # pg_terminate_backend's own wait polls every 100 ms
        while time.monotonic() < deadline:
            gone = "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)"
            if conn.execute(gone, (pids,)).fetchone() == (0,):
                return
            time.sleep(0.002)

    def create_role(self, password: str | None = None, prefix: str = "role", options: str = "LOGIN") -> str:
        """A new role with a unique name; with a password it must log in with it over TCP."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        if password is None:
            self.execute(f'CREATE ROLE "{name}" {options}')
        else:
            escaped = password.replace("'", "''")
            self.execute(f"CREATE ROLE \"{name}\" {options} PASSWORD '{escaped}' IN ROLE {PASSWORD_GROUP}")
        return name


def server_for_tests() -> PgServer:
    """`PgServer.launch()` for the session fixture: where there is no server, the test is skipped with the
    reason, except under CI=true (where .ci/run installs one), where it fails."""
    import pytest

    try:
        return PgServer.launch()
    except Unavailable as reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no PostgreSQL server: {reason}", pytrace=False)
        pytest.skip(str(reason))


def remove_stale_servers() -> None:
    """Servers left by test sessions that were killed (their owner process is gone): stop and remove."""
    roots = dict.fromkeys([scratch_root(), Path(tempfile.gettempdir())])
    for folder in (found for root in roots for found in root.glob(f"{FOLDER_PREFIX}*")):
        try:
            owner = int((folder / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if owner != os.getpid() and not _pid_alive(owner):
            PgServer(find_bindir(), folder).close()


def _report() -> None:
    """`python tests/pg_server.py`: what the fixture costs on this machine."""
    try:
        server = PgServer.launch()
    except Unavailable as reason:
        print(f"no PostgreSQL server: {reason}", file=sys.stderr)
        raise SystemExit(1) from None
    try:
        print(f"server {server.bindir} in {server.folder}, port {server.port}")
        print(f"initdb + start: {server.start_seconds * 1000:.0f} ms")
        began = time.perf_counter()
        server.restart()
        print(f"restart: {(time.perf_counter() - began) * 1000:.0f} ms")
        for template in ("template0", "template1"):
            times = []
            for _ in range(20):
                began = time.perf_counter()
                name = server.create_database(template)
                times.append(time.perf_counter() - began)
                server.drop_database(name)
            times.sort()
            median, most = times[10] * 1000, times[-1] * 1000
            print(f"CREATE DATABASE from {template}: median {median:.1f} ms, max {most:.1f} ms")
    finally:
        server.close()


if __name__ == "__main__":
    _report()
