"""Runs `moto_server` (same arguments) with fixes for long, concurrent test runs, and a
log line for every call IAM refuses (which role, which action), so that a permission missing
from template.yaml names itself in moto.log.

1. No dashboard instance tracking. moto keeps a reference to every model object it ever made,
   for its /moto-api dashboard: every DynamoDB item, and every copy of a table's items that a
   TransactWriteItems makes. Over a test run that grows to many gigabytes. Here only SNS
   objects are tracked, which the tests read back as the SMS log (`/moto-api/data.json`).
2. One request at a time. moto's backends are not thread-safe: a TransactWriteItems deep-copies
   the table while another request thread changes it ("dictionary changed size during
   iteration", answered as an HTML 500). AWS serializes conflicting writes itself; here every
   request holds one lock, which keeps moto's answers what AWS would give.
3. Cognito's token-authorized operations are not held to IAM (below), as in AWS.
4. to 6. below: DynamoDB Queries read their partition (of the table or of an index), not the
   whole table, and stream records are not re-serialized, so that a `make dev` stack stays
   fast as its data grows.
"""

import os
import sys
import threading

from moto.core import common_models


def _new(cls, *args, **kwargs):
    instance = object.__new__(cls)
    if cls.__module__.startswith("moto.sns."):
        cls.instances_tracked.append(instance)
    return instance


common_models.BaseModel.__new__ = staticmethod(_new)

from moto.moto_server import werkzeug_app  # noqa: E402

_one_at_a_time = threading.Lock()
_dispatch = werkzeug_app.DomainDispatcherApplication.__call__


def _serialized(self, environ, start_response):
    with _one_at_a_time:
        # The response body is materialized inside the lock: moto builds it from live state.
        return list(_dispatch(self, environ, start_response))


werkzeug_app.DomainDispatcherApplication.__call__ = _serialized

from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402

# Cognito's user-facing operations are authorized by the user's own access token or sign-in
# session, never by IAM (AWS: "unauthenticated" and "token-authorized" operations). moto's
# list of them is short, and with IAM enforcement on it fails the rest (500, no signature):
# the second factor's set-up and challenge (ACCT-3) among them.
ActionAuthenticatorMixin.PUBLIC_OPERATIONS = sorted(set(ActionAuthenticatorMixin.PUBLIC_OPERATIONS) | {
    f"AWSCognitoIdentityProviderService.{op}" for op in (
        "AssociateSoftwareToken", "ChangePassword", "ConfirmForgotPassword", "ConfirmSignUp",
        "ForgotPassword", "GetUser", "GlobalSignOut", "InitiateAuth", "ResendConfirmationCode",
        "RespondToAuthChallenge", "RevokeToken", "SetUserMFAPreference", "SignUp",
        "UpdateUserAttributes", "VerifySoftwareToken", "VerifyUserAttribute",
    )
})

# CORS preflights are never signed and AWS never checks them against IAM; with enforcement on
# moto would try (and answer 500). Let them reach moto's CORS handling.
_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authorize_unless_preflight(self, *args, **kwargs):
    if getattr(self, "method", None) == "OPTIONS":
        return None
    if "Authorization" not in self.headers and "X-Amz-Credential=" in (self.uri or ""):
        return _authorize_presigned(self, *args, **kwargs)
    return _authorize(self, *args, **kwargs)


