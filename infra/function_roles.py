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
                actions = iam_conditions.listed(st["Action"])
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


def resolve_arns(statement: dict, arns: dict[str, str]) -> dict:
    """The statement with `!GetAtt X.Arn` and `!Sub "${X.Arn}/..."` made this stack's, from
    `arns` (the template's resource name to the local ARN); "*" stays."""
    def resolve(r):
        if r == "*":
            return r
        for resource, arn in arns.items():
            if r == {"Fn::GetAtt": [resource, "Arn"]}:
                return arn
            sub = r.get("Fn::Sub") if isinstance(r, dict) else None
            if isinstance(sub, str) and sub.startswith(f"${{{resource}.Arn}}") and "${" not in sub[1:]:
                return sub.replace(f"${{{resource}.Arn}}", arn)
        fail(f"a statement's resource the local stack cannot resolve: {r}")

    return dict(statement, Resource=[resolve(r) for r in iam_conditions.listed(statement["Resource"])])


def create_roles(session, endpoint: str, prefix: str, table_arn: str, buckets: dict[str, str]) -> str:
    """A role per function with its template statements; returns the ARN prefix. Policy
    `function` is what moto checks; policy `dynamodb` holds the DynamoDB statements as the
    template writes them, which moto_iam.py evaluates item by item (iam_conditions.py)."""
    iam = session.client("iam", endpoint_url=endpoint)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})
    bucket_arns = {resource: f"arn:aws:s3:::{name}" for resource, name in buckets.items()}
    arn_prefix = ""
    for binary, (widened, dynamodb) in function_policies().items():
        name = f"{prefix}-fn-{binary}"[:64]
        try:
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="function", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [resolve_arns(st, bucket_arns) for st in widened]}))
        iam.put_role_policy(RoleName=name, PolicyName=iam_conditions.ROLE_POLICY, PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [resolve_arns(st, {"Table": table_arn}) for st in dynamodb]}))
        arn_prefix = arn[: -len(binary)]
    print(f"function roles {arn_prefix}* ready")
    return arn_prefix
