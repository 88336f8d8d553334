"""A loopback HTTP proxy in front of a real Home Assistant that can be switched to fail in one way at a time.

Modes: "pass" (forward to HA; a WebSocket upgrade is tunnelled to HA byte for byte), "slow" (answer nothing for
`slow_seconds`), "401", "500". A closed port is the "down" case. `hold_after_save` makes the proxy forward a save
to HA, then wait for the test before answering: the window between HA's answer and our version record, where a
crash test kills the app. `delay` makes every forwarded request wait first: a slow but working Home Assistant.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

SAVE_PREFIX = "/api/config/automation/config/"


class FaultyHomeAssistant:
    """Start with `with FaultyHomeAssistant(ha_url) as proxy:`; `proxy.url` is what the app gets as HA_URL."""

    def __init__(self, upstream: str, *, slow_seconds: float = 10.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = "pass"
        self.slow_seconds = slow_seconds
        self.requests: list[tuple[str, str]] = []
        self.saves_forwarded = 0
        self.hold_after_save = False
        self.save_answered = threading.Event()
        self.release = threading.Event()
        self.save_delay = 0.0
        self.delay = 0.0  # seconds every forwarded request waits first: a slow but working Home Assistant
        self.save_gate: threading.Event | None = None  # when set to an Event, saves wait for it (<= 60 s)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def _tunnel(self) -> None:
                """A WebSocket upgrade: replay the request to HA over a raw socket, then pipe both ways."""
                with proxy._lock:
                    proxy.requests.append((self.command, self.path))
                host, port = proxy.upstream.removeprefix("http://").split(":")
                upstream = socket.create_connection((host, int(port)), timeout=30)
                head = f"{self.command} {self.path} HTTP/1.1\r\n" + "".join(
                    f"{k}: {v}\r\n" for k, v in self.headers.items()
                )
                upstream.sendall(head.encode("latin-1") + b"\r\n")

                def pump(src: socket.socket, dst: socket.socket) -> None:
                    try:
                        while chunk := src.recv(65536):
                            dst.sendall(chunk)
                    except OSError:
                        pass
                    finally:
                        for end in (src, dst):
                            with contextlib.suppress(OSError):
                                end.shutdown(socket.SHUT_RDWR)

                back = threading.Thread(target=pump, args=(upstream, self.connection), daemon=True)
                back.start()
                pump(self.connection, upstream)
                back.join(5)
                upstream.close()
                self.close_connection = True

            def _handle(self) -> None:
                if self.headers.get("Upgrade", "").lower() == "websocket" and proxy.mode == "pass":
                    self._tunnel()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    proxy.requests.append((self.command, self.path))
                mode = proxy.mode
                if mode == "slow":
                    time.sleep(proxy.slow_seconds)
                    self._send(200, b"[]")
                    return
                if mode in ("401", "500"):
                    self._send(int(mode), b'{"message": "fault injected"}')
                    return
                if proxy.delay:
                    time.sleep(proxy.delay)
                is_save = self.command == "POST" and self.path.startswith(SAVE_PREFIX)
                if is_save and proxy.save_delay:
                    time.sleep(proxy.save_delay)
                gate = proxy.save_gate
                if is_save and gate is not None:
                    gate.wait(60)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                answer = httpx.request(
                    self.command, proxy.upstream + self.path, content=body, headers=headers, timeout=30
                )
                if is_save and answer.status_code == 200:
                    with proxy._lock:
                        proxy.saves_forwarded += 1
                    proxy.save_answered.set()
                    if proxy.hold_after_save:
                        proxy.release.wait(30)
                self._send(answer.status_code, answer.content)

            def _send(self, status: int, content: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except OSError:
                    pass  # the client gave up (a timeout) or was killed

            do_GET = do_POST = do_DELETE = do_PUT = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def count(self, method: str, prefix: str) -> int:
        """Requests seen with this method whose path starts with `prefix`."""
        with self._lock:
            return sum(1 for m, p in self.requests if m == method and p.startswith(prefix))

    def __enter__(self) -> FaultyHomeAssistant:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        if self.save_gate is not None:
            self.save_gate.set()
        self._server.shutdown()
        self._server.server_close()
