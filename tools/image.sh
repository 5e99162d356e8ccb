#!/usr/bin/env bash
# image.sh - `make image`: kubus's container image, built from Debian packages
# without pulling any image.
#
# Owns: the image's contents and its reproducible packing. Two layers:
#   1. a Debian rootfs (mmdebstrap --variant=extract of the shared libraries
#      kubus links, tzdata and ca-certificates) with the files maintainer
#      scripts would have written (/etc/ssl/certs/ca-certificates.crt,
#      /etc/passwd, /etc/group: uid/gid 65532 "nonroot");
#   2. kubus's binaries (stripped) in /usr/local/bin and the bus mount point
#      /run/kubus owned by 65532.
# Entry point: the supervisor, user 65532:65532, no shell in the image.
#
# Every file gets mtime SOURCE_DATE_EPOCH and owner 0:0 (except /run/kubus),
# history entries and the creation time are fixed, so the same inputs give
# the same digest. A stamp of the inputs' hashes per layer means a second run
# with nothing changed does nothing, and a changed binary rebuilds only the
# kubus layer (the rootfs is fetched again only when the suite, the package
# list or the mirrors change).
#
# Usage: tools/image.sh [BUILD_DIR]      (default build; binaries in BUILD_DIR/bin)
# Writes BUILD_DIR/image/oci (OCI layout, tag kubus) and
#        BUILD_DIR/image/kubus-image.tar (docker-archive, name localhost/kubus:<version>).
# Env: SOURCE_DATE_EPOCH (default: the last commit's time, else 0),
#      KUBUS_IMAGE_SUITE (default this machine's Debian codename),
#      KUBUS_IMAGE_MIRROR, KUBUS_IMAGE_SECURITY_MIRROR.
# Exit: 0 built (or up to date), 1 failed, 2 a tool or input is missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
bin=$build/bin
out=$build/image
work=$out/work

die() { echo "image: $*" >&2; exit 1; }
need() { # need TOOL DEBIAN-PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "image: $1 is missing: apt-get install -y $2 (or: make deps)" >&2
  exit 2
}
need mmdebstrap mmdebstrap
need umoci umoci
need skopeo skopeo
need strip binutils
need tar tar
need sha256sum coreutils
need jq jq
[ "$(id -u)" -eq 0 ] || { echo "image: mmdebstrap --mode=root needs root (run as root or with sudo)" >&2; exit 2; }
[ -x "$bin/kubus-controller-manager" ] || {
  echo "image: no $bin/kubus-controller-manager: build kubus first (make)" >&2; exit 2; }

