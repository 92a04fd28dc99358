# The development stack's environment (sourced by run.sh and manage.sh): every process of `make run`,
# and every command run against it, sees the same ports and venues. Values already set win.
export DEBUG="${DEBUG:-1}"
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$ROOT/var/prometheus}"
export WEB_HOST="${WEB_HOST:-127.0.0.1}" WEB_PORT="${WEB_PORT:-8000}"
export FLOWER_HOST="${FLOWER_HOST:-127.0.0.1}" FLOWER_PORT="${FLOWER_PORT:-5555}"
export FLOWER_BASIC_AUTH="${FLOWER_BASIC_AUTH:-flower:flower}"
# The Redis bootstrap started has a generated password (var/redis/password): every process connects with it.
if [[ -z "${REDIS_URL:-}" && -s "${TORGHUT_VAR_DIR:-$ROOT/var}/redis/password" ]]; then
  export REDIS_URL="redis://:$(cat "${TORGHUT_VAR_DIR:-$ROOT/var}/redis/password")@127.0.0.1:${REDIS_PORT:-6379}/0"
fi
# The simulator stands in for jangar on loopback, so development runs the authoritative universe path.
export SIMULATOR_PORT="${SIMULATOR_PORT:-8765}"
export TRADING_UNIVERSE_SOURCE="${TRADING_UNIVERSE_SOURCE:-jangar}"
export JANGAR_SYMBOLS_URL="${JANGAR_SYMBOLS_URL:-http://127.0.0.1:$SIMULATOR_PORT/api/torghut/symbols}"
# Orders go to the simulator by default; LEAN and Alpaca point at the local venues (Procfile `venues`).
export TRADING_LEAN_URL="${TRADING_LEAN_URL:-http://127.0.0.1:${TRADING_VENUE_LEAN_PORT:-8811}}"
export TRADING_ALPACA_BASE_URL="${TRADING_ALPACA_BASE_URL:-http://127.0.0.1:${TRADING_VENUE_ALPACA_PORT:-8812}}"
export TRADING_ALPACA_KEY_ID="${TRADING_ALPACA_KEY_ID:-local-dev}" TRADING_ALPACA_SECRET_KEY="${TRADING_ALPACA_SECRET_KEY:-local-dev}"
