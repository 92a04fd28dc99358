#!/usr/bin/env bash
# Bring up everything torghut needs on this machine, idempotently:
#   python venv + requirements, PostgreSQL (role + database), Redis, ClickHouse (project-local data).
# A service that already answers is reused. Anything missing is installed from Debian's packages.
# Exits non-zero with a message naming the service that could not be brought up.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"

VENV="$ROOT/.venv"
VAR="${TORGHUT_VAR_DIR:-$ROOT/var}"
mkdir -p "$VAR"

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_ROLE="${PG_ROLE:-torghut}"
PG_PASSWORD="${PG_PASSWORD:-torghut}"
PG_DB="${PG_DB:-torghut}"
REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
REDIS_PORT="${REDIS_PORT:-6379}"
CH_HOST="${CH_HOST:-127.0.0.1}"
CH_TCP_PORT="${CH_TCP_PORT:-9000}"
CH_HTTP_PORT="${CH_HTTP_PORT:-8123}"
CH_INTERSERVER_PORT="${CH_INTERSERVER_PORT:-9009}"

# --- python -----------------------------------------------------------------------------------
ensure_python() {
  local want have
  want="$(sha256sum requirements.txt | cut -d' ' -f1)"
  have="$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)"
  if [[ -x "$VENV/bin/python" && "$want" == "$have" ]]; then
    step "python: .venv up to date"
    return
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
      apt_install python3-venv python3-pip
    fi
    step "python: creating .venv"
    python3 -m venv "$VENV" || die "python" "could not create .venv with $(python3 --version 2>&1)"
  fi
  step "python: installing requirements.txt (changed or new venv)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >/dev/null
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt \
    || die "python" "pip install -r requirements.txt failed"
  echo "$want" > "$VENV/.requirements.sha256"
}

# --- postgres ---------------------------------------------------------------------------------
pg_admin() {
  # Superuser SQL: over TCP when trust auth allows, otherwise as the postgres OS user on the socket.
  if psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -w -d postgres -tAc "SELECT 1" >/dev/null 2>&1; then
    psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -w -d postgres -v ON_ERROR_STOP=1 -tAc "$1"
  else
    runuser -u postgres -- psql -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -tAc "$1"
  fi
}

ensure_postgres() {
  if ! command -v pg_isready >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
  fi
  if ! pg_isready -h "$PG_HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1; then
    step "postgres: not answering on $PG_HOST:$PG_PORT, starting it"
    if command -v pg_ctlcluster >/dev/null 2>&1; then
      local version
      version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
      [[ -n "$version" ]] || die "postgres" "no cluster under /etc/postgresql"
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    fi
    wait_for 30 pg_isready -h "$PG_HOST" -p "$PG_PORT" -t 1 || die "postgres" "did not answer on $PG_HOST:$PG_PORT within 30s"
  fi
  step "postgres: answering on $PG_HOST:$PG_PORT"
  if [[ "$(pg_admin "SELECT 1 FROM pg_roles WHERE rolname='$PG_ROLE'")" != "1" ]]; then
    pg_admin "CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >/dev/null || die "postgres" "cannot create role $PG_ROLE"
  fi
  if [[ "$(pg_admin "SELECT 1 FROM pg_database WHERE datname='$PG_DB'")" != "1" ]]; then
    pg_admin "CREATE DATABASE $PG_DB OWNER $PG_ROLE" >/dev/null || die "postgres" "cannot create database $PG_DB"
  fi
}

