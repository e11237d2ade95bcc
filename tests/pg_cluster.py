"""A throw-away PostgreSQL + PostGIS cluster for the ``db`` tests.

``python tests/pg_cluster.py start DIR`` initialises a cluster in ``DIR`` (as the
``postgres`` OS user when run as root, since ``initdb`` refuses root), listens on
a free port of 127.0.0.1 only, creates the database ``allocator_test`` with
``CREATE EXTENSION postgis`` and prints ``ALLOCATOR_TEST_PG=postgresql://…`` for
the shell to export. ``python tests/pg_cluster.py stop DIR`` stops it and removes
``DIR``. Host connections use scram-sha-256 passwords, so each role's
credentials are tested as a real sign-in would be.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DB_NAME = "allocator_test"
SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "allocator-test-admin"  # a throw-away cluster on 127.0.0.1 only


def bin_dir() -> Path | None:
    """Return the PostgreSQL server binaries' folder, or None when not installed."""
    found = shutil.which("pg_ctl")
    if found and Path(found).resolve().parent.joinpath("initdb").exists():
        return Path(found).resolve().parent
    for version in ("17", "16", "15", "14", "13"):
        path = Path(f"/usr/lib/postgresql/{version}/bin")
        if (path / "initdb").exists():
            return path
    return None


def postgis_installed(bins: Path) -> bool:
    """True when the PostGIS extension files are installed for this server."""
    out = subprocess.run(
        [str(bins / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
    )
    share = Path(out.stdout.strip() or "/nonexistent")
    return (share / "extension" / "postgis.control").exists()


def missing_reason() -> str | None:
    """Return why no cluster can be started here (one line), or None when it can."""
    bins = bin_dir()
    if bins is None:
        return (
            "PostgreSQL server not installed (apt-get install postgresql postgresql-15-postgis-3)"
        )
    if not postgis_installed(bins):
        return f"PostGIS not installed for {bins} (apt-get install postgresql-15-postgis-3)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    """Run ``cmd`` as the postgres OS user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", SUPERUSER, "--", *cmd]
    return cmd


def start(directory: Path) -> str:
    """Initialise and start a cluster in ``directory``; return the superuser URL."""
    bins = bin_dir()
    reason = missing_reason()
    if reason or bins is None:
        raise RuntimeError(reason)
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        # the postgres OS user must reach the folder: open the (temporary) parents to traversal
        for parent in (directory.parent, directory.parent.parent):
            if str(parent).startswith(tempfile.gettempdir() + os.sep):
                parent.chmod(parent.stat().st_mode | 0o111)
    data = directory / "data"
    pwfile = directory / "pw"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    if os.geteuid() == 0:
        user = pwd.getpwnam(SUPERUSER)
        for path in (directory, pwfile):
            os.chown(path, user.pw_uid, user.pw_gid)
    subprocess.run(
        _as_owner(
            [
                str(bins / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {directory} -c max_connections=100"
    subprocess.run(
        _as_owner(
            [
                str(bins / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(directory / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    psql = [str(bins / "psql"), "-h", str(directory), "-p", str(port), "-U", SUPERUSER, "-q"]
    subprocess.run(
        _as_owner([*psql, "-d", "postgres", "-c", f"CREATE DATABASE {DB_NAME}"]),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_owner([*psql, "-d", DB_NAME, "-c", "CREATE EXTENSION postgis"]),
        check=True,
        capture_output=True,
    )
    (directory / "port").write_text(str(port))
    return f"postgresql://{SUPERUSER}:{SUPERUSER_PASSWORD}@127.0.0.1:{port}/{DB_NAME}"


def stop(directory: Path) -> None:
    """Stop the cluster in ``directory`` (fast shutdown) and remove the folder."""
    bins = bin_dir()
    data = directory / "data"
    if bins is not None and (data / "postmaster.pid").exists():
        subprocess.run(
            _as_owner([str(bins / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=False,
            capture_output=True,
        )
        for _ in range(50):
            if not (data / "postmaster.pid").exists():
                break
            time.sleep(0.1)
    shutil.rmtree(directory, ignore_errors=True)


def main(argv: list[str]) -> int:
    """``start DIR`` prints the export line; ``stop DIR`` stops and removes."""
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: pg_cluster.py start|stop DIR", file=sys.stderr)
        return 2
    directory = Path(argv[1])
    if argv[0] == "start":
        reason = missing_reason()
        if reason:
            print(f"pg_cluster: {reason}", file=sys.stderr)
            return 1
        print(f"ALLOCATOR_TEST_PG={start(directory)}")
    else:
        stop(directory)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
