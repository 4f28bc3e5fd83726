#!/usr/bin/env bash
# Run tether's benchmark suite against its peers.
#
#   bash benchmarks/run.sh            full run (about 11 minutes on 2 cores); writes
#                                     benchmarks/RESULTS.md, results.json and charts/*.png
#   bash benchmarks/run.sh --smoke    tiny sizes (about 2 minutes), writes to a temporary
#                                     directory (or $TETHER_BENCH_OUT), never to RESULTS.md
#   bash benchmarks/run.sh --only inproc_echo fanout    a subset (full size)
#
# The benchmark environment is its own virtualenv, benchmarks/.venv (git-ignored), with tether
# installed editable from this repository plus the peers. The peers are installed there only.
# Exits non-zero when a benchmark script crashes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
VENV="$HERE/.venv"
PY="${TETHER_BENCH_PYTHON:-python3}"

# (Re)build the environment when it is missing or requirements.txt changed since it was built.
stamp="$VENV/.requirements.sha"
want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "[bench] setting up $VENV" >&2
    "$PY" -m venv "$VENV"
    log="$VENV/install.log"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check \
        -e "$ROOT" -r "$HERE/requirements.txt" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "[bench] could not install the benchmark environment (log: $log)" >&2
        exit 1
    fi
    echo "$want" >"$stamp"
fi

smoke=0
for arg in "$@"; do [[ "$arg" == "--smoke" ]] && smoke=1; done

# Enough file descriptors for the idle-memory measure (5,000 client + 5,000 server sockets).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [[ $smoke == 1 ]]; then
    out="${TETHER_BENCH_OUT:-$(mktemp -d -t tether-bench-XXXXXX)}"
    exec "$VENV/bin/python" "$HERE/driver.py" --out "$out" "$@"
fi
exec "$VENV/bin/python" "$HERE/driver.py" "$@"
