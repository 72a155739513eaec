#!/usr/bin/env python3
"""Seed a demo practice (and a second practice) through the API of a running local gateway.

    set -a; . .local/dev/env; set +a
    seed.py --base-url http://127.0.0.1:3000 --out .local/dev/seed.json

Everything goes through the public routes (and /_local/practices), so a seeded stack is also
a smoke test of the API. The users it creates are Cognito users of the local stack's user
pool (username = the user's id); as the operator (the env file's credentials) it gives each
one the demo password, then signs each in as the web app does (USER_PASSWORD_AUTH with the
app client), so every token is a real Cognito ID token (valid for an hour). Writes the ids,
usernames, passwords and tokens of the demo users; a user who cannot sign in (no portal
access, no e-mail, or disabled) gets neither password nor token.

The stack is read from the environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, USER_POOL_ID, USER_POOL_CLIENT_ID), as written by local_stack.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

# The one password of every demo user: the pool's policy wants 12 characters or more, with
# upper and lower case letters and a digit. Demo accounts of a throwaway local stack only.
DEMO_PASSWORD = "Carethread-Demo-2026"


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


class SignInRefused(Exception):
    """Cognito refused a sign-in (wrong password, unknown or disabled user): its message."""


class Cognito:
    """The local stack's user pool: as the operator (who sets a user's password) and as the
    app client (which signs a user in, as the web app does)."""

    def __init__(self, env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        missing = [k for k in ("AWS_ENDPOINT_URL", "USER_POOL_ID", "USER_POOL_CLIENT_ID") if not env.get(k)]
        if missing:
            sys.exit(f"seed: {', '.join(missing)} not set: run with the local stack's env file "
                     "(set -a; . .local/dev/env; set +a)")
        import boto3  # here, so that log_check.py and smoke.py import this file without it

        self.pool_id, self.client_id = env["USER_POOL_ID"], env["USER_POOL_CLIENT_ID"]
        session = boto3.session.Session(
            region_name=env.get("AWS_REGION") or "us-east-1",
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        )
        self.idp = session.client("cognito-idp", endpoint_url=env["AWS_ENDPOINT_URL"])

    def sign_in(self, username: str, password: str) -> str:
        """The user's ID token, from USER_PASSWORD_AUTH with the app client."""
        try:
            result = self.idp.initiate_auth(ClientId=self.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                            AuthParameters={"USERNAME": username, "PASSWORD": password})
        except self.idp.exceptions.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code in ("NotAuthorizedException", "UserNotFoundException", "PasswordResetRequiredException",
                        "UserNotConfirmedException"):
                raise SignInRefused(f"{code}: {e.response['Error'].get('Message', '')}") from e
            raise
        if "AuthenticationResult" not in result:
            raise SignInRefused(f"Cognito answers with a challenge ({result.get('ChallengeName')}), not tokens")
        return result["AuthenticationResult"]["IdToken"]

    def enroll(self, username: str) -> dict:
        """Gives the invited user the demo password (as the operator) and signs it in:
        {username, password, token}, or only {username} when Cognito refuses the sign-in."""
        self.idp.admin_set_user_password(UserPoolId=self.pool_id, Username=username,
                                         Password=DEMO_PASSWORD, Permanent=True)
        try:
            token = self.sign_in(username, DEMO_PASSWORD)
        except SignInRefused as e:
            print(f"seed: {username} cannot sign in ({e})", file=sys.stderr)
            return {"username": username}
        return {"username": username, "password": DEMO_PASSWORD, "token": token}


def token_of(user: dict) -> str:
    """The token of a seeded user the seed acts as; stops the seed when it has none."""
    if not user.get("token"):
        sys.exit(f"seed: {user['name']} ({user.get('username') or user['id']}) could not sign in at the user pool")
    return user["token"]


def email_of(first: str, last: str, domain: str) -> str:
    """first.last@domain in ASCII ("Luis García" -> luis.garcia@...)."""
    fold = lambda s: unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower().replace(" ", "")
    return f"{fold(first)}.{fold(last)}@{domain}"


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


