"""Real server processes for integration tests: start on a free loopback port, wait ready, stop cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def uvicorn_argv(entrypoint: str, port: int) -> list[str]:
    """The command line serving `entrypoints/<entrypoint>.py` with uvicorn on a loopback port."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        f"entrypoints.{entrypoint}:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """One server subprocess whose output goes to a log file."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], port: int, log_dir: Path) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        full_env = {**os.environ, **env}
        full_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full_env.get('PATH', '')}"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(list(argv), cwd=REPO, env=full_env, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        """What the process printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> httpx.Response:
        """Poll /health/ready until it answers 200; fail with the process log otherwise."""
        return self.wait_until("/health/ready", timeout)

    def wait_until(self, path: str, timeout: float = 30.0) -> httpx.Response:
        """Poll `path` until it answers 200; fail with the process log otherwise."""
        deadline = time.monotonic() + timeout
        last: str = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                response = httpx.get(f"{self.url}{path}", timeout=2.0)
                if response.status_code == 200:
                    return response
                last = response.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready after {timeout}s ({last}):\n{self.log()}")

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait for the exit (killed after `timeout`); returns 0 for a clean shutdown.

        uvicorn re-raises the captured SIGTERM after its shutdown, so a clean exit shows as -SIGTERM; it
        counts as clean only when the lifespan's shutdown completed.
        """
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._log.close()
                raise AssertionError(f"{self.name} did not stop within {timeout}s:\n{self.log()}") from None
        self._log.close()
        code = self.proc.returncode
        if code == -signal.SIGTERM and "Application shutdown complete" in self.log():
            return 0
        return code
