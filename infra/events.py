#!/usr/bin/env python3
"""The sample events of events/ with the demo practice's ids, for one function at a time:

    events.py --seed .local/dev/seed.json --out .local/dev/events

events/*.json name placeholder users (usr_demo1, pat_demo1, cnv_demo1, ...); this writes a
copy of each with the users and the conversation `make dev` seeded (in the authorizer's
claims, the paths and the bodies), so that `cargo lambda invoke <fn> --data-file
.local/dev/events/<fn>.json` against `cargo lambda watch` (run with make dev's environment)
answers as the deployed function would (README, "One function at a time"). `make dev` runs it
after seeding.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def substitutions(seeded: dict) -> dict[str, str]:
    maple = seeded["practices"]["maple"]
    users = maple["users"]
    lab = maple.get("conversations", {}).get("lab_results", {})
    return {
        "prc_demo": maple["id"],
        "usr_demo1": users["physician"]["id"],  # the author of the demo conversation
        "usr_demo2": users["nurse"]["id"],
        "pat_demo1": users["patient_jane"]["id"],
        "usr_demo3": users["admin"]["id"],  # the administrator, for admin-only routes
        "cnv_demo1": lab.get("id", "cnv_demo1"),
        "msg_demo1": lab.get("messageId", "msg_demo1"),
        # the conversation the DELETE sample removes, so the others keep theirs
        "cnv_demo2": maple.get("conversations", {}).get("sent_in_error", {}).get("id", "cnv_demo2"),
    }


def fill(text: str, subs: dict[str, str]) -> str:
    """Every placeholder, as a whole word: in claims, paths and the JSON bodies inside them."""
    return re.sub(r"\b(" + "|".join(map(re.escape, subs)) + r")\b", lambda m: subs[m.group(1)], text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    subs = substitutions(json.loads(args.seed.read_text()))
    args.out.mkdir(parents=True, exist_ok=True)
    for event in sorted((ROOT / "events").glob("*.json")):
        (args.out / event.name).write_text(fill(event.read_text(), subs))
    print(f"events with the demo practice's ids in {args.out}")


if __name__ == "__main__":
    main()
