"""Helpers of the Centrifuge SDK tests: tokens, the npm SDK install, running Node scripts.

The npm ``centrifuge`` client and ``ws`` are installed from the registry by
:func:`install_npm_sdk` into ``.venv/npm-centrifuge`` (reused across runs; a fresh machine
installs them on the first run). Nothing is vendored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent
if str(HERE) not in sys.path:
    sys.path.append(str(HERE))

from cf_app import SECRET  # noqa: E402

NPM_DIR = Path(os.environ.get("TETHER_NPM_CACHE", ROOT / ".venv" / "npm-centrifuge"))
NPM_PACKAGES = ["centrifuge@^5.5", "ws@^8"]


def token(user: str = "alice", ttl: float = 3600, **claims: Any) -> str:
    """A connection token (or, with ``channel=``, a subscription token) signed with SECRET."""
    return jwt.encode({"sub": user, "exp": int(time.time() + ttl), **claims}, SECRET)


def _installed() -> bool:
    manifest = NPM_DIR / "node_modules" / "centrifuge" / "package.json"
    return manifest.exists() and (NPM_DIR / "node_modules" / "ws" / "package.json").exists()


def install_npm_sdk() -> Path:
    """Install (once) and return the node_modules folder with ``centrifuge`` and ``ws``."""
    if not _installed():
        npm = shutil.which("npm")
        assert npm is not None, "npm is needed to install the centrifuge SDK (apt-get install npm)"
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--prefix", str(NPM_DIR), "--no-audit", "--no-fund", *NPM_PACKAGES],
            check=True,
            capture_output=True,
            timeout=300,
        )
    version = json.loads((NPM_DIR / "node_modules" / "centrifuge" / "package.json").read_text())
    assert version["version"].startswith("5."), version["version"]
    return NPM_DIR / "node_modules"


def run_node(node_modules: Path, script: str, *args: str, timeout: float = 60) -> dict[str, Any]:
    """Run a Node script from this folder with ``node_modules`` on its path; its JSON output."""
    node = shutil.which("node") or shutil.which("nodejs")
    assert node is not None
    result = subprocess.run(
        [node, str(HERE / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NODE_PATH": str(node_modules)},
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))
