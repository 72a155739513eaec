#!/usr/bin/env python3
"""`make dev`: the whole API on this machine against the local AWS stack.

Starts moto (or reuses the one a previous run left), creates the resources template.yaml
declares, builds and starts the local gateway, seeds the demo practice (once per moto
lifetime), and prints the base URL and a token for each demo user. Ctrl-C stops what it
started. Ports: MOTO_PORT (4566) and GATEWAY_PORT (3000).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "infra"))
import events  # noqa: E402
import local_stack  # noqa: E402
import seed as seeder  # noqa: E402
import web  # noqa: E402

STATE = ROOT / ".local" / "dev"


def read_env(path: Path) -> dict:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def wait_healthy(url: str, proc: subprocess.Popen, seconds: int = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"dev: the local gateway exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_local/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit("dev: the local gateway did not become healthy")


def main() -> None:
    moto_port = int(os.environ.get("MOTO_PORT", "4566"))
    gateway_port = int(os.environ.get("GATEWAY_PORT", "3000"))
    base = f"http://127.0.0.1:{gateway_port}"
    STATE.mkdir(parents=True, exist_ok=True)

    started_moto = not local_stack.moto_answers(moto_port)
    local_stack.start(moto_port, STATE)
    env_file = STATE / "env"
    local_stack.create(moto_port, "carethread-dev", env_file, STATE)

    # The operator's credentials, the endpoint and the user pool: for the gateway, and for
    # the seeder's Cognito calls in this process.
    os.environ.update(read_env(env_file))
    env = dict(os.environ)
    env["GATEWAY_ADDR"] = f"127.0.0.1:{gateway_port}"
    env["LOCAL_SEED_FILE"] = str(STATE / "seed.json")
    env["WEB_ROOT"] = str(ROOT / "web" / "dist")
    env.setdefault("RUST_LOG", "info")

    print("dev: building the web app...", flush=True)
    web.build()
    print("dev: building the local gateway (first build takes a few minutes)...", flush=True)
    subprocess.run(["cargo", "build", "-p", "local-gateway"], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    gateway = subprocess.Popen([str(target / "debug" / "local-gateway")], cwd=ROOT, env=env)

    def stop(*_):
        gateway.terminate()
        try:
            gateway.wait(timeout=10)
        except subprocess.TimeoutExpired:
            gateway.kill()
        if started_moto:
            local_stack.stop(STATE)
        print("\ndev: stopped")
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    wait_healthy(base, gateway)

    seed_file = STATE / "seed.json"
    if started_moto or not seed_file.exists():
        seed_file.write_text(json.dumps(seeder.seed(seeder.Api(base)), indent=2))
    seeded = json.loads(seed_file.read_text())
    subs = events.substitutions(seeded)
    (STATE / "events").mkdir(exist_ok=True)
    for event in sorted((ROOT / "events").glob("*.json")):
        (STATE / "events" / event.name).write_text(events.fill(event.read_text(), subs))

    print(f"\nCarethread web app: {base}/   (sign in with a demo user's username and password)")
    print(f"Carethread API: {base}   (AWS emulator and user pool: http://127.0.0.1:{moto_port})")
    print(f"Operator credentials and the user pool: {env_file.relative_to(ROOT)}")
    print(f"Demo users (also in {seed_file.relative_to(ROOT)}); `make token WHO=physician` signs one in:")
    for practice, data in seeded["practices"].items():
        print(f"\n# {practice} ({data['id']})")
        for key, user in data["users"].items():
            if user.get("password"):
                print(f"  {key:<16} {user['name']:<20} {user['role']:<17} username {user['username']}  password {user['password']}")
            else:
                print(f"  {key:<16} {user['name']:<20} {user['role']:<17} (cannot sign in)")
    jane = seeded["practices"]["maple"]["users"]["patient_jane"]
    print("\nTry it:")
    print("  export MAPLE_PHYSICIAN=$(make -s token WHO=physician) MAPLE_PATIENT_JANE=$(make -s token WHO=patient_jane)")
    print(f"  curl -s -X POST {base}/conversations -H \"Authorization: Bearer $MAPLE_PHYSICIAN\" -H 'content-type: application/json' \\")
    print(f"    -d '{{\"kind\":\"patient\",\"patientId\":\"{jane['id']}\",\"subject\":\"Hello\",\"body\":\"How are you feeling?\"}}'")
    print(f"  curl -s {base}/inbox -H \"Authorization: Bearer $MAPLE_PATIENT_JANE\"")
    print("\nCtrl-C stops the gateway" + (" and the emulator." if started_moto else "."), flush=True)
    gateway.wait()
    stop()


if __name__ == "__main__":
    main()
