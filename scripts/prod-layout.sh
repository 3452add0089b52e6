#!/usr/bin/env bash
# The production layout, checked without a container engine (CI runs it after the test suite):
#  1. a clean copy of the committed tree (HEAD; uncommitted changes are not part of it);
#  2. built as the Dockerfile's build stage does (npm ci --ignore-scripts, db:generate, build);
#  3. node_modules replaced by production dependencies only (npm ci --omit=dev), tsx removed,
#     the tree made read-only in spirit (afterwards nothing in it may have changed);
#  4. `npm run start:prod` on the embedded default, then on PostgreSQL + Redis (migrations by
#     `npm run migrate:prod` first, keys from `npm run keys:generate:prod`, MIGRATE_ON_START=0);
#     each time an app registered with the compiled admin CLI and a whole QR login over HTTP
#     (scripts/prod-login.mjs), then SIGTERM: /readyz 503 "shutting down", exit 0;
#  5. the Dockerfile's runtime stage: its deps stage's npm ci (read from the Dockerfile), its ENV, CMD and
#     HEALTHCHECK exactly as written (parsed from the Dockerfile), as uid 1000 when run as root,
#     on the embedded default and on PostgreSQL + Redis.
# Needs git, npm, psql and redis-cli; PostgreSQL and Redis as for the tests (TEST_DATABASE_URL,
# TEST_REDIS_URL). KEEP=1 keeps the work directory.
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
PG_ADMIN_URL="${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test}"
REDIS="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
REDIRECT_URI="http://127.0.0.1:5999/callback"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/saoma-prod.XXXXXX")"
APP="$WORK/app"
DB_NAME="saoma_prod_$$"
PREFIX="saoma-prod-$$:"
PROVIDER_PID=""

log() { printf '\n==> %s\n' "$*"; }
die() { printf '\nprod-layout: FAILED: %s\n' "$*" >&2; exit 1; }

cleanup() {
  local rc=$?
  if [ -n "$PROVIDER_PID" ] && kill -0 "$PROVIDER_PID" 2>/dev/null; then kill -KILL "$PROVIDER_PID" 2>/dev/null || true; fi
  for db in "$DB_NAME" "${DB_NAME}_image"; do psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  redis-cli -u "$REDIS" --scan --pattern "${PREFIX}*" 2>/dev/null | xargs -r redis-cli -u "$REDIS" del >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then echo "prod-layout: work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { "$NODE" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# Runs the provider in the background ($@ = the command), waits for /readyz 200 via the compiled
# healthcheck. Environment: PORT, DATA_DIR and whatever the caller exported.
start_provider() {
  local logfile="$1"; shift
  "$@" >"$logfile" 2>&1 &
  PROVIDER_PID=$!
  for _ in $(seq 1 120); do
    kill -0 "$PROVIDER_PID" 2>/dev/null || { cat "$logfile" >&2; die "the provider exited during start-up"; }
    if "$NODE" dist/provider/src/ops/healthcheck.js /readyz 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  cat "$logfile" >&2
  die "the provider was not ready within 60 s"
}

# PostgreSQL + Redis for the next run: a fresh database ($1), the test Redis under our prefix,
# migrations left to the caller, and the keys the command after it prints (KEY=value lines).
use_services() {
  local db="$1" line
  shift
  psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $db"
  DATABASE_URL="$("$NODE" -e 'const u=new URL(process.argv[1]); u.pathname="/"+process.argv[2]; console.log(u.href)' "$PG_ADMIN_URL" "$db")"
  export DATABASE_URL REDIS_URL="$REDIS" REDIS_PREFIX="$PREFIX" MIGRATE_ON_START=0
  while IFS= read -r line; do case "$line" in '#'* | '') ;; *) export "$line" ;; esac; done < <("$@")
  [ -n "${JWKS:-}" ] && [ -n "${COOKIE_KEYS:-}" ] && [ -n "${IDENTIFIER_SECRET:-}" ] || die "generate-keys printed no keys"
}

# An app from the compiled admin CLI (through DATA_DIR/admin.sock), then the whole QR login.
login_through() {
  local issuer="$1" created app_id app_secret
  shift
  created="$("$@" 2>&1)" || die "admin CLI: $created"
  app_id="$(printf '%s' "$created" | "$NODE" -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).appId)')"
  app_secret="$(printf '%s' "$created" | "$NODE" -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8")).appSecret)')"
  "$NODE" "$APP/scripts/prod-login.mjs" "$issuer" "$app_id" "$app_secret" "$REDIRECT_URI" || die "login against $issuer"
}

