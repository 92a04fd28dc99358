"""Project-owned Redis, ClickHouse and PostgreSQL instances for fault tests.

Each instance binds 127.0.0.1 on free ports, keeps its data under var/faults/, and is stopped (and its
data removed) by the test that started it. The shared services on 5432/6379/9000 are never touched.
"""

from __future__ import annotations

import glob
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAULTS_VAR = ROOT / "var" / "faults"


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick for an ephemeral bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll `check` until it is true; raise naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - a service that is still starting raises anything
            pass
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout}s")


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _data_dir(prefix: str) -> Path:
    FAULTS_VAR.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=FAULTS_VAR))


class _Process:
    """A server subprocess in its own session so a stop signal reaches only it."""

    def __init__(self, *, data_dir: Path, log_name: str) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir / log_name
        self.proc: subprocess.Popen | None = None

    def _spawn(self, cmd: list[str]) -> None:
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.data_dir)
        log.close()

    def _kill(self, sig: int, timeout: float) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def _await(self, check: Callable[[], bool], *, timeout: float, what: str) -> None:
        try:
            wait_until(check, timeout=timeout, what=what, interval=0.2)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; log:\n{self.log_path.read_text(errors='replace')[-3000:]}") from None


class PrivateRedis(_Process):
    """redis-server with AOF fsynced on every write, so a restart loses no acknowledged command."""

    def __init__(self) -> None:
        super().__init__(data_dir=_data_dir("redis-"), log_name="redis.log")
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 20.0) -> PrivateRedis:
        import redis

        self._spawn(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--daemonize",
                "no",
                "--maxmemory-policy",
                "noeviction",
                "--protected-mode",
                "yes",
            ]
        )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        self._await(lambda: client.ping(), timeout=timeout, what=f"private redis on {self.port}")
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self._kill(sig, timeout=20)

    def destroy(self) -> None:
        self.stop(signal.SIGKILL)
        shutil.rmtree(self.data_dir, ignore_errors=True)


class PrivateClickHouse(_Process):
    """clickhouse-server as scripts/bootstrap.sh starts it, on other ports and its own data directory."""

    def __init__(self) -> None:
        super().__init__(data_dir=_data_dir("clickhouse-"), log_name="stdout.log")
        self.tcp_port, self.http_port, self.interserver_port = free_port(), free_port(), free_port()
        for sub in ("data", "tmp", "log", "data/user_files", "data/format_schemas"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)

    def url(self, database: str) -> str:
        return f"clickhouse://default@127.0.0.1:{self.tcp_port}/{database}"

    def start(self, timeout: float = 90.0) -> PrivateClickHouse:
        d = self.data_dir
        self._spawn(
            [
                "clickhouse-server",
                "--config-file=/etc/clickhouse-server/config.xml",
                "--",
                f"--path={d}/data/",
                f"--tmp_path={d}/tmp/",
                f"--user_files_path={d}/data/user_files/",
                f"--format_schema_path={d}/data/format_schemas/",
                f"--tcp_port={self.tcp_port}",
                f"--http_port={self.http_port}",
                f"--interserver_http_port={self.interserver_port}",
                "--listen_host=127.0.0.1",
                f"--logger.log={d}/log/server.log",
                f"--logger.errorlog={d}/log/err.log",
            ]
        )
        self._await(self.ping, timeout=timeout, what=f"private clickhouse on {self.tcp_port}")
        return self

    def ping(self) -> bool:
        from clickhouse_driver import Client

        return Client(host="127.0.0.1", port=self.tcp_port, connect_timeout=1, send_receive_timeout=2).execute("SELECT 1") == [(1,)]

    def client(self, database: str = "default"):
        from clickhouse_driver import Client

        return Client(host="127.0.0.1", port=self.tcp_port, database=database, connect_timeout=2, send_receive_timeout=20)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self._kill(sig, timeout=30)
        wait_until(lambda: not _port_open(self.tcp_port), timeout=10, what=f"clickhouse port {self.tcp_port} closed")

    def destroy(self) -> None:
        self.stop(signal.SIGKILL)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise FileNotFoundError(f"no /usr/lib/postgresql/*/bin/{name}")
    return found[-1]


class PrivatePostgres:
    """A throwaway PostgreSQL cluster: initdb as the `postgres` OS user, trust auth, pg_ctl on a free port."""

    def __init__(self) -> None:
        # Under the system temp dir, not the checkout: the server runs as `postgres`, which may not be able
        # to traverse the folders above a clone (CI clones into a private temporary folder).
        self.data_dir = Path(tempfile.mkdtemp(prefix="torghut-faults-postgres-"))
        self.port = free_port()
        self.pgdata = self.data_dir / "pgdata"
        self.log_path = self.data_dir / "postgres.log"
        self.socket_dir = self.data_dir / "socket"
        self.socket_dir.mkdir()
        shutil.chown(self.data_dir, user="postgres", group="postgres")
        shutil.chown(self.socket_dir, user="postgres", group="postgres")

    def _as_postgres(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, timeout=timeout, check=True, cwd="/"
        )

    def init(self) -> PrivatePostgres:
        self._as_postgres(
            _pg_bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"
        )
        return self

    def start(self, timeout: float = 60.0) -> PrivatePostgres:
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.socket_dir} -c fsync=on"
        try:
            self._as_postgres(
                _pg_bin("pg_ctl"),
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log_path),
                "-o",
                options,
                "-w",
                "-t",
                str(int(timeout)),
                "start",
                timeout=timeout + 10,
            )
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"pg_ctl start failed: {exc.stderr}\n{self.log_tail()}") from None
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._as_postgres(_pg_bin("pg_ctl"), "-D", str(self.pgdata), "-m", mode, "-w", "-t", "60", "stop", timeout=70)

    def restart(self, *, mode: str = "immediate", down_seconds: float = 0.0) -> None:
        """Stop (immediate: like a crash, no checkpoint) and start again on the same port."""
        self.stop(mode)
        time.sleep(down_seconds)
        self.start()

    def psql(self, sql: str, database: str = "postgres") -> str:
        return self._as_postgres(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql
        ).stdout.strip()

    def create_database(self, *, name: str, owner: str = "torghut", password: str = "torghut") -> str:
        """Create a login role and database; returns its DATABASE_URL."""
        self.psql(f"CREATE ROLE {owner} LOGIN SUPERUSER PASSWORD '{password}'")
        self.psql(f"CREATE DATABASE {name} OWNER {owner}")
        return f"postgres://{owner}:{password}@127.0.0.1:{self.port}/{name}"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.data_dir, ignore_errors=True)
