#!/usr/bin/env bash
# Failing servers (test/faults): each test starts and stops its own redis-server and PostgreSQL
# (own ports and data directories) and a provider child process. Run on its own, one file at a
# time, after the main suite: kills and restarts must not share two cores with other timings.
# Needs redis-server and the PostgreSQL server binaries (/usr/lib/postgresql/*/bin or PG_BIN);
# as root, PostgreSQL runs as the `postgres` user. REQUIRE_SERVICES=1 turns a skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
SAOMA_FAULTS=1 exec npx vitest run test/faults --maxWorkers=1 "$@"
