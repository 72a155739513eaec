#!/usr/bin/env python3
"""Print a fresh ID token of a seeded demo user: `make token WHO=physician [PRACTICE=maple]`.

Signs the user in at the `make dev` stack's user pool, as the web app does (USER_PASSWORD_AUTH
with the app client), with the username and password infra/seed.py wrote to
.local/dev/seed.json; the endpoint and client id come from .local/dev/env. The token is valid
for an hour: ask again for a new one.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import Cognito, SignInRefused  # noqa: E402

STATE = Path(__file__).resolve().parent.parent / ".local" / "dev"


def read_env(path: Path) -> dict:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def main() -> None:
    if len(sys.argv) < 2 or not sys.argv[1]:
        sys.exit("usage: make token WHO=<demo user> [PRACTICE=maple]   (e.g. WHO=physician)")
    who, practice = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else "maple")
    try:
        seed = json.loads((STATE / "seed.json").read_text())
        env = read_env(STATE / "env")
    except FileNotFoundError as e:
        sys.exit(f"{e.filename} not found: start `make dev` first (it seeds the demo users)")
    practices = seed["practices"]
    if practice not in practices:
        sys.exit(f"no demo practice {practice!r}; choose one of: {', '.join(practices)}")
    users = practices[practice]["users"]
    if who not in users:
        sys.exit(f"no demo user {who!r}; choose one of: {', '.join(users)}")
    user = users[who]
    if not user.get("password"):
        why = ("no portal access" if user.get("portalAccess") is False
               else "inactive, so the user pool refuses it" if user.get("active") is False
               else "no account at the user pool")
        sys.exit(f"{who} ({user['name']}) cannot sign in: {why}")
    try:
        print(Cognito(env).sign_in(user["username"], user["password"]))
    except SignInRefused as e:
        sys.exit(f"the user pool refused {who} ({user['username']}): {e}")


if __name__ == "__main__":
    main()