# SIGTERM: readiness answers 503 "shutting down" during SHUTDOWN_DELAY, then the process exits 0.
stop_provider() {
  local logfile="$1" status rc=0
  kill -TERM "$PROVIDER_PID"
  sleep 0.3
  status="$("$NODE" -e 'fetch(`http://127.0.0.1:${process.env.PORT}/readyz`).then(async (r) => console.log(r.status, (await r.json()).status), (e) => console.log("error", e.message))')"
  [ "$status" = "503 shutting_down" ] || { cat "$logfile" >&2; die "readyz during shutdown: $status"; }
  wait "$PROVIDER_PID" || rc=$?
  PROVIDER_PID=""
  [ "$rc" = 0 ] || { cat "$logfile" >&2; die "the provider exited $rc after SIGTERM"; }
  echo "SIGTERM: readyz $status, then exit 0"
}

log "clean copy of the committed tree ($(git -C "$SRC" rev-parse --short HEAD))"
mkdir -p "$APP"
git -C "$SRC" archive --format=tar HEAD | tar -x -C "$APP"
cd "$APP"

log "build (as the Dockerfile's build stage)"
npm ci --ignore-scripts --no-audit --no-fund
npm run db:generate
npm run build

log "production dependencies only"
rm -rf node_modules
npm ci --omit=dev --no-audit --no-fund
NODE="$APP/node_modules/.bin/node"
"$NODE" --version
# start:prod must not load TypeScript tooling: take it away entirely (typescript comes back
# with --omit=dev as an optional peer of @prisma/client, used only for its types).
rm -rf node_modules/tsx node_modules/typescript node_modules/.bin/tsx node_modules/.bin/tsc node_modules/.bin/tsserver
MARK="$WORK/mark"
touch "$MARK"
sleep 1 # mtime granularity: anything written from now on is newer than the mark

export HOST=127.0.0.1 LOG_LEVEL=info SHUTDOWN_DELAY=1

log "start:prod, embedded default (PGlite in DATA_DIR, memory store)"
PORT="$(free_port)"; export PORT PUBLIC_URL="http://localhost:$PORT" DATA_DIR="$WORK/data-embedded"
start_provider "$WORK/embedded.log" npm run -s start:prod
login_through "$PUBLIC_URL" npm run -s admin:prod -- apps:create --name "Prod layout (embedded)" --redirect-uri "$REDIRECT_URI" --json
stop_provider "$WORK/embedded.log"
[ -f "$DATA_DIR/keys.json" ] && [ -d "$DATA_DIR/pglite" ] || die "the embedded run left no keys.json/pglite in DATA_DIR"

log "start:prod, PostgreSQL + Redis (migrate:prod first, keys from the environment)"
PORT="$(free_port)"; export PORT PUBLIC_URL="http://localhost:$PORT" DATA_DIR="$WORK/data-services"
use_services "$DB_NAME" npm run -s keys:generate:prod
npm run -s migrate:prod
start_provider "$WORK/services.log" npm run -s start:prod
login_through "$PUBLIC_URL" npm run -s admin:prod -- apps:create --name "Prod layout (services)" --redirect-uri "$REDIRECT_URI" --json
stop_provider "$WORK/services.log"
[ ! -e "$DATA_DIR/keys.json" ] || die "keys.json written although JWKS, COOKIE_KEYS and IDENTIFIER_SECRET were set"
unset DATABASE_URL REDIS_URL REDIS_PREFIX MIGRATE_ON_START JWKS COOKIE_KEYS IDENTIFIER_SECRET