def _authorize_presigned(self, *args, **kwargs):
    """moto checks IAM only for header-signed requests; a presigned S3 URL signs in its query.
    Its signer's permission is checked as for any call (the action, by the role that signed
    it), and its signature is recomputed here as S3 does for a query-signed request (moto's
    own check knows only the header form): a PUT whose Content-Type or Content-Length differs
    from what was signed, an edited key or an expired URL are refused, as in AWS."""
    from urllib.parse import parse_qsl, urlparse

    from moto.iam.access_control import IAMRequestBase

    url = urlparse(self.uri)
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    headers = dict(self.headers)
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={query.get('X-Amz-Credential', '')}, "
                                f"SignedHeaders={query.get('X-Amz-SignedHeaders', '')}, "
                                f"Signature={query.get('X-Amz-Signature', '')}")
    if "X-Amz-Security-Token" in query:
        headers["X-Amz-Security-Token"] = query["X-Amz-Security-Token"]

    def check_query_signature(request) -> None:
        if presigned_signature(request, self.method, url, dict(self.headers)) != query.get("X-Amz-Signature"):
            request._raise_signature_does_not_match()
        if presigned_expired(query):
            request._raise_access_denied()

    original_headers, original_check = self.headers, IAMRequestBase.check_signature
    self.headers, IAMRequestBase.check_signature = headers, check_query_signature
    try:
        return _authorize(self, *args, **kwargs)
    finally:
        self.headers, IAMRequestBase.check_signature = original_headers, original_check


def presigned_signature(request, method: str, url, sent_headers: dict) -> str:
    """SigV4 of a query-signed S3 request, from the signer's secret (moto's record of it)."""
    import hashlib
    import hmac
    from urllib.parse import parse_qsl, quote

    secret = request._access_key.create_credentials().secret_key
    pairs = [(k, v) for k, v in parse_qsl(url.query, keep_blank_values=True) if k != "X-Amz-Signature"]
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))
    lower = {k.lower(): str(v).strip() for k, v in sent_headers.items()}
    query = dict(pairs)
    signed = query.get("X-Amz-SignedHeaders", "").split(";")
    canonical_headers = "".join(f"{h}:{lower.get(h, '')}\n" for h in signed)
    canonical_request = "\n".join([method, url.path, canonical_query, canonical_headers, ";".join(signed), "UNSIGNED-PAYLOAD"])
    credential = query.get("X-Amz-Credential", "").split("/")
    scope = "/".join(credential[1:])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", query.get("X-Amz-Date", ""), scope,
                         hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in credential[1:5]:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def presigned_expired(query: dict) -> bool:
    from datetime import datetime, timedelta, timezone

    try:
        signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        return datetime.now(timezone.utc) > signed_at + timedelta(seconds=int(query["X-Amz-Expires"]))
    except (KeyError, ValueError):
        return True


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize_unless_preflight

from moto.iam import access_control  # noqa: E402

_check = access_control.IAMRequestBase.check_action_permitted


# DynamoDB transactions are not IAM actions of their own: AWS checks each item of one against
# its operation's action (a Put needs dynamodb:PutItem, an Update dynamodb:UpdateItem, a
# Delete dynamodb:DeleteItem, a ConditionCheck dynamodb:ConditionCheckItem; a TransactGet's
# items dynamodb:GetItem). moto checks the call's name instead; here each item is checked.
_TRANSACT_ITEM_ACTIONS = {
    "dynamodb:TransactWriteItems": ("TransactItems", {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem",
                                                      "Delete": "dynamodb:DeleteItem",
                                                      "ConditionCheck": "dynamodb:ConditionCheckItem"}),
    "dynamodb:TransactGetItems": ("TransactItems", {"Get": "dynamodb:GetItem"}),
}


def _item_actions(request) -> list[str]:
    import json

    field, by_kind = _TRANSACT_ITEM_ACTIONS[request._action]
    try:
        items = json.loads(request._body or "{}").get(field) or []
    except ValueError:
        return [request._action]
    actions = sorted({by_kind.get(kind, request._action) for item in items for kind in item})
    return actions or [request._action]


def _logged_check(self, resource):
    checked = _item_actions(self) if self._action in _TRANSACT_ITEM_ACTIONS else [self._action]
    call = self._action
    try:
        for action in checked:
            self._action = action
            _check(self, resource)
    except Exception:
        principal = getattr(getattr(self, "_access_key", None), "arn", "?")
        print(f"IAM DENIED {self._action} to {principal}", file=sys.stderr, flush=True)
        raise
    finally:
        self._action = call
    if call.startswith("dynamodb:"):
        _check_dynamodb_items(self)


