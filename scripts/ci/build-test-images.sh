#!/usr/bin/env bash
# build-test-images.sh — build small Debian-bookworm Python images with
# debootstrap (no Docker Hub needed), load them into Docker, push them to the
# local registry started by docker-up.sh and write their digest-pinned
# references to an env file for the tests.
#
# Run after scripts/ci/docker-up.sh. Building needs root (it re-runs itself
# through passwordless sudo if needed); when the images are already built and
# in the registry, access to the Docker daemon is enough. Idempotent: an image
# whose spec is unchanged and which is still in the registry is reused as is
# (same digest); a cached root-fs tarball skips debootstrap.
# See scripts/ci/README.md for details and measured timings.
#
# Images (repository localhost:5000/repro-gate-test/python):
#   base     python3 (interpreter + full standard library)
#   variant  base + python3-six (exactly one extra package, for env-diff tests)
#   numpy    base + python3-numpy (and its BLAS/LAPACK/gfortran deps)
#
# Environment (all optional):
#   REPRO_GATE_TEST_IMAGES         output env file (default: <repo>/test/.images.env)
#   REPRO_GATE_TEST_IMAGE_SET      images to build (default: "base variant numpy")
#   REPRO_GATE_TEST_REGISTRY       registry host:port as Docker sees it (default localhost:5000)
#   REPRO_GATE_CI_CACHE_DIR        .deb and root-fs cache (default /var/cache/repro-gate-ci)
#   REPRO_GATE_DEBIAN_MIRROR       mirror URL (default: taken from /etc/apt/sources.list*,
#                                  else http://deb.debian.org/debian)
#   REPRO_GATE_DEBIAN_SUITE        default bookworm
#   REPRO_GATE_TEST_IMAGES_REBUILD 1 = ignore caches: re-run debootstrap, re-load, re-push
#   REPRO_GATE_BUILD_TMPFS         1 (default) = build root fs on a tmpfs (faster), 0 = on disk
#   DOCKER                         docker CLI (default: `docker` from PATH)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

OUT_FILE=${REPRO_GATE_TEST_IMAGES:-$REPO_ROOT/test/.images.env}
IMAGE_SET=${REPRO_GATE_TEST_IMAGE_SET:-base variant numpy}
REGISTRY=${REPRO_GATE_TEST_REGISTRY:-localhost:5000}
REPO_NAME=repro-gate-test/python
CACHE_DIR=${REPRO_GATE_CI_CACHE_DIR:-/var/cache/repro-gate-ci}
SUITE=${REPRO_GATE_DEBIAN_SUITE:-bookworm}
REBUILD=${REPRO_GATE_TEST_IMAGES_REBUILD:-0}
USE_TMPFS=${REPRO_GATE_BUILD_TMPFS:-1}
DOCKER=${DOCKER:-docker}
# Bump when the build/cleanup recipe changes, to invalidate cached root fs and images.
RECIPE_VERSION=3

