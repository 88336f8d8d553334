"""A pytest plugin that greps every captured log of the test run for the test secrets.

Registered by tests/conftest.py. What it knows as secrets (values of 8 characters or more):
- every `Secret(...)` built in the test process (settings from `make_settings(API_KEY=...)`, the
  clients the tests build, ...): `Secret.__init__` registers its value for the session;
- module constants of the collected test modules named like a secret (`API_KEY`, `HA_TOKEN`,
  `DB_PASSWORD`, ...), which tests hand to server subprocesses through the environment;
- the `token` of a fixture value that has one (the long-lived token Home Assistant's fixture makes at
  run time), and anything passed to `register_secret`.
What it greps:
- every log record of the test process (a handler on the root logger, formatted with its traceback),
  per test, after the test (so a secret registered during the test still counts);
- each test report's captured sections: stdout, stderr and log of setup, call and teardown;
- at the end, every `*.log` file under the session's temporary directory: the logs of the uvicorn
  processes (tests/integration/procs.py), Home Assistant's, the fuzzer's.
A secret found fails the session (exit status 1) with where it was found; the secret itself is never
printed, only its first three characters.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

MIN_LENGTH = 8
SECRET_NAME = re.compile(r"(^|_)(API_KEY|KEY|TOKEN|PASSWORD|PASS|SECRET)(_|$)")
_ACTIVE: list[SecretScanner] = []


def register_secret(value: str | None) -> None:
    """Count `value` as a secret of this test session (ignored when shorter than MIN_LENGTH)."""
    if _ACTIVE:
        _ACTIVE[-1].add(value)


def mask(secret: str) -> str:
    """How a found secret is named in the report: never the value itself."""
    return f"{secret[:3]}...({len(secret)} chars)"


def find_secrets(text: str, secrets: Iterable[str]) -> list[str]:
    """The secrets that occur in `text`."""
    return [s for s in secrets if s in text]


@dataclass
class Leak:
    where: str
    secret: str

    def line(self) -> str:
        return f"{self.where}: {mask(self.secret)}"


class _RecordHandler(logging.Handler):
    """Keeps the formatted records of the current test (and of set-up outside any test)."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.texts.append(f"{self.format(record)} {record.args!r}")
        except Exception:  # a record that cannot format is not this plugin's failure
            self.texts.append(repr(record.msg))

    def take(self) -> str:
        texts, self.texts = self.texts, []
        return "\n".join(texts)


@dataclass(eq=False)
class SecretScanner:
    """The session's secrets and leaks; a pytest plugin object."""

    config: pytest.Config
    secrets: set[str] = field(default_factory=set)
    leaks: list[Leak] = field(default_factory=list)
    files_scanned: int = 0
    texts_scanned: int = 0

    def __post_init__(self) -> None:
        self.handler = _RecordHandler()

    # --- what counts as a secret ------------------------------------------------------------------

    def add(self, value: Any) -> None:
        if isinstance(value, str) and len(value) >= MIN_LENGTH:
            self.secrets.add(value)

    def add_module_constants(self, module: Any) -> None:
        for name, value in vars(module).items():
            if name.isupper() and SECRET_NAME.search(name):
                self.add(value)

    # --- grepping ---------------------------------------------------------------------------------

    def scan(self, where: str, text: str) -> None:
        if not text:
            return
        self.texts_scanned += 1
        for secret in find_secrets(text, self.secrets):
            self.leaks.append(Leak(where, secret))

    def scan_files(self, root: Path) -> None:
        for path in sorted(root.rglob("*.log")):
            if path.is_file():
                self.files_scanned += 1
                self.scan(str(path), path.read_text(errors="replace"))

    # --- hooks ------------------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        logging.getLogger().addHandler(self.handler)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        modules = {id(item.module): item.module for item in session.items if getattr(item, "module", None)}
        for module in modules.values():
            self.add_module_constants(module)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Iterator[None]:
        outcome = yield
        try:
            value = outcome.get_result()
        except BaseException:
            return
        self.add(getattr(value, "token", None))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for title, content in report.sections:
            self.scan(f"{report.nodeid} [{title}]", content)
        if report.when == "teardown":
            self.scan(f"{report.nodeid} [log records]", self.handler.take())

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        logging.getLogger().removeHandler(self.handler)
        self.scan("log records outside any test", self.handler.take())
        basetemp = getattr(self.config, "_tmp_path_factory", None)
        if basetemp is not None and basetemp._basetemp is not None:
            self.scan_files(basetemp.getbasetemp())
        if self.leaks and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.leaks:
            terminalreporter.section("SECRETS IN LOGS", sep="!", red=True, bold=True)
            for leak in self.leaks[:50]:
                terminalreporter.line(leak.line(), red=True)
            if len(self.leaks) > 50:
                terminalreporter.line(f"... and {len(self.leaks) - 50} more")
            terminalreporter.line(f"{len(self.leaks)} leak(s): the session fails")
        else:
            terminalreporter.line(
                f"secret scan: {len(self.secrets)} test secrets, {self.texts_scanned} captured logs/outputs and "
                f"{self.files_scanned} log files grepped, none found"
            )


def _patch_secret_class() -> Any:
    from homeiq_ai.settings import Secret

    original = Secret.__init__

    def __init__(self: Any, value: str) -> None:
        original(self, value)
        register_secret(value)

    Secret.__init__ = __init__  # type: ignore[method-assign]
    return original


def configure(config: pytest.Config) -> None:
    """Start a scanner for this session (called from pytest_configure)."""
    scanner = SecretScanner(config)
    if not _ACTIVE:
        scanner._original_init = _patch_secret_class()  # type: ignore[attr-defined]
    _ACTIVE.append(scanner)
    config.pluginmanager.register(scanner, "homeiq-secret-scan")


def unconfigure(config: pytest.Config) -> None:
    """Stop this session's scanner (called from pytest_unconfigure)."""
    scanner = config.pluginmanager.get_plugin("homeiq-secret-scan")
    if scanner is None:
        return
    config.pluginmanager.unregister(scanner)
    if scanner in _ACTIVE:
        _ACTIVE.remove(scanner)
    original = getattr(scanner, "_original_init", None)
    if original is not None:
        from homeiq_ai.settings import Secret

        Secret.__init__ = original  # type: ignore[method-assign]