# moto ignores a statement's resource and conditions, so a function's DynamoDB statements as
# the template writes them (its role's policy `dynamodb`, made by local_stack.py) are evaluated
# here, item by item, with their dynamodb:LeadingKeys conditions (iam_conditions.py).
_DYNAMODB_POLICY = "dynamodb"


def _role_policies_for_moto(self):
    names = [n for n in self.backend.list_role_policies(self._owner_role_name) if n != _DYNAMODB_POLICY]
    policies = [self.backend.get_role_policy(self._owner_role_name, n)[1] for n in names]
    attached, _ = self.backend.list_attached_role_policies(self._owner_role_name)
    return policies + list(attached)


access_control.AssumedRoleAccessKey.collect_policies = _role_policies_for_moto


def _check_dynamodb_items(request) -> None:
    import json

    import iam_conditions
    from moto.dynamodb.models import dynamodb_backends

    key = request._access_key
    if not isinstance(key, access_control.AssumedRoleAccessKey):
        return  # the operator: a user with every right
    if _DYNAMODB_POLICY not in key.backend.list_role_policies(key._owner_role_name):
        return
    statements = json.loads(key.backend.get_role_policy(key._owner_role_name, _DYNAMODB_POLICY)[1])["Statement"]
    backend = dynamodb_backends[request.account_id][request._region]

    def hash_key_of(table: str) -> str:
        try:
            return backend.get_table(table).hash_key_attr
        except Exception:
            return "pk"  # no such table: DynamoDB answers that, after IAM

    for check in iam_conditions.checks(request._action, request._body, hash_key_of):
        if not iam_conditions.permitted(statements, check):
            print(f"IAM DENIED {check} to {key.arn}", file=sys.stderr, flush=True)
            request._raise_access_denied()
        if check.action in iam_conditions.WRITE_ACTIONS:
            _note_partitions(key._owner_role_name, check)


# Which partitions each role wrote, once each, for iam_check.py's report (roles can then be
# narrowed with dynamodb:LeadingKeys to the partitions a function really writes).
_noted: set[tuple[str, str, str]] = set()


def _note_partitions(role: str, check) -> None:
    import iam_conditions

    for pk in check.leading_keys:
        noted = (role, check.action, iam_conditions.partition_shape(pk))
        if noted not in _noted:
            _noted.add(noted)
            sys.stderr.write("IAM PARTITION {} {} {}\n".format(*noted))  # one write: threads interleave
            sys.stderr.flush()


access_control.IAMRequestBase.check_action_permitted = _logged_check
_signature = access_control.IAMRequestBase.check_signature


def _logged_signature(self):
    try:
        return _signature(self)
    except Exception:
        # moto recomputes SNS's form-encoded (query protocol) signatures differently from the
        # AWS SDK for Rust and refuses valid calls; the caller's identity and permission are
        # still checked. Every other service's signature must match.
        if self._action.startswith("sns:"):
            return None
        print(f"IAM SIGNATURE REFUSED {self._action}", file=sys.stderr, flush=True)
        raise


access_control.IAMRequestBase.check_signature = _logged_signature

# GuardDuty Malware Protection for S3, played locally: in a bucket that local_stack.py tagged
# as protected, every object stored (PutObject, CopyObject, a completed multipart upload) gets
# the tag GuardDuty writes, THREATS_FOUND for the EICAR test file and NO_THREATS_FOUND for
# anything else, at once rather than moments later. A copy then takes its source's tags, as in
# S3 (TaggingDirective COPY).
import moto.s3.models as s3_models  # noqa: E402

SCAN_TAG = "carethread-local:guardduty-malware-protection"
_put_object = s3_models.S3Backend.put_object


