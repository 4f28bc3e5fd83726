"""Started with ``PYTHONPATH`` holding this folder, an interpreter answers ``import fastapi``
with tether when ``TETHER_PEER_ALIAS=1``: FastAPI's telemetry tests run some test bodies in a
fresh interpreter (its ``tests/test_telemetry/_subprocess.py``), which the pytest plugin of the
parent run does not reach. Any other interpreter is left alone."""

import os

if os.environ.get("TETHER_PEER_ALIAS") == "1":
    import fastapi_alias  # noqa: F401  # installs the alias finder on import