log() { echo "[build-test-images] $*" >&2; }
die() { echo "[build-test-images] ERROR: $*" >&2; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
TIMINGS=()
timing() { TIMINGS+=("$(printf '%-8s %-22s %6ss' "$1" "$2" "$3")"); }

# Checking/reusing images only needs access to the Docker daemon; building
# (debootstrap, chroot, tmpfs) needs root: re-run through passwordless sudo
# then (e.g. GitHub-hosted runners), else fail.
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
become_root() {
  [[ $(id -u) -eq 0 ]] && return 0
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    log "root needed to $1; re-running through sudo"
    [[ -n "${PKGDIR:-}" ]] && rm -rf "$PKGDIR"
    exec sudo -n -E bash "$SCRIPT_PATH"
  fi
  die "must run as root (or with passwordless sudo) to $1"
}

if ! err=$("$DOCKER" info 2>&1 >/dev/null); then
  die "docker daemon not usable (run scripts/ci/docker-up.sh first): $(tail -n 2 <<<"$err")"
fi
REGISTRY_URL="http://$REGISTRY"
curl -fsS -m 5 "$REGISTRY_URL/v2/" >/dev/null || die "registry $REGISTRY_URL/v2/ not answering: run scripts/ci/docker-up.sh first"

# ------------------------------------------------------------------ mirror
# The mirror this machine's apt uses, for the suite we build (deb822 *.sources
# first, then one-line sources.list format).
detect_mirror() {
  local m="" f
  local -a sources=() lists=()
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do sources+=("$f"); done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [[ -f $f ]] && lists+=("$f"); done
  shopt -u nullglob
  if ((${#sources[@]})); then
    m=$(awk -v suite="$SUITE" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          l = $i
          if (l ~ /^[ \t]*#/) continue
          if (l ~ /^Types:/)   { sub(/^Types:[ \t]*/, "", l);   types = l }
          if (l ~ /^URIs:/)    { sub(/^URIs:[ \t]*/, "", l);    uris = l }
          if (l ~ /^Suites:/)  { sub(/^Suites:[ \t]*/, "", l);  suites = l }
          if (l ~ /^Enabled:/) { sub(/^Enabled:[ \t]*/, "", l); enabled = tolower(l) }
        }
        if (enabled == "no") next
        if ((" " types " ") !~ / deb /) next
        if ((" " suites " ") !~ (" " suite " ")) next
        split(uris, u, /[ \t]+/); print u[1]; exit
      }' "${sources[@]}" 2>/dev/null || true)
  fi
  if [[ -z "$m" ]] && ((${#lists[@]})); then
    m=$(awk -v suite="$SUITE" '
      $1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }' "${lists[@]}" 2>/dev/null || true)
  fi
  case "$m" in
    http://* | https://* | ftp://* | file:/*) echo "${m%/}" ;;
    *) echo "http://deb.debian.org/debian" ;;
  esac
}
MIRROR=${REPRO_GATE_DEBIAN_MIRROR:-$(detect_mirror)}
ARCH=$(dpkg --print-architecture)

# ------------------------------------------------------------------ specs
# Every image is "base" plus extra Debian packages (and their dependencies).
IMAGES_KNOWN="base variant numpy"
BASE_INCLUDE=python3
spec_extra() {
  case "$1" in
    base) echo "" ;;
    variant) echo "python3-six" ;;
    numpy) echo "python3-numpy" ;;
    *) die "unknown image '$1' (known: $IMAGES_KNOWN)" ;;
  esac
}
spec_packages() { local e; e=$(spec_extra "$1"); echo "$BASE_INCLUDE${e:+,$e}"; }
# apt is not needed at run time; excluding it drops ~15 packages and ~15 MB.
EXCLUDES=apt

DEB_CACHE="$CACHE_DIR/debs/$SUITE-$ARCH"
ROOTFS_CACHE="$CACHE_DIR/rootfs"
mkdir -p "$(dirname "$OUT_FILE")"

spec_key() {
  printf '%s|' "$RECIPE_VERSION" "$SUITE" "$ARCH" "$BASE_INCLUDE" "$EXCLUDES" "$(spec_extra "$1")" |
    sha256sum | cut -c1-16
}
tarball_of() { echo "$ROOTFS_CACHE/$1-$SUITE-$ARCH-$(spec_key "$1").tar"; }

WORK=""
cleanup() {
  [[ -n "$WORK" && -d "$WORK" ]] || return 0
  # debootstrap may leave proc/sys mounted inside the target when it fails.
  local mp
  awk -v w="$WORK" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mp; do umount -l "$mp" 2>/dev/null || true; done
  rm -rf --one-file-system "$WORK"
  WORK=""
}
trap cleanup EXIT

# Resolve the packages to add to a root fs for the comma-separated list $3,
# from Packages file $1, given the installed package names in file $2.
# Same policy as debootstrap: Depends + Pre-Depends, first installable
# alternative, virtual packages via Provides, versions from the same Packages
# file as base. Prints "name pool-path sha256" lines in dependency-discovery order.
resolve_extras() {
  awk -v want="$3" -v instfile="$2" '
    function norm(s) { gsub(/\(.*\)/, "", s); gsub(/\[.*\]/, "", s); gsub(/[ \t]/, "", s); sub(/:.*/, "", s); return s }
    function real(n) { if (n in D) return n; if (n in P) return P[n]; return "" }
    function have(n) { return (n in inst) || (n in sel) }
    BEGIN { while ((getline l < instfile) > 0) inst[l] = 1; RS = ""; FS = "\n" }
    {
      pkg = ""; deps = ""; fn = ""; sha = ""; prov = ""
      for (i = 1; i <= NF; i++) {
        l = $i
        if (l ~ /^Package: /) pkg = substr(l, 10)
        else if (l ~ /^Depends: /) deps = deps "," substr(l, 10)
        else if (l ~ /^Pre-Depends: /) deps = deps "," substr(l, 14)
        else if (l ~ /^Filename: /) fn = substr(l, 11)
        else if (l ~ /^SHA256: /) sha = substr(l, 9)
        else if (l ~ /^Provides: /) prov = substr(l, 11)
      }
      if (pkg == "" || (pkg in D)) next
      D[pkg] = deps; F[pkg] = fn; S[pkg] = sha
      n = split(prov, pv, /,/)
      for (j = 1; j <= n; j++) { p = norm(pv[j]); if (p != "" && !(p in P)) P[p] = pkg }
    }
    END {
      tail = split(want, queue, /,/); head = 1; err = 0
      while (head <= tail) {
        r = real(norm(queue[head++]))
        if (r == "") { print "unresolvable: " queue[head - 1] > "/dev/stderr"; err = 1; continue }
        if (have(r)) continue
        sel[r] = 1; order[++no] = r
        n = split(D[r], cl, /,/)
        for (j = 1; j <= n; j++) {
          if (cl[j] ~ /^[ \t]*$/) continue
          na = split(cl[j], alt, /\|/); chosen = ""
          for (k = 1; k <= na && chosen == ""; k++) { a = real(norm(alt[k])); if (a != "" && have(a)) chosen = a }
          for (k = 1; k <= na && chosen == ""; k++) { a = real(norm(alt[k])); if (a != "") chosen = a }
          if (chosen == "") { print "unresolvable dependency of " r ": " cl[j] > "/dev/stderr"; err = 1; continue }
          if (!have(chosen)) queue[++tail] = chosen
        }
      }
      for (i = 1; i <= no; i++) print order[i], F[order[i]], S[order[i]]
      exit err
    }' "$1"
}

# Install extra packages (comma-separated $2) into root fs $1 with dpkg.
install_extras() {
  local root=$1 want=$2 pkgfile name path sha deb
  pkgfile=$(find "$root/var/lib/apt/lists" -maxdepth 1 -name '*_Packages' | head -n1)
  [[ -n "$pkgfile" ]] || die "no Packages file left by debootstrap in $root/var/lib/apt/lists"
  # shellcheck disable=SC2016 # dpkg-query format, not a shell expansion
  chroot "$root" dpkg-query -W -f='${Package}\n' >"$WORK/installed"
  resolve_extras "$pkgfile" "$WORK/installed" "$want" >"$WORK/extras" || die "cannot resolve $want"
  rm -rf "$root/tmp/extra-debs"
  mkdir -p "$root/tmp/extra-debs" "$DEB_CACHE/pool"
  while read -r name path sha; do
    deb="$DEB_CACHE/pool/${path##*/}"
    if ! [[ -f "$deb" ]] || ! echo "$sha  $deb" | sha256sum -c --status; then
      curl -fsS --retry 3 -o "$deb.part" "$MIRROR/$path" || die "download failed: $MIRROR/$path"
      echo "$sha  $deb.part" | sha256sum -c --status || die "sha256 mismatch: $MIRROR/$path"
      mv "$deb.part" "$deb"
    fi
    cp "$deb" "$root/tmp/extra-debs/"
  done <"$WORK/extras"
  log "  + $(cut -d' ' -f1 "$WORK/extras" | tr '\n' ' ')"
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C DEBIAN_FRONTEND=noninteractive \
    sh -c 'dpkg -i /tmp/extra-debs/*.deb' >"$WORK/dpkg.log" 2>&1 || {
    tail -n 30 "$WORK/dpkg.log" >&2
    die "dpkg -i of $want failed"
  }
  rm -rf "$root/tmp/extra-debs"
  [[ -z "$(chroot "$root" dpkg --audit)" ]] || die "dpkg --audit not clean after installing $want"
}

# Shrink root fs $1 and write it as tarball $2.
finish_rootfs() {
  local root=$1 tarball=$2
  # Package caches and lists, docs, man pages, translations, logs.
  rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
    "$root"/usr/share/lintian "$root"/usr/share/linda \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
    "$root"/var/log/* "$root"/debootstrap
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  # Docker provides /dev, /etc/resolv.conf, /etc/hostname, /etc/hosts at run
  # time; do not ship the build host's.
  find "$root/dev" -mindepth 1 -delete
  rm -f "$root/etc/resolv.conf"
  echo localhost >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  : >"$root/etc/machine-id"
  # Make the tarball depend on the package set only, not on the build time:
  # drop ldconfig's inode/ctime cache, pin the "last password change" day in
  # /etc/shadow, and clamp the mtime of every file created during the build
  # (dpkg database, .pyc files, /etc, directories) to the newest mtime found in
  # the packages' own files. Files from the .debs keep their mtimes, so the
  # .pyc files stay valid. Two builds from the same mirror state give
  # byte-identical tarballs; see load_image for the image config.
  rm -f "$root/var/cache/ldconfig/aux-cache"
  local epoch
  epoch=$(find "$root" -xdev ! -newer "$STAMP" -printf '%T@\n' | sort -n | tail -n1 | cut -d. -f1)
  [[ -n "$epoch" ]] || epoch=0
  sed -i -E "s/^([^:]*:[^:]*:)[0-9]+:/\1$((epoch / 86400)):/" "$root/etc/shadow" "$root/etc/shadow-" 2>/dev/null || true
  tar --numeric-owner --sort=name --mtime="@$epoch" --clamp-mtime -C "$root" -cf "$tarball.tmp" .
  echo "$epoch" >"$tarball.epoch"
  mv "$tarball.tmp" "$tarball"
  # Old tarballs of this image (other recipe/spec keys) are no longer used.
  find "$ROOTFS_CACHE" -maxdepth 1 -name "$(basename "$tarball" | sed -E 's/-[0-9a-f]{16}\.tar$//')-*.tar*" \
    ! -name "$(basename "$tarball")*" -delete
}

# Load root-fs tarball $2 as image $1 through a hand-made `docker save` archive
# rather than `docker import`, so that the image config has a fixed "created"
# time (the tarball's epoch): the image ID and the registry digest are then a
# pure function of the tarball (same tarball + same dockerd = same digest).
load_image() {
  local tag=$1 tarball=$2 name=$3 epoch created diffid cfgsha dir pkgs
  epoch=$(cat "$tarball.epoch")
  created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
  pkgs=$(spec_packages "$name")
  diffid=$(sha256sum <"$tarball" | cut -d' ' -f1)
  dir=$(mktemp -d /var/tmp/repro-gate-load.XXXXXX)
  printf '{"architecture":"%s","os":"linux","created":"%s","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"],"Cmd":["python3"],"Labels":{"repro-gate-test.image":"%s","repro-gate-test.packages":"%s","repro-gate-test.spec":"%s"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"debootstrap --variant=minbase --include=%s --exclude=%s %s"}]}' \
    "$ARCH" "$created" "$name" "$pkgs" "$(spec_key "$name")" "$diffid" "$created" "$pkgs" "$EXCLUDES" "$SUITE" >"$dir/config.json"
  cfgsha=$(sha256sum <"$dir/config.json" | cut -d' ' -f1)
  mv "$dir/config.json" "$dir/$cfgsha.json"
  mkdir "$dir/$diffid"
  ln -s "$tarball" "$dir/$diffid/layer.tar"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfgsha" "$tag" "$diffid" >"$dir/manifest.json"
  tar -C "$dir" -ch . | "$DOCKER" load -q >/dev/null || { rm -rf "$dir"; die "docker load of $tag failed"; }
  rm -rf "$dir"
  [[ "$("$DOCKER" image inspect --format '{{.Id}}' "$tag")" == "sha256:$cfgsha" ]] ||
    die "$tag: image ID is not sha256:$cfgsha after docker load"
}

# Build the root-fs tarballs of all images in IMAGE_SET from ONE debootstrap
# of base, so that every derived image is exactly base + its extra packages.
build_all_rootfs() {
  local base_root t0 name root
  WORK=$(mktemp -d /var/tmp/repro-gate-rootfs.XXXXXX)
  if [[ "$USE_TMPFS" == 1 ]] &&
    (($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) > 6 * 1024 * 1024)) &&
    mount -t tmpfs -o size=4g,mode=755 tmpfs "$WORK" 2>/dev/null; then
    log "building on tmpfs $WORK"
  fi
  base_root="$WORK/base"
  mkdir -p "$base_root"
  STAMP="$WORK/stamp" # files newer than this were created by the build
  touch "$STAMP"
  sleep 1
  log "debootstrap --variant=minbase --include=$BASE_INCLUDE --exclude=$EXCLUDES $SUITE $MIRROR"
  t0=$(now)
  if ! debootstrap --variant=minbase --include="$BASE_INCLUDE" --exclude="$EXCLUDES" \
    --cache-dir="$DEB_CACHE" "$SUITE" "$base_root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 30 "$WORK/debootstrap.log" >&2
    [[ -f "$base_root/debootstrap/debootstrap.log" ]] && tail -n 30 "$base_root/debootstrap/debootstrap.log" >&2
    cp "$WORK/debootstrap.log" "$CACHE_DIR/debootstrap.log" || true
    die "debootstrap failed (log: $CACHE_DIR/debootstrap.log)"
  fi
  timing base debootstrap "$(secs "$t0")"
  cp "$WORK/debootstrap.log" "$CACHE_DIR/debootstrap.log"
  log "base: root fs $(du -sh --one-file-system "$base_root" | cut -f1) before cleanup"
  for name in $IMAGE_SET; do
    [[ "$name" == base ]] && continue
    t0=$(now)
    root="$WORK/$name"
    cp -a "$base_root" "$root"
    log "$name: installing $(spec_extra "$name") into a copy of base"
    install_extras "$root" "$(spec_extra "$name")"
    timing "$name" "derive (dpkg -i)" "$(secs "$t0")"
    t0=$(now)
    finish_rootfs "$root" "$(tarball_of "$name")"
    log "$name: root fs $(du -sh --one-file-system "$root" | cut -f1) after cleanup"
    rm -rf --one-file-system "$root"
    timing "$name" "cleanup+tar" "$(secs "$t0")"
  done
  t0=$(now)
  finish_rootfs "$base_root" "$(tarball_of base)"
  log "base: root fs $(du -sh --one-file-system "$base_root" | cut -f1) after cleanup"
  timing base "cleanup+tar" "$(secs "$t0")"
  cleanup
}

repo_digest_of() { # local image ref -> registry digest ref (or empty)
  "$DOCKER" image inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$1" 2>/dev/null |
    grep -m1 "^$REGISTRY/$REPO_NAME@sha256:" || true
}
registry_has() { # digest ref -> 0 if the registry serves that manifest
  local digest=${1##*@}
  curl -fsS -m 10 -o /dev/null -I \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$REGISTRY_URL/v2/$REPO_NAME/manifests/$digest" 2>/dev/null
}

for name in $IMAGE_SET; do spec_extra "$name" >/dev/null; done # validate names

declare -A REF VERSIONS
PKGDIR=$(mktemp -d /tmp/repro-gate-pkgs.XXXXXX)
trap 'cleanup; rm -rf "$PKGDIR"' EXIT
PYVER=""
T_ALL=$(now)

# 1. Reuse images that are already loaded (same spec key) and in the registry.
need=()
for name in $IMAGE_SET; do
  tag="$REGISTRY/$REPO_NAME:$name"
  if [[ "$REBUILD" != 1 ]] &&
    [[ "$("$DOCKER" image inspect --format '{{index .Config.Labels "repro-gate-test.spec"}}' "$tag" 2>/dev/null || true)" == "$(spec_key "$name")" ]]; then
    ref=$(repo_digest_of "$tag")
    if [[ -n "$ref" ]] && registry_has "$ref"; then
      log "$name: up to date ($ref)"
      REF[$name]=$ref
      continue
    fi
    t0=$(now)
    if "$DOCKER" push -q "$tag" >/dev/null; then
      REF[$name]=$(repo_digest_of "$tag")
      timing "$name" "docker push (again)" "$(secs "$t0")"
      [[ -n "${REF[$name]}" ]] && continue
    fi
  fi
  need+=("$name")
done

# Everything up to date and already recorded in the env file: nothing to do.
if ((${#need[@]} == 0)) && [[ -f "$OUT_FILE" ]] && grep -qx "REPRO_GATE_TEST_REGISTRY=$REGISTRY" "$OUT_FILE"; then
  recorded=yes
  for name in $IMAGE_SET; do
    grep -qx "REPRO_GATE_TEST_IMAGE_${name^^}=${REF[$name]}" "$OUT_FILE" || recorded=""
  done
  if [[ -n "$recorded" ]]; then
    log "all images up to date and recorded in $OUT_FILE ($(secs "$T_ALL")s)"
    exit 0
  fi
fi

# 2. Root-fs tarballs: built together (one debootstrap) so that they stay
#    consistent; if any is missing, rebuild and re-load all of them.
if ((${#need[@]})); then
  become_root "build/load images: ${need[*]}"
  command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/ci/docker-up.sh first"
  mkdir -p "$DEB_CACHE" "$ROOTFS_CACHE"
  exec 9>"$CACHE_DIR/build.lock"
  flock 9 # one build at a time (parallel test workers)
  for name in base $IMAGE_SET; do
    if [[ "$REBUILD" == 1 || ! -f "$(tarball_of "$name")" || ! -f "$(tarball_of "$name").epoch" ]]; then
      build_all_rootfs
      read -r -a need <<<"$IMAGE_SET"
      break
    fi
  done
fi

# 3. Load + push.
for name in "${need[@]}"; do
  tag="$REGISTRY/$REPO_NAME:$name"
  log "$name: loading $(tarball_of "$name")"
  t0=$(now)
  load_image "$tag" "$(tarball_of "$name")" "$name"
  timing "$name" "docker load" "$(secs "$t0")"
  t0=$(now)
  "$DOCKER" push -q "$tag" >/dev/null
  timing "$name" "docker push" "$(secs "$t0")"
  REF[$name]=$(repo_digest_of "$tag")
  [[ -n "${REF[$name]}" ]] || die "$name: no $REGISTRY/$REPO_NAME@sha256 digest after push"
done

# 4. Verify every image, digest-pinned and without network.
for name in $IMAGE_SET; do
  ref=${REF[$name]}
  # One run: stdlib smoke test, versions of the extra package (Debian and
  # importlib.metadata), and the installed Debian packages (to check below that
  # variant/numpy differ from base by additions only).
  extra=$(spec_extra "$name")
  dist=${extra#python3-}
  t0=$(now)
  # shellcheck disable=SC2016 # Python source
  "$DOCKER" run --rm --network none "$ref" python3 -c '
import json, random, math, csv, argparse, hashlib, importlib.metadata, platform, subprocess, sys
def q(*a): return subprocess.run(["dpkg-query", "-W", *a], check=True, capture_output=True, text=True).stdout
extra, dist = sys.argv[1:3]
print(platform.python_version())
print(q("-f=${Version}", extra), importlib.metadata.version(dist)) if extra else print("- -")
sys.stdout.write(q("-f=${Package}=${Version}\n"))' "$extra" "$dist" >"$PKGDIR/$name.out" ||
    die "$name: smoke test failed in $ref (python3 stdlib or $extra missing?)"
  timing "$name" "docker run smoke" "$(secs "$t0")"
  PYVER=$(sed -n 1p "$PKGDIR/$name.out")
  VERSIONS[$name]=$(sed -n 2p "$PKGDIR/$name.out")
  sed -n '3,$p' "$PKGDIR/$name.out" | LC_ALL=C sort >"$PKGDIR/$name"
  size=$("$DOCKER" image inspect --format '{{.Size}}' "$ref")
  log "$name: $ref ($((size / 1024 / 1024)) MiB uncompressed, python $PYVER)"
done

if [[ -f "$PKGDIR/base" ]]; then
  for name in $IMAGE_SET; do
    [[ "$name" == base ]] && continue
    extra=$(spec_extra "$name")
    changed=$(LC_ALL=C comm -23 "$PKGDIR/base" "$PKGDIR/$name")
    added=$(LC_ALL=C comm -13 "$PKGDIR/base" "$PKGDIR/$name" | tr '\n' ' ')
    if [[ -n "$changed" ]] || [[ " $added" != *" $extra="* ]]; then
      die "$name is not base + $extra: missing/changed vs base: [${changed//$'\n'/ }] added: [$added]." \
        "Rerun with REPRO_GATE_TEST_IMAGES_REBUILD=1"
    fi
    if [[ "$name" == variant ]] && (($(wc -w <<<"$added") != 1)); then
      die "variant must add exactly one package to base, adds: $added"
    fi
    log "$name = base + $added"
  done
fi

# Drop older, now untagged builds of these images from the local Docker store
# (they stay in the registry until it is purged).
"$DOCKER" image prune -f --filter label=repro-gate-test.image >/dev/null || true

# ------------------------------------------------------------------ env file
# Images of a previous run that are not in IMAGE_SET keep their lines while
# the registry still serves them (e.g. numpy, when the tests build "base variant").
kept=""
if [[ -f "$OUT_FILE" ]]; then
  for name in $IMAGES_KNOWN; do
    [[ " $IMAGE_SET " == *" $name "* ]] && continue
    up=${name^^}
    ref=$(sed -n "s/^REPRO_GATE_TEST_IMAGE_$up=//p" "$OUT_FILE" | head -n1)
    if [[ "$ref" == "$REGISTRY/$REPO_NAME@sha256:"* ]] && registry_has "$ref"; then
      kept+=$(grep -E "^REPRO_GATE_TEST_IMAGE_${up}(=|_)" "$OUT_FILE")$'\n'
    fi
  done
fi
tmp="$OUT_FILE.tmp.$$"
{
  echo "# Generated by scripts/ci/build-test-images.sh on $(date -u +%FT%TZ). Do not commit."
  echo "# Digest-pinned test images in the local registry (scripts/ci/docker-up.sh)."
  echo "REPRO_GATE_TEST_REGISTRY=$REGISTRY"
  echo "REPRO_GATE_TEST_PYTHON_VERSION=$PYVER"
  for name in $IMAGE_SET; do
    up=${name^^}
    echo "REPRO_GATE_TEST_IMAGE_$up=${REF[$name]}"
    extra=$(spec_extra "$name")
    if [[ -n "$extra" ]]; then
      read -r debver distver <<<"${VERSIONS[$name]}"
      echo "REPRO_GATE_TEST_IMAGE_${up}_EXTRA_PACKAGE=$extra"
      echo "REPRO_GATE_TEST_IMAGE_${up}_EXTRA_DEB_VERSION=$debver"
      echo "REPRO_GATE_TEST_IMAGE_${up}_EXTRA_DIST=${extra#python3-}==$distver"
    fi
  done
  printf '%s' "$kept"
} >"$tmp"
mv "$tmp" "$OUT_FILE"

log "timings:"
for t in "${TIMINGS[@]}"; do log "  $t"; done
log "total $(secs "$T_ALL")s; wrote $OUT_FILE"
cat "$OUT_FILE"