def _put_and_scan(self, bucket_name, key_name, value, *args, **kwargs):
    key = _put_object(self, bucket_name, key_name, value, *args, **kwargs)
    try:
        bucket_tags = self.get_bucket_tagging(bucket_name).get("Tags", [])
    except Exception:
        bucket_tags = []
    if any(t.get("Key") == SCAN_TAG for t in bucket_tags):
        data = bytes(value) if not isinstance(value, bytes) else value
        verdict = "THREATS_FOUND" if b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in data else "NO_THREATS_FOUND"
        self.tagger.tag_resource(key.arn, [{"Key": VERDICT_TAG, "Value": verdict}])
        # PutObject then sets the request's own tags, which replace all others: the verdict is
        # added again there, once (a later PutObjectTagging replaces it, as in S3).
        key.carethread_verdict = verdict
    return key


_put_object_tagging = s3_models.S3Backend.put_object_tagging


def _put_object_tagging_after_scan(self, key, tags, *args, **kwargs):
    verdict = getattr(key, "carethread_verdict", None)
    if verdict and VERDICT_TAG not in (tags or {}):
        tags = {**(tags or {}), VERDICT_TAG: verdict}
    key.carethread_verdict = None
    return _put_object_tagging(self, key, tags, *args, **kwargs)


VERDICT_TAG = "GuardDutyMalwareScanStatus"
s3_models.S3Backend.put_object = _put_and_scan
s3_models.S3Backend.put_object_tagging = _put_object_tagging_after_scan

# 3. A cheap TransactWriteItems rollback. moto deep-copies every table a transaction touches
#    (all items and the table's stream records) before it starts, to put the copy back if the
#    transaction is cancelled; every Carethread request writes a transaction (its audit event
#    at least), so each request cost time in proportion to everything written before it and a
#    `make dev` stack slowed to seconds a request after a day of use. Here the transaction
#    keeps a copy of only the items it names (and the length of the stream), and puts those
#    back if it is cancelled: the same outcome, at the cost of the transaction's own items.
import copy  # noqa: E402
import types  # noqa: E402

import moto.dynamodb.models as dynamodb_models  # noqa: E402
from moto.dynamodb.models.dynamo_type import DynamoType  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402


def _deepcopy(value, memo=None):
    # The whole-table backup: the table itself stands in (nothing is restored from it).
    if isinstance(value, Table):
        return value
    return copy.deepcopy(value, memo)


dynamodb_models.copy = types.SimpleNamespace(deepcopy=_deepcopy, copy=copy.copy)
_transact = dynamodb_models.DynamoDBBackend.transact_write_items


def _key(table, attrs):
    h = DynamoType(attrs[table.hash_key_attr])
    r = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    return h, r


def transact_write_items(self, transact_items):
    saved = []
    streams = {}
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = self.tables.get(op.get("TableName"))
        attrs = op.get("Key") or op.get("Item")
        if table is None or not attrs:
            continue
        try:
            h, r = _key(table, attrs)
        except KeyError:
            continue  # moto answers the validation error itself
        saved.append((table, h, r, copy.deepcopy(table.get_item(h, r))))
        if table.stream_shard is not None:
            streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
    try:
        return _transact(self, transact_items)
    except Exception:
        for table, h, r, item in reversed(saved):
            if item is None:
                if r is None:
                    table.items.pop(h, None)
                elif h in table.items:
                    table.items[h].pop(r, None)
            elif r is None:
                table.items[h] = item
            else:
                table.items[h][r] = item
        for shard, length in streams.values():
            del shard.items[length:]
        raise


dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items



# 4. Queries that read one partition, not the table. moto answers every Query by sorting all
#    of the table's items and filtering them (an index Query too), so a `make dev` stack's
#    inbox page slowed with everything ever written. Here a table Query reads its partition
#    only (sorted by range key, as the full sort would give it), and an index Query reads the
#    items that have had its hash key's value (below), unsorted: moto checks the conditions
#    and sorts what matches afterwards, so the answers are the same.
_query = Table.query


