"""The peer-test harness imports its helpers (peer_runner, fastapi_tests) by plain name."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
