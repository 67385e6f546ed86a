#!/usr/bin/env bash
# docker-down.sh — stop the registry and dockerd that scripts/ci/docker-up.sh
# started (only the processes recorded in its pid files; a daemon started by
# someone else, e.g. systemd, is left alone). Idempotent.
#
#   --purge   also delete the registry storage and the state dir
#             (logs, pid files). Docker's own /var/lib/docker is kept.
#
# Environment: REPRO_GATE_CI_STATE_DIR (default /var/lib/repro-gate-ci).
set -euo pipefail

STATE_DIR=${REPRO_GATE_CI_STATE_DIR:-/var/lib/repro-gate-ci}
PURGE=0
case "${1:-}" in
  "") ;;
  --purge) PURGE=1 ;;
  *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac

log() { echo "[docker-down] $*" >&2; }

[[ $(id -u) -eq 0 ]] || { log "ERROR: must run as root"; exit 1; }

# stop_pidfile NAME PIDFILE EXPECTED_COMM TIMEOUT_SECONDS
stop_pidfile() {
  local name=$1 pidfile=$2 comm=$3 timeout=$4 pid
  if [[ ! -f "$pidfile" ]]; then
    log "$name: no pid file ($pidfile); nothing to stop"
    return 0
  fi
  pid=$(cat "$pidfile")
  if ! kill -0 "$pid" 2>/dev/null; then
    log "$name: pid $pid not running"
    rm -f "$pidfile"
    return 0
  fi
  if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$comm" ]]; then
    log "$name: pid $pid is not $comm (pid reused?); not killing it"
    rm -f "$pidfile"
    return 0
  fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid"
  local deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still running after ${timeout}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop_pidfile registry "$STATE_DIR/registry.pid" docker-registry 10
# dockerd stops its containers (up to 15 s each by default) and its containerd.
stop_pidfile dockerd "$STATE_DIR/dockerd.pid" dockerd 60

if ((PURGE)); then
  log "purging $STATE_DIR"
  rm -rf --one-file-system "$STATE_DIR"
fi
log "done"