def _partition_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                     scan_index_forward, projection_expressions, index_name=None, *args, **kwargs):
    if index_name is None and hash_key is not None:
        partition = self.items.get(hash_key)
        if partition is None:
            items = []
        elif self.range_key_attr:
            items = sorted(partition.values(), key=lambda item: item.range_key)
        else:
            items = [partition]
    else:
        conditions = kwargs.get("hash_key_conditions") or []
        items = _index_partition(self, conditions[0]) if len(conditions) == 1 else None
        if items is None:
            items = [i for part in self.items.values() for i in (part.values() if self.range_key_attr else [part])]
    reached = _within_limit(self, items, index_name, range_comparison, range_objs, limit, exclusive_start_key,
                            scan_index_forward, kwargs)
    items = items if reached is None else reached
    self.all_items = lambda: items  # the instance attribute stands in for the method, for this call
    try:
        return _query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                      scan_index_forward, projection_expressions, index_name, *args, **kwargs)
    finally:
        del self.all_items


Table.query = _partition_query

# 7. ... and only as far as the limit. moto then sorted the whole partition with its typed
#    comparisons (a user's inbox of 1,000 conversations: most of an inbox page's time) before
#    applying `Limit`. Where every sort key attribute is a string (all of Carethread's keys),
#    the partition is sorted by the strings themselves (UTF-8 order is code point order),
#    walked from the start key, and handed to moto's loop up to the first item after the
#    limit's worth of key-condition matches: the items that loop would have looked at, in
#    its order, so it answers the same items and the same LastEvaluatedKey.
_OWN_QUERY_ARGS = {"consistent_read", "filter_expression", "hash_key_conditions", "range_key_conditions",
                   "expr_names", "expr_values"}


