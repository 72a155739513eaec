"""`make bench-compare A=old.json B=new.json` (or `make bench-compare old.json new.json`):
every figure two `make bench` results files hold, side by side, where they differ.

Rows of a list are matched by their name (`name`, `function` or `operation`), not by their
position, so a function added between two runs does not shift the others. Prints
`path  A  B  B/A` per differing number, and the figures only one file has.
"""

import json
import sys


def flatten(value, path=""):
    """Every leaf of a results file, by a path such as `operations[compose].cpu_us_median`."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from flatten(inner, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            key = next((k for k in ("name", "function", "operation") if isinstance(inner, dict) and k in inner), None)
            if key is None:
                yield from flatten(inner, f"{path}[{i}]")
            else:
                rest = {k: v for k, v in inner.items() if k != key}
                yield from flatten(rest, f"{path}[{inner[key]}]")
    else:
        yield path, value


def number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def compare(a: dict, b: dict) -> list[str]:
    left, right = dict(flatten(a)), dict(flatten(b))
    lines = []
    for path in sorted(set(left) | set(right)):
        x, y = left.get(path), right.get(path)
        if x == y:
            continue
        if path not in left or path not in right:
            lines.append(f"{path:<70} {'-' if path not in left else x!s:>14} {'-' if path not in right else y!s:>14}")
        elif number(x) and number(y):
            ratio = f"{y / x:8.2f}×" if x else "       -"
            lines.append(f"{path:<70} {x:>14,.2f} {y:>14,.2f} {ratio}")
        else:
            lines.append(f"{path:<70} {str(x)[:14]:>14} {str(y)[:14]:>14}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: make bench-compare A=<results.json> B=<results.json>", file=sys.stderr)
        return 2
    with open(argv[1]) as fa, open(argv[2]) as fb:
        a, b = json.load(fa), json.load(fb)
    print(f"{'figure':<70} {'A':>14} {'B':>14}      B/A")
    print(f"{'measuredAt':<70} {a.get('measuredAt', '-')[:14]:>14} {b.get('measuredAt', '-')[:14]:>14}")
    lines = compare(a, b)
    print("\n".join(lines) if lines else "no figure differs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
