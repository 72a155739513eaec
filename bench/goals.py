"""The last lines of `make bench`: one line per goal of the benchmark (issues 8 and 18),
read from `bench/results.json`: met or missed, the figure, the goal.

The goals live here, in one table; the report above these lines explains each figure.
"""

import json
import sys

# Issue 18: at most two AWS calls per write (one batched read, one transaction), and two plus
# the audit transaction for a thread read.
CALL_BUDGETS = {"compose": 2, "reply (2 participants)": 2, "assign": 2, "get-conversation (20 messages)": 3}


def rows(results: dict):
    """(goal, figure, target, met) for every goal the results file has figures for."""
    packages = results.get("packages") or []
    if packages:
        largest = max(p["zip_bytes"] for p in packages) / 1e6
        yield "package size (largest zip)", f"{largest:.2f} MB", "< 5 MB", largest < 5
    cold = results.get("coldStarts") or {}
    hello = (cold.get("hello_rust") or {}).get("init_ms_median")
    ours = cold.get("functions") or []
    if hello and ours:
        slowest = max(ours, key=lambda f: f["init_ms_median"])
        ratio = slowest["init_ms_median"] / hello
        yield "cold start (slowest init ÷ hello world)", f"{ratio:.2f}× ({slowest['name']})", "≤ 1.5×", ratio <= 1.5
        rss = max(f.get("peak_rss_mb", 0) for f in ours)
        yield "peak RSS", f"{rss:.1f} MB", "< 48 MB", rss < 48
    for split in (results.get("onAws") or {}).get("cpuSplit") or []:
        total, target = split["totalUs"], split["targetUs"]
        yield f"CPU per request: {split['operation']}", f"{total:,} µs", f"≤ {target:,} µs", total <= target
    for op in results.get("operations") or []:
        budget = CALL_BUDGETS.get(op["name"])
        if budget is not None:
            calls = sum(op["calls_per_request"].values())
            yield f"AWS calls: {op['name']}", f"{calls:g}", f"≤ {budget}", calls <= budget
    if "kmsPer1000Messages" in results:
        per = abs(results["kmsPer1000Messages"])
        yield "KMS calls per 1,000 messages (warm)", f"{per:g}", "< 10", per < 10
    if "kmsPer1000InboxPages" in results:
        per = abs(results["kmsPer1000InboxPages"])
        yield "KMS calls per 1,000 inbox pages (warm)", f"{per:g}", "0", per == 0
    load = results.get("load") or {}
    if "errors" in load:
        yield "load: errors", str(load["errors"]), "0", load["errors"] == 0
        yield "load: messages lost", str(load["messages_lost"]), "0", load["messages_lost"] == 0
    monthly = (results.get("costModel") or {}).get("monthly") or {}
    if monthly:
        total = sum(monthly.values())
        yield "monthly cost of the reference practice", f"${total:.2f}", "< $5", total < 5


def main(path: str) -> int:
    with open(path) as f:
        results = json.load(f)
    print(f"\nGoals ({path}, measured {results.get('measuredAt', '?')[:19]})")
    met = 0
    lines = list(rows(results))
    for goal, figure, target, ok in lines:
        met += ok
        print(f"  {'met   ' if ok else 'MISSED'}  {goal:<48} {figure:>22}   goal {target}")
    print(f"  {met} of {len(lines)} goals met")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "bench/results.json"))