def _sort_attributes(table, index_name):
    """Query order's attributes (moto's: index keys, then the table's), and the attribute a
    range condition applies to; None where this shortcut does not apply."""
    table_keys = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    if not index_name:
        return table_keys, table.range_key_attr
    schema = table.get_index(index_name).schema
    hashes = [k["AttributeName"] for k in schema if k["KeyType"] == "HASH"]
    ranges = [k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"]
    if len(hashes) != 1 or len(ranges) != 1:
        return None
    return hashes + ranges + table_keys, ranges[0]


def _string_key(values, attrs):
    key = []
    for attr in attrs:
        value = values.get(attr)
        value = value.to_json() if hasattr(value, "to_json") else value
        if not isinstance(value, dict) or not isinstance(value.get("S"), str):
            return None
        key.append(value["S"])
    return tuple(key)


def _within_limit(table, items, index_name, range_comparison, range_objs, limit, start, forward, kwargs):
    if not limit or any(k not in _OWN_QUERY_ARGS for k in kwargs) or len(kwargs.get("range_key_conditions") or []) > 1:
        return None
    order = _sort_attributes(table, index_name)
    if order is None:
        return None
    attrs, range_attr = order
    keyed = []
    for item in items:
        if index_name and not item.attrs.get(range_attr):
            continue  # not in the index
        key = _string_key(item.attrs, attrs)
        if key is None:
            return None
        keyed.append((key, item))
    keyed.sort(key=lambda pair: pair[0], reverse=not forward)
    begin = 0
    if start:
        after = _string_key(start, attrs)
        if after is None:
            return None
        while begin < len(keyed) and (keyed[begin][0] <= after if forward else keyed[begin][0] >= after):
            begin += 1
    reached, matched = [], 0
    for _, item in keyed[begin:]:
        reached.append(item)
        if matched == limit:
            break  # moto's loop stops here and names the item before as LastEvaluatedKey
        if not range_comparison or item.attrs[range_attr].compare(range_comparison, range_objs):
            matched += 1
    return reached


# 5. Where each index hash key value is, so that an index Query reads its partition. Per
#    table, the keys of the items that have had each value of an index's hash key attribute:
#    built on the table's first index Query, then added to on every write (put, update,
#    transaction, batch). Never removed from: an item deleted or moved to another value stays
#    listed and is dropped when read (the query checks each item's value again).
def _index_attributes(table):
    return {k["AttributeName"] for index in table.all_indexes() for k in index.schema if k["KeyType"] == "HASH"}


def _listed(table):
    listed = getattr(table, "_index_partitions", None)
    if listed is None:
        listed = table._index_partitions = {}
        for part in table.items.values():
            for item in (part.values() if table.range_key_attr else [part]):
                _list(table, item, listed)
    return listed


def _list(table, item, listed=None):
    listed = listed if listed is not None else getattr(table, "_index_partitions", None)
    if listed is None or item is None:
        return  # not built yet: the first Query lists everything there is
    key = (item.hash_key, item.range_key)
    for name in _index_attributes(table):
        value = item.attrs.get(name)
        if value is not None:
            listed.setdefault((name, value), set()).add(key)


def _index_partition(table, condition):
    name, value = condition
    if name not in _index_attributes(table):
        return None
    items = []
    for h, r in _listed(table).get((name, value), ()):
        part = table.items.get(h)
        item = part.get(r) if (part is not None and table.range_key_attr) else part
        current = item.attrs.get(name) if item is not None else None
        if current is not None and current == value:
            items.append(item)
    return items


_put_item = Table.put_item


def _put_and_list(self, *args, **kwargs):
    item = _put_item(self, *args, **kwargs)
    _list(self, item)
    return item


Table.put_item = _put_and_list
_update_item = dynamodb_models.DynamoDBBackend.update_item


def _update_and_list(self, table_name, *args, **kwargs):
    item = _update_item(self, table_name, *args, **kwargs)
    _list(self.get_table(table_name), item)
    return item


dynamodb_models.DynamoDBBackend.update_item = _update_and_list

# 6. Stream records written out as they are. moto answers GetRecords through its generic
#    response serializer, which walks each record's attributes against the service model: about
#    2 ms a record, so after a burst of writes the stream trigger kept moto busy for minutes
#    reading its own backlog. The records are already in the wire's shape (DynamoDB JSON);
#    here they are dumped as JSON directly (timestamps as epoch seconds, as the serializer does).
from moto.dynamodb.models.utilities import dynamo_json_dump  # noqa: E402
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler  # noqa: E402


def _get_records(self):
    limit = self._get_param("Limit") or 1000
    return dynamo_json_dump(self.backend.get_records(self._get_param("ShardIterator"), limit))


DynamoDBStreamsHandler.get_records = _get_records

# 8. Items written out as they are. moto answers every DynamoDB read through the same generic
#    serializer as in 6: it walked each item's attributes against the service model, 40% of
#    moto's time on an inbox page of 25 entries. The items are already in the wire's shape;
#    the operations that return items are dumped as JSON directly (every other operation,
#    and every error, still goes through the serializer).
from moto.core.responses import ActionResult  # noqa: E402
from moto.dynamodb.models.utilities import dynamo_to_dict  # noqa: E402
from moto.dynamodb.responses import DynamoResult  # noqa: E402

_ITEM_OPERATIONS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "PutItem", "UpdateItem",
                    "DeleteItem"}


def _keep_items(self, result):
    self._result = result  # converted only if the serializer needs it (below)


def _items_as_they_are(self, context):
    if context.operation_model.name in _ITEM_OPERATIONS:
        body = dynamo_json_dump(self._result)
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
    self._result = dynamo_to_dict(self._result)
    return ActionResult.execute_result(self, context)


DynamoResult.__init__ = _keep_items
DynamoResult.execute_result = _items_as_they_are

