#!/usr/bin/env python3
"""How `make dev`'s stack holds up after use: the local gateway binary (as `make dev` builds
it) against moto as `make dev` runs it, seeded with the demo practice and then filled with
BENCH_DEV_MESSAGES messages (default 10,000) through the API. Reports, beside their goals:
compose and inbox-page p50 (under 300 ms and 150 ms) and moto's CPU while nobody calls, with
the gateway's stream pump running as in `make dev` (under 5%). Writes bench/dev-stack.json.
Asserts nothing about time: it is a report (`make bench` runs it last).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "infra"))
import local_stack  # noqa: E402
import seed as seeder  # noqa: E402

STATE = ROOT / ".local" / "bench-dev"
GOALS = {"compose_p50_ms": 300, "inbox_p50_ms": 150, "moto_idle_cpu_percent": 5}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(moto_pid: int, most_seconds: int = 600) -> float:
    """Seconds until moto is quiet (under 10% of a core for 3 s), at most `most_seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < most_seconds:
        before = cpu_seconds(moto_pid)
        time.sleep(3)
        if (cpu_seconds(moto_pid) - before) / 3 < 0.10:
            break
    return time.monotonic() - start


class FreshToken:
    """A seeded user's ID token, signed in again before Cognito's hour runs out: filling
    10,000 messages and waiting for the consumers can take longer than that."""

    def __init__(self, cognito, user: dict):
        self.cognito, self.user = cognito, user
        self.value, self.at = user["token"], time.monotonic()
        self.lock = threading.Lock()

    def token(self) -> str:
        with self.lock:
            if time.monotonic() - self.at > 45 * 60:
                self.value, self.at = self.cognito.sign_in(self.user["username"], self.user["password"]), time.monotonic()
            return self.value


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    messages = int(os.environ.get("BENCH_DEV_MESSAGES", "10000"))
    if STATE.exists():
        local_stack.stop(STATE) if (STATE / "moto.pid").exists() else None
    STATE.mkdir(parents=True, exist_ok=True)
    (STATE / "operator.json").unlink(missing_ok=True)
    moto_port, gateway_port = free_port(), free_port()
    local_stack.start(moto_port, STATE)
    moto_pid = int((STATE / "moto.pid").read_text())
    gateway = None
    try:
        local_stack.create(moto_port, "carethread-devbench", STATE / "env", STATE)
        os.environ.update(dict(l.split("=", 1) for l in (STATE / "env").read_text().splitlines() if "=" in l))
        env = dict(os.environ, GATEWAY_ADDR=f"127.0.0.1:{gateway_port}", RUST_LOG="error")
        binary = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "local-gateway"
        gateway = subprocess.Popen([str(binary)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{gateway_port}"
        for _ in range(100):
            try:
                seeder.Api(base).call("GET", "/_local/health", expect=200)
                break
            except Exception:
                time.sleep(0.2)
        api = seeder.Api(base)
        seeded = seeder.seed(api)["practices"]["maple"]["users"]
        doctor = FreshToken(seeder.Cognito(), seeded["physician"])
        patients = [seeded[k]["id"] for k in ("patient_jane", "patient_john", "patient_amara", "patient_luis")]

        def conversation(i: int) -> None:
            body = {"kind": "patient", "patientId": patients[i % len(patients)], "subject": f"Follow-up {i}",
                    "body": f"Message 1 of conversation {i}."}
            cid = api.call("POST", "/conversations", body, doctor.token(), 201)["conversation"]["id"]
            for n in range(2, 11):
                api.call("POST", f"/conversations/{cid}/messages", {"body": f"Message {n} of conversation {i}."},
                         doctor.token(), 201)

        start = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(conversation, range(messages // 10)))
        fill_seconds = time.monotonic() - start
        print(f"dev-stack: {messages:,} messages written in {fill_seconds:.0f} s; waiting for the stream consumers",
              flush=True)

        # The stream consumers (notifier, audit chain) first catch up with the burst just
        # written: wait until moto is quiet for a few seconds, and report how long that took.
        # The timed requests and the idle figure then see make dev at rest. After 10,000
        # messages that took over ten minutes here (BENCH_DEV_SETTLE_SECONDS, default an hour).
        most = int(os.environ.get("BENCH_DEV_SETTLE_SECONDS", "3600"))
        settle_seconds = settle(moto_pid, most)
        caught_up = settle_seconds < most

        print(f"dev-stack: consumers {'caught up' if caught_up else 'still busy'} after {settle_seconds:.0f} s; timing",
              flush=True)
        doc = doctor.token()  # signed in before the clock starts
        compose = [timed(lambda i=i: api.call("POST", "/conversations", {"kind": "patient", "patientId": patients[0],
                   "subject": f"Timed {i}", "body": "Timed compose."}, doc, 201)) for i in range(30)]
        inbox = [timed(lambda: api.call("GET", "/inbox?limit=25", token=doc, expect=200)) for _ in range(30)]

        settle(moto_pid)  # what the timed composes left for the consumers
        before, gw_before, t0 = cpu_seconds(moto_pid), cpu_seconds(gateway.pid), time.monotonic()
        time.sleep(30)
        seconds = time.monotonic() - t0
        moto_idle = (cpu_seconds(moto_pid) - before) / seconds * 100
        gateway_idle = (cpu_seconds(gateway.pid) - gw_before) / seconds * 100

        result = {
            "messages": messages, "fill_seconds": round(fill_seconds, 1),
            "stream_catch_up_seconds": round(settle_seconds, 1), "caught_up_before_timing": caught_up,
            "compose_p50_ms": round(statistics.median(compose), 1),
            "inbox_p50_ms": round(statistics.median(inbox), 1),
            "moto_idle_cpu_percent": round(moto_idle, 2), "gateway_idle_cpu_percent": round(gateway_idle, 2),
            "goals": GOALS,
        }
        (ROOT / "bench" / "dev-stack.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"\n== make dev's stack with {messages:,} messages (filled in {fill_seconds:.0f} s through the API; "
              + (f"the stream consumers caught up {settle_seconds:.0f} s later)" if caught_up else
                 f"the stream consumers were still busy after {settle_seconds:.0f} s: timed while busy)"))
        for key, goal in GOALS.items():
            value = result[key]
            unit = "%" if key.endswith("percent") else " ms"
            print(f"  {'met   ' if value < goal else 'MISSED'} {key:<24} {value:>8}{unit}  (goal under {goal}{unit})")
        print(f"         gateway_idle_cpu_percent {result['gateway_idle_cpu_percent']:>8}%  (its stream pump, once a second)")
    finally:
        if gateway:
            gateway.terminate()
            gateway.wait(timeout=10)
        local_stack.stop(STATE)


if __name__ == "__main__":
    main()
