#!/usr/bin/env bash
# Installs the Debian packages that tests use beyond a JDK and redis-server:
#   protoc and the gRPC Python plugin (protobuf-compiler, protobuf-compiler-grpc), to generate
#   Python stubs from dstore.proto, and the Python gRPC runtime (python3-grpcio,
#   python3-protobuf) for the system Python (/usr/bin/python3), which runs examples/python in
#   PythonClientIT.
# Idempotent: does nothing when everything is there already. Needs root, or sudo, to install.
# Run `apt-get update` at most once. Prints what it did.
set -euo pipefail

PACKAGES=(protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf)

# The system Python, which Debian's python3-* packages install into; a python3 earlier on PATH
# (pyenv, a virtualenv) would not see them.
PYTHON=/usr/bin/python3

missing() { # prints the packages whose tool or module is absent
  command -v protoc >/dev/null 2>&1 || echo protobuf-compiler
  [ -x /usr/bin/grpc_python_plugin ] || echo protobuf-compiler-grpc
  if ! [ -x "$PYTHON" ] || ! "$PYTHON" -c 'import grpc' >/dev/null 2>&1; then
    echo python3-grpcio
  fi
  if ! [ -x "$PYTHON" ] || ! "$PYTHON" -c 'import google.protobuf' >/dev/null 2>&1; then
    echo python3-protobuf
  fi
}

todo=$(missing)
if [ -z "$todo" ]; then
  echo "install-test-deps.sh: already installed: protoc ($(protoc --version)), grpc_python_plugin," \
       "python3-grpcio ($("$PYTHON" -c 'import grpc; print(grpc.__version__)'))"
  exit 0
fi
echo "install-test-deps.sh: missing: $(echo $todo)"

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps.sh: apt-get not found; install ${PACKAGES[*]} (or their equivalents)" \
       "with this system's package manager" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "install-test-deps.sh: installing needs root; run as root or with sudo:" \
       "apt-get install -y --no-install-recommends ${PACKAGES[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-test-deps.sh: apt-get update"
$SUDO apt-get update -q
echo "install-test-deps.sh: apt-get install ${PACKAGES[*]}"
$SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"

todo=$(missing)
if [ -n "$todo" ]; then
  echo "install-test-deps.sh: still missing after the install: $(echo $todo)" >&2
  exit 1
fi
echo "install-test-deps.sh: installed protoc ($(protoc --version)), grpc_python_plugin," \
     "python3-grpcio ($("$PYTHON" -c 'import grpc; print(grpc.__version__)'))"