# 9. Connections kept alive, as AWS endpoints keep them (where MOTO_KEEP_ALIVE=1: the local
#    stacks of infra/local_stack.py and the benchmark's, issue 18), so the SDK's pool reuses
#    connections and a request's CPU is not a loopback TCP handshake and a new thread. werkzeug answers every request with `Connection: close` because
#    it cannot tell where an unread body ends; here the whole body is read before moto sees it
#    (so nothing of it is left on the socket), the header is not sent, and werkzeug's drain of
#    the socket after each answer (which would swallow the next request) finds nothing to wait
#    for.
if os.environ.get("MOTO_KEEP_ALIVE") == "1":
    import io  # noqa: E402

    from werkzeug import serving  # noqa: E402

    _dispatch_one = werkzeug_app.DomainDispatcherApplication.__call__

    def _body_read_first(self, environ, start_response):
        length = environ.get("CONTENT_LENGTH")
        if length:
            body = environ["wsgi.input"].read(int(length))
        elif environ.get("wsgi.input_terminated"):  # chunked: werkzeug's reader stops at its end
            body = environ["wsgi.input"].read()
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        return _dispatch_one(self, environ, start_response)

    werkzeug_app.DomainDispatcherApplication.__call__ = _body_read_first
    _send_header = werkzeug_app.MotoRequestHandler.send_header

    def _keep_alive(self, keyword, value):
        if not (keyword.lower() == "connection" and value.lower() == "close"):
            _send_header(self, keyword, value)

    werkzeug_app.MotoRequestHandler.send_header = _keep_alive
    # werkzeug writes the status line, headers and body in separate sends: on a connection
    # that stays open, Nagle's algorithm holds each answer's last send for the client's
    # delayed ACK (40 ms on Linux).
    werkzeug_app.MotoRequestHandler.disable_nagle_algorithm = True

    class _NothingLeftToDrain:
        def register(self, *args):
            pass

        def select(self, timeout=None):
            return []

        def close(self):
            pass

    serving.selectors = types.SimpleNamespace(DefaultSelector=_NothingLeftToDrain)

# 10. Per-request work that never changes its answer, done once. A profile of a test run had
#     moto at 85% of a core for the whole run (every request waits for it), a fifth of that
#     in three lookups: the list of moto's service folders (read from disk on every request
#     to route it), a linear search of every role session ever assumed for the caller's
#     access key (each test assumes the 24 functions' roles again), and the method names of
#     the service's response class (found by inspection on every call). And werkzeug's line
#     per request in moto.log, which nobody reads (IAM refusals are still logged, above).
import functools  # noqa: E402
import logging  # noqa: E402

from moto import backends as moto_backends  # noqa: E402
from moto.core import responses as core_responses  # noqa: E402
from moto.sts.models import sts_backends  # noqa: E402

_service_folders = tuple(moto_backends.list_of_moto_modules())
moto_backends.list_of_moto_modules = lambda: _service_folders
core_responses.method_names_from_class = functools.lru_cache(maxsize=None)(core_responses.method_names_from_class)
logging.getLogger("werkzeug").setLevel(logging.WARNING)

_sessions_by_key: dict = {}


def _assumed_role_key(self, account_id, partition, access_key_id, headers):
    """moto's AssumedRoleAccessKey.__init__, with the session found by its key in an index
    (rebuilt when sessions were added) rather than by a scan of them all."""
    sessions = sts_backends[account_id][partition].assumed_roles
    index = _sessions_by_key.get((account_id, partition))
    if index is None or index[0] != len(sessions) or access_key_id not in index[1]:
        index = (len(sessions), {s.access_key_id: s for s in sessions})
        _sessions_by_key[(account_id, partition)] = index
    self.account_id, self.partition = account_id, partition
    session = index[1].get(access_key_id)
    if session is None:
        raise access_control.CreateAccessKeyFailure(reason="InvalidId")
    self._access_key_id = access_key_id
    self._secret_access_key = session.secret_access_key
    self._session_token = session.session_token
    self._owner_role_name = session.role_arn.split("/")[-1]
    self._session_name = session.session_name
    if headers["X-Amz-Security-Token"] != self._session_token:
        raise access_control.CreateAccessKeyFailure(reason="InvalidToken")


access_control.AssumedRoleAccessKey.__init__ = _assumed_role_key

from moto.server import main  # noqa: E402  (after the patches, so every model class sees them)

if __name__ == "__main__":
    main(sys.argv[1:])
