#!/usr/bin/env python3
"""Seed a demo practice (and a second practice) through the API of a running local gateway.

    seed.py --base-url http://127.0.0.1:3000 --out .local/dev/seed.json

Everything goes through the public routes (and /_local/practices, /_local/token), so a
seeded stack is also a smoke test of the API. Writes the ids and a token for each demo user.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path


class Api:
    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, body=None, token: str | None = None, expect: int | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("content-type", "application/json")
        if token:
            req.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, payload = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        parsed = json.loads(payload) if payload else None
        if expect is not None and status != expect:
            sys.exit(f"seed: {method} {path} answered {status}: {parsed}")
        return parsed

    def token(self, sub: str, practice_id: str, role: str, patient_id: str | None = None) -> str:
        body = {"sub": sub, "practiceId": practice_id, "role": role}
        if patient_id:
            body["patientId"] = patient_id
        return self.call("POST", "/_local/token", body, expect=200)["token"]


STAFF = [
    # key, first, last, role, phone
    ("practice_manager", "Priya", "Manning", "practice_manager", "+15550100001"),
    ("physician", "Maria", "Chen", "physician", "+15550100002"),
    ("physician2", "David", "Okafor", "physician", "+15550100003"),
    ("nurse", "Sam", "Rivera", "nurse", "+15550100004"),
    ("front_desk", "Alex", "Kim", "front_desk", "+15550100005"),
    ("biller", "Jordan", "Blake", "biller", "+15550100006"),
]

PATIENTS = [
    # key, first, last, primary (staff key), assigned (staff keys), phone, portal, active
    ("jane", "Jane", "Smith", "physician", ["nurse"], "+15550200001", True, True),
    ("john", "John", "Doe", "physician", [], "+15550200002", True, True),
    ("amara", "Amara", "Okonkwo", "physician2", ["nurse"], "+15550200003", True, True),
    ("luis", "Luis", "García", "physician2", [], "+15550200004", True, True),
    ("noor", "Noor", "Haddad", None, [], "+15550200005", False, True),  # no portal access
    ("ruth", "Ruth", "Ellis", "physician", [], "+15550200006", True, False),  # inactive
]


def seed(api: Api) -> dict:
    out: dict = {"practices": {}}
    created = api.call("POST", "/_local/practices", {"name": "Maple Family Medicine", "adminFirstName": "Avery",
                                                     "adminLastName": "Admin", "adminEmail": "avery@maple.test"}, expect=201)
    pid = created["practiceId"]
    users = {"admin": {"id": created["adminId"], "role": "admin", "name": "Avery Admin"}}
    users["admin"]["token"] = api.token(created["adminId"], pid, "admin")
    admin = users["admin"]["token"]
    for key, first, last, role, phone in STAFF:
        staff = api.call("POST", "/staff", {"firstName": first, "lastName": last, "role": role,
                                            "email": f"{first.lower()}@maple.test", "phone": phone}, admin, 201)["staff"]
        users[key] = {"id": staff["id"], "role": role, "name": f"{first} {last}", "token": api.token(staff["id"], pid, role)}
    for name, members in (("Front Office", ["front_desk"]), ("Billing", ["biller"])):
        wg = api.call("POST", "/workgroups", {"name": name, "memberIds": [users[m]["id"] for m in members]}, admin, 201)
        out.setdefault("workgroups", {})[name] = wg["workgroup"]["id"]
    for key, first, last, primary, assigned, phone, portal, active in PATIENTS:
        body = {"firstName": first, "lastName": last, "assignedStaffIds": [users[a]["id"] for a in assigned],
                "phone": phone, "portalAccess": portal, "active": active}
        if primary:
            body["primaryProviderId"] = users[primary]["id"]
        patient = api.call("POST", "/patients", body, admin, 201)["patient"]
        users[f"patient_{key}"] = {"id": patient["id"], "role": "patient", "name": f"{first} {last}",
                                   "token": api.token(patient["id"], pid, "patient", patient["id"]),
                                   "portalAccess": portal, "active": active}
    out["practices"]["maple"] = {"id": pid, "name": "Maple Family Medicine", "users": users}
    # Notifications link to the portal; texts to the practice's number come back in (NOTIFY-4).
    api.call("PUT", "/settings", {"portalUrl": "https://portal.maple.test", "smsNumber": "+15550100000",
                                  "patientBanner": "For emergencies call 911. We answer messages within 2 business days."},
             admin, 200)

    # A little history so the inboxes are not empty.
    doc, jane = users["physician"], users["patient_jane"]
    api.call("POST", "/conversations", {"kind": "patient", "patientId": jane["id"], "subject": "Lab results",
                                        "body": "Your lab results are in and look normal."}, doc["token"], 201)
    api.call("POST", "/conversations", {"subject": "Refill request", "body": "Could I get a refill of my prescription?"},
             users["patient_john"]["token"], 201)
    api.call("POST", "/conversations", {"kind": "team", "subject": "Schedule change",
                                        "body": "Clinic closes early on Friday.",
                                        "recipients": [{"type": "staff", "id": users["nurse"]["id"]},
                                                       {"type": "workgroup", "id": out["workgroups"]["Front Office"]}]},
             users["practice_manager"]["token"], 201)

    other = api.call("POST", "/_local/practices", {"name": "Harbor Therapy", "adminFirstName": "Olive",
                                                   "adminLastName": "Other", "adminEmail": "olive@harbor.test"}, expect=201)
    opid = other["practiceId"]
    oadmin = api.token(other["adminId"], opid, "admin")
    ousers = {"admin": {"id": other["adminId"], "role": "admin", "name": "Olive Other", "token": oadmin}}
    therapist = api.call("POST", "/staff", {"firstName": "Theo", "lastName": "Ward", "role": "therapist",
                                            "email": "theo@harbor.test"}, oadmin, 201)["staff"]
    ousers["therapist"] = {"id": therapist["id"], "role": "therapist", "name": "Theo Ward",
                           "token": api.token(therapist["id"], opid, "therapist")}
    op = api.call("POST", "/patients", {"firstName": "Iris", "lastName": "Vale", "phone": "+15550300001"}, oadmin, 201)["patient"]
    ousers["patient_iris"] = {"id": op["id"], "role": "patient", "name": "Iris Vale",
                              "token": api.token(op["id"], opid, "patient", op["id"])}
    out["practices"]["harbor"] = {"id": opid, "name": "Harbor Therapy", "users": ousers}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:3000")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    result = seed(Api(args.base_url))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"seeded {len(result['practices'])} practices into {args.out}")


if __name__ == "__main__":
    main()
