"""IAM for DynamoDB items as AWS evaluates it, for the local stack (moto_iam.py).

moto checks an action against a role's policies but ignores a statement's resource and
conditions. The template limits some functions to partitions (`dynamodb:LeadingKeys`): the
notifier writes only inbox, conversation, outbox and SMS-peer partitions, the audit chain only
audit partitions, and every other function may not update or delete in an audit partition (the
`AuditAppendOnlyPolicy` Deny, SEC-2). Without this module none of that would be checked
locally, and a write outside its partitions would pass every test and be refused on AWS.

Here each DynamoDB request becomes the item checks IAM makes (one per item of a transaction,
one per request of a batch, with the action of the item's kind), each with its resource kind
(the table, an index, a stream) and its leading keys (the partition key values it touches),
and is evaluated against the role's DynamoDB statements as the template writes them: an
explicit Deny whose condition holds refuses; otherwise some Allow whose condition holds must
match. Table names are not compared (tests work on copies of the stack's table); what a
statement's resource says, table or index, is.

Only the condition keys the template uses are understood; `unsupported_conditions` names any
other, and `local_stack.py create` refuses a template that has one, so a condition can never
be silently ignored. A Query's leading key is read from its key condition on the table; on an
index it is not (no template statement conditions a Query).
"""

from __future__ import annotations

import json
import re

# The multivalued operators the template uses with dynamodb:LeadingKeys.
_OPERATORS = {
    "ForAllValues:StringLike": (all, True),
    "ForAnyValue:StringLike": (any, True),
    "ForAllValues:StringEquals": (all, False),
    "ForAnyValue:StringEquals": (any, False),
}
_KEYS = {"dynamodb:LeadingKeys"}

# TransactWriteItems and TransactGetItems are checked item by item, each under its own action.
_TRANSACT_KINDS = {"Put": ("dynamodb:PutItem", "Item"), "Update": ("dynamodb:UpdateItem", "Key"),
                   "Delete": ("dynamodb:DeleteItem", "Key"),
                   "ConditionCheck": ("dynamodb:ConditionCheckItem", "Key"), "Get": ("dynamodb:GetItem", "Key")}
_SINGLE_ITEM = {"dynamodb:PutItem": "Item", "dynamodb:GetItem": "Key", "dynamodb:UpdateItem": "Key",
                "dynamodb:DeleteItem": "Key"}


# The role policy that holds a function's DynamoDB statements as written (function_roles.py
# makes it; moto_iam.py evaluates it here instead of leaving it to moto).
ROLE_POLICY = "dynamodb"


class Check:
    """One authorization IAM makes: an action on a resource kind, for these partitions."""

    def __init__(self, action: str, table: str, kind: str, leading_keys: list[str]):
        self.action, self.table, self.kind, self.leading_keys = action, table, kind, leading_keys

    def __repr__(self) -> str:
        # Partitions by their shape: a key can hold a phone number (SMSNUMBER#...), and this
        # goes to moto.log.
        return f"{self.action} on {self.kind} {self.table} {[partition_shape(k) for k in self.leading_keys]}"


def unsupported_conditions(statements: list[dict]) -> list[str]:
    """The conditions of these statements that `permitted` cannot evaluate."""
    found = []
    for st in statements:
        for operator, keys in (st.get("Condition") or {}).items():
            for key in keys:
                if operator not in _OPERATORS or key not in _KEYS:
                    found.append(f"{st.get('Sid', '?')}: {operator} {key}")
    return found


def _scalar(value: dict) -> str | None:
    for kind in ("S", "N", "B"):
        if kind in value:
            return str(value[kind])
    return None


def _leading(attributes: dict | None, hash_key: str) -> list[str]:
    value = _scalar((attributes or {}).get(hash_key) or {})
    return [value] if value is not None else []


def _query_leading(body: dict, hash_key: str) -> list[str]:
    if body.get("IndexName"):
        return []
    names = body.get("ExpressionAttributeNames") or {}
    values = body.get("ExpressionAttributeValues") or {}
    for name, placeholder in re.findall(r"([#\w]+)\s*=\s*(:\w+)", body.get("KeyConditionExpression") or ""):
        if names.get(name, name) == hash_key and placeholder in values:
            return _leading({hash_key: values[placeholder]}, hash_key)
    return []


