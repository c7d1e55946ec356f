#!/usr/bin/env bash
# `tools/dev up|down|status`: the local system's processes, each started detached with its PID
# recorded under .pressluft/run and stopped by that PID. Ports are overridable by environment.
set -euo pipefail

: "${PRESSLUFT_STATE_DIR:=$ROOT/.pressluft}"
: "${PRESSLUFT_HTTP_PORT:=8080}"
: "${PRESSLUFT_HTTPS_PORT:=8443}"
: "${PRESSLUFT_PG_PORT:=55432}"
: "${PRESSLUFT_NATS_PORT:=54222}"
RUN_DIR="$PRESSLUFT_STATE_DIR/run"
LOG_DIR="$PRESSLUFT_STATE_DIR/logs"
PG_DIR="$PRESSLUFT_STATE_DIR/postgres"
NATS_DIR="$PRESSLUFT_STATE_DIR/nats"
PKI_DIR="$PRESSLUFT_STATE_DIR/pki"
ADMIN_TOKEN_FILE="$PRESSLUFT_STATE_DIR/admin.token"
KUBECONFIG_FILE="$PRESSLUFT_STATE_DIR/kubeconfig"
SERVICES=(postgres nats control-plane)

pid_of() {
  local file
  case "$1" in
    postgres) file="$PG_DIR/data/postmaster.pid" ;;
    *) file="$RUN_DIR/$1.pid" ;;
  esac
  [ -f "$file" ] || return 1
  local pid
  pid="$(head -n1 "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A stale PID file must never make us signal an unrelated process that reused the PID.
  local expected
  case "$1" in
    postgres) expected="postgres" ;;
    nats) expected="nats-server" ;;
    control-plane) expected="apps/control-plane/src/main.js" ;;
  esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$expected" || return 1
  echo "$pid"
}

wait_for() { # description timeout-seconds command...
  local what="$1" timeout="$2"
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "pressluft: $what did not become ready within ${timeout}s" >&2
      return 1
    fi
    sleep 0.2
  done
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1; }

start_postgres() {
  if pid_of postgres >/dev/null; then echo "postgres       already running (pid $(pid_of postgres))"; return; fi
  local bin
  bin="$(pg_bin)"
  mkdir -p "$PG_DIR/run"
  chown postgres:postgres "$PG_DIR" "$PG_DIR/run"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- \
      "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C >"$LOG_DIR/initdb.log" 2>&1
  fi
  # setpriv execs: the recorded PID is the postmaster itself (it also writes postmaster.pid).
  setsid setpriv --reuid=postgres --regid=postgres --init-groups -- \
    "$bin/postgres" -D "$PG_DIR/data" -p "$PRESSLUFT_PG_PORT" -k "$PG_DIR/run" -c listen_addresses=127.0.0.1 \
    >>"$LOG_DIR/postgres.log" 2>&1 </dev/null &
  wait_for postgres 30 "$bin/pg_isready" -q -h 127.0.0.1 -p "$PRESSLUFT_PG_PORT"
  if [ -z "$("$bin/psql" -h 127.0.0.1 -p "$PRESSLUFT_PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'pressluft'")" ]; then
    "$bin/createdb" -h 127.0.0.1 -p "$PRESSLUFT_PG_PORT" -U postgres pressluft
  fi
  echo "postgres       started on 127.0.0.1:$PRESSLUFT_PG_PORT (pid $(pid_of postgres))"
}

start_nats() {
  if pid_of nats >/dev/null; then echo "nats           already running (pid $(pid_of nats))"; return; fi
  mkdir -p "$NATS_DIR/jetstream"
  cat >"$NATS_DIR/nats.conf" <<CONF
listen: "127.0.0.1:$PRESSLUFT_NATS_PORT"
server_name: "pressluft-local"
jetstream { store_dir: "$NATS_DIR/jetstream", max_memory_store: 256MB, max_file_store: 8GB }
CONF
  setsid /usr/sbin/nats-server -c "$NATS_DIR/nats.conf" >>"$LOG_DIR/nats.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/nats.pid"
  wait_for nats 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PRESSLUFT_NATS_PORT"
  echo "nats           started on 127.0.0.1:$PRESSLUFT_NATS_PORT with JetStream (pid $(pid_of nats))"
}

