#!/usr/bin/env bash
# `tools/dev up|down|status`: the local system's processes, each started detached with its PID
# recorded under .pressluft/run and stopped by that PID. Ports are overridable by environment.
set -euo pipefail

: "${PRESSLUFT_STATE_DIR:=$ROOT/.pressluft}"
: "${PRESSLUFT_HTTP_PORT:=8080}"
: "${PRESSLUFT_HTTPS_PORT:=8443}"
: "${PRESSLUFT_PG_PORT:=55432}"
: "${PRESSLUFT_NATS_PORT:=54222}"
: "${PRESSLUFT_GRPC_PORT:=8444}"
: "${PRESSLUFT_SITES_PORT:=8081}"
: "${PRESSLUFT_SITES_TLS_PORT:=8082}"
# The sites' certificates: from the local ACME CA below (Pebble, with its DNS server answering
# every name with 127.0.0.1), unless PRESSLUFT_ACME_DIRECTORY_URL names another directory
# (e.g. Let's Encrypt's staging one for a node with public DNS), or `none` (HTTP only).
: "${PRESSLUFT_ACME_DIRECTORY_URL:=local}"
: "${PRESSLUFT_ACME_PORT:=14000}"
: "${PRESSLUFT_ACME_MANAGEMENT_PORT:=15000}"
: "${PRESSLUFT_ACME_DNS_PORT:=8053}"
: "${PRESSLUFT_ACME_DNS_MANAGEMENT_PORT:=8055}"
: "${PRESSLUFT_SITES_ROOT:=/var/www/sites}"
# true: Sites may take their code from a repository on this machine (file:///path), so a deploy
# and a rollback can be tried with no network; the API and the local agent both accept it.
: "${PRESSLUFT_GIT_ALLOW_LOCAL:=false}"
RUN_DIR="$PRESSLUFT_STATE_DIR/run"
LOG_DIR="$PRESSLUFT_STATE_DIR/logs"
PG_DIR="$PRESSLUFT_STATE_DIR/postgres"
NATS_DIR="$PRESSLUFT_STATE_DIR/nats"
PKI_DIR="$PRESSLUFT_STATE_DIR/pki"
ADMIN_TOKEN_FILE="$PRESSLUFT_STATE_DIR/admin.token"
KUBECONFIG_FILE="$PRESSLUFT_STATE_DIR/kubeconfig"
MARIADB_DIR="$PRESSLUFT_STATE_DIR/mariadb"
NGINX_DIR="$PRESSLUFT_STATE_DIR/nginx"
AGENT_DIR="$PRESSLUFT_STATE_DIR/agent"
ACME_DIR="$PRESSLUFT_STATE_DIR/acme"
ACME_USER=pressluft-acme
# Each service as its own unprivileged user (docs/adr/0021); only the agent runs as root.
PG_USER=postgres # Debian's, from the postgresql package
CP_USER=pressluft
NATS_USER=pressluft-nats
CP_DIR="$PRESSLUFT_STATE_DIR/control-plane" # the control plane's own files (0700)
# The default BackupStore's restic repository: the control plane's user owns it (it applies
# retention with restic forget/prune) and the agent runs restic as that user too (restic reads
# streams and writes the repository: it needs no root).
BACKUP_DIR="$PRESSLUFT_STATE_DIR/backups"
DB_PASSWORD_FILE="$CP_DIR/database.password"
NATS_AUTHZ_DIR="$PRESSLUFT_STATE_DIR/nats-authz" # written by the control plane, read by NATS
SERVICES=(postgres mariadb redis nginx nats control-plane agent)
[ "$PRESSLUFT_ACME_DIRECTORY_URL" = local ] && SERVICES+=(acme-dns acme)

pid_of() {
  local file
  case "$1" in
    postgres) file="$PG_DIR/data/postmaster.pid" ;;
    mariadb) file="$MARIADB_DIR/mysqld.pid" ;;
    nginx) file="$NGINX_DIR/nginx.pid" ;;
    redis) file="$REDIS_DIR/redis.pid" ;; # redis writes it: still right after the agent restarted it
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
    mariadb) expected="mariadbd" ;;
    redis) expected="redis-server" ;;
    nginx) expected="nginx: master" ;;
    control-plane) expected="apps/control-plane/src/main.js" ;;
    acme) expected="/usr/bin/pebble" ;;
    acme-dns) expected="/usr/bin/pebble-challtestsrv" ;;
    agent) expected="apps/agent/src/main.js" ;;
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

as_user() { # user command...: the command as that system user (argv, no shell; setpriv execs, so the PID stays)
  local user="$1"
  shift
  setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}

