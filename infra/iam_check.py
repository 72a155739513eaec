#!/usr/bin/env python3
"""Every AWS operation each function performed during the test run is in its role.

    iam_check.py CALLS_LOG [MOTO_LOG]

CALLS_LOG holds one JSON line per test app (and one from the `make dev`-path gateway):
{"compose": ["DynamoDB.Query", ...], ...}, the call counter's record of what each function
called. The roles are template.yaml's, expanded as SAM expands them (infra/function_roles.py).
IAM enforcement already fails a test whose call is missing from a role, a transaction's items
included (AWS authorizes each: PutItem, UpdateItem, DeleteItem, ConditionCheckItem; the local
stack's moto_iam.py does the same). The call counter records a transaction's parts, and
this check holds each part to the role again for the whole run, states the result in one
table, lists per function the actions granted but never used, so that roles can shrink, and
fails (exit 1) on any operation or part outside its role.

With MOTO_LOG (the local stack's log), it also prints the partitions each function wrote
(moto_iam.py notes each role's writes by partition shape, `PRAC#*#USER#*`), marking the
functions whose table writes are not limited to partitions by a `dynamodb:LeadingKeys`
condition: what such a condition would have to allow.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from iam_conditions import WRITE_ACTIONS, listed  # noqa: E402
from function_roles import function_policies  # noqa: E402

SERVICES = {"DynamoDB": "dynamodb", "S3": "s3", "KMS": "kms", "SNS": "sns", "STS": "sts",
            "Cognito Identity Provider": "cognito-idp", "DynamoDB Streams": "dynamodb"}


# S3 operations whose IAM action has another name (IAM has no s3:HeadObject or s3:CopyObject).
S3_ACTIONS = {"HeadObject": ["s3:GetObject"], "CopyObject": ["s3:PutObject", "s3:GetObject"],
              "DeleteObjects": ["s3:DeleteObject"], "ListObjectsV2": ["s3:ListBucket"],
              "HeadBucket": ["s3:ListBucket"], "GetObjectTagging": ["s3:GetObjectTagging"]}
# Used by the Lambda service on the function's behalf (its on-failure destinations), not by
# the function's code: never in the call counter, so never "unused".
SERVICE_SIDE = {"sqs:SendMessage"}


# A transaction is authorized item by item (its parts are recorded as Operation:Kind).
PARTS = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem",
         "ConditionCheck": "dynamodb:ConditionCheckItem"}
TRANSACTIONS = {"dynamodb:TransactWriteItems", "dynamodb:TransactGetItems"}


def actions(operation: str) -> list[str]:
    if ":" in operation:  # a transaction's part
        return [PARTS[operation.rsplit(":", 1)[1]]]
    service, _, name = operation.rpartition(".")
    if service not in SERVICES:
        sys.exit(f"iam_check: no IAM prefix known for {service!r}; add it to SERVICES")
    if service == "S3" and name in S3_ACTIONS:
        return S3_ACTIONS[name]
    return [f"{SERVICES[service]}:{name}"]


def partitions_written(moto_log: Path) -> dict[str, set[str]]:
    """Per function, the partition shapes its role wrote, as `moto_iam.py` noted them."""
    written: dict[str, dict[str, set[str]]] = {}
    for line in moto_log.read_text(errors="replace").splitlines():
        noted = re.fullmatch(r"IAM PARTITION (\S+)-fn-(\S+) dynamodb:(\w+) (\S+)", line)
        if noted:
            _, function, action, shape = noted.groups()
            written.setdefault(function, {}).setdefault(shape, set()).add(action)
    return {function: {f"{shape} ({', '.join(sorted(actions))})" for shape, actions in shapes.items()}
            for function, shapes in written.items()}


def unconditioned_writes(statements: list[dict]) -> bool:
    return any(st["Effect"] == "Allow" and not st.get("Condition") and WRITE_ACTIONS.intersection(listed(st["Action"]))
               for st in statements)


def report_partitions(moto_log: Path, policies: dict) -> None:
    written = partitions_written(moto_log)
    print(f"\n{'function':<20} partitions written (* = table writes not limited by dynamodb:LeadingKeys)")
    for function in sorted(policies):
        mark = "*" if unconditioned_writes(policies[function][1]) else " "
        shapes = sorted(written.get(function, set()))
        print(f"{function:<19}{mark} {shapes[0] if shapes else '-'}")
        for shape in shapes[1:]:
            print(f"{'':<20} {shape}")


def main() -> None:
    used: dict[str, set[str]] = {}
    for line in Path(sys.argv[1]).read_text().splitlines():
        for function, operations in json.loads(line).items():
            # The transaction itself is no IAM action in AWS; its parts are (above).
            used.setdefault(function, set()).update(a for o in operations for a in actions(o) if a not in TRANSACTIONS)
    granted = {}
    policies = function_policies()
    for function, (statements, _) in policies.items():
        granted[function] = {a for st in statements if st["Effect"] == "Allow" for a in st["Action"]}
    missing = 0
    print(f"{'function':<20} {'used':>4}  actions granted but never used in the test run")
    for function in sorted(granted):
        calls = used.get(function, set())
        outside = sorted(calls - granted[function])
        # Transactions are authorized per item in AWS: no role names them.
        unused = sorted(granted[function] - calls - SERVICE_SIDE - TRANSACTIONS)
        print(f"{function:<20} {len(calls):>4}  {', '.join(unused) or '-'}")
        for a in outside:
            print(f"  MISSING from its role in template.yaml: {a}")
        missing += len(outside)
    unknown = sorted(set(used) - set(granted))
    if unknown:
        sys.exit(f"iam_check: functions not in template.yaml: {unknown}")
    if missing:
        sys.exit(f"iam_check: {missing} operation(s) outside their function's role")
    if len(sys.argv) > 2:
        report_partitions(Path(sys.argv[2]), policies)
    print("iam_check: every operation of every function is in its role")


if __name__ == "__main__":
    main()
