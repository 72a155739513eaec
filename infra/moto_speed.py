"""moto made fast enough for long test runs and a `make dev` stack that grows (imported by
moto_server.py after its request lock): each fix below gives the same answers as moto, in
less time. Numbered as moto_server.py's docstring lists them.
"""

import os

from moto.moto_server import werkzeug_app

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
    import selectors  # noqa: E402

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

    # (EVENT_READ too: werkzeug registers the socket for it; without it every answer ended in
    # an AttributeError that werkzeug caught and logged with its traceback, in moto's lock.)
    serving.selectors = types.SimpleNamespace(DefaultSelector=_NothingLeftToDrain, EVENT_READ=selectors.EVENT_READ)

# 10. Per-request work that never changes its answer, done once. A profile of a test run had
#     moto at 85% of a core for the whole run (every request waits for it), a fifth of that
#     in three lookups: the list of moto's service folders (read from disk on every request
#     to route it), a linear search of every role session ever assumed for the caller's
#     access key (moto_iam.py indexes them), and the method names of the service's response
#     class (found by inspection on every call). And werkzeug's line per request in
#     moto.log, which nobody reads (IAM refusals are still logged, moto_iam.py).
import functools  # noqa: E402
import logging  # noqa: E402

from moto import backends as moto_backends  # noqa: E402
from moto.core import responses as core_responses  # noqa: E402

_service_folders = tuple(moto_backends.list_of_moto_modules())
moto_backends.list_of_moto_modules = lambda: _service_folders
core_responses.method_names_from_class = functools.lru_cache(maxsize=None)(core_responses.method_names_from_class)
logging.getLogger("werkzeug").setLevel(logging.WARNING)