# --- redis ------------------------------------------------------------------------------------
ensure_redis() {
  if ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server redis-tools
  fi
  # A Redis this script starts requires a password, generated once into $VAR/redis/password (mode 600);
  # dev_env.sh and test.sh put it into REDIS_URL. A Redis that already answers is reused as it is.
  local secret="$VAR/redis/password"
  [[ -s "$secret" ]] && export REDISCLI_AUTH="$(cat "$secret")"
  if [[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" != "PONG" ]]; then
    step "redis: not answering on $REDIS_HOST:$REDIS_PORT, starting it (password in $secret)"
    mkdir -p "$VAR/redis"
    if [[ ! -s "$secret" ]]; then
      (umask 077; "$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))' > "$secret")
    fi
    export REDISCLI_AUTH="$(cat "$secret")"
    # requirepass goes in through stdin so the secret is not on the process list.
    printf 'requirepass %s\n' "$REDISCLI_AUTH" | redis-server - --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" \
      --dir "$VAR/redis" --appendonly yes --maxmemory-policy noeviction --logfile "$VAR/redis/redis.log" >/dev/null \
      || die "redis" "redis-server failed to start (see $VAR/redis/redis.log)"
    wait_for 20 bash -c "[[ \"\$(redis-cli -h $REDIS_HOST -p $REDIS_PORT ping 2>/dev/null)\" == PONG ]]" \
      || die "redis" "did not answer on $REDIS_HOST:$REDIS_PORT within 20s"
  fi
  step "redis: answering on $REDIS_HOST:$REDIS_PORT"
}

# --- clickhouse -------------------------------------------------------------------------------
ch_ping() {
  clickhouse-client --host "$CH_HOST" --port "$CH_TCP_PORT" --connect_timeout 2 -q "SELECT 1" >/dev/null 2>&1
}

ensure_clickhouse() {
  if ! command -v clickhouse-server >/dev/null 2>&1 || ! command -v clickhouse-client >/dev/null 2>&1; then
    apt_install clickhouse-server clickhouse-client
  fi
  if ! ch_ping; then
    local dir="$VAR/clickhouse"
    step "clickhouse: not answering on $CH_HOST:$CH_TCP_PORT, starting it (data in $dir)"
    mkdir -p "$dir/data" "$dir/tmp" "$dir/log" "$dir/data/user_files" "$dir/data/format_schemas"
    nohup clickhouse-server --config-file=/etc/clickhouse-server/config.xml -- \
      --path="$dir/data/" --tmp_path="$dir/tmp/" --user_files_path="$dir/data/user_files/" \
      --format_schema_path="$dir/data/format_schemas/" \
      --tcp_port="$CH_TCP_PORT" --http_port="$CH_HTTP_PORT" --interserver_http_port="$CH_INTERSERVER_PORT" \
      --listen_host="$CH_HOST" --logger.log="$dir/log/server.log" --logger.errorlog="$dir/log/err.log" \
      > "$dir/log/stdout.log" 2>&1 &
    echo $! > "$dir/server.pid"
    wait_for 60 ch_ping || die "clickhouse" "server did not answer on $CH_HOST:$CH_TCP_PORT; last log lines:
$(tail -n 20 "$dir/log/err.log" 2>/dev/null)"
  fi
  step "clickhouse: answering on $CH_HOST:$CH_TCP_PORT ($(clickhouse-client --host "$CH_HOST" --port "$CH_TCP_PORT" -q 'SELECT version()'))"
}

# --- promtool (checks ops/prometheus rules in the suite) ----------------------------------------
ensure_promtool() {
  if ! command -v promtool >/dev/null 2>&1; then
    apt_install prometheus
  fi
  step "promtool: $(promtool --version 2>&1 | head -n1)"
}

# --- chromium (e2e tests drive Debian's build through Playwright) --------------------------------
ensure_chromium() {
  if [[ ! -x /usr/bin/chromium ]]; then
    apt_install chromium
  fi
  step "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
}

main() {
  local what="${1:-all}"
  case "$what" in
    python) ensure_python ;;
    services) ensure_postgres; ensure_redis; ensure_clickhouse ;;
    all) ensure_python; ensure_postgres; ensure_redis; ensure_clickhouse; ensure_promtool; ensure_chromium ;;
    *) die "bootstrap" "unknown target $what (python|services|all)" ;;
  esac
}

main "$@"
