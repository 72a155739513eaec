#!/usr/bin/env python3
"""The scale model (issue 17): DynamoDB's per-partition limits against a workload at its peak.

Input: bench/key-accesses.json (what each operation really touched: per partition pattern,
read and write units and how many distinct partitions; recorded by `make scale-model`) and
bench/workloads.json (who uses the product, how much, and how skewed). For each workload and
each partition pattern it prints the busiest partition's read and write units per second at
peak against DynamoDB's limits per partition (3,000 read units, 1,000 write units a second),
the largest transaction against its 100 items, and write units and dollars per 1,000
messages. Nothing here is timed; it is arithmetic on recorded counts.

The busiest partition of a pattern: a pattern with only the practice in it (the practice's
conversation index, its audit chain list) is one partition, so every access adds up there.
A pattern keyed by something of which the workload has many (users, patients,
conversations, search tokens) spreads: an operation that touched k of its n partitions puts
its units on the busiest one with probability min(1, k * skew / n), where skew says how much
busier the busiest is than the average (a triage nurse, a common name prefix).

One read grows with the practice rather than with the request: the directory (the practice's
own partition, `table PRAC#{prc}`, read whole by every request that needs its staff list), so
its read units are scaled by the workload's staff over the staff of the recorded practice.
"""

import json
import sys
from pathlib import Path

READ_LIMIT = 3000.0
WRITE_LIMIT = 1000.0
TRANSACTION_ITEMS = 100
# On-demand, us-east-1, after the price cut of 2024-11-01 (aws.amazon.com/dynamodb/pricing/on-demand).
PRICE_WRITE_UNIT = 0.625 / 1e6
PRICE_READ_UNIT = 0.125 / 1e6

ROOT = Path(__file__).resolve().parent


def variable(pattern):
    """The kind of thing a partition pattern is keyed by, finest first."""
    for kind in ("{token}", "{phone}", "{change}", "{msg}", "{cnv}", "{att}", "{tsk}", "{drf}", "{pat}", "{usr}", "{wg}"):
        if kind in pattern:
            return kind
    return "{prc}"


def population(kind, w):
    return {
        "{token}": w["searchTokens"],
        "{phone}": w["patients"],
        "{change}": float("inf"),
        "{msg}": float("inf"),
        "{cnv}": w["openConversations"],
        "{att}": float("inf"),
        "{tsk}": float("inf"),
        "{drf}": float("inf"),
        "{pat}": w["patients"] + w["staff"],
        "{usr}": w["staff"],
        "{wg}": w["workgroups"],
        "{prc}": 1,
    }[kind]


def skew(kind, w):
    return w["skew"].get(kind, 1.0)


def rates(w):
    """Operations per second at peak: the day's volume spread over the day, times the peak."""
    day = 86400.0
    peak = w["peakFactor"]
    messages = w["messagesPerDay"]
    per_op = {}
    for name, per_message in w["perMessage"].items():
        per_op[name] = messages * per_message / day * peak
    for name, per_user in w["perStaffPerDay"].items():
        per_op[name] = w["staff"] * per_user / day * peak
    return per_op


def grows_with_directory(pattern):
    return pattern == "table PRAC#{prc}"


def model(shape, w):
    ops = shape["operations"]
    directory_scale = w["staff"] / max(shape["staff"], 1)
    busiest = {}  # pattern -> [read units/s, write units/s]
    largest = max(op["largestTransaction"] for op in ops.values())
    for name, per_second in rates(w).items():
        op = ops.get(name)
        if op is None:
            sys.exit(f"scale model: no recorded accesses for {name!r}")
        for pattern, touch in op["partitions"].items():
            kind = variable(pattern)
            n = population(kind, w)
            k = max(touch["partitions"], 1)
            share = 1.0 if n == 1 else min(1.0, k * skew(kind, w) / n) / k
            b = busiest.setdefault(pattern, [0.0, 0.0])
            reads = touch["readUnits"] * (directory_scale if grows_with_directory(pattern) else 1.0)
            b[0] += per_second * reads * share
            b[1] += per_second * touch["writeUnits"] * share
    return busiest, largest


