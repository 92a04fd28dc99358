# Shared helpers for the bootstrap scripts (sourced, not run).

step() { printf '==> %s\n' "$*"; }

die() {
  local service="$1"; shift
  printf '\nERROR [%s]: %s\n' "$service" "$*" >&2
  exit 1
}

_APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "$1" "not installed and apt-get is not available to install it"
  if [[ "$_APT_UPDATED" == 0 ]]; then
    step "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "$1" "apt-get update failed"
    _APT_UPDATED=1
  fi
  step "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "$1" "apt-get install $* failed"
}

# wait_for SECONDS COMMAND...: retry COMMAND every half second; non-zero when time runs out.
wait_for() {
  local seconds="$1"; shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    (( SECONDS >= deadline )) && return 1
    sleep 0.5
  done
}
