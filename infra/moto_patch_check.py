#!/usr/bin/env python3
"""The local stack's Query shortcuts (infra/moto_speed.py, patches 4, 5 and 7) answer exactly
as moto's own Query does: random queries on a table and an index (key ranges, both
directions, limits, filters), paged to the end with ExclusiveStartKey, must give the same
pages and the same LastEvaluatedKey both ways. `make test` runs it first, so a moto upgrade
that changes the loop the shortcuts stand in for fails here rather than in a test far away.
"""

import random
import sys
from pathlib import Path

sys.argv = sys.argv[:1]  # moto_server.py reads none of them on import, but keep it that way
sys.path.insert(0, str(Path(__file__).resolve().parent))
import moto_server  # noqa: E402,F401  (its import applies the patches)
import moto_speed as ms  # noqa: E402
import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402

random.seed(7)
with mock_aws():
    c = boto3.client("dynamodb", region_name="us-east-1")
    c.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "g1pk", "g1sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "GSI1", "KeySchema": [{"AttributeName": "g1pk", "KeyType": "HASH"}, {"AttributeName": "g1sk", "KeyType": "RANGE"}], "Projection": {"ProjectionType": "ALL"}}])
    for i in range(250):
        item = {"pk": {"S": f"P#{random.randint(0, 3)}"}, "sk": {"S": f"S#{random.randint(0, 999):03d}"}, "n": {"N": str(random.randint(0, 3))}}
        if random.random() < 0.8:
            item["g1pk"] = {"S": f"G#{random.randint(0, 2)}"}
            if random.random() < 0.9:
                item["g1sk"] = {"S": f"{random.randint(0, 50):02d}#x"}
        c.put_item(TableName="t", Item=item)
    def pages(q):
        out, start = [], None
        for _ in range(500):
            kw = dict(q)
            if start: kw["ExclusiveStartKey"] = start
            r = c.query(**kw)
            out.append(([it for it in r["Items"]], r.get("LastEvaluatedKey")))
            start = r.get("LastEvaluatedKey")
            if not start: break
        return out
    checked = 0
    for trial in range(120):
        idx = random.random() < 0.6
        q = {"TableName": "t", "Limit": random.randint(1, 30), "ScanIndexForward": random.random() < 0.5}
        vals = {}
        if idx:
            q["IndexName"] = "GSI1"; cond = "g1pk = :h"; vals[":h"] = {"S": f"G#{random.randint(0, 2)}"}; rk = "g1sk"
            a, b = sorted([f"{random.randint(0, 50):02d}", f"{random.randint(0, 50):02d}"])
        else:
            cond = "pk = :h"; vals[":h"] = {"S": f"P#{random.randint(0, 3)}"}; rk = "sk"
            a, b = sorted([f"S#{random.randint(0, 999):03d}", f"S#{random.randint(0, 999):03d}"])
        kind = random.choice(["none", "between", "ge", "le", "begins"])
        if kind == "between": cond += f" AND {rk} BETWEEN :a AND :b"; vals[":a"] = {"S": a}; vals[":b"] = {"S": b}
        elif kind == "ge": cond += f" AND {rk} >= :a"; vals[":a"] = {"S": a}
        elif kind == "le": cond += f" AND {rk} <= :b"; vals[":b"] = {"S": b}
        elif kind == "begins": cond += f" AND begins_with({rk}, :a)"; vals[":a"] = {"S": a[:-1]}
        q["KeyConditionExpression"] = cond; q["ExpressionAttributeValues"] = vals
        if random.random() < 0.3:
            q["FilterExpression"] = "n > :z"; q["ExpressionAttributeValues"][":z"] = {"N": "1"}
        Table.query = ms._partition_query; fast = pages(q)
        Table.query = ms._query; slow = pages(q)
        assert fast == slow, (q, len(fast), len(slow))
        checked += 1
    print(f"moto_patch_check: the shortcuts gave moto's own pages for {checked} paged queries")