def per_message_cost(shape, w):
    ops = shape["operations"]
    messages = w["messagesPerDay"]
    wru = rru = 0.0
    for name, per_message in w["perMessage"].items():
        op = ops[name]
        wru += per_message * sum(t["writeUnits"] for t in op["partitions"].values())
        rru += per_message * sum(t["readUnits"] for t in op["partitions"].values())
    for name, per_user in w["perStaffPerDay"].items():
        op = ops[name]
        share = w["staff"] * per_user / messages
        wru += share * sum(t["writeUnits"] for t in op["partitions"].values())
        rru += share * sum(t["readUnits"] for t in op["partitions"].values())
    return wru * 1000, rru * 1000, (wru * PRICE_WRITE_UNIT + rru * PRICE_READ_UNIT) * 1000


def operations_table(accesses):
    """Per operation and shape: write units, read units, items written, calls' largest transaction."""
    shapes = accesses["shapes"]
    names = sorted({n for shape in shapes.values() for n in shape["operations"]})
    print(f"\nPer operation (DynamoDB units, the stream's work included): "
          + ", ".join(f"{k} ({v['staff']} staff)" for k, v in shapes.items()))
    print(f"  {'operation':<28}" + "".join(f" {k[:22]:>22}" for k in shapes))
    for name in names:
        cells = []
        for shape in shapes.values():
            op = shape["operations"].get(name)
            if op is None:
                cells.append(f" {'-':>22}")
                continue
            wu = sum(t["writeUnits"] for t in op["partitions"].values())
            ru = sum(t["readUnits"] for t in op["partitions"].values())
            cells.append(f" {f'{wu:.0f} WU {ru:.1f} RU':>22}")
        print(f"  {name:<28}" + "".join(cells))


def main():
    accesses = json.loads((ROOT / "key-accesses.json").read_text())
    workloads = json.loads((ROOT / "workloads.json").read_text())
    print(f"Scale model (accesses recorded {accesses['recordedAt']}; bench/workloads.json)")
    print(f"Limits per partition: {READ_LIMIT:.0f} read units/s, {WRITE_LIMIT:.0f} write units/s; "
          f"a transaction holds {TRANSACTION_ITEMS} items.")
    operations_table(accesses)
    summary = []
    for w in workloads["workloads"]:
        for shape_name in w["shapes"]:
            shape = accesses["shapes"][shape_name]
            busiest, largest = model(shape, w)
            wru, rru, dollars = per_message_cost(shape, w)
            print(f"\n{w['name']} — recorded as {shape_name} ({'every admin and provider follows everything' if shape['followAll'] else 'inboxes hold what concerns their user'})")
            print(f"  {w['description']}")
            print(f"  {'partition pattern':<58} {'RU/s':>8} {'WU/s':>8}  busiest at peak")
            worst = (0.0, "")
            for pattern, (r, wu) in sorted(busiest.items(), key=lambda kv: -max(kv[1][0] / READ_LIMIT, kv[1][1] / WRITE_LIMIT))[:12]:
                load = max(r / READ_LIMIT, wu / WRITE_LIMIT)
                worst = max(worst, (load, pattern))
                verdict = "HOT" if load >= 1 else f"{load:.1%} of a partition"
                print(f"  {pattern:<58} {r:>8.2f} {wu:>8.2f}  {verdict}")
            transaction = "within" if largest <= TRANSACTION_ITEMS else "OVER"
            print(f"  largest transaction: {largest} items ({transaction} the limit of {TRANSACTION_ITEMS})")
            print(f"  per 1,000 messages (with the reads and writes the workload does per message): "
                  f"{wru:,.0f} write units, {rru:,.0f} read units, ${dollars:.4f}")
            summary.append({
                "workload": w["name"], "shape": shape_name, "busiestLoad": worst[0], "busiestPattern": worst[1],
                "largestTransaction": largest, "writeUnitsPer1000Messages": wru,
                "readUnitsPer1000Messages": rru, "dollarsPer1000Messages": dollars,
            })
    print()
    for s in summary:
        ok = s["busiestLoad"] < 1 and s["largestTransaction"] <= TRANSACTION_ITEMS
        print(f"{'met   ' if ok else 'MISSED'} {s['workload']} ({s['shape']}): busiest partition at "
              f"{s['busiestLoad']:.1%} of its limit ({s['busiestPattern']}), largest transaction "
              f"{s['largestTransaction']} items, {s['writeUnitsPer1000Messages']:,.0f} write units per 1,000 messages")
    (ROOT / "scale-report.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
