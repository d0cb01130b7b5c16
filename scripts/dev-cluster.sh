#!/usr/bin/env bash
# A dstore cluster on this machine for development: three etcd members, one s3proxy (S3 on the
# local filesystem) and N stateless gateways (`dstore global --store etcd`), all on 127.0.0.1.
# Run `scripts/dev-cluster.sh --help` for the commands. Needs etcd 3.4 (scripts/install-test-deps.sh),
# curl, and a JDK 21+ (the one ./dstore finds, or JAVA_HOME).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/dev-cluster.sh COMMAND [OPTIONS]

A local dstore cluster: 3 etcd members, s3proxy (S3 on the local filesystem) and N gateways,
all on 127.0.0.1 on free ports. State (pids, ports, data, logs) lives in $DSTORE_CLUSTER_DIR
(default ./dev-cluster).

Commands:
  up [--gateways N]        start everything (N gateways, default 2); prints one line per process:
                             etcd http://127.0.0.1:PORT pid PID
                             s3 http://127.0.0.1:PORT pid PID
                             gateway 127.0.0.1:PORT pid PID
                           and returns once every gateway serves. A second `up` after `down`
                           reuses the same ports and data. On failure, it prints the failing
                           process's log tail, stops what it started and exits non-zero.
  restart etcd|gateway|s3 [I]
                           restart the I-th (1-based) etcd member or gateway, or s3proxy, on the
                           same port and data; prints its new line.
  status                   the lines of every recorded process, each followed by alive or dead.
  down [--purge]           stop every recorded process by PID (SIGTERM, SIGKILL after 15 s);
                           safe to run twice or after processes died. Removes only the pid files,
                           or the whole state directory with --purge.
  -h, --help               this text.

