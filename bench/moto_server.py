"""The benchmark's moto: infra/moto_server.py (the same fixes), plus one more.

moto's TransactWriteItems deep-copies every table it touches, all items and the table's
stream records, before it starts, so that it can put the copy back if the transaction is
cancelled. Every Carethread request writes at least one transaction (its audit event), so each
request costs time in proportion to everything written before it, and a long benchmark slows
to a crawl. Here the transaction keeps a copy of only the items it names (and the length of the
stream), and puts those back if it is cancelled: the same outcome, at the cost of the
transaction's own items. Used by bench/run.sh only; `make test` runs infra/moto_server.py.
"""

import copy
import runpy
import sys
import types
from pathlib import Path

# infra/moto_server.py's patches, without running its main.
runpy.run_path(str(Path(__file__).resolve().parent.parent / "infra" / "moto_server.py"), run_name="bench_moto")

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

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