# PostgreSQL authenticates every client (docs/adr/0021): the superuser only by peer over the
# socket (the `postgres` OS user: this script), the control plane's role `pressluft` by
# scram-sha-256 with the password in $DB_PASSWORD_FILE; no other line, never trust. The socket's
# dir (0710, group of the control plane's user) is the only way to the socket.
write_pg_hba() {
  cat >"$PG_DIR/data/pg_hba.conf" <<HBA
# Written by tools/dev up (tools/lib/services.sh) at every start; edits are replaced.
local   all        postgres                 peer
local   pressluft  $CP_USER                scram-sha-256
host    pressluft  $CP_USER  127.0.0.1/32  scram-sha-256
HBA
  chown "$PG_USER:$PG_USER" "$PG_DIR/data/pg_hba.conf"
  chmod 600 "$PG_DIR/data/pg_hba.conf"
}

# The control plane's role and database, owned by it; the password (generated at the first `up`)
# goes to psql on stdin, never in argv. A database made by the former layout (owned by the
# superuser) is handed over with its tables, sequences and types.
ensure_pg_role() {
  local bin="$1" psql
  psql=("$bin/psql" -h "$PG_DIR/run" -p "$PRESSLUFT_PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
  if [ ! -s "$DB_PASSWORD_FILE" ]; then
    (umask 077 && head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$DB_PASSWORD_FILE")
  fi
  chown "$CP_USER:$CP_USER" "$DB_PASSWORD_FILE"
  chmod 600 "$DB_PASSWORD_FILE"
  {
    printf "SELECT 'CREATE ROLE %s LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%s') \\gexec\n" "$CP_USER" "$CP_USER"
    printf "ALTER ROLE %s LOGIN NOSUPERUSER PASSWORD '%s';\n" "$CP_USER" "$(<"$DB_PASSWORD_FILE")"
    printf "SELECT 'CREATE DATABASE pressluft OWNER %s' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'pressluft') \\gexec\n" "$CP_USER"
    printf 'ALTER DATABASE pressluft OWNER TO %s;\n' "$CP_USER"
  } | as_user "$PG_USER" "${psql[@]}" -d postgres -f - >/dev/null
  as_user "$PG_USER" "${psql[@]}" -d pressluft -f - >/dev/null <<SQL
SELECT format('ALTER TABLE %I.%I OWNER TO $CP_USER', schemaname, tablename) FROM pg_tables
  WHERE schemaname = 'public' AND tableowner <> '$CP_USER' \gexec
SELECT format('ALTER SEQUENCE %I.%I OWNER TO $CP_USER', schemaname, sequencename) FROM pg_sequences
  WHERE schemaname = 'public' AND sequenceowner <> '$CP_USER' \gexec
SELECT format('ALTER TYPE public.%I OWNER TO $CP_USER', t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd') AND pg_get_userbyid(t.typowner) <> '$CP_USER' \gexec
SQL
}

start_postgres() {
  local bin
  bin="$(pg_bin)"
  mkdir -p "$PG_DIR/run"
  # 0710 with the control plane's group: it (and only it) reaches the socket below run/.
  chown "$PG_USER:$CP_USER" "$PG_DIR" "$PG_DIR/run"
  chmod 710 "$PG_DIR" "$PG_DIR/run"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    as_user "$PG_USER" "$bin/initdb" -D "$PG_DIR/data" --auth-local=peer --auth-host=scram-sha-256 -U postgres -E UTF8 --locale=C \
      >"$LOG_DIR/initdb.log" 2>&1
  fi
  write_pg_hba
  if pid_of postgres >/dev/null; then
    kill -HUP "$(pid_of postgres)" # re-read pg_hba.conf (a server started by the former layout trusted loopback)
    echo "postgres       already running (pid $(pid_of postgres))"
  else
    # setpriv execs: the recorded PID is the postmaster itself (it also writes postmaster.pid).
    setsid setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups -- \
      "$bin/postgres" -D "$PG_DIR/data" -p "$PRESSLUFT_PG_PORT" -k "$PG_DIR/run" -c listen_addresses=127.0.0.1 \
      -c password_encryption=scram-sha-256 \
      >>"$LOG_DIR/postgres.log" 2>&1 </dev/null &
    wait_for postgres 30 "$bin/pg_isready" -q -h 127.0.0.1 -p "$PRESSLUFT_PG_PORT"
    echo "postgres       started on 127.0.0.1:$PRESSLUFT_PG_PORT (pid $(pid_of postgres))"
  fi
  ensure_pg_role "$bin"
}

# The node's MariaDB for site databases: own datadir and socket, no TCP (sites use the socket).
start_mariadb() {
  if pid_of mariadb >/dev/null; then echo "mariadb        already running (pid $(pid_of mariadb))"; return; fi
  mkdir -p "$MARIADB_DIR/data" "$MARIADB_DIR/tmp"
  chown mysql:mysql "$MARIADB_DIR" "$MARIADB_DIR/data" "$MARIADB_DIR/tmp"
  chmod 755 "$MARIADB_DIR"
  cat >"$MARIADB_DIR/my.cnf" <<CONF
[mysqld]
datadir=$MARIADB_DIR/data
tmpdir=$MARIADB_DIR/tmp
socket=$MARIADB_DIR/mysqld.sock
skip-networking
pid-file=$MARIADB_DIR/mysqld.pid
log-error=$LOG_DIR/mariadb.log
user=mysql
skip-name-resolve
innodb_buffer_pool_size=64M
[client]
socket=$MARIADB_DIR/mysqld.sock
user=root
CONF
  if [ ! -d "$MARIADB_DIR/data/mysql" ]; then
    /usr/bin/mariadb-install-db --defaults-file="$MARIADB_DIR/my.cnf" --user=mysql \
      --auth-root-authentication-method=socket --skip-test-db >"$LOG_DIR/mariadb-install.log" 2>&1
  fi
  touch "$LOG_DIR/mariadb.log" && chown mysql:mysql "$LOG_DIR/mariadb.log"
  setsid /usr/sbin/mariadbd --defaults-file="$MARIADB_DIR/my.cnf" >>"$LOG_DIR/mariadb.log" 2>&1 </dev/null &
  wait_for mariadb 30 /usr/bin/mariadb --defaults-file="$MARIADB_DIR/my.cnf" -e 'SELECT 1'
  echo "mariadb        started on $MARIADB_DIR/mysqld.sock (pid $(pid_of mariadb))"
}

# The node's Redis for the sites' object caches (spec.cache.redis): one redis-server, run as
# `redis`, no TCP (port 0), only a Unix socket; nothing persisted but its ACL file (`save ''`;
# the agent's ACL SAVE keeps the sites' users). The `default` user is off: every connection
# authenticates. The agent's admin user is known to the server only by its SHA-256 (users.acl,
# 0600 redis); its password is in a root-only file the agent reads, never in argv or env.
# $REDIS_DIR is 0711: nobody lists or reads it, sites' PHP reaches the socket (0666) inside.
REDIS_DIR="$PRESSLUFT_STATE_DIR/redis"
REDIS_SOCKET="$REDIS_DIR/redis.sock"
REDIS_ADMIN_USER="pressluft-agent"
REDIS_ADMIN_PASSWORD_FILE="$PRESSLUFT_STATE_DIR/redis-admin-password"

ensure_redis_admin() { # the admin's password (root, 0600) and users.acl holding its hash, made together
  [ -s "$REDIS_ADMIN_PASSWORD_FILE" ] && [ -s "$REDIS_DIR/users.acl" ] && return
  local password
  password="$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
  (umask 077 && printf '%s\n' "$password" >"$REDIS_ADMIN_PASSWORD_FILE")
  (umask 077 && printf 'user default off\nuser %s on #%s ~* &* +@all\n' "$REDIS_ADMIN_USER" \
    "$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)" >"$REDIS_DIR/users.acl")
  chown redis:redis "$REDIS_DIR/users.acl"
}

start_redis() {
  if pid_of redis >/dev/null; then echo "redis          already running (pid $(pid_of redis))"; return; fi
  mkdir -p "$REDIS_DIR"
  chown redis:redis "$REDIS_DIR"
  chmod 711 "$REDIS_DIR"
  ensure_redis_admin
  (umask 077 && cat >"$REDIS_DIR/redis.conf" <<CONF
port 0
unixsocket $REDIS_SOCKET
unixsocketperm 666
databases 1
save ""
appendonly no
aclfile $REDIS_DIR/users.acl
dir $REDIS_DIR
pidfile $REDIS_DIR/redis.pid
daemonize no
maxmemory 128mb
maxmemory-policy allkeys-lru
CONF
  )
  chown redis:redis "$REDIS_DIR/redis.conf"
  # setsid and setpriv exec: the recorded PID is redis-server itself.
  setsid setpriv --reuid=redis --regid=redis --init-groups -- /usr/bin/redis-server "$REDIS_DIR/redis.conf" \
    >>"$LOG_DIR/redis.log" 2>&1 </dev/null &
  # Unauthenticated, PING answers NOAUTH: the socket is served.
  wait_for redis 30 bash -c "/usr/bin/redis-cli -s '$REDIS_SOCKET' PING | grep -qE 'PONG|NOAUTH'"
  echo "redis          started on $REDIS_SOCKET (pid $(pid_of redis))"
}

# The node's nginx: sites on 127.0.0.1:$PRESSLUFT_SITES_PORT by Host header; the agent adds one
# server block per site under sites/ and reloads.
start_nginx() {
  if pid_of nginx >/dev/null; then echo "nginx          already running (pid $(pid_of nginx))"; return; fi
  mkdir -p "$NGINX_DIR/sites" "$NGINX_DIR/temp" "$NGINX_DIR/logs"
  cat >"$NGINX_DIR/nginx.conf" <<CONF
user www-data;
worker_processes 2;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log $NGINX_DIR/logs/access.log;
  server_tokens off;
  client_body_temp_path $NGINX_DIR/temp/body;
  proxy_temp_path $NGINX_DIR/temp/proxy;
  fastcgi_temp_path $NGINX_DIR/temp/fastcgi;
  uwsgi_temp_path $NGINX_DIR/temp/uwsgi;
  scgi_temp_path $NGINX_DIR/temp/scgi;
  # Until the agent writes the node's default server (default_server, 444) into sites/.
  server {
    listen 127.0.0.1:$PRESSLUFT_SITES_PORT;
    return 404;
  }
  include $NGINX_DIR/sites/*.conf;
}
CONF
  /usr/sbin/nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/logs/error.log" -t -q
  # nginx daemonizes itself and writes nginx.pid (the master).
  /usr/sbin/nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/logs/error.log" </dev/null
  wait_for nginx 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PRESSLUFT_SITES_PORT"
  echo "nginx          started on http://127.0.0.1:$PRESSLUFT_SITES_PORT (pid $(pid_of nginx))"
}

# The compiled control plane and agent (dist/); both `up` and `pki nats-server` run from it.
acme_url() { [ "$PRESSLUFT_ACME_DIRECTORY_URL" = local ] && echo "https://127.0.0.1:$PRESSLUFT_ACME_PORT/dir" || echo "$PRESSLUFT_ACME_DIRECTORY_URL"; }

# The local ACME CA (PRESSLUFT_ACME_DIRECTORY_URL=local, the default): Debian's Pebble, a real
# RFC 8555 server, validating http-01 against the sites' nginx on $PRESSLUFT_SITES_PORT and
# asking pebble-challtestsrv, its DNS server, which answers every name with 127.0.0.1 (so any
# site domain is "pointed at" this node). Both run as $ACME_USER on loopback. Pebble's listener
# has its own throwaway certificate (the agent trusts it through NODE_EXTRA_CA_CERTS); the root
# its certificates chain to is made at each start: `tools/dev up` saves it as acme/root.pem.
start_acme() {
  [ "$PRESSLUFT_ACME_DIRECTORY_URL" = local ] || return 0
  mkdir -p "$ACME_DIR"
  chmod 755 "$ACME_DIR"
  if [ ! -s "$ACME_DIR/listener.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=pressluft local ACME" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$ACME_DIR/listener-key.pem" -out "$ACME_DIR/listener.pem" 2>/dev/null
  fi
  chown "$ACME_USER:$ACME_USER" "$ACME_DIR/listener-key.pem"
  chmod 600 "$ACME_DIR/listener-key.pem"
  chmod 644 "$ACME_DIR/listener.pem"
  cat >"$ACME_DIR/pebble.json" <<CONF
{"pebble": {"listenAddress": "127.0.0.1:$PRESSLUFT_ACME_PORT", "managementListenAddress": "127.0.0.1:$PRESSLUFT_ACME_MANAGEMENT_PORT",
  "certificate": "$ACME_DIR/listener.pem", "privateKey": "$ACME_DIR/listener-key.pem",
  "httpPort": $PRESSLUFT_SITES_PORT, "tlsPort": 0, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
CONF
  (umask 077 && touch "$LOG_DIR/acme.log" "$LOG_DIR/acme-dns.log")
  if ! pid_of acme-dns >/dev/null; then
    setsid setpriv --reuid="$ACME_USER" --regid="$ACME_USER" --clear-groups -- /usr/bin/pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
      -dns01 "127.0.0.1:$PRESSLUFT_ACME_DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$PRESSLUFT_ACME_DNS_MANAGEMENT_PORT" \
      >>"$LOG_DIR/acme-dns.log" 2>&1 </dev/null &
    echo $! >"$RUN_DIR/acme-dns.pid"
    wait_for acme-dns 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PRESSLUFT_ACME_DNS_MANAGEMENT_PORT"
  fi
  if ! pid_of acme >/dev/null; then
    (export PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 && exec setsid setpriv --reuid="$ACME_USER" --regid="$ACME_USER" --clear-groups -- \
      /usr/bin/pebble -config "$ACME_DIR/pebble.json" -dnsserver "127.0.0.1:$PRESSLUFT_ACME_DNS_PORT" >>"$LOG_DIR/acme.log" 2>&1 </dev/null) &
    echo $! >"$RUN_DIR/acme.pid"
    wait_for acme 30 curl -fsS --cacert "$ACME_DIR/listener.pem" "$(acme_url)"
  fi
  # Pebble makes a new root at every start: root.pem keeps the roots of earlier runs too, so the
  # certificates the sites still serve from before a restart stay verifiable (renewed near expiry).
  local root
  root="$(curl -fsS --cacert "$ACME_DIR/listener.pem" "https://127.0.0.1:$PRESSLUFT_ACME_MANAGEMENT_PORT/roots/0")"
  touch "$ACME_DIR/root.pem"
  grep -qxF "$(printf '%s\n' "$root" | sed -n 2p)" "$ACME_DIR/root.pem" || printf '%s\n' "$root" >>"$ACME_DIR/root.pem"
  echo "acme           local ACME CA on $(acme_url) (Pebble; DNS on 127.0.0.1:$PRESSLUFT_ACME_DNS_PORT), root: $ACME_DIR/root.pem (pid $(pid_of acme))"
}

build_dist() {
  [ -n "${PRESSLUFT_BUILT:-}" ] && return
  "$ROOT/node_modules/.bin/tsc" -p "$ROOT/tsconfig.build.json"
  # The console the control plane serves at / (dist/apps/console/browser).
  mkdir -p "$LOG_DIR"
  if ! NX_DAEMON=false NX_NO_CLOUD=true "$ROOT/node_modules/.bin/nx" run console:build --skip-nx-cache >"$LOG_DIR/console-build.log" 2>&1; then
    tail -n 40 "$LOG_DIR/console-build.log" >&2
    return 1
  fi
  # pressluftctl (compiled with the rest) where the summary says.
  mkdir -p "$PRESSLUFT_STATE_DIR/bin"
  ln -sfn "$ROOT/apps/cli/bin/pressluftctl" "$PRESSLUFT_STATE_DIR/bin/pressluftctl"
  PRESSLUFT_BUILT=1
}

run_node() { # script args...: a compiled app with the workspace aliases resolved
  node -r "$ROOT/tools/runtime/register-paths.cjs" "$ROOT/dist/$1" "${@:2}"
}

# NATS with mutual TLS: its serving certificate from the control plane's CA, each client
# certificate's subject mapped to a user (verify_and_map); the control plane writes authz.conf
# (its own user and one per enrolled node) and reloads the server by the PID file.
# NATS runs as $NATS_USER (effective, saved uid: its files, its store) with the control plane's
# user as its real uid, the one thing that lets the control plane signal the reload (kill(2)).
start_nats() {
  if runs_as nats "$NATS_USER"; then echo "nats           already running (pid $(pid_of nats))"; return; fi
  stop_one nats TERM # one started as root by a former `up`
  build_dist
  PRESSLUFT_PKI_DIR="$PKI_DIR" PRESSLUFT_NATS_URL="tls://127.0.0.1:$PRESSLUFT_NATS_PORT" PRESSLUFT_NATS_AUTHZ_FILE="$NATS_AUTHZ_DIR/authz.conf" \
    run_node apps/control-plane/src/main.js pki nats-server --out "$NATS_DIR/tls" >/dev/null
  # A former layout's authz.conf next to nats.conf: the control plane rewrites it at its next enrollment sync.
  rm -f "$NATS_DIR/authz.conf"
  cat >"$NATS_DIR/nats.conf" <<CONF
listen: "127.0.0.1:$PRESSLUFT_NATS_PORT"
server_name: "pressluft-local"
jetstream { store_dir: "$NATS_DIR/jetstream", max_memory_store: 256MB, max_file_store: 8GB }
tls { cert_file: "$NATS_DIR/tls/server.pem", key_file: "$NATS_DIR/tls/server-key.pem", ca_file: "$NATS_DIR/tls/ca.pem", verify_and_map: true, timeout: 2 }
include "../nats-authz/authz.conf"
CONF
  own_state
  setsid setpriv --ruid="$CP_USER" --euid="$NATS_USER" --regid="$NATS_USER" --clear-groups -- \
    /usr/sbin/nats-server -c "$NATS_DIR/nats.conf" >>"$LOG_DIR/nats.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/nats.pid"
  wait_for nats 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PRESSLUFT_NATS_PORT"
  echo "nats           started on tls://127.0.0.1:$PRESSLUFT_NATS_PORT with JetStream, mutual TLS (pid $(pid_of nats))"
}

ensure_service_users() {
  local user
  for user in "$CP_USER" "$NATS_USER" "$ACME_USER"; do
    id -u "$user" >/dev/null 2>&1 && continue
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
  done
}

# Owners and modes of the services' state, every `up` (so a layout made by a root-run `up`
# migrates): each dir closed to every other user.
own_state() {
  chmod 711 "$PRESSLUFT_STATE_DIR" # traversable by the service users, listable by none
  chmod 711 "$LOG_DIR"
  chmod 755 "$RUN_DIR" # PID files; the control plane reads nats.pid
  chown root:root "$RUN_DIR" "$LOG_DIR"
  (umask 077 && touch "$LOG_DIR"/{initdb,postgres,nats,control-plane,agent}.log)
  find "$LOG_DIR" -maxdepth 1 -type f -exec chmod go-rwx {} +
  mkdir -p "$CP_DIR" "$PKI_DIR" "$BACKUP_DIR"
  chown -R "$CP_USER:$CP_USER" "$CP_DIR" "$PKI_DIR" "$BACKUP_DIR"
  chmod 700 "$CP_DIR" "$PKI_DIR" "$BACKUP_DIR"
  if [ -f "$ADMIN_TOKEN_FILE" ]; then chown "$CP_USER:$CP_USER" "$ADMIN_TOKEN_FILE" && chmod 600 "$ADMIN_TOKEN_FILE"; fi
  mkdir -p "$NATS_DIR/jetstream" "$NATS_DIR/tls" "$NATS_AUTHZ_DIR"
  chown root:"$NATS_USER" "$NATS_DIR"
  chmod 750 "$NATS_DIR"
  if [ -f "$NATS_DIR/nats.conf" ]; then chown root:"$NATS_USER" "$NATS_DIR/nats.conf" && chmod 640 "$NATS_DIR/nats.conf"; fi
  chown -R "$NATS_USER:$NATS_USER" "$NATS_DIR/jetstream" "$NATS_DIR/tls"
  chmod 700 "$NATS_DIR/jetstream" "$NATS_DIR/tls"
  chown -R "$CP_USER:$NATS_USER" "$NATS_AUTHZ_DIR"
  chmod 750 "$NATS_AUTHZ_DIR"
}

runs_as() { # service user: its process's effective uid is that user's (a root-run former layout is not)
  local pid
  pid="$(pid_of "$1")" || return 1
  [ "$(awk '/^Uid:/ { print $3 }' "/proc/$pid/status")" = "$(id -u "$2")" ]
}

# The control plane's user must read its code: dist/, node_modules/ and the node binary (the
# repository may sit below a 0700 /root). Every ancestor it cannot pass gets an ACL entry for
# that user only, search (x) and nothing else: no listing, no access for anyone else.
grant_traversal() { # user path...
  local user="$1" path dir
  shift
  for path in "$@"; do
    dir="$(realpath "$path")"
    [ -d "$dir" ] || dir="$(dirname "$dir")"
    local chain=()
    while :; do
      chain=("$dir" "${chain[@]}")
      [ "$dir" = / ] && break
      dir="$(dirname "$dir")"
    done
    for dir in "${chain[@]}"; do
      as_user "$user" test -x "$dir" || setfacl -m "u:$user:x" "$dir"
    done
  done
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

control_plane_env() {
  export PRESSLUFT_HTTP_PORT PRESSLUFT_HTTPS_PORT PRESSLUFT_GRPC_PORT PRESSLUFT_GIT_ALLOW_LOCAL
  export PRESSLUFT_PKI_DIR="$PKI_DIR"
  export PRESSLUFT_ADMIN_TOKEN_FILE="$ADMIN_TOKEN_FILE"
  # PostgreSQL runs on this machine: its Unix socket, not loopback TCP (fewer costs per round
  # trip); scram with the role's password, in the environment (readable by the process's own
  # user and root only), never in argv.
  local socket_dir="$PG_DIR/run"
  export PRESSLUFT_DATABASE_URL="postgres://$CP_USER:$(<"$DB_PASSWORD_FILE")@${socket_dir//\//%2F}:$PRESSLUFT_PG_PORT/pressluft"
  export PRESSLUFT_NATS_URL="tls://127.0.0.1:$PRESSLUFT_NATS_PORT"
  export PRESSLUFT_NATS_AUTHZ_FILE="$NATS_AUTHZ_DIR/authz.conf"
  export PRESSLUFT_NATS_PID_FILE="$RUN_DIR/nats.pid"
  # The embedded default: a BackupStore `local` made at start (password generated, encrypted).
  export PRESSLUFT_DEFAULT_BACKUP_REPOSITORY="$BACKUP_DIR/local"
  # The key BackupStore credentials are encrypted with (made on first start; the control plane's own).
  export PRESSLUFT_SECRETS_KEY_FILE="$CP_DIR/secrets.key"
  export PRESSLUFT_RESTIC_CACHE_DIR="$CP_DIR/restic-cache"
  export PRESSLUFT_SITES_HTTPS_PORT="$PRESSLUFT_SITES_TLS_PORT"
  # Where the sites' domains are looked up for DNS readiness: the local CA's DNS server.
  if [ "$PRESSLUFT_ACME_DIRECTORY_URL" = local ]; then export PRESSLUFT_DNS_SERVERS="127.0.0.1:$PRESSLUFT_ACME_DNS_PORT"; fi
  # (Only ever called in the control plane's own subshell: `local` becomes the local CA's URL there.)
  PRESSLUFT_ACME_DIRECTORY_URL="$(acme_url)"
  export PRESSLUFT_ACME_DIRECTORY_URL
}

start_control_plane() {
  ensure_admin_token
  if runs_as control-plane "$CP_USER"; then echo "control-plane  already running (pid $(pid_of control-plane))"; return; fi
  stop_one control-plane TERM # one started as root by a former `up`
  build_dist
  own_state
  local node_bin
  node_bin="$(command -v node)"
  grant_traversal "$CP_USER" "$node_bin" "$ROOT/tools/runtime/register-paths.cjs" "$ROOT/dist/apps" "$ROOT/node_modules"
  (control_plane_env && cd "$CP_DIR" && exec setsid setpriv --reuid="$CP_USER" --regid="$CP_USER" --init-groups -- \
    "$node_bin" -r "$ROOT/tools/runtime/register-paths.cjs" "$ROOT/dist/apps/control-plane/src/main.js" \
    >>"$LOG_DIR/control-plane.log" 2>&1 </dev/null) &
  echo $! >"$RUN_DIR/control-plane.pid"
  if ! wait_for control-plane 60 curl -fsS "http://127.0.0.1:$PRESSLUFT_HTTP_PORT/readyz"; then
    tail -n 20 "$LOG_DIR/control-plane.log" >&2
    return 1
  fi
  echo "control-plane  started on http://127.0.0.1:$PRESSLUFT_HTTP_PORT and https://127.0.0.1:$PRESSLUFT_HTTPS_PORT, enrollment gRPC on 127.0.0.1:$PRESSLUFT_GRPC_PORT (pid $(pid_of control-plane))"
}

api() { # method path [json body]: the admin token goes in a header file, never in argv
  local headers="$AGENT_DIR/api-headers"
  (umask 077 && printf 'Authorization: Bearer %s\n' "$(tr -d '\n' <"$ADMIN_TOKEN_FILE")" >"$headers")
  curl -sS -X "$1" -H @"$headers" -H 'Content-Type: application/json' ${3:+--data "$3"} "http://127.0.0.1:$PRESSLUFT_HTTP_PORT$2"
  local rc=$?
  rm -f "$headers"
  return $rc
}

node_ready() { # the Node's Ready condition is True
  api GET "/apis/pressluft.io/v1/nodes/$1" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const c = (JSON.parse(s).status?.conditions ?? []).find((x) => x.type === "Ready");
      process.exit(c?.status === "True" ? 0 : 1);
    });'
}

# Single-server mode: this host is Node `local`; its agent enrolls with a one-time join token
# (first start only), then dials NATS over mutual TLS like any other node's agent.
start_agent() {
  if pid_of agent >/dev/null; then echo "agent          already running (pid $(pid_of agent))"; return; fi
  build_dist
  mkdir -p "$AGENT_DIR/state" "$PRESSLUFT_SITES_ROOT"
  # 0711: nginx (www-data) reaches the sites' PHP-FPM sockets below state/sock; nothing is listable
  chmod 711 "$AGENT_DIR" "$AGENT_DIR/state"
  chmod 755 "$PRESSLUFT_SITES_ROOT"
  if [ ! -s "$AGENT_DIR/state/identity.json" ]; then
    api POST /apis/pressluft.io/v1/nodes '{"apiVersion":"pressluft.io/v1","kind":"Node","metadata":{"name":"local"},"spec":{"provider":"local"}}' >/dev/null
    api POST /auth/v1/jointokens '{"node":"local","ttlSeconds":600}' | (umask 077 && node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        const t = JSON.parse(s).token; if (!t) { console.error("no join token: " + s); process.exit(1); }
        process.stdout.write(t + "\n");
      });' >"$AGENT_DIR/join-token")
  fi
  (
    export PRESSLUFT_AGENT_NODE=local
    export PRESSLUFT_AGENT_STATE_DIR="$AGENT_DIR/state"
    export PRESSLUFT_AGENT_ENROLL_ENDPOINT="127.0.0.1:$PRESSLUFT_GRPC_PORT"
    export PRESSLUFT_AGENT_CA_FILE="$PKI_DIR/ca.pem"
    export PRESSLUFT_AGENT_JOIN_TOKEN_FILE="$AGENT_DIR/join-token"
    export PRESSLUFT_AGENT_SITES_ROOT="$PRESSLUFT_SITES_ROOT"
    export PRESSLUFT_AGENT_GIT_ALLOW_LOCAL="$PRESSLUFT_GIT_ALLOW_LOCAL"
    export PRESSLUFT_AGENT_CGROUP_RELATIVE_TO="${PRESSLUFT_CGROUP_RELATIVE_TO:-self}"
    # This machine is not a production node: its own network namespace gets no site packet rules
    # (docs/adr/0021), whatever the caller's environment says.
    export PRESSLUFT_AGENT_FIREWALL=off
    export PRESSLUFT_AGENT_TEMPLATES_DIR="$ROOT/templates"
    export PRESSLUFT_AGENT_NGINX_COMMAND="[\"/usr/sbin/nginx\",\"-p\",\"$NGINX_DIR\",\"-c\",\"$NGINX_DIR/nginx.conf\",\"-e\",\"$NGINX_DIR/logs/error.log\"]"
    export PRESSLUFT_AGENT_NGINX_SITES_DIR="$NGINX_DIR/sites"
    export PRESSLUFT_AGENT_NGINX_LISTEN="127.0.0.1:$PRESSLUFT_SITES_PORT"
    export PRESSLUFT_AGENT_SITES_TLS_LISTEN="127.0.0.1:$PRESSLUFT_SITES_TLS_PORT"
    export PRESSLUFT_AGENT_PUBLIC_ADDRESSES=127.0.0.1
    if [ "$PRESSLUFT_ACME_DIRECTORY_URL" = local ]; then
      export NODE_EXTRA_CA_CERTS="$ACME_DIR/listener.pem"
      export PRESSLUFT_AGENT_ACME_CHALLTESTSRV_URL="http://127.0.0.1:$PRESSLUFT_ACME_DNS_MANAGEMENT_PORT"
    fi
    # No systemd here: the agent keeps nginx running (started again with the command above when
    # its master is gone; docs/adr/0025). `down` stops the agent first, then nginx by its pid file.
    export PRESSLUFT_AGENT_NGINX_PID_FILE="$NGINX_DIR/nginx.pid"
    export PRESSLUFT_AGENT_MARIADB_COMMAND="[\"/usr/bin/mariadb\",\"--defaults-file=$MARIADB_DIR/my.cnf\"]"
    export PRESSLUFT_AGENT_MARIADB_SOCKET="$MARIADB_DIR/mysqld.sock"
    export PRESSLUFT_AGENT_REDIS_SOCKET="$REDIS_SOCKET"
    # Kept running by the agent too, started again as tools/dev starts it.
    export PRESSLUFT_AGENT_REDIS_PID_FILE="$REDIS_DIR/redis.pid"
    export PRESSLUFT_AGENT_REDIS_COMMAND="[\"/usr/bin/setpriv\",\"--reuid=redis\",\"--regid=redis\",\"--init-groups\",\"--\",\"/usr/bin/redis-server\",\"$REDIS_DIR/redis.conf\"]"
    export PRESSLUFT_AGENT_REDIS_ADMIN_USER="$REDIS_ADMIN_USER"
    export PRESSLUFT_AGENT_REDIS_ADMIN_PASSWORD_FILE="$REDIS_ADMIN_PASSWORD_FILE"
    export PRESSLUFT_AGENT_WP_CLI="[\"/usr/bin/php\",\"$ROOT/tools/wp-cli/wp\"]"
    export PRESSLUFT_AGENT_RESTIC_USER="$CP_USER"
    export PRESSLUFT_AGENT_PHP_FPM_BINARY="$(ls /usr/sbin/php-fpm* | sort -V | tail -n1)"
    exec setsid node -r "$ROOT/tools/runtime/register-paths.cjs" "$ROOT/dist/apps/agent/src/main.js" >>"$LOG_DIR/agent.log" 2>&1 </dev/null
  ) &
  echo $! >"$RUN_DIR/agent.pid"
  if ! wait_for "agent (Node local Ready)" 60 node_ready local; then
    tail -n 20 "$LOG_DIR/agent.log" >&2
    return 1
  fi
  rm -f "$AGENT_DIR/join-token" # one-time: used by the enrollment
  echo "agent          started as Node local; sites on http://127.0.0.1:$PRESSLUFT_SITES_PORT by Host header (pid $(pid_of agent))"
}

services_up() {
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  ensure_service_users
  own_state
  grant_traversal "$PG_USER" "$PG_DIR"
  grant_traversal "$NATS_USER" "$NATS_DIR"
  start_postgres
  start_mariadb
  start_redis
  start_nginx
  start_nats
  start_acme
  start_control_plane
  write_kubeconfig
  start_agent
  echo
  echo "Pressluft is up."
  echo "  API:         http://127.0.0.1:$PRESSLUFT_HTTP_PORT and https://127.0.0.1:$PRESSLUFT_HTTPS_PORT (readiness: /readyz)"
  echo "  Console:     http://127.0.0.1:$PRESSLUFT_HTTP_PORT/ (sign in with the admin token)"
  echo "  Admin token: $ADMIN_TOKEN_FILE"
  echo "  kubectl:     KUBECONFIG=$KUBECONFIG_FILE kubectl get sites"
  echo "  CLI:         PRESSLUFT_CONFIG=$KUBECONFIG_FILE $PRESSLUFT_STATE_DIR/bin/pressluftctl describe site shop"
  echo "  Sites:       http://127.0.0.1:$PRESSLUFT_SITES_PORT and https://127.0.0.1:$PRESSLUFT_SITES_TLS_PORT (by Host header / SNI), files under $PRESSLUFT_SITES_ROOT"
  [ "$PRESSLUFT_ACME_DIRECTORY_URL" = local ] && echo "  HTTPS:       certificates from the local ACME CA; trust $ACME_DIR/root.pem (curl --cacert)"
  echo "  Logs:    $LOG_DIR"
  echo "  Stop:    tools/dev down"
}

# The sites' PHP-FPM masters the agent started (one per site): QUIT (graceful), by the PID in each
# master's own PID file, accepted only if /proc names php-fpm with that site's config.
stop_site_pools() {
  local dir pid conf
  for dir in "$AGENT_DIR/state/php-fpm"/*/; do
    [ -f "$dir/php-fpm.pid" ] || continue
    pid="$(head -n1 "$dir/php-fpm.pid")"
    conf="${dir%/}/php-fpm.conf"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || continue
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "php-fpm.*$conf" || continue
    kill -QUIT "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$SECONDS" -ge "$deadline" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
      sleep 0.1
    done
    echo "php-fpm of site $(basename "$dir") stopped (pid $pid)"
  done
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
  stop_one agent TERM
  stop_site_pools
  stop_one control-plane TERM
  stop_one acme TERM
  stop_one acme-dns TERM
  stop_one nats TERM
  stop_one nginx QUIT # graceful
  stop_one redis TERM
  stop_one mariadb TERM
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
