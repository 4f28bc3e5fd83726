# Shared setup for scripts/demo, scripts/test and scripts/check: sourced, not run.
# Installs what the project needs on a fresh machine and is a no-op when it is already there.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

log() { printf '\033[1;34m[tether]\033[0m %s\n' "$*" >&2; }

apt_install() {
  # apt-get only where the package is missing; 'update' once per run.
  if [ -z "${_TETHER_APT_UPDATED:-}" ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null 2>&1 || true
    _TETHER_APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_venv() {
  local extras="$1"  # e.g. "all" for the demo, "dev" for tests
  local stamp="$VENV/.tether-$extras"
  if [ ! -x "$PY" ]; then
    log "creating virtual environment in .venv"
    python3 -m venv "$VENV" || { apt_install python3-venv && python3 -m venv "$VENV"; }
  fi
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    log "installing tether[$extras] into .venv"
    "$PY" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$PY" -m pip install -q --disable-pip-version-check -e "$ROOT[$extras]"
    touch "$stamp"
  fi
}

redis_answers() {
  "$PY" - "$1" <<'PYEOF' >/dev/null 2>&1
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
    s.sendall(b"PING\r\n")
    assert s.recv(16).startswith(b"+PONG")
PYEOF
}

ensure_redis() {
  # Use the machine's Redis on 6379 when it answers; otherwise start one for this run.
  export TETHER_TEST_REDIS_URL="${TETHER_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
  if redis_answers 6379; then
    return
  fi
  command -v redis-server >/dev/null || apt_install redis-server
  local dir
  dir="$(mktemp -d)"
  log "starting redis-server on 127.0.0.1:6379 for this run"
  redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log"
  for _ in $(seq 50); do redis_answers 6379 && break; sleep 0.1; done
  _TETHER_STARTED_REDIS_PID="$(cat "$dir/redis.pid" 2>/dev/null || true)"
  trap 'stop_started_redis' EXIT
}

ensure_redis_binary() {
  # Fault tests start private redis-server processes on free ports.
  command -v redis-server >/dev/null || apt_install redis-server
}

stop_started_redis() {
  if [ -n "${_TETHER_STARTED_REDIS_PID:-}" ]; then
    kill "$_TETHER_STARTED_REDIS_PID" 2>/dev/null || true
  fi
}

ensure_node() {
  # The channels JavaScript client is tested under Node.js; npm installs the Centrifuge SDK
  # the Centrifuge endpoint's tests drive (into .venv/npm-centrifuge, on first use).
  command -v node >/dev/null || apt_install nodejs
  command -v npm >/dev/null || apt_install npm
}

ensure_chromium() {
  # Browser tests drive Debian's Chromium through Playwright; no browser download.
  [ -x /usr/bin/chromium ] || apt_install chromium
}
