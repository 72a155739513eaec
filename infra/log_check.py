#!/usr/bin/env python3
"""SEC-3 for the `make dev` path: no seeded name, phone number, subject or body in a log.

    log_check.py LOG...

The seeded values come from infra/seed.py itself (its STAFF and PATIENTS tables, and every
"subject"/"body" it sends), so a new seed value is checked without editing this file.
"""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed import PATIENTS, STAFF  # noqa: E402


def secrets() -> set[str]:
    values = set()
    for _, first, last, _, phone in STAFF:
        values |= {first, last, phone}
    for _, first, last, _, _, phone, _, _ in PATIENTS:
        values |= {first, last, phone}
    source = (Path(__file__).resolve().parent / "seed.py").read_text()
    values |= set(re.findall(r'"(?:subject|body)":\s*"([^"]{4,})"', source))
    # Short first names ("Sam") would match unrelated words; whole words only.
    return values


def main() -> None:
    values = secrets()
    failures = 0
    lines = 0
    for path in sys.argv[1:]:
        for n, line in enumerate(Path(path).read_text(errors="replace").splitlines(), 1):
            lines += 1
            for v in values:
                if re.search(rf"(?<![\w+]){re.escape(v)}(?!\w)", line):
                    failures += 1
                    print(f"  BAD {path}:{n} carries {v!r}")
    print(f"log check: {lines} log lines, {len(values)} seeded values looked for, {failures} found")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
