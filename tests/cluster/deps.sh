#!/usr/bin/env bash
# Installs the Debian packages the reference-cluster scripts need at run time
# (openssl, jq, curl, setsid from util-linux, ss from iproute2, ps from procps).
# Non-interactive and idempotent; called by .ci/install-deps. Go itself is not
# a Debian package here: build.sh says what to do when it is missing.
set -euo pipefail
declare -A need=([openssl]=openssl [jq]=jq [curl]=curl [setsid]=util-linux [flock]=util-linux
                 [base64]=coreutils [ss]=iproute2 [ps]=procps)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
if ((${#missing[@]} == 0)); then
  echo "cluster deps: openssl jq curl util-linux iproute2 procps present"
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "cluster deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "cluster deps: not root; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "cluster deps: installed ${missing[*]}"