def checks(action: str, raw_body: bytes | str | None, hash_key_of) -> list[Check]:
    """The item checks of a DynamoDB request. `hash_key_of(table)` names a table's partition
    key attribute. Actions on no item (DescribeTable, streams) give none."""
    try:
        body = json.loads(raw_body or "{}")
    except ValueError:
        return []
    if action in _SINGLE_ITEM:
        table = body.get("TableName", "")
        return [Check(action, table, "table", _leading(body.get(_SINGLE_ITEM[action]), hash_key_of(table)))]
    if action in ("dynamodb:TransactWriteItems", "dynamodb:TransactGetItems"):
        out = []
        for item in body.get("TransactItems") or []:
            for kind, part in item.items():
                item_action, field = _TRANSACT_KINDS.get(kind, (action, "Key"))
                table = part.get("TableName", "")
                out.append(Check(item_action, table, "table", _leading(part.get(field), hash_key_of(table))))
        return out
    if action == "dynamodb:BatchWriteItem":
        out = []
        for table, requests in (body.get("RequestItems") or {}).items():
            keys = []
            for request in requests:
                for kind, field in (("PutRequest", "Item"), ("DeleteRequest", "Key")):
                    if kind in request:
                        keys += _leading(request[kind].get(field), hash_key_of(table))
            out.append(Check(action, table, "table", keys))
        return out
    if action == "dynamodb:BatchGetItem":
        return [Check(action, table, "table", [k for key in (spec.get("Keys") or [])
                                               for k in _leading(key, hash_key_of(table))])
                for table, spec in (body.get("RequestItems") or {}).items()]
    if action in ("dynamodb:Query", "dynamodb:Scan"):
        table = body.get("TableName", "")
        kind = "index" if body.get("IndexName") else "table"
        keys = _query_leading(body, hash_key_of(table)) if action == "dynamodb:Query" else []
        return [Check(action, table, kind, keys)]
    return []


def _like(value: str, pattern: str) -> bool:
    """IAM's wildcard match: `*` any run of characters, `?` one; nothing else is special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _resource_kind(arn: str) -> str | None:
    if arn == "*":
        return None
    if "/index/" in arn:
        return "index"
    if "/stream/" in arn:
        return "stream"
    return "table"


def listed(value) -> list:
    """A policy element that may be one value or a list, as a list."""
    return value if isinstance(value, list) else [value]


def _concerns(st: dict, check: Check) -> bool:
    if not any(_like(check.action.lower(), a.lower()) for a in listed(st.get("Action", []))):
        return False
    kinds = [_resource_kind(r) for r in listed(st.get("Resource", "*"))]
    return None in kinds or check.kind in kinds


def _holds(st: dict, check: Check) -> bool:
    for operator, keys in (st.get("Condition") or {}).items():
        quantifier, like = _OPERATORS[operator]
        for patterns in keys.values():
            patterns = listed(patterns)

            def matches(value: str) -> bool:
                return any(_like(value, p) if like else value == p for p in patterns)

            if not quantifier(matches(v) for v in check.leading_keys):
                return False
    return True


# A ConditionCheckItem reads (as GetItem does): it is not among them.
WRITE_ACTIONS = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def partition_shape(pk: str) -> str:
    """A partition key with its values starred and its tags kept, the form a LeadingKeys
    condition names: `PRAC#p1#AUDIT#CONVERSATION#c1` is `PRAC#*#AUDIT#CONVERSATION#*`."""
    return "#".join(part if re.fullmatch(r"[A-Z_~]+", part) else "*" for part in pk.split("#"))


def permitted(statements: list[dict], check: Check) -> bool:
    """Whether these statements allow the check: no applicable Deny, some applicable Allow."""
    applicable = [st for st in statements if _concerns(st, check) and _holds(st, check)]
    if any(st.get("Effect") == "Deny" for st in applicable):
        return False
    return any(st.get("Effect") == "Allow" for st in applicable)