suite=${KUBUS_IMAGE_SUITE:-$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")}
[ -n "$suite" ] || { echo "image: no Debian codename in /etc/os-release: set KUBUS_IMAGE_SUITE" >&2; exit 2; }
mirror=${KUBUS_IMAGE_MIRROR:-http://deb.debian.org/debian}
secmirror=${KUBUS_IMAGE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

# The runtime libraries of kubus's binaries (the -dev packages' counterparts).
packages=libzmq5,libprotobuf-c1,libcurl4,libyaml-0-2,libjansson4,libmicrohttpd12,liblmdb0,tzdata,ca-certificates
uid=65532

mkdir -p "$work"
hash_of() { sha256sum | cut -c1-64; }

# Deterministic tar of directory $1 into $2: sorted, fixed mtime, no atime/ctime.
det_tar() {
  tar --sort=name --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mtime="@$SOURCE_DATE_EPOCH" --numeric-owner "${@:3}" -C "$1" -cf "$2.tmp" . && mv "$2.tmp" "$2"
}

# ---- layer 1: the Debian rootfs ----
rootfs_key=$( { echo "$suite $packages $mirror $secmirror $uid $SOURCE_DATE_EPOCH"; sed -n '/^# ---- layer 1/,/^# ---- layer 2/p' "$0"; } | hash_of)
if [ "$(cat "$work/rootfs.key" 2>/dev/null)" != "$rootfs_key" ] || [ ! -s "$work/rootfs.tar" ]; then
  echo "image: fetching the $suite rootfs ($packages)"
  rm -rf "$work/rootfs" "$work/rootfs.key"
  mmdebstrap --quiet --mode=root --variant=extract --include="$packages" "$suite" "$work/rootfs" \
    "deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $secmirror $suite-security main" \
    </dev/null || die "mmdebstrap failed (is $mirror reachable?)"
  r=$work/rootfs
  # What maintainer scripts and base-files would have written.
  mkdir -p "$r/etc/ssl/certs" "$r/tmp" "$r/run" "$r/proc" "$r/sys" "$r/dev"
  chmod 1777 "$r/tmp"
  find "$r/usr/share/ca-certificates" -name '*.crt' | LC_ALL=C sort | xargs cat >"$r/etc/ssl/certs/ca-certificates.crt"
  [ -s "$r/etc/ssl/certs/ca-certificates.crt" ] || die "no CA certificates in the rootfs"
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/usr/sbin/nologin\n' \
    "$uid" "$uid" >"$r/etc/passwd"
  printf 'root:x:0:\nnonroot:x:%d:\n' "$uid" >"$r/etc/group"
  ln -sf /usr/share/zoneinfo/Etc/UTC "$r/etc/localtime"
  echo Etc/UTC >"$r/etc/timezone"
  # Nothing at run time reads docs, man pages, apt's state or logs.
  rm -rf "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/info" "$r/usr/share/lintian" \
    "$r/usr/share/locale" "$r/var/lib/apt" "$r/var/cache" "$r/var/log" "$r/etc/apt"
  det_tar "$r" "$work/rootfs.tar" --owner=0 --group=0
  rm -rf "$r"
  echo "$rootfs_key" >"$work/rootfs.key"
fi

# ---- layer 2: kubus's binaries ----
bins=$(find "$bin" -maxdepth 1 -type f -perm -u+x -name 'kubus-*' | LC_ALL=C sort)
[ -n "$bins" ] || die "no kubus-* binaries in $bin"
kubus_key=$( { sha256sum $bins; sed -n '/^# ---- layer 2/,/^# ---- image/p' "$0"; echo "$uid $SOURCE_DATE_EPOCH"; } | hash_of)
if [ "$(cat "$work/kubus.key" 2>/dev/null)" != "$kubus_key" ] || [ ! -s "$work/kubus.tar" ]; then
  k=$work/kubus
  rm -rf "$k" "$work/kubus.key"
  mkdir -p "$k/usr/local/bin" "$k/run/kubus"
  for b in $bins; do
    strip --strip-unneeded -o "$k/usr/local/bin/$(basename "$b")" "$b" || die "strip $b failed"
  done
  chmod 0755 "$k/usr/local/bin"/*
  chown "$uid:$uid" "$k/run/kubus"
  chmod 0700 "$k/run/kubus"
  det_tar "$k" "$work/kubus.tar"
  rm -rf "$k"
  echo "$kubus_key" >"$work/kubus.key"
fi

# ---- image ----
version=$("$bin/kubus-controller-manager" --version=raw 2>/dev/null | jq -r '.gitVersion // empty' 2>/dev/null || true)
[ -n "$version" ] || version=$("$bin/kubus-controller-manager" --version 2>/dev/null | awk '{print $NF}')
tag=${version:-dev}
tag=${tag//+/_}
image_key=$(printf '%s\n' "$rootfs_key" "$kubus_key" "$tag" "$created" | cat - <(sed -n '/^# ---- image/,$p' "$0") | hash_of)
if [ "$(cat "$out/image.key" 2>/dev/null)" != "$image_key" ] || [ ! -s "$out/kubus-image.tar" ]; then
  oci=$out/oci
  rm -rf "$oci" "$out/kubus-image.tar" "$out/image.key"
  umoci init --layout "$oci"
  umoci new --image "$oci:kubus"
  umoci raw add-layer --image "$oci:kubus" --history.created "$created" \
    --history.created_by "tools/image.sh: Debian $suite rootfs" "$work/rootfs.tar"
  umoci raw add-layer --image "$oci:kubus" --history.created "$created" \
    --history.created_by "tools/image.sh: kubus binaries" "$work/kubus.tar"
  umoci config --no-history --image "$oci:kubus" --created "$created" \
    --architecture amd64 --os linux --config.user "$uid:$uid" \
    --config.entrypoint /usr/local/bin/kubus-controller-manager \
    --config.env TZ=UTC --config.env XDG_RUNTIME_DIR=/run/kubus \
    --config.env PATH=/usr/local/bin:/usr/bin:/bin \
    --config.workingdir / --config.stopsignal SIGTERM \
    --config.label "org.opencontainers.image.title=kubus" \
    --config.label "org.opencontainers.image.version=$tag"
  umoci gc --layout "$oci"
  skopeo copy --quiet "oci:$oci:kubus" "docker-archive:$out/kubus-image.tar:localhost/kubus:$tag" >/dev/null ||
    die "skopeo could not write the docker-archive"
  echo "$image_key" >"$out/image.key"
else
  echo "image: up to date"
fi

# ---- report ----
oci=$out/oci
manifest=$(jq -r '.manifests[0].digest' "$oci/index.json")
mfile=$oci/blobs/sha256/${manifest#sha256:}
compressed=$(jq '[.layers[].size, .config.size] | add' "$mfile")
config=$(jq -r '.config.digest' "$mfile")
image_id=${config#sha256:}
printf 'image: localhost/kubus:%s\n  OCI layout   %s (tag kubus)\n  docker-archive %s (%s bytes)\n' \
  "$tag" "$oci" "$out/kubus-image.tar" "$(stat -c %s "$out/kubus-image.tar")"
printf '  manifest digest %s\n  image id        %s\n' "$manifest" "sha256:$image_id"
awk -v n="$compressed" 'BEGIN { printf "  compressed size %d bytes (%.1f MiB)\n", n, n / 1048576 }'
