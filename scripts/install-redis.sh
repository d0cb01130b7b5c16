#!/usr/bin/env bash
# Installs redis-server (Debian package) for `dstore bench` and the tests that compare with Redis.
# Idempotent: does nothing when redis-server is already on PATH. Needs root, or sudo.
# The package's own service is not needed (the harness starts redis-server itself on a free
# loopback port), so this does not enable or start it.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
  echo "redis-server is already installed: $(command -v redis-server)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-redis.sh: apt-get not found; install redis-server (6.0 or newer) with this system's" \
       "package manager and put it on PATH" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "install-redis.sh: installing redis-server needs root; run as root or with sudo:" \
       "apt-get install -y redis-server" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -q redis-server; then
  # The package lists may be missing or stale on a fresh machine.
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q redis-server
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "install-redis.sh: redis-server was installed but is not on PATH" >&2
  exit 1
fi
echo "installed $(redis-server --version)"
