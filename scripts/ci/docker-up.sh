#!/usr/bin/env bash
# docker-up.sh — bring up a Docker engine and a local registry on 127.0.0.1:5000
# for repro-gate's container tests. Idempotent: safe to run any number of times.
#
# Needs root (or passwordless sudo, used automatically) unless everything is
# already up. Written for Debian bookworm; also works where Docker is already
# installed and running (e.g. GitHub's ubuntu-latest: docker.io is then not
# installed, the running daemon is used as is).
# See scripts/ci/README.md for details, variables and measured timings.
#
# Environment (all optional):
#   REPRO_GATE_CI_STATE_DIR        state dir (logs, pid files, registry storage)
#                                  default: /var/lib/repro-gate-ci
#   REPRO_GATE_REGISTRY_ADDR       registry listen address, default 127.0.0.1:5000
#   REPRO_GATE_DOCKERD_TIMEOUT     seconds to wait for each dockerd attempt, default 60
#   REPRO_GATE_DOCKERD_STORAGE_DRIVER  force a storage driver (default: try
#                                  overlay2, fuse-overlayfs (if installed), vfs)
#   REPRO_GATE_DOCKERD_EXTRA_ARGS  extra dockerd arguments (word-split)
#   DOCKER                         docker CLI to use, default: `docker` from PATH
set -euo pipefail

STATE_DIR=${REPRO_GATE_CI_STATE_DIR:-/var/lib/repro-gate-ci}
REGISTRY_ADDR=${REPRO_GATE_REGISTRY_ADDR:-127.0.0.1:5000}
DOCKERD_TIMEOUT=${REPRO_GATE_DOCKERD_TIMEOUT:-60}
FORCED_DRIVER=${REPRO_GATE_DOCKERD_STORAGE_DRIVER:-}
read -r -a EXTRA_ARGS <<<"${REPRO_GATE_DOCKERD_EXTRA_ARGS:-}"
DOCKER=${DOCKER:-docker}

DOCKERD_LOG="$STATE_DIR/dockerd.log"
DOCKERD_PIDFILE="$STATE_DIR/dockerd.pid"
DOCKERD_ARGSFILE="$STATE_DIR/dockerd.args"
REGISTRY_LOG="$STATE_DIR/registry.log"
REGISTRY_PIDFILE="$STATE_DIR/registry.pid"
REGISTRY_CONFIG="$STATE_DIR/registry-config.yml"
REGISTRY_STORAGE="$STATE_DIR/registry"

