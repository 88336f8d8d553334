"""The dependency audit of scripts/test.sh: pip-audit over the locked set, every finding explained or failing.

Usage: .venv/bin/python scripts/audit_deps.py   (exit 0: clean, or the database unreachable; 1: a finding or
an error that is not "unreachable")

What is audited: requirements.lock (`pip-audit -r requirements.lock --no-deps --disable-pip`), the pinned set
that scripts/setup.sh and the Dockerfile install. First the step checks that the environment it runs in (.venv)
holds that set: a locked package missing or at another version fails the step (the tests would not have run
against the audited set; rerun scripts/setup.sh, or scripts/lock.sh after a dependency change); a package
installed beside the lock is listed, not audited. The project itself is not locked. The vulnerability services are tried
in order, OSV first, then PyPI's JSON API. For each:
- a finding whose ID (or one of its aliases) is in scripts/pip-audit-explained.txt, with a reason, is shown and
  passes; any other finding fails the step;
- a service that cannot be reached (DNS, connection refused, TLS, timeout), or that audits none of the
  packages (every one "not found": a mirror without the per-version JSON), counts as unreachable and the next
  one is tried;
- any other error fails the step: an audit that breaks is not a clean audit.
Only when every service is unreachable does the step pass, with a LOUD warning saying nothing was audited.
PIP_AUDIT overrides the pip-audit executable (the tests use a stand-in).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXPLAINED = REPO / "scripts" / "pip-audit-explained.txt"
LOCK = REPO / "requirements.lock"
NOT_LOCKED = {"pip", "setuptools", "wheel", "homeiq-ai"}
SERVICES = (("osv", 30), ("pypi", 25))
UNREACHABLE = re.compile(
    r"NameResolutionError|Failed to resolve|Name or service not known|Temporary failure in name resolution"
    r"|ConnectionError|Connection refused|ConnectTimeout|ReadTimeout|Max retries exceeded|SSLError"
    r"|Network is unreachable|timed out",
)


def loud(lines: list[str]) -> None:
    bar = "!" * 90
    print("\n".join(["", bar, *[f"!!! {line}" for line in lines], bar, ""]), file=sys.stderr)


def explained() -> dict[str, str]:
    """ID -> reason from the explained-findings file; a line without a reason is an error."""
    found: dict[str, str] = {}
    if not EXPLAINED.exists():
        return found
    for number, raw in enumerate(EXPLAINED.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) < 2 or not parts[1].strip():
            raise SystemExit(f"audit: {EXPLAINED.name}:{number}: '{parts[0]}' has no reason; every entry needs one")
        found[parts[0]] = parts[1].strip()
    return found


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    """Normalised name -> pinned version of requirements.lock; a line that is not 'name==version' is an error."""
    if not LOCK.exists():
        raise SystemExit(f"audit: FAILED: {LOCK.name} is missing (scripts/lock.sh writes it)")
    pins: dict[str, str] = {}
    for number, raw in enumerate(LOCK.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        if not sep or not name or not version or " " in line:
            raise SystemExit(f"audit: FAILED: {LOCK.name}:{number}: {line!r} is not a 'name==version' pin")
        pins[_name(name)] = version
    return pins


def drift(pins: dict[str, str]) -> tuple[list[str], list[str]]:
    """(differences that fail, packages installed beside the lock) between this environment and the lock."""
    installed = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            installed[_name(name)] = dist.version.split("+", 1)[0]  # torch's "+cpu" is a local label
    wrong = []
    for name, version in sorted(pins.items()):
        have = installed.get(name)
        if have is None:
            wrong.append(f"{name}=={version} is locked but not installed")
        elif have != version:
            wrong.append(f"{name}=={version} is locked but {have} is installed")
    extra = sorted(f"{n}=={v}" for n, v in installed.items() if n not in pins and n not in NOT_LOCKED)
    return wrong, extra


def run_service(exe: str, service: str, timeout: int, ignore: dict[str, str]) -> tuple[str, str]:
    """(verdict, message): verdict is 'clean', 'finding', 'unreachable' or 'error'."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "audit.json"
        argv = [exe, "-r", str(LOCK), "--no-deps", "--disable-pip", "-s", service, "-f", "json", "-o", str(out)]
        argv += ["--progress-spinner", "off"]
        for vuln_id in ignore:
            argv += ["--ignore-vuln", vuln_id]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return "unreachable", f"no answer within {timeout}s"
        stderr = done.stderr.strip()
        report = None
        if out.exists() and out.stat().st_size:
            try:
                report = json.loads(out.read_text())
            except json.JSONDecodeError:
                report = None
    if report is None:
        tail = stderr.splitlines()[-1] if stderr else f"exit {done.returncode}, no output"
        if UNREACHABLE.search(stderr):
            return "unreachable", tail
        return "error", f"pip-audit exit {done.returncode}: {stderr[-2000:] or 'no output'}"
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = [d for d in deps if not d.get("skip_reason")]
    if deps and not audited:
        return "unreachable", f"all {len(deps)} packages skipped ({skipped[0]['skip_reason']})"
    unexplained, known = [], []
    for dep in audited:
        for vuln in dep.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            reason = next((ignore[i] for i in ids if i in ignore), None)
            fixes = ", ".join(vuln.get("fix_versions", [])) or "none"
            entry = f"{dep['name']} {dep['version']}: {vuln['id']} (fix: {fixes})"
            (known if reason else unexplained).append(f"{entry}: {reason}" if reason else entry)
    lines = [f"{len(audited)} packages audited against {service}"]
    if skipped:
        lines.append(f"{len(skipped)} not audited: " + ", ".join(f"{d['name']} ({d['skip_reason']})" for d in skipped))
    lines += [f"explained: {k}" for k in known]
    if unexplained:
        return "finding", "\n".join(lines + [f"UNEXPLAINED: {u}" for u in unexplained])
    if done.returncode not in (0, 1):
        return "error", f"pip-audit exit {done.returncode}: {stderr[-2000:]}"
    return "clean", "\n".join(lines)


