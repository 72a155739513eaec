#!/usr/bin/env python3
"""The README's example, checked: a message composed by one demo user reaches the inboxes
of the users who may see it (ROLE-2) and no one else's, not even by id (ROLE-3), and the
patient is told by SMS, without PHI, through the gateway's stream trigger (NOTIFY-1).

    smoke.py --base-url http://127.0.0.1:3000 --seed .local/dev/seed.json
"""

import argparse
import json
import os
import secrets
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import PATIENTS, Api  # noqa: E402

JANE_PHONE = next(row[5] for row in PATIENTS if row[0] == "jane")


def texts_to(phone: str) -> list[str]:
    """What moto's SNS was asked to text to `phone` so far (its SMS log)."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as r:
        data = json.load(r)
    return [m["message"] for m in data.get("sns", {}).get("SMS", []) if m["phone_number"] == phone]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:3000")
    parser.add_argument("--seed", type=Path, required=True)
    args = parser.parse_args()
    api = Api(args.base_url)
    seeded = json.loads(args.seed.read_text())
    maple = seeded["practices"]["maple"]["users"]
    harbor = seeded["practices"]["harbor"]["users"]
    subject = f"Smoke {secrets.token_hex(4)}"
    # Let the notifications of the seed's own messages go out first (the trigger runs each second).
    texts_before = -1
    while texts_before != (now := len(texts_to(JANE_PHONE))):
        texts_before = now
        time.sleep(2)
    created = api.call("POST", "/conversations", {"kind": "patient", "patientId": maple["patient_jane"]["id"],
                                                  "subject": subject, "body": "How are you feeling?"},
                       maple["physician"]["token"], 201)
    cid = created["conversation"]["id"]

    def inbox_has(user) -> bool:
        items = api.call("GET", "/inbox?limit=100", token=user["token"], expect=200)["items"]
        return any(i["conversation"]["id"] == cid for i in items)

    expected = {
        "maple/physician (sender)": (maple["physician"], True),
        "maple/patient_jane (the patient)": (maple["patient_jane"], True),
        "maple/admin": (maple["admin"], True),
        "maple/physician2 (provider class)": (maple["physician2"], True),
        "maple/nurse (assigned to Jane)": (maple["nurse"], True),
        "maple/front_desk (no relation)": (maple["front_desk"], False),
        "maple/patient_john (another patient)": (maple["patient_john"], False),
        "harbor/admin (another practice)": (harbor["admin"], False),
    }
    failures = 0
    for name, (user, should) in expected.items():
        sees = inbox_has(user)
        ok = sees == should
        failures += not ok
        print(f"  {'ok ' if ok else 'BAD'} {name}: {'sees' if sees else 'does not see'} it")
    for name, user in (("maple/patient_john", maple["patient_john"]), ("harbor/admin", harbor["admin"]),
                       ("maple/front_desk", maple["front_desk"])):
        status = api.call("GET", f"/conversations/{cid}", token=user["token"])["status"]
        ok = status == 404
        failures += not ok
        print(f"  {'ok ' if ok else 'BAD'} {name}: GET /conversations/{{id}} answers {status}")
    deadline, texts = time.monotonic() + 20, []
    while time.monotonic() < deadline:
        texts = texts_to(JANE_PHONE)[texts_before:]
        if texts:
            break
        time.sleep(0.5)
    ok = len(texts) == 1 and "You have a new secure message" in texts[0] and subject not in texts[0] and "Jane" not in texts[0]
    failures += not ok
    print(f"  {'ok ' if ok else 'BAD'} maple/patient_jane: told by SMS, without PHI ({len(texts)} text)")
    print(f"smoke: {len(expected) + 4 - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
