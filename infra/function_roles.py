"""Each function's IAM role for the local stack, from template.yaml as SAM expands it
(samtranslator), with the template's own managed policies.

moto checks a call's action, and its resource only for S3 (bucket and key ARNs); it ignores
conditions. So each role gets two policies: `function`, what moto checks (S3 statements as
written, the others' resources "*", no conditions), and `dynamodb`, the DynamoDB statements as
written, which moto_iam.py evaluates item by item as IAM does (iam_conditions.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import iam_conditions
from local_stack import REGION, TEMPLATE, fail

# The role policy moto_iam.py evaluates itself (iam_conditions.py), not moto.
DYNAMODB_POLICY = "dynamodb"


def function_policies(template_path: Path = TEMPLATE) -> dict[str, tuple[list[dict], list[dict]]]:
    """Each function's IAM statements (by its binary name), as SAM expands the template: the
    statements widened for moto (the module's docstring says how), and the DynamoDB
    statements as written, resources and conditions kept, with those of the template's own
    managed policies the role attaches (the audit log's append-only Deny)."""
    from cfnlint.decode import cfn_yaml
    from samtranslator.translator.transform import transform

    class NoManagedPolicies:  # the template names no managed policy by name
        def load(self):
            return {}

    template = cfn_yaml.load(str(template_path))
    binaries = {}
    for name, r in template["Resources"].items():
        if r["Type"] == "AWS::Serverless::Function":
            r["Properties"]["CodeUri"] = "s3://local/code.zip"  # SAM wants a URI, not a folder
            binaries[name] = r["Metadata"]["BuildProperties"]["Binary"]
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    expanded = transform(json.loads(json.dumps(template)), {}, NoManagedPolicies())
    resources = expanded["Resources"]
    policies = {}
    for name, binary in binaries.items():
        role = resources.get(f"{name}Role", {}).get("Properties", {})
        documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
        own_managed = [resources[ref["Ref"]]["Properties"]["PolicyDocument"]
                       for ref in role.get("ManagedPolicyArns", [])
                       if isinstance(ref, dict) and resources.get(ref.get("Ref"), {}).get("Type") == "AWS::IAM::ManagedPolicy"]
        widened, dynamodb = [], []
        for document in documents + own_managed:
            for st in document["Statement"]:
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                if any(a.startswith("dynamodb:") for a in actions):
                    dynamodb.append(st)
                if document in documents:
                    # moto matches an S3 call's resource (its bucket and key): those stay.
                    kept = all(a.startswith("s3:") for a in actions)
                    widened.append({"Effect": st["Effect"], "Action": actions, "Resource": st["Resource"] if kept else "*"})
        unsupported = iam_conditions.unsupported_conditions(dynamodb)
        if unsupported:
            fail(f"{binary}: conditions the local stack cannot evaluate: {unsupported}; "
                 "teach infra/iam_conditions.py them together with the template")
        policies[binary] = (widened, dynamodb)
    return policies


def resolve_table_arns(statement: dict, table_arn: str) -> dict:
    """The statement with `!GetAtt Table.Arn` and `!Sub "${Table.Arn}/..."` made this stack's."""
    def resolve(r):
        if r == {"Fn::GetAtt": ["Table", "Arn"]}:
            return table_arn
        if isinstance(r, dict) and isinstance(r.get("Fn::Sub"), str) and "${" not in r["Fn::Sub"].replace("${Table.Arn}", ""):
            return r["Fn::Sub"].replace("${Table.Arn}", table_arn)
        if r == "*":
            return r
        fail(f"a DynamoDB statement's resource the local stack cannot resolve: {r}")

    listed = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return dict(statement, Resource=[resolve(r) for r in listed])


def resolve_bucket_arns(statement: dict, buckets: dict[str, str]) -> dict:
    """An S3 statement with `!GetAtt B.Arn` and `!Sub "${B.Arn}/*"` made this stack's
    buckets' ARNs; any other statement as it is (its resource widened to "*")."""
    def resolve(r):
        for resource, name in buckets.items():
            if r == {"Fn::GetAtt": [resource, "Arn"]}:
                return f"arn:aws:s3:::{name}"
            if isinstance(r, dict) and r.get("Fn::Sub") == f"${{{resource}.Arn}}/*":
                return f"arn:aws:s3:::{name}/*"
        fail(f"an S3 statement's resource the local stack cannot resolve: {r}")

    if statement["Resource"] == "*":
        return statement
    listed = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    return dict(statement, Resource=[resolve(r) for r in listed])


def create_roles(session, endpoint: str, prefix: str, table_arn: str, buckets: dict[str, str]) -> str:
    """A role per function with its template statements; returns the ARN prefix. Policy
    `function` is what moto checks; policy `dynamodb` holds the DynamoDB statements as the
    template writes them, which moto_iam.py evaluates item by item (iam_conditions.py)."""
    iam = session.client("iam", endpoint_url=endpoint)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
    arn_prefix = ""
    for binary, (widened, dynamodb) in function_policies().items():
        name = f"{prefix}-fn-{binary}"[:64]
        try:
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="function", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [resolve_bucket_arns(st, buckets) for st in widened]}))
        iam.put_role_policy(RoleName=name, PolicyName=DYNAMODB_POLICY, PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [resolve_table_arns(st, table_arn) for st in dynamodb]}))
        arn_prefix = arn[: -len(binary)]
    print(f"function roles {arn_prefix}* ready")
    return arn_prefix