Gateways get AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION=us-east-1 in their
environment (s3proxy's fixed dev credentials), bucket s3://dstore/. Extra gateway flags can be
given in DSTORE_GATEWAY_ARGS (split on spaces), e.g. DSTORE_GATEWAY_ARGS="--gateway-lease 5s".
The s3proxy jar is fetched once with ./mvnw into $DSTORE_CLUSTER_DIR/cache, unless
DSTORE_S3PROXY_JAR names one.
EOF
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DIR_ARG="${DSTORE_CLUSTER_DIR:-./dev-cluster}"
ETCD_MEMBERS=3
ACCESS_KEY=dstore-dev-access
SECRET_KEY=dstore-dev-secret
BUCKET=dstore
STOP_DEADLINE=15   # seconds between SIGTERM and SIGKILL
READY_DEADLINE=60  # seconds for a process to become ready

say() { echo "dev-cluster: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# The state directory as an absolute path (created if needed).
state_dir() {
  mkdir -p "$DIR_ARG"
  DIR="$(cd "$DIR_ARG" && pwd -P)"
}

# --- small helpers -------------------------------------------------------------------------------

find_bin() { # find_bin NAME: on PATH, else /usr/bin
  if command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
  elif [ -x "/usr/bin/$1" ]; then
    echo "/usr/bin/$1"
  else
    return 1
  fi
}

java_bin() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    echo "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "no java found (set JAVA_HOME to a JDK 21 or newer)"
  fi
}

port_open() { # port_open PORT: something accepts connections on 127.0.0.1:PORT
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

TAKEN_PORTS=" "
free_port() { # prints a port nobody listens on and this run has not handed out yet
  local p i
  for i in $(seq 1 200); do
    p=$((20000 + RANDOM % 40000))
    case "$TAKEN_PORTS" in *" $p "*) continue ;; esac
    if ! port_open "$p"; then
      TAKEN_PORTS="$TAKEN_PORTS$p "
      echo "$p"
      return 0
    fi
  done
  die "no free port found on 127.0.0.1"
}

# port_for NAME: the recorded port of NAME (kept across down/up, since etcd members and data dirs
# remember their URLs), or a new free one, recorded now.
port_for() {
  local f="$DIR/$1.port"
  if [ ! -s "$f" ]; then
    free_port >"$f"
  fi
  TAKEN_PORTS="$TAKEN_PORTS$(cat "$f") "
  cat "$f"
}

pid_of() { # the recorded pid of NAME, or nothing
  [ -s "$DIR/$1.pid" ] && cat "$DIR/$1.pid" || true
}

# is_ours NAME PID: PID is alive and is the process we recorded for NAME (its command line holds
# the marker recorded at start), so a recycled PID is never signalled.
is_ours() {
  local pid="$2" marker
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  marker="$(cat "$DIR/$1.marker" 2>/dev/null || true)"
  [ -n "$marker" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

alive() { # alive NAME
  local pid
  pid="$(pid_of "$1")"
  is_ours "$1" "$pid" && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

# stop_one NAME: SIGTERM, then SIGKILL after the deadline; removes the pid file. Quiet when the
# process is already gone.
stop_one() {
  local name="$1" pid i
  pid="$(pid_of "$name")"
  if [ -n "$pid" ] && is_ours "$name" "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 $((STOP_DEADLINE * 10))); do
      alive "$name" || break
      sleep 0.1
    done
    if alive "$name"; then
      say "$name (pid $pid) still running after ${STOP_DEADLINE}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for i in $(seq 1 100); do
        alive "$name" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$DIR/$name.pid"
}

log_tail() { # log_tail NAME
  say "last lines of $DIR/$1.log:"
  tail -n 30 "$DIR/$1.log" >&2 2>/dev/null || true
}

# launch NAME MARKER WORKDIR ENV... -- COMMAND...: starts COMMAND in the background in its own
# session, stdin from /dev/null, stdout and stderr to NAME.log, and records its PID. COMMAND must
# exec the real process (etcd, java) so the PID is that process's.
launch() {
  local name="$1" marker="$2" workdir="$3"
  shift 3
  local envs=()
  while [ "$1" != "--" ]; do
    envs+=("$1")
    shift
  done
  shift
  echo "$marker" >"$DIR/$name.marker"
  (
    cd "$workdir"
    if command -v setsid >/dev/null 2>&1; then
      exec env ${envs[@]+"${envs[@]}"} setsid "$@"
    fi
    exec env ${envs[@]+"${envs[@]}"} "$@"
  ) </dev/null >>"$DIR/$name.log" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

STARTED=()
fail_up() { # prints why, stops what this run started, exits 1
  say "$1"
  [ -n "${2:-}" ] && log_tail "$2"
  local n
  for n in ${STARTED[@]+"${STARTED[@]}"}; do
    stop_one "$n"
  done
  say "stopped what this run started"
  exit 1
}

await() { # await NAME WHAT CHECK...: until CHECK succeeds; fails if NAME dies or the deadline passes
  local name="$1" what="$2" i
  shift 2
  for i in $(seq 1 $((READY_DEADLINE * 10))); do
    if "$@"; then
      return 0
    fi
    alive "$name" || return 2
    sleep 0.1
  done
  return 1
}

# --- etcd ----------------------------------------------------------------------------------------

etcd_url() { echo "http://127.0.0.1:$(cat "$DIR/etcd-$1.port")"; }
etcd_peer() { echo "http://127.0.0.1:$(cat "$DIR/etcd-$1-peer.port")"; }

etcd_healthy() { # etcd_healthy I
  curl -s --max-time 2 "$(etcd_url "$1")/health" 2>/dev/null | tr -d ' ' | grep -q '"health":"true"'
}

etcd_ports() { # records client and peer ports of every member
  local i
  for i in $(seq 1 $ETCD_MEMBERS); do
    port_for "etcd-$i" >/dev/null
    port_for "etcd-$i-peer" >/dev/null
  done
}

etcd_start() { # etcd_start I (does not wait)
  local i="$1" cluster="" j etcd
  etcd="$(find_bin etcd)" || die "etcd is not installed; install it with scripts/install-test-deps.sh"
  for j in $(seq 1 $ETCD_MEMBERS); do
    cluster="$cluster${cluster:+,}m$j=$(etcd_peer "$j")"
  done
  mkdir -p "$DIR/etcd-$i"
  launch "etcd-$i" "--data-dir $DIR/etcd-$i/data" "$DIR/etcd-$i" -- \
    "$etcd" --name "m$i" --data-dir "$DIR/etcd-$i/data" \
    --listen-client-urls "$(etcd_url "$i")" --advertise-client-urls "$(etcd_url "$i")" \
    --listen-peer-urls "$(etcd_peer "$i")" --initial-advertise-peer-urls "$(etcd_peer "$i")" \
    --initial-cluster "$cluster" --initial-cluster-state new \
    --initial-cluster-token "dstore-dev-$(basename "$DIR")" \
    --max-request-bytes 2097152 --logger zap --log-outputs stderr --log-level warn
}

etcd_await() { # etcd_await I
  local rc=0
  await "etcd-$1" "etcd member $1 healthy" etcd_healthy "$1" || rc=$?
  return $rc
}

etcd_line() { echo "etcd $(etcd_url "$1") pid $(pid_of "etcd-$1")"; }

# --- s3proxy -------------------------------------------------------------------------------------

s3_url() { echo "http://127.0.0.1:$(cat "$DIR/s3.port")"; }

s3_jar() { # fetches the s3proxy jar into the cache once (unless DSTORE_S3PROXY_JAR names one)
  local version jar
  if [ -n "${DSTORE_S3PROXY_JAR:-}" ]; then
    [ -s "$DSTORE_S3PROXY_JAR" ] || die "DSTORE_S3PROXY_JAR names no file: $DSTORE_S3PROXY_JAR"
    echo "$DSTORE_S3PROXY_JAR"
    return 0
  fi
  version="$(sed -n 's:.*<s3proxy.version>\(.*\)</s3proxy.version>.*:\1:p' "$ROOT/pom.xml" | head -n 1)"
  [ -n "$version" ] || die "no s3proxy.version in $ROOT/pom.xml"
  jar="$DIR/cache/s3proxy-$version-jar-with-dependencies.jar"
  if [ ! -s "$jar" ]; then
    mkdir -p "$DIR/cache"
    say "fetching s3proxy $version into $DIR/cache (Maven log: $DIR/cache/fetch.log)"
    local args=(-B -q dependency:copy "-Dartifact=org.gaul:s3proxy:$version:jar:jar-with-dependencies"
      "-DoutputDirectory=$DIR/cache" -Dmdep.overWriteReleases=false)
    # Offline first (the jar is usually in ~/.m2 already), then online.
    if ! (cd "$ROOT" && ./mvnw -o "${args[@]}") >"$DIR/cache/fetch.log" 2>&1; then
      (cd "$ROOT" && ./mvnw "${args[@]}") >>"$DIR/cache/fetch.log" 2>&1 ||
        { tail -n 30 "$DIR/cache/fetch.log" >&2; die "could not fetch the s3proxy jar"; }
    fi
    [ -s "$jar" ] || die "the s3proxy jar is not at $jar after the fetch"
  fi
  echo "$jar"
}

s3_start() {
  local jar="$1"
  mkdir -p "$DIR/s3/data/$BUCKET" # with the filesystem provider a directory is a bucket
  cat >"$DIR/s3/s3proxy.properties" <<EOF
s3proxy.endpoint=$(s3_url)
jclouds.provider=filesystem
jclouds.filesystem.basedir=$DIR/s3/data
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$ACCESS_KEY
s3proxy.credential=$SECRET_KEY
EOF
  launch s3 "--properties $DIR/s3/s3proxy.properties" "$DIR/s3" -- \
    "$(java_bin)" -Xmx256m -jar "$jar" --properties "$DIR/s3/s3proxy.properties"
}

s3_answers() { # any HTTP status (an unsigned request gets 403) means it serves
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$(s3_url)/" 2>/dev/null || true)"
  [ -n "$code" ] && [ "$code" != 000 ]
}

s3_line() { echo "s3 $(s3_url) pid $(pid_of s3)"; }

# --- gateways ------------------------------------------------------------------------------------

gateway_addr() { echo "127.0.0.1:$(cat "$DIR/gateway-$1.port")"; }

gateway_start() { # gateway_start I (does not wait)
  local i="$1" endpoints="" j
  for j in $(seq 1 $ETCD_MEMBERS); do
    endpoints="$endpoints${endpoints:+,}$(etcd_url "$j")"
  done
  mkdir -p "$DIR/gateway-$i"
  # Readiness is judged on this run's output only: the lines after the log's current end.
  touch "$DIR/gateway-$i.log"
  wc -l <"$DIR/gateway-$i.log" | tr -d ' ' >"$DIR/gateway-$i.log-start"
  # shellcheck disable=SC2086 # DSTORE_GATEWAY_ARGS is split into words on purpose
  launch "gateway-$i" "--listen $(gateway_addr "$i")" "$DIR/gateway-$i" \
    "AWS_ACCESS_KEY_ID=$ACCESS_KEY" "AWS_SECRET_ACCESS_KEY=$SECRET_KEY" AWS_REGION=us-east-1 -- \
    "$ROOT/dstore" global --store etcd --etcd "$endpoints" --blobs "s3://$BUCKET/" \
    --s3-endpoint "$(s3_url)" --listen "$(gateway_addr "$i")" ${DSTORE_GATEWAY_ARGS:-}
}

gateway_serves() { # the gateway said so on stdout, since its last start
  local start
  start="$(cat "$DIR/gateway-$1.log-start" 2>/dev/null || echo 0)"
  tail -n "+$((start + 1))" "$DIR/gateway-$1.log" 2>/dev/null | grep -q "^Dstore server listening on"
}

gateway_line() { echo "gateway $(gateway_addr "$1") pid $(pid_of "gateway-$1")"; }

# Builds the CLI once (./dstore builds on first use), so gateways start without a build race.
build_cli() {
  say "checking the dstore build (log: $DIR/build.log)"
  if ! (cd "$ROOT" && ./dstore --version) >"$DIR/build.log" 2>&1; then
    tail -n 30 "$DIR/build.log" >&2
    return 1
  fi
}

# --- commands ------------------------------------------------------------------------------------

recorded() { # the names of recorded processes, in start order
  local i
  for i in $(seq 1 $ETCD_MEMBERS); do
    [ -e "$DIR/etcd-$i.pid" ] && echo "etcd-$i"
  done
  [ -e "$DIR/s3.pid" ] && echo s3
  for f in "$DIR"/gateway-*.pid; do
    [ -e "$f" ] && basename "$f" .pid
  done | sort -t- -k2 -n
  return 0
}

line_of() { # line_of NAME
  case "$1" in
    etcd-*) etcd_line "${1#etcd-}" ;;
    s3) s3_line ;;
    gateway-*) gateway_line "${1#gateway-}" ;;
  esac
}

cmd_up() {
  local gateways=2
  while [ $# -gt 0 ]; do
    case "$1" in
      --gateways) gateways="${2:-}"; shift 2 || die "--gateways needs a number" ;;
      --gateways=*) gateways="${1#--gateways=}"; shift ;;
      *) die "up: unknown option '$1' (see --help)" ;;
    esac
  done
  case "$gateways" in '' | *[!0-9]*) die "--gateways needs a number, not '$gateways'" ;; esac
  state_dir
  command -v curl >/dev/null 2>&1 || die "curl is needed (apt-get install curl)"
  find_bin etcd >/dev/null ||
    die "etcd is not installed; install it with scripts/install-test-deps.sh (etcd-server, etcd-client)"
  local n
  for n in $(recorded); do
    alive "$n" && die "$n is already running (pid $(pid_of "$n")); run 'down' first"
    rm -f "$DIR/$n.pid"
  done

  local jar i rc
  jar="$(s3_jar)"
  etcd_ports
  port_for s3 >/dev/null
  for i in $(seq 1 "$gateways"); do
    port_for "gateway-$i" >/dev/null
  done
  if [ "$gateways" -gt 0 ]; then
    build_cli || die "building dstore failed"
  fi

  for i in $(seq 1 $ETCD_MEMBERS); do
    etcd_start "$i"
    STARTED+=("etcd-$i")
  done
  s3_start "$jar"
  STARTED+=(s3)
  for i in $(seq 1 $ETCD_MEMBERS); do
    rc=0
    etcd_await "$i" || rc=$?
    [ $rc -eq 0 ] || fail_up "etcd member $i $( [ $rc -eq 2 ] && echo exited || echo "not healthy within ${READY_DEADLINE}s")" "etcd-$i"
  done
  rc=0
  await s3 "s3proxy answering" s3_answers || rc=$?
  [ $rc -eq 0 ] || fail_up "s3proxy $( [ $rc -eq 2 ] && echo exited || echo "did not answer within ${READY_DEADLINE}s")" s3
  for i in $(seq 1 "$gateways"); do
    gateway_start "$i"
    STARTED+=("gateway-$i")
  done
  for i in $(seq 1 "$gateways"); do
    rc=0
    await "gateway-$i" "gateway $i serving" gateway_serves "$i" || rc=$?
    [ $rc -eq 0 ] || fail_up "gateway $i $( [ $rc -eq 2 ] && echo exited || echo "did not serve within ${READY_DEADLINE}s")" "gateway-$i"
  done

  for n in "${STARTED[@]}"; do
    line_of "$n"
  done
}

