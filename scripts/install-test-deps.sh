#!/usr/bin/env bash
# Installs the Debian packages that tests use beyond a JDK and redis-server:
#   protoc and the gRPC Python plugin (protobuf-compiler, protobuf-compiler-grpc), to generate
#   Python stubs from dstore.proto, and the Python gRPC runtime (python3-grpcio,
#   python3-protobuf) for the system Python (/usr/bin/python3), which runs examples/python in
#   PythonClientIT;
#   etcd 3.4 (etcd-server, etcd-client: /usr/bin/etcd and /usr/bin/etcdctl), which the cluster-store
#   tests (io.dstore.testing.EtcdCluster) and scripts/dev-cluster.sh start on free loopback ports.
#   Debian's etcd-server starts no daemon here; if some system did start one, nothing relies on it.
# Idempotent: does nothing when everything is there already. Needs root, or sudo, to install.
# Runs `apt-get update` only when the install needs it. Prints what it did.
set -euo pipefail

PACKAGES=(protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf etcd-server
          etcd-client)

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
  [ -x /usr/bin/etcd ] || echo etcd-server
  [ -x /usr/bin/etcdctl ] || echo etcd-client
}

etcd_version() { # "etcd 3.4.23"
  echo "etcd $(/usr/bin/etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p')"
}

todo=$(missing)
if [ -z "$todo" ]; then
  echo "install-test-deps.sh: already installed: protoc ($(protoc --version)), grpc_python_plugin," \
       "python3-grpcio ($("$PYTHON" -c 'import grpc; print(grpc.__version__)')), $(etcd_version)"
  exit 0
fi
echo "install-test-deps.sh: missing: $(echo $todo)"

"$(dirname "$0")/apt-install.sh" install-test-deps.sh "${PACKAGES[@]}"

todo=$(missing)
if [ -n "$todo" ]; then
  echo "install-test-deps.sh: still missing after the install: $(echo $todo)" >&2
  exit 1
fi
echo "install-test-deps.sh: installed protoc ($(protoc --version)), grpc_python_plugin," \
     "python3-grpcio ($("$PYTHON" -c 'import grpc; print(grpc.__version__)')), $(etcd_version)"
