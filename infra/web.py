#!/usr/bin/env python3
"""Builds the web app (web/) into web/dist with the machine's Node.js and npm.

`npm ci` runs when node_modules is missing or older than package-lock.json; the build
runs every time (it takes about a second). Used by `make dev` and `make test`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "web"


def build() -> None:
    if not shutil.which("npm"):
        sys.exit("web: npm is not installed (Node.js 20+ with npm is needed to build web/)")
    installed = WEB / "node_modules" / ".package-lock.json"
    lock = WEB / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=WEB, check=True)
    subprocess.run(["npm", "run", "--silent", "build"], cwd=WEB, check=True)


if __name__ == "__main__":
    build()