def main() -> int:
    started = time.monotonic()
    exe = os.environ.get("PIP_AUDIT") or str(Path(sys.executable).parent / "pip-audit")
    ignore = explained()
    wrong, extra = drift(locked())
    if wrong:
        print(f"audit: FAILED: this environment does not hold the locked set ({LOCK.name}):", file=sys.stderr)
        print("\n".join(f"  {w}" for w in wrong), file=sys.stderr)
        print(
            "audit: run ./scripts/setup.sh (HOMEIQ_SETUP_FORCE=1 reinstalls), or scripts/lock.sh after a change to"
            " the dependencies",
            file=sys.stderr,
        )
        return 1
    if extra:
        print(f"audit: installed beside the lock, not audited: {', '.join(extra)}")
    tried = []
    for service, timeout in SERVICES:
        verdict, message = run_service(exe, service, timeout, ignore)
        took = f"{time.monotonic() - started:.1f}s"
        if verdict == "clean":
            print(f"audit: no unexplained vulnerability ({took})\n{message}")
            return 0
        if verdict == "finding":
            print(f"audit: FAILED: a vulnerability that {EXPLAINED.name} does not explain ({took})", file=sys.stderr)
            print(message, file=sys.stderr)
            print(f"audit: upgrade it, or add '<ID> <reason>' to scripts/{EXPLAINED.name}", file=sys.stderr)
            return 1
        if verdict == "error":
            print(f"audit: FAILED: pip-audit against {service} broke ({took}):\n{message}", file=sys.stderr)
            return 1
        tried.append(f"{service}: {message}")
    loud(
        [
            "WARNING: the dependency audit (pip-audit) could not reach a vulnerability database:",
            *[f"  {t}" for t in tried],
            "NOTHING WAS AUDITED: this run does not show the dependencies free of known vulnerabilities.",
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