log "the Dockerfile's runtime stage (its deps stage's npm ci; its ENV, HEALTHCHECK and CMD)"
PINNED_NODE="$WORK/node"
ln "$(readlink -f "$NODE")" "$PINNED_NODE" 2>/dev/null || cp "$(readlink -f "$NODE")" "$PINNED_NODE"
NODE="$PINNED_NODE"
# Dockerfile → shell words: ENV pairs, then the HEALTHCHECK and CMD exec arrays (JSON form).
eval "$("$NODE" - "$SRC/Dockerfile" <<'EOF'
const text = require('fs').readFileSync(process.argv[2], 'utf8').replace(/\\\n/g, ' ');
const runtime = text.split(/^FROM /m).pop();
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const env = [...runtime.matchAll(/^ENV (.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/));
const exec = (re) => JSON.parse(runtime.match(re)[1]);
const health = exec(/^HEALTHCHECK .*CMD (\[.*\])\s*$/m);
const cmd = exec(/^CMD (\[.*\])\s*$/m);
const deps = text.split(/^FROM /m).find((stage) => /^\S+ AS deps\b/.test(stage));
const ci = deps.match(/^RUN (npm ci [^&\n]*)/m)[1].trim().split(/\s+/);
console.log(`DEPS_CI=(${ci.map(q).join(' ')})`);
console.log(`IMAGE_ENV=(${env.map(q).join(' ')})`);
console.log(`HEALTH_CMD=(${health.map(q).join(' ')})`);
console.log(`MAIN_CMD=(${cmd.map(q).join(' ')})`);
EOF
)"
rm -rf node_modules
"${DEPS_CI[@]}"
rm -rf node_modules/node node_modules/.bin/node
[ ! -e node_modules/prisma ] && [ ! -e node_modules/tsx ] || die "the image's dependencies include the Prisma CLI or tsx"
echo "the image's node_modules: $(du -sm node_modules | cut -f1) MB"
[ "${HEALTH_CMD[0]}" = node ] && [ "${MAIN_CMD[0]}" = node ] || die "Dockerfile CMD/HEALTHCHECK do not start with node"
for path in "${HEALTH_CMD[1]}" "${MAIN_CMD[1]}"; do [ -f "$path" ] || die "the Dockerfile runs $path, which the build did not produce"; done
export "${IMAGE_ENV[@]}"
# The image's paths, moved under the work directory. As root (CI), run as the image's uid 1000,
# which cannot write the (root-owned) application tree, with DATA_DIR below a root-owned,
# world-writable volume as Kubernetes mounts an emptyDir (deploy/kubernetes: DATA_DIR=/data/saoma).
VOLUME_DIR="$WORK/volume"
mkdir -p "$VOLUME_DIR"
AS_IMAGE_USER=()
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chmod 755 "$WORK"
  chmod 2777 "$VOLUME_DIR"
  AS_IMAGE_USER=(setpriv --reuid=1000 --regid=1000 --clear-groups)
else
  echo "(not root or no setpriv: running as $(id -un), not as the image's uid 1000)"
fi
export DATA_DIR="$VOLUME_DIR/saoma" PORT="$(free_port)"
export PUBLIC_URL="http://localhost:$PORT"
start_provider "$WORK/image.log" "${AS_IMAGE_USER[@]}" "$NODE" "${MAIN_CMD[@]:1}"
"${AS_IMAGE_USER[@]}" "$NODE" "${HEALTH_CMD[@]:1}" || die "the Dockerfile's HEALTHCHECK failed against a running provider"
login_through "$PUBLIC_URL" "${AS_IMAGE_USER[@]}" "$NODE" dist/provider/src/admin/cli/main.js apps:create --name "Prod layout (image)" --redirect-uri "$REDIRECT_URI" --json
stop_provider "$WORK/image.log"
if "$NODE" "${HEALTH_CMD[@]:1}" 2>/dev/null; then die "the HEALTHCHECK passes with no provider running"; fi
# Permission bits only: the setgid bit comes from the volume (as with an emptyDir and fsGroup).
[ "$(( 0$(stat -c %a "$DATA_DIR") & 0777 ))" = "$(( 0700 ))" ] || die "DATA_DIR is not private: $(stat -c %a "$DATA_DIR")"

log "the Dockerfile's runtime stage on PostgreSQL + Redis (what --omit=optional left must serve that too)"
PORT="$(free_port)"; export PORT PUBLIC_URL="http://localhost:$PORT" DATA_DIR="$VOLUME_DIR/saoma-services"
use_services "${DB_NAME}_image" "$NODE" dist/provider/src/ops/generate-keys.js
"${AS_IMAGE_USER[@]}" "$NODE" dist/provider/src/ops/migrate.js
start_provider "$WORK/image-services.log" "${AS_IMAGE_USER[@]}" "$NODE" "${MAIN_CMD[@]:1}"
login_through "$PUBLIC_URL" "${AS_IMAGE_USER[@]}" "$NODE" dist/provider/src/admin/cli/main.js apps:create --name "Prod layout (image, services)" --redirect-uri "$REDIRECT_URI" --json
stop_provider "$WORK/image-services.log"
unset DATABASE_URL REDIS_URL REDIS_PREFIX MIGRATE_ON_START JWKS COOKIE_KEYS IDENTIFIER_SECRET

log "nothing written into the application tree (read-only root filesystem)"
changed="$(find "$APP" -type f -newer "$MARK" -not -path "$APP/node_modules/*" -print | head -20)"
[ -z "$changed" ] || die "the provider wrote into its own tree: $changed"

log "production layout OK: start:prod (embedded, PostgreSQL + Redis) and the Dockerfile's runtime stage"
