"""After `run.sh` starts the server: on a database with no suggestions yet, analyse the home and suggest.

Waits for /health/ready, then (only when no suggestion is stored) starts an analysis, follows it to the
end, and generates suggestions from its patterns and synergies, so that the page's inbox has something
to show on the first visit. Prints one line per step; a failure is printed and leaves the server running.
Usage: python scripts/first_run.py http://127.0.0.1:8000
"""

from __future__ import annotations

import os
import sys
import time

import httpx


def main(base: str) -> int:
    headers = {"X-API-Key": os.environ["API_KEY"]} if os.environ.get("API_KEY") else {}
    with httpx.Client(base_url=base, headers=headers, timeout=30.0) as client:
        deadline = time.monotonic() + 120
        while True:
            try:
                if client.get("/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                print("first run: the server did not become ready within 120 s", file=sys.stderr)
                return 1
            time.sleep(0.5)
        if client.get("/api/v1/suggestions/", params={"limit": 1}).json()["total"] > 0:
            return 0
        run = client.post("/api/v1/analysis/run", json={}).json()
        print(f"first run: analysing the home (run {run['id']}) ...", file=sys.stderr)
        while run["status"] in ("queued", "running"):
            time.sleep(1.0)
            run = client.get(f"/api/v1/analysis/runs/{run['id']}").json()
        if run["status"] != "completed":
            print(f"first run: the analysis ended {run['status']}: {run.get('errors')}", file=sys.stderr)
            return 1
        created = 0
        for source in ("patterns", "synergies"):
            answer = client.post("/api/v1/suggestions/generate", json={"source": source, "limit": 50})
            answer.raise_for_status()
            created += len(answer.json()["created"])
        print(
            f"first run: {run['patterns_detected']} patterns, {run['synergies_detected']} synergies, "
            f"{created} suggestions; open {base}/",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        print(f"first run: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
