#!/usr/bin/env bash
# Installs Debian packages for the project's install scripts: apt-install.sh WHO PACKAGE...
# WHO names the calling script in messages. Fails with a message saying what to run when apt-get
# is missing or neither root nor password-less sudo is available. Tries the install first and runs
# `apt-get update` only when that fails (the package lists may be missing or stale on a fresh
# machine). Does not start any service a package may bring.
set -euo pipefail

who="$1"
shift

if ! command -v apt-get >/dev/null 2>&1; then
  echo "$who: apt-get not found; install $* (or their equivalents) with this system's package" \
       "manager" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "$who: installing needs root; run as root or with sudo:" \
       "apt-get install -y --no-install-recommends $*" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "$who: apt-get install $*"
if ! $SUDO apt-get install -y -q --no-install-recommends "$@"; then
  echo "$who: apt-get update, then install again"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "$@"
fi