cmd_restart() {
  local kind="${1:-}" i="${2:-}" name rc=0
  state_dir
  case "$kind" in
    etcd | gateway)
      case "$i" in '' | *[!0-9]*) die "restart $kind needs a 1-based index" ;; esac
      name="$kind-$i"
      ;;
    s3) name=s3 ;;
    *) die "restart: etcd, gateway or s3 (see --help)" ;;
  esac
  [ -s "$DIR/$name.port" ] || die "no $name recorded in $DIR (run 'up' first)"
  stop_one "$name"
  case "$kind" in
    etcd)
      etcd_start "$i"
      etcd_await "$i" || rc=$?
      ;;
    s3)
      s3_start "$(s3_jar)"
      await s3 "s3proxy answering" s3_answers || rc=$?
      ;;
    gateway)
      gateway_start "$i"
      await "$name" "gateway $i serving" gateway_serves "$i" || rc=$?
      ;;
  esac
  if [ $rc -ne 0 ]; then
    log_tail "$name"
    stop_one "$name"
    die "$name did not come back $( [ $rc -eq 2 ] && echo "(it exited)" || echo "within ${READY_DEADLINE}s")"
  fi
  line_of "$name"
}

cmd_status() {
  state_dir
  local n any=""
  for n in $(recorded); do
    any=1
    if alive "$n"; then
      echo "$(line_of "$n") alive"
    else
      echo "$(line_of "$n") dead"
    fi
  done
  [ -n "$any" ] || say "nothing recorded in $DIR"
}

cmd_down() {
  local purge=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --purge) purge=1; shift ;;
      *) die "down: unknown option '$1' (see --help)" ;;
    esac
  done
  if [ ! -d "$DIR_ARG" ]; then
    say "nothing to stop: no $DIR_ARG"
    return 0
  fi
  state_dir
  local n stopped=0
  # Gateways first (they hold etcd leases), then s3proxy, then etcd.
  for n in $(recorded | tac); do
    stop_one "$n"
    stopped=$((stopped + 1))
  done
  say "stopped $stopped recorded process(es)"
  if [ -n "$purge" ]; then
    rm -rf "$DIR"
    say "removed $DIR"
  fi
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  restart) shift; cmd_restart "$@" ;;
  status) shift; cmd_status ;;
  down) shift; cmd_down "$@" ;;
  -h | --help | help) usage ;;
  '') usage >&2; exit 2 ;;
  *) say "unknown command '$1'"; usage >&2; exit 2 ;;
esac