def seed(api: Api, cognito: Cognito | None = None) -> dict:
    """Seeds both practices; `cognito` defaults to the user pool of the environment's stack."""
    cognito = cognito or Cognito()
    out: dict = {"practices": {}}
    created = api.call("POST", "/_local/practices", {"name": "Maple Family Medicine", "adminFirstName": "Avery",
                                                     "adminLastName": "Admin", "adminEmail": "avery@maple.test",
                                                     # Texts to this number come back in (NOTIFY-4).
                                                     "smsNumber": "+15550100000",
                                                     # The demo users sign in with a password
                                                     # alone (ACCT-3: --staff-totp optional).
                                                     "totpRequiredForStaff": False}, expect=201)
    pid = created["practiceId"]
    users = {"admin": {"id": created["adminId"], "role": "admin", "name": "Avery Admin", **cognito.enroll(created["adminId"])}}
    admin = token_of(users["admin"])
    for key, first, last, role, phone in STAFF:
        staff = api.call("POST", "/staff", {"firstName": first, "lastName": last, "role": role,
                                            "email": f"{first.lower()}@maple.test", "phone": phone}, admin, 201)["staff"]
        users[key] = {"id": staff["id"], "role": role, "name": f"{first} {last}", **cognito.enroll(staff["id"])}
    for name, members in (("Front Office", ["front_desk"]), ("Billing", ["biller"])):
        wg = api.call("POST", "/workgroups", {"name": name, "memberIds": [users[m]["id"] for m in members]}, admin, 201)
        out.setdefault("workgroups", {})[name] = wg["workgroup"]["id"]
    for key, first, last, primary, assigned, phone, portal, active in PATIENTS:
        body = {"firstName": first, "lastName": last, "assignedStaffIds": [users[a]["id"] for a in assigned],
                "phone": phone, "portalAccess": portal, "active": active}
        # A portal user's Cognito invitation goes to its e-mail, else by SMS to its phone. Jane
        # has only a phone: her notifications are texts (the smoke check reads them).
        if portal and key != "jane":
            body["email"] = email_of(first, last, "maple.test")
        if primary:
            body["primaryProviderId"] = users[primary]["id"]
        patient = api.call("POST", "/patients", body, admin, 201)["patient"]
        users[f"patient_{key}"] = {"id": patient["id"], "role": "patient", "name": f"{first} {last}",
                                   **(cognito.enroll(patient["id"]) if portal else {}),
                                   "portalAccess": portal, "active": active}
    out["practices"]["maple"] = {"id": pid, "name": "Maple Family Medicine", "users": users}
    # Notifications link to the portal; the banner's promise is kept by the reply clock (SLA-1).
    api.call("PUT", "/settings", {"portalUrl": "https://portal.maple.test",
                                  "patientBanner": "For emergencies call 911. We answer messages within 2 business days.",
                                  "timeZone": "America/Chicago",
                                  "businessHours": {"days": [1, 2, 3, 4, 5], "open": "08:00", "close": "17:00"},
                                  "replyTargets": {"urgent": {"businessHours": 4}, "normal": {"businessDays": 2},
                                                   "low": {"businessDays": 3}},
                                  "holidays": ["2026-12-25", "2027-01-01", "2027-05-31", "2027-07-05"],
                                  # SLA-4: questions waiting past three quarters of the promise
                                  # go to the Front Office as well.
                                  "escalation": {"atShare": 0.75,
                                                 "to": {"type": "workgroup", "id": out["workgroups"]["Front Office"]}}},
             admin, 200)

    # A little history so the inboxes are not empty.
    doc, jane = users["physician"], users["patient_jane"]
    lab = api.call("POST", "/conversations", {"kind": "patient", "patientId": jane["id"], "subject": "Lab results",
                                              "body": "Your lab results are in and look normal."}, token_of(doc), 201)
    # One the sample DELETE event may delete, so the other events keep theirs.
    spare = api.call("POST", "/conversations", {"kind": "patient", "patientId": jane["id"], "subject": "Sent in error",
                                                "body": "Please ignore this message."}, token_of(doc), 201)
    # Named in the sample events (infra/events.py fills them in for `cargo lambda invoke`).
    out["practices"]["maple"]["conversations"] = {
        "lab_results": {"id": lab["conversation"]["id"], "messageId": lab["message"]["id"]},
        "sent_in_error": {"id": spare["conversation"]["id"]}}
    api.call("POST", "/conversations", {"subject": "Refill request", "body": "Could I get a refill of my prescription?"},
             token_of(users["patient_john"]), 201)
    api.call("POST", "/conversations", {"kind": "team", "subject": "Schedule change",
                                        "body": "Clinic closes early on Friday.",
                                        "recipients": [{"type": "staff", "id": users["nurse"]["id"]},
                                                       {"type": "workgroup", "id": out["workgroups"]["Front Office"]}]},
             token_of(users["practice_manager"]), 201)

    other = api.call("POST", "/_local/practices", {"name": "Harbor Therapy", "adminFirstName": "Olive",
                                                   "adminLastName": "Other", "adminEmail": "olive@harbor.test",
                                                   "totpRequiredForStaff": False}, expect=201)
    opid = other["practiceId"]
    ousers = {"admin": {"id": other["adminId"], "role": "admin", "name": "Olive Other", **cognito.enroll(other["adminId"])}}
    oadmin = token_of(ousers["admin"])
    therapist = api.call("POST", "/staff", {"firstName": "Theo", "lastName": "Ward", "role": "therapist",
                                            "email": "theo@harbor.test"}, oadmin, 201)["staff"]
    ousers["therapist"] = {"id": therapist["id"], "role": "therapist", "name": "Theo Ward", **cognito.enroll(therapist["id"])}
    op = api.call("POST", "/patients", {"firstName": "Iris", "lastName": "Vale", "phone": "+15550300001",
                                        "email": email_of("Iris", "Vale", "harbor.test"), "portalAccess": True},
                  oadmin, 201)["patient"]
    ousers["patient_iris"] = {"id": op["id"], "role": "patient", "name": "Iris Vale", **cognito.enroll(op["id"])}
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