# The bootstrap admin token: plt_ + 32 random bytes (base64url). The control plane stores only its hash.
ensure_admin_token() {
  [ -s "$ADMIN_TOKEN_FILE" ] && return
  (umask 077 && printf 'plt_%s\n' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')" >"$ADMIN_TOKEN_FILE")
}

# kubectl and other Kubernetes clients: the TLS listener, our CA embedded, the admin token.
write_kubeconfig() {
  local ca token
  ca="$(base64 -w0 <"$PKI_DIR/ca.pem")"
  token="$(tr -d '\n' <"$ADMIN_TOKEN_FILE")"
  (umask 077 && cat >"$KUBECONFIG_FILE.tmp" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: pressluft
  cluster:
    server: https://127.0.0.1:$PRESSLUFT_HTTPS_PORT
    certificate-authority-data: $ca
users:
- name: admin
  user:
    token: $token
contexts:
- name: pressluft
  context:
    cluster: pressluft
    user: admin
current-context: pressluft
KUBECONFIG
  )
  mv "$KUBECONFIG_FILE.tmp" "$KUBECONFIG_FILE"
}

start_control_plane() {
  ensure_admin_token
  if pid_of control-plane >/dev/null; then echo "control-plane  already running (pid $(pid_of control-plane))"; return; fi
  "$ROOT/node_modules/.bin/tsc" -p "$ROOT/tsconfig.build.json"
  PRESSLUFT_HTTP_PORT="$PRESSLUFT_HTTP_PORT" \
    PRESSLUFT_HTTPS_PORT="$PRESSLUFT_HTTPS_PORT" \
    PRESSLUFT_PKI_DIR="$PKI_DIR" \
    PRESSLUFT_ADMIN_TOKEN_FILE="$ADMIN_TOKEN_FILE" \
    PRESSLUFT_DATABASE_URL="postgres://postgres@127.0.0.1:$PRESSLUFT_PG_PORT/pressluft" \
    PRESSLUFT_NATS_URL="nats://127.0.0.1:$PRESSLUFT_NATS_PORT" \
    setsid node -r "$ROOT/tools/runtime/register-paths.cjs" "$ROOT/dist/apps/control-plane/src/main.js" \
    >>"$LOG_DIR/control-plane.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/control-plane.pid"
  if ! wait_for control-plane 60 curl -fsS "http://127.0.0.1:$PRESSLUFT_HTTP_PORT/readyz"; then
    tail -n 20 "$LOG_DIR/control-plane.log" >&2
    return 1
  fi
  echo "control-plane  started on http://127.0.0.1:$PRESSLUFT_HTTP_PORT and https://127.0.0.1:$PRESSLUFT_HTTPS_PORT (pid $(pid_of control-plane))"
}

services_up() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  start_postgres
  start_nats
  start_control_plane
  write_kubeconfig
  echo
  echo "Pressluft is up."
  echo "  API:         http://127.0.0.1:$PRESSLUFT_HTTP_PORT and https://127.0.0.1:$PRESSLUFT_HTTPS_PORT (readiness: /readyz)"
  echo "  Console:     http://127.0.0.1:$PRESSLUFT_HTTP_PORT/ (not served yet)"
  echo "  Admin token: $ADMIN_TOKEN_FILE"
  echo "  kubectl:     KUBECONFIG=$KUBECONFIG_FILE kubectl get sites"
  echo "  Logs:    $LOG_DIR"
  echo "  Stop:    tools/dev down"
}

stop_one() { # name signal
  local name="$1" signal="$2" pid
  if ! pid="$(pid_of "$name")"; then
    rm -f "$RUN_DIR/$name.pid"
    return
  fi
  kill "-$signal" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.1
  done
  rm -f "$RUN_DIR/$name.pid"
  echo "$name stopped (pid $pid)"
}

services_down() {
  stop_one control-plane TERM
  stop_one nats TERM
  stop_one postgres INT # fast shutdown
}

services_status() {
  local name pid running=0
  for name in "${SERVICES[@]}"; do
    if pid="$(pid_of "$name")"; then
      printf '%-14s running (pid %s)\n' "$name" "$pid"
      running=$((running + 1))
    else
      printf '%-14s stopped\n' "$name"
    fi
  done
  if [ "$running" -eq 0 ]; then
    echo "nothing of Pressluft is running"
    return 3
  fi
  if pid_of control-plane >/dev/null; then
    printf 'readyz         %s\n' "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PRESSLUFT_HTTP_PORT/readyz" || true)"
  fi
  [ "$running" -eq "${#SERVICES[@]}" ] || return 3
}