log() { echo "[docker-up] $*" >&2; }
die() { echo "[docker-up] ERROR: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

docker_ok() { "$DOCKER" info >/dev/null 2>&1; }
registry_url="http://$REGISTRY_ADDR/v2/"
registry_ok() { curl -fsS -m 2 "$registry_url" >/dev/null 2>&1; }
pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# Installing packages and starting daemons needs root; re-run through
# passwordless sudo then (e.g. GitHub-hosted runners). When everything is
# already up, no root is needed.
SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
become_root() {
  [[ $(id -u) -eq 0 ]] && return 0
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    log "root needed to $1; re-running through sudo"
    exec sudo -n -E bash "$SCRIPT_PATH"
  fi
  die "must run as root (or with passwordless sudo) to $1"
}

# ---------------------------------------------------------------- 1. packages
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Decide by commands/files, not package names: a machine whose Docker comes
# from other packages (docker-ce, moby-engine on GitHub's Ubuntu runners) must
# not get docker.io, which conflicts with them.
missing=()
if ! docker_ok && ! command -v dockerd >/dev/null; then missing+=(docker.io); fi
if ! registry_ok && ! command -v docker-registry >/dev/null; then missing+=(docker-registry); fi
command -v debootstrap >/dev/null || missing+=(debootstrap)
[[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || missing+=(debian-archive-keyring)
command -v curl >/dev/null || missing+=(curl ca-certificates)
# Without apparmor_parser, a dockerd we start cannot load its default profile
# on an AppArmor-enabled kernel and every `docker run` fails.
if ! docker_ok && [[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null || true)" == Y ]] &&
  ! command -v apparmor_parser >/dev/null; then
  missing+=(apparmor)
fi
if ((${#missing[@]})); then
  become_root "install ${missing[*]}"
  mkdir -p "$STATE_DIR"
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { apt-get install -y -q --no-install-recommends "${missing[@]}"; }
  # Only refresh the package lists when installing from the existing ones fails
  # (e.g. fresh image with empty /var/lib/apt/lists).
  if ! apt_install; then
    log "apt-get install failed; running apt-get update and retrying"
    apt-get update -q
    apt_install
  fi
fi
command -v "$DOCKER" >/dev/null || DOCKER=/usr/bin/docker
log "docker CLI: $(command -v "$DOCKER") ($("$DOCKER" --version 2>/dev/null || echo '?'))"

# ---------------------------------------------------------------- 2. dockerd

# Try one dockerd configuration. Returns 0 when `docker info` answers.
try_dockerd() {
  local -a args=("$@")
  # A pid file left by a dockerd that died makes the next one refuse to start.
  if [[ -f /var/run/docker.pid ]] && ! pid_alive "$(cat /var/run/docker.pid 2>/dev/null)"; then
    rm -f /var/run/docker.pid
  fi
  log "starting: dockerd ${args[*]}"
  echo "===== $(date -u +%FT%TZ) dockerd ${args[*]}" >>"$DOCKERD_LOG"
  # setsid + nohup: survive the end of this script / CI step shell.
  setsid nohup dockerd "${args[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
  local pid=$! t0
  t0=$(now)
  echo "$pid" >"$DOCKERD_PIDFILE"
  local deadline=$((SECONDS + DOCKERD_TIMEOUT))
  while ((SECONDS < deadline)); do
    if docker_ok; then
      printf '%s\n' "${args[@]}" >"$DOCKERD_ARGSFILE"
      log "dockerd (pid $pid) answered after $(elapsed "$t0")s"
      return 0
    fi
    pid_alive "$pid" || break
    sleep 0.2
  done
  if pid_alive "$pid"; then
    log "dockerd did not answer within ${DOCKERD_TIMEOUT}s; stopping it"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.2; done
    if pid_alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$DOCKERD_PIDFILE"
  log "dockerd ${args[*]} failed; errors from $DOCKERD_LOG:"
  # shellcheck disable=SC2016 # sed script: the last attempt's lines
  sed -n '/^===== /h; /^===== /!H; ${x;p}' "$DOCKERD_LOG" |
    grep -E 'level=(error|fatal)|failed to start|^[^t=]' | tail -n 10 | sed 's/^/    /' >&2
  return 1
}

if docker_ok; then
  log "docker daemon already answering; not starting one"
else
  become_root "start dockerd (docker info: $("$DOCKER" info 2>&1 >/dev/null | tail -n1))"
  mkdir -p "$STATE_DIR"
  command -v dockerd >/dev/null || die "dockerd not found after installing docker.io"
  if [[ -n "$FORCED_DRIVER" ]]; then
    drivers=("$FORCED_DRIVER")
  else
    drivers=(overlay2)
    command -v fuse-overlayfs >/dev/null && [[ -e /dev/fuse ]] && drivers+=(fuse-overlayfs)
    drivers+=(vfs)
  fi
  # Networking: the default bridge is kept when it works (the tool runs
  # containers with `--network none` explicitly). If iptables/bridge setup is
  # impossible here, fall back to a daemon without them; `--network none` and
  # `--network host` still work then.
  net_variants=("" "--iptables=false --ip-masq=false --bridge=none")
  started=""
  for drv in "${drivers[@]}"; do
    for net in "${net_variants[@]}"; do
      read -r -a net_args <<<"$net"
      if try_dockerd --storage-driver="$drv" "${net_args[@]}" "${EXTRA_ARGS[@]}"; then
        started=yes
        break 2
      fi
      # A storage-driver failure: other networking flags will not help.
      if tail -n 5 "$DOCKERD_LOG" | grep -q 'error initializing graphdriver'; then break; fi
    done
  done
  [[ -n "$started" ]] || die "could not start dockerd with any of: ${drivers[*]} (full log: $DOCKERD_LOG)"
fi

server_version=$("$DOCKER" version --format '{{.Server.Version}}')
driver=$("$DOCKER" info --format '{{.Driver}}')
cgroup=$("$DOCKER" info --format '{{.CgroupDriver}} v{{.CgroupVersion}}' 2>/dev/null || echo '?')
log "daemon: docker $server_version, storage driver $driver, cgroup $cgroup"

# Docker allows plain HTTP to registries in 127.0.0.0/8 (which covers
# localhost:5000) unless the daemon was configured otherwise; check it.
insecure=$("$DOCKER" info --format '{{range .RegistryConfig.InsecureRegistryCIDRs}}{{.}} {{end}}')
case " $insecure " in
  *" 127.0.0.0/8 "*) ;;
  *) die "daemon does not treat 127.0.0.0/8 as an insecure registry (has: $insecure); add it to /etc/docker/daemon.json \"insecure-registries\"" ;;
esac

# ---------------------------------------------------------------- 3. registry
if registry_ok; then
  log "registry already answering at $registry_url"
else
  become_root "start the registry"
  command -v docker-registry >/dev/null || die "docker-registry not found after installing it"
  mkdir -p "$REGISTRY_STORAGE"
  # Our own config: no htpasswd auth (Debian's default config has it), loopback
  # only, deletes enabled so tests can clean up.
  cat >"$REGISTRY_CONFIG" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REGISTRY_STORAGE
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
EOF
  old=$(cat "$REGISTRY_PIDFILE" 2>/dev/null || true)
  if pid_alive "$old"; then
    die "registry pid $old is running but $registry_url does not answer; see $REGISTRY_LOG"
  fi
  echo "===== $(date -u +%FT%TZ) docker-registry serve $REGISTRY_CONFIG" >>"$REGISTRY_LOG"
  setsid nohup docker-registry serve "$REGISTRY_CONFIG" >>"$REGISTRY_LOG" 2>&1 </dev/null &
  rpid=$!
  echo "$rpid" >"$REGISTRY_PIDFILE"
  t0=$(now)
  deadline=$((SECONDS + 30))
  until registry_ok; do
    if ! pid_alive "$rpid" || ((SECONDS >= deadline)); then
      if pid_alive "$rpid"; then kill "$rpid" 2>/dev/null || true; fi
      rm -f "$REGISTRY_PIDFILE"
      log "registry log tail:"
      tail -n 15 "$REGISTRY_LOG" | sed 's/^/    /' >&2
      die "registry did not answer at $registry_url"
    fi
    sleep 0.2
  done
  log "registry (pid $rpid) answered after $(elapsed "$t0")s; storage $REGISTRY_STORAGE"
fi

log "ready: docker $server_version ($driver), registry $registry_url"
