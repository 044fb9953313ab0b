"""A real, throwaway PostgreSQL server for tests.

Uses Debian's PostgreSQL binaries (``/usr/lib/postgresql/<version>/bin``), installing the
``postgresql`` package with apt-get if they are missing. The server runs as the ``postgres``
system user (initdb refuses root), in a data directory it owns, listening on 127.0.0.1 only on
a free port, with its unix socket inside the data directory. The superuser and the test user
get random passwords (scram-sha-256); nothing is hard-coded.

In a conftest::

    from tests.support.postgres import postgres_server  # noqa: F401  (session-scoped fixture)
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.ports import free_port

PG_LIB = Path("/usr/lib/postgresql")
PG_SYSTEM_USER = "postgres"
DB_USER = "hotline"
DB_NAME = "hotline"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.name)) or (0,)


def find_postgres_bin() -> Path | None:
    """The bin dir of the newest installed PostgreSQL version, or None."""
    if not PG_LIB.is_dir():
        return None
    candidates = [
        version_dir / "bin"
        for version_dir in PG_LIB.iterdir()
        if (version_dir / "bin" / "initdb").is_file() and (version_dir / "bin" / "pg_ctl").is_file()
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda bin_dir: _version_key(bin_dir.parent))


def _system_user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def ensure_postgres_installed() -> Path:
    """Return the PostgreSQL bin dir, installing Debian's ``postgresql`` first if needed."""
    bin_dir = find_postgres_bin()
    if bin_dir is not None and _system_user_exists(PG_SYSTEM_USER):
        return bin_dir
    if shutil.which("apt-get") is None:
        raise RuntimeError("PostgreSQL is not installed and there is no apt-get to install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    bin_dir = find_postgres_bin()
    if bin_dir is None or not _system_user_exists(PG_SYSTEM_USER):
        raise RuntimeError("installed the postgresql package but found no initdb/pg_ctl")
    return bin_dir


def _as_postgres(args: list[str], *, cwd: Path, check: bool = True) -> str:
    """Run a command as the postgres system user (directly if we already are it)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", PG_SYSTEM_USER, "--", *args]
    proc = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout


def _chown_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam(PG_SYSTEM_USER)
        os.chown(path, user.pw_uid, user.pw_gid)


@dataclass
class PostgresServer:
    """A running throwaway server; ``url`` is for the created user's own database."""

    url: str
    host: str
    port: int
    user: str
    password: str
    database: str
    data_dir: Path
    bin_dir: Path
    superuser_password: str = field(repr=False, default="")
    start_options: str = field(repr=False, default="")
    log_file: Path | None = field(repr=False, default=None)
    _stopped: bool = field(default=False, repr=False)

    def __repr__(self) -> str:
        return f"PostgresServer(127.0.0.1:{self.port}, data_dir={str(self.data_dir)!r})"

    def url_for(self, database: str) -> str:
        return (
            f"postgresql+psycopg2://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(database, safe='')}"
        )

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create a fresh database owned by the test user (a copy of ``template``, when
        given: a migrated one, say); returns its URL."""
        import psycopg2
        from psycopg2 import sql

        name = name or f"test_{secrets.token_hex(6)}"
        conn = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=self.database,
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                if template:
                    cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)))
                else:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()
        return self.url_for(name)

    def crash(self) -> None:
        """The server goes away at once, as in a crash (pg_ctl stop -m immediate)."""
        _as_postgres(
            [str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate",
             "-w"], cwd=self.data_dir.parent)

    def start_again(self) -> None:
        """After :meth:`crash`: the same cluster on the same port."""
        _as_postgres(
            [str(self.bin_dir / "pg_ctl"), "start", "-D", str(self.data_dir), "-l",
             str(self.log_file), "-o", self.start_options, "-w", "-t", "60"],
            cwd=self.data_dir.parent)

    def stop(self) -> None:
        if self._stopped:
            return
        _as_postgres(
            [str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w"],
            cwd=self.data_dir.parent,
            check=False,
        )
        self._stopped = True


def _wait_ready(host: str, port: int, user: str, password: str, database: str) -> None:
    import psycopg2

    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg2.connect(
                host=host, port=port, user=user, password=password, dbname=database
            ).close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def start_postgres(base_dir: Path) -> PostgresServer:
    """initdb a cluster under ``base_dir`` and start it on a free loopback port.

    ``base_dir`` must be reachable by the postgres system user (so not under a 0700 dir of
    root's, such as pytest's tmp_path): the fixture uses a fresh dir in the system temp dir.
    """
    import psycopg2
    from psycopg2 import sql

    bin_dir = ensure_postgres_installed()
    base_dir = base_dir.resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    _chown_to_postgres(base_dir)
    data_dir = base_dir / "data"
    log_file = base_dir / "postgres.log"

    superuser_password = secrets.token_urlsafe(24)
    pwfile = base_dir / "superuser.pw"
    pwfile.write_text(superuser_password + "\n")
    pwfile.chmod(0o600)
    _chown_to_postgres(pwfile)
    try:
        _as_postgres(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                f"--pwfile={pwfile}",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            cwd=base_dir,
        )
    finally:
        pwfile.unlink(missing_ok=True)

    last_error: Exception | None = None
    for _attempt in range(3):
        port = free_port("tcp")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} "
            f"-c unix_socket_directories={data_dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        try:
            _as_postgres(
                [
                    str(bin_dir / "pg_ctl"),
                    "start",
                    "-D",
                    str(data_dir),
                    "-l",
                    str(log_file),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                ],
                cwd=base_dir,
            )
        except RuntimeError as exc:  # e.g. the port was taken in between
            last_error = exc
            continue
        break
    else:
        log = log_file.read_text(errors="replace") if log_file.exists() else ""
        raise RuntimeError(f"could not start PostgreSQL: {last_error}\n{log}")

    server = PostgresServer(
        url="",
        host="127.0.0.1",
        port=port,
        user=DB_USER,
        password=secrets.token_urlsafe(24),
        database=DB_NAME,
        data_dir=data_dir,
        bin_dir=bin_dir,
        superuser_password=superuser_password,
        start_options=options,
        log_file=log_file,
    )
    try:
        _wait_ready(server.host, port, "postgres", superuser_password, "postgres")
        conn = psycopg2.connect(
            host=server.host,
            port=port,
            user="postgres",
            password=superuser_password,
            dbname="postgres",
        )
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD %s").format(
                        sql.Identifier(DB_USER)
                    ),
                    (server.password,),
                )
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(DB_NAME), sql.Identifier(DB_USER)
                    )
                )
        finally:
            conn.close()
    except BaseException:
        server.stop()
        raise
    server.url = server.url_for(DB_NAME)
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session, removed at the end."""
    base_dir = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    try:
        server = start_postgres(base_dir)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)
