#!/usr/bin/env python3
"""One function at a time, as the README shows it: `cargo lambda watch` with the stack's
environment, then `cargo lambda invoke <fn> --data-file <events>/<fn>.json` for every sample
event; each must answer as the deployed function would (2xx for an HTTP event, a result for a
stream, SNS or schedule event).

    invoke_events.py --events .local/test/events

Run by `make test` on the `make dev` stack it starts (its environment, the seeded practice),
after the browser tests, since the DELETE sample deletes a conversation, and before
schemathesis, which may delete it first.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def retry_after(raw: str) -> int | None:
    """The seconds a 429 answer asks the caller to wait (a per-user budget the browser tests and
    schemathesis may have spent in this minute), or None."""
    try:
        result = json.loads(raw)
        if int(result.get("statusCode", 0)) != 429:
            return None
        headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        return int(headers["retry-after"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def answered(raw: str) -> tuple[bool, str]:
    """Whether an invocation's output is a success, and a short account of it."""
    try:
        result = json.loads(raw)
    except json.JSONDecodeError:
        return False, raw.strip()[:200]
    if isinstance(result, dict) and "statusCode" in result:
        status = int(result["statusCode"])
        if 200 <= status < 300:
            return True, f"HTTP {status}"
        # A refusal says why: its problem's title and detail (they never carry PHI).
        try:
            problem = json.loads(result.get("body") or "{}")
        except (json.JSONDecodeError, TypeError):
            problem = {}
        return False, f"HTTP {status}: {problem.get('title', '')} {problem.get('detail', '')}".rstrip()
    return True, "result " + json.dumps(result)[:80]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=Path, required=True)
    args = parser.parse_args()
    env = dict(os.environ, PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    port = free_port()
    watch = subprocess.Popen(["cargo", "lambda", "watch", "--invoke-port", str(port)], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    failed = []
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        for event in sorted(args.events.glob("*.json")):
            function = event.stem
            invoke = ["cargo", "lambda", "invoke", function, "--invoke-port", str(port), "--data-file", str(event)]
            out = subprocess.run(invoke, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            wait = retry_after(out.stdout) if out.returncode == 0 else None
            if wait is not None and wait <= 60:
                # As a client does: wait out the budget once, as the answer says.
                print(f"  wait {function:<20} HTTP 429, Retry-After {wait} s")
                time.sleep(wait + 1)
                out = subprocess.run(invoke, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            ok, account = answered(out.stdout) if out.returncode == 0 else (False, out.stderr.strip()[-300:])
            print(f"  {'ok  ' if ok else 'FAIL'} {function:<20} {account}")
            if not ok:
                failed.append(function)
    finally:
        os.killpg(watch.pid, 15)
        watch.wait(timeout=30)
    if failed:
        sys.exit(f"invoke_events: {len(failed)} sample events did not answer as deployed: {', '.join(failed)}")
    print("invoke_events: every sample event answered")


if __name__ == "__main__":
    main()
