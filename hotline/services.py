"""The hotline's long-running processes: Redis, Asterisk, the FastAGI service, the API.

Each runs detached in its own session, with a pid file and a log in the state dir, and is
healthy when its process lives and its port answers.
"""

from __future__ import annotations

import os
import resource
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from asterisk_conf.layout import layout_for
from infra.settings import PROJECT_DIR, Settings


@dataclass(frozen=True)
class Service:
    name: str
    argv: list[str]
    host: str
    port: int
    protocol: str  # what a client speaks to it: shown by `hotline up` and `status`
    env: dict[str, str] = field(default_factory=dict)
    stop_timeout_s: float = 15.0


def _pidfile(settings: Settings, name: str) -> Path:
    return settings.run_dir / f"{name}.pid"


def _logfile(settings: Settings, name: str) -> Path:
    return settings.log_dir / f"{name}.log"


def redis_service(settings: Settings) -> Service:
    data = settings.state_dir / "redis"
    data.mkdir(parents=True, exist_ok=True)
    return Service(
        name="redis",
        argv=["redis-server", "--bind", "127.0.0.1", "--port", str(settings.redis_port),
              "--protected-mode", "yes", "--dir", str(data), "--appendonly", "yes",
              "--appendfsync", "always", "--daemonize", "no", "--save", "60 1000"],
        host="127.0.0.1", port=settings.redis_port, protocol="redis",
    )


def asterisk_service(settings: Settings) -> Service:
    """Asterisk inside its root, in a private mount namespace so its mounts die with it.

    The project and state dirs are bind-mounted at their own paths, so the generated
    configuration, prompts and the fallback script are the same files inside and out.
    """
    root = settings.asterisk_root
    layout = layout_for(settings)
    binds = [PROJECT_DIR]
    if not settings.state_dir.resolve().is_relative_to(PROJECT_DIR):
        binds.append(settings.state_dir.resolve())
    # Recordings are for the authenticated API only: the folder is closed to other users.
    recordings = settings.recordings_dir.resolve()
    recordings.mkdir(parents=True, exist_ok=True)
    recordings.chmod(0o700)
    if not any(recordings.is_relative_to(path) for path in binds):
        binds.append(recordings)
    steps = [f"mount --bind /proc {root}/proc", f"mount --bind /dev {root}/dev"]
    for path in binds:
        steps.append(f"mkdir -p {shlex.quote(f'{root}{path}')}")
        steps.append(f"mount --bind {shlex.quote(str(path))} {shlex.quote(f'{root}{path}')}")
    steps.append(f"exec chroot {root} /usr/sbin/asterisk -C {layout.config_file} -f")
    return Service(
        name="asterisk",
        argv=["unshare", "-m", "--propagation", "private", "sh", "-c", " && ".join(steps)],
        host="127.0.0.1", port=settings.ami_port,
        protocol=f"SIP udp {settings.sip_bind}:{settings.sip_port}, AMI",
    )


def fastagi_services(settings: Settings) -> list[Service]:
    """One FastAGI node per port: `fastagi`, `fastagi-2`, …; all share Redis."""
    return [Service(
        name="fastagi" if k == 0 else f"fastagi-{k + 1}",
        argv=[sys.executable, "-m", "agi.server"],
        host=settings.fastagi_host, port=port, protocol="agi",
        env={"HOTLINE_FASTAGI_PORT": str(port)},
    ) for k, port in enumerate(settings.fastagi_ports())]


def acd_service(settings: Settings) -> Service:
    return Service(
        name="acd", argv=[sys.executable, "-m", "hotline.background"],
        host="127.0.0.1", port=settings.acd_port, protocol="health",
    )


def api_service(settings: Settings) -> Service:
    return Service(
        name="api", argv=[sys.executable, "-m", "hotline.api"],
        host=settings.api_host, port=settings.api_port, protocol="http",
    )


def asr_services(settings: Settings) -> list[Service]:
    """Transcription workers, when a model is configured: without one a worker cannot
    start, and calls are still recorded (their jobs wait in the stream)."""
    if not settings.asr_model_path:
        return []
    return [Service(
        name="asr" if k == 0 else f"asr-{k + 1}",
        argv=[sys.executable, "-m", "hotline.cli", "asr-worker", "--name",
              f"{socket.gethostname()}-asr-{k + 1}", "--health-port", str(port)],
        host="127.0.0.1", port=port, protocol="health",
    ) for k, port in enumerate(range(settings.asr_health_port,
                                     settings.asr_health_port + max(settings.asr_workers, 0)))]


def all_services(settings: Settings) -> list[Service]:
    """In start order; stopped in reverse."""
    return [redis_service(settings), asterisk_service(settings), acd_service(settings),
            *fastagi_services(settings), api_service(settings), *asr_services(settings)]


def _raise_file_limit() -> None:
    """Hundreds of calls mean thousands of sockets: lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > 65536:
        hard = 65536
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def read_pid(settings: Settings, name: str) -> int | None:
    try:
        pid = int(_pidfile(settings, name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    # A zombie (our own dead child) counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return None
    return None if state == "Z" else pid


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def start(settings: Settings, service: Service, wait_s: float = 60.0) -> int:
    """Starts the service unless it already runs; waits until its port answers."""
    pid = read_pid(settings, service.name)
    if pid is None:
        if port_open(service.host, service.port):
            raise RuntimeError(
                f"{service.name}: port {service.host}:{service.port} is taken by another process"
            )
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(_logfile(settings, service.name), "ab")  # noqa: SIM115 - handed to the child
        env = {**os.environ, **service.env, "PYTHONPATH": str(PROJECT_DIR)}
        proc = subprocess.Popen(service.argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=PROJECT_DIR, env=env, preexec_fn=_raise_file_limit)
        log.close()
        pid = proc.pid
        _pidfile(settings, service.name).write_text(f"{pid}\n")
    deadline = time.monotonic() + wait_s
    while not port_open(service.host, service.port):
        if read_pid(settings, service.name) is None:
            raise RuntimeError(f"{service.name} exited at start; see "
                               f"{_logfile(settings, service.name)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{service.name} did not listen on {service.port} in {wait_s} s")
        time.sleep(0.1)
    return pid


def stop(settings: Settings, service: Service) -> bool:
    """SIGTERM, then SIGKILL after the timeout. True if it was running."""
    pid = read_pid(settings, service.name)
    if pid is None:
        _pidfile(settings, service.name).unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + service.stop_timeout_s
    while read_pid(settings, service.name) is not None:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    _pidfile(settings, service.name).unlink(missing_ok=True)
    return True


def asterisk_cli(settings: Settings, command: str, timeout: float = 10.0) -> str:
    """Runs an Asterisk CLI command, inside Asterisk's own mount namespace and root."""
    pid = read_pid(settings, "asterisk")
    if pid is None:
        raise RuntimeError("asterisk is not running")
    done = subprocess.run(
        ["nsenter", "-t", str(pid), "-m", "chroot", str(settings.asterisk_root),
         "/usr/sbin/asterisk", "-C", str(layout_for(settings).config_file), "-rx", command],
        capture_output=True, text=True, timeout=timeout, check=False)
    return done.stdout + done.stderr
