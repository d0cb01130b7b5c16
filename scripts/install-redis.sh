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

"$(dirname "$0")/apt-install.sh" install-redis.sh redis-server

if ! command -v redis-server >/dev/null 2>&1; then
  echo "install-redis.sh: redis-server was installed but is not on PATH" >&2
  exit 1
fi
echo "installed $(redis-server --version)"
