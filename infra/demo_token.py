#!/usr/bin/env python3
"""Print the token of a seeded demo user: `make token WHO=physician [PRACTICE=maple]`."""

import json
import sys
from pathlib import Path

seed = json.loads((Path(__file__).resolve().parent.parent / ".local" / "dev" / "seed.json").read_text())
user, practice = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "maple")
users = seed["practices"][practice]["users"]
if user not in users:
    sys.exit(f"no demo user {user!r}; choose one of: {', '.join(users)}")
print(users[user]["token"])
