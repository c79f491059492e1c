#!/usr/bin/env bash
# Real services for tests and local runs, without Docker:
#   - Apache Kafka 3.9.1, single-node KRaft (broker+controller): 127.0.0.1:9092 (controller 127.0.0.1:9093)
#     Jars come from Maven Central through scripts/kafka/pom.xml (Java 17 + Maven needed).
#   - ClickHouse (Debian's clickhouse-server, or any newer clickhouse binary): HTTP 127.0.0.1:8123, native 127.0.0.1:9000
#   - Schema Registry: Apicurio Registry 3.3.3 (Maven Central, Java 21+), Confluent API at
#     http://127.0.0.1:8081/apis/ccompat/v7 (management/health 127.0.0.1:8082), in-memory storage
# `up` first installs the Debian packages that are missing (as root; otherwise it prints the command to run).
#
# Usage: bash scripts/services.sh up|down|status      (npm run services:up|down|status)
#        bash scripts/services.sh secure-kafka-up|secure-kafka-down   a second Kafka, SASL_SSL only, on 127.0.0.1:9094
#
# Environment:
#   SERVICES="kafka clickhouse schema-registry"    which services to act on (default: all three)
#   KAFKA_HEAP=1g                                  broker max heap
#   KAFKA_START_TIMEOUT=90 CLICKHOUSE_START_TIMEOUT=60 SCHEMA_REGISTRY_START_TIMEOUT=180   readiness timeouts (s)
#   SCHEMA_REGISTRY_PORT=8081 SCHEMA_REGISTRY_MANAGEMENT_PORT=8082 APICURIO_JAVA_HOME   the registry's ports, Java 21+
#   DRIFTLINE_SERVICES_DIR, KAFKA_PORT=9092, KAFKA_CONTROLLER_PORT=9093   a private broker beside the shared one
#
# Everything lives under .services/ (git-ignored): jars, data, configs, pid files, logs/.
# `up` reuses a service that already answers on its port (whoever started it); `down` stops
# only what this script started (pid files); `status` exits 0 when every selected service is up, 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# DRIFTLINE_SERVICES_DIR and the *_PORT variables let a test run a private instance beside the shared one.
SVC="${DRIFTLINE_SERVICES_DIR:-$ROOT/.services}"
LOGS="$SVC/logs"

KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_DIR="$SVC/kafka"
# Jars are shared with private instances (DRIFTLINE_SERVICES_DIR): fetched once, under the project's .services/.
KAFKA_LIBS="$ROOT/.services/kafka/libs"
KAFKA_PID="$SVC/kafka.pid"
KAFKA_LOG="$LOGS/kafka.log"

CH_HOST=127.0.0.1
CH_HTTP_PORT="${CLICKHOUSE_HTTP_PORT:-8123}"
CH_TCP_PORT="${CLICKHOUSE_TCP_PORT:-9000}"
CH_DIR="$SVC/clickhouse"
CH_PID="$SVC/clickhouse.pid"

SERVICES="${SERVICES:-kafka clickhouse schema-registry}"
SERVICES="${SERVICES//,/ }"

log() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

want() { [[ " $SERVICES " == *" $1 "* ]]; }

for s in $SERVICES; do
  case "$s" in
  kafka | clickhouse | schema-registry) ;;
  *) die "unknown service '$s' in SERVICES (use kafka, clickhouse, schema-registry)" ;;
  esac
done

# True when something accepts TCP connections on host:port.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# True when the process exists and is not a zombie (a killed server can linger as one until reaped).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ "$state" != Z && "$state" != X ]]
}

# Pid from a pid file when that process is still alive, else nothing (and the stale file is removed).
# $2: a word the process's command line must contain (guards against a recycled pid).
live_pid() {
  local file="$1" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "${2:-}"; then
    echo "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

now() { date +%s; }

owner() { if [[ -n "$1" ]]; then echo "pid $1"; else echo "not started by this script"; fi; }

# Stop the process in a pid file: SIGTERM, wait up to $2 seconds, then SIGKILL.
stop_pid() {
  local name="$1" file="$2" grace="$3" marker="$4" pid
  if ! pid="$(live_pid "$file" "$marker")"; then
    log "$name: not started by this script (no live pid file) - nothing to stop"
    return 0
  fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(($(now) + grace))
  while alive "$pid"; do
    if (($(now) >= deadline)); then
      log "$name: still running after ${grace}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.5
  done
  rm -f "$file"
  log "$name: stopped"
}

# Keep the previous run's log as *.1 so a fresh start has a fresh log.
rotate_log() { if [[ -f "$1" ]]; then mv -f "$1" "$1.1"; fi; }

# ----------------------------------------------------------------------------------------------
# Debian packages the services and the tests need: installed when missing (as root, through apt-get);
# otherwise `up` stops and prints the exact command to run.
# ----------------------------------------------------------------------------------------------

# command:package. chromium (browser tests), ffmpeg (frames) and prometheus (metrics test) are for the tests.
REQUIRED_PACKAGES=(
  clickhouse-server:clickhouse-server clickhouse-client:clickhouse-client java:openjdk-17-jre-headless mvn:maven
  curl:curl chromium:chromium ffmpeg:ffmpeg prometheus:prometheus
)

# The packages whose command is on neither PATH nor /usr/sbin (not on a non-root PATH), one per line.
missing_packages() {
  local entry cmd
  for entry in "${REQUIRED_PACKAGES[@]}"; do
    cmd="${entry%%:*}"
    command -v "$cmd" >/dev/null 2>&1 || [[ -x "/usr/sbin/$cmd" ]] || printf '%s\n' "${entry#*:}"
  done
}

# apt-get install, with package scripts kept from starting system services (clickhouse-server's postinst would
# start the system instance; this script runs its own): a policy-rc.d that answers 101, "action forbidden".
apt_install() {
  local policy=/usr/sbin/policy-rc.d made_policy=0 rc=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" || rc=$?
  if ((made_policy)); then rm -f "$policy"; fi
  return "$rc"
}

ensure_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  ((${#missing[@]})) || return 0
  local cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    die "missing: ${missing[*]} (Debian package names), and there is no apt-get here:" \
      "install their equivalents, then run again"
  fi
  if [[ "$(id -u)" -ne 0 ]]; then
    die "missing Debian packages: ${missing[*]}. Not root, so not installing them; run:  sudo sh -c '$cmd'"
  fi
  local t0
  t0="$(now)"
  log "installing missing Debian packages with apt-get: ${missing[*]} (log: ${LOGS#"$ROOT/"}/apt-get.log) ..."
  if ! apt_install "${missing[@]}" >"$LOGS/apt-get.log" 2>&1; then
    tail -n 30 "$LOGS/apt-get.log" >&2
    die "apt-get failed (full output: $LOGS/apt-get.log); to retry by hand:  $cmd"
  fi
  log "installed ${missing[*]} in $(($(now) - t0))s"
}

# ----------------------------------------------------------------------------------------------
# Kafka
# ----------------------------------------------------------------------------------------------

kafka_write_config() {
  mkdir -p "$KAFKA_DIR/data"
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Written by scripts/services.sh - edits are overwritten on every 'up'.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
# 1 partition instead of 50 for __consumer_offsets / __transaction_state: the first consumer group
# (and first transactional producer) on a fresh broker is ready in well under a second.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=3000
auto.create.topics.enable=false
delete.topic.enable=true
message.max.bytes=20971520
replica.fetch.max.bytes=20971520
# -1: no time limit on retention (test data is small; .services/ is thrown away with the machine)
log.retention.ms=-1
EOF
  cat >"$KAFKA_DIR/log4j.properties" <<'EOF'
# Written by scripts/services.sh. stdout is redirected to .services/logs/kafka.log.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
# Quiet the chattiest loggers; startup, group and topic events stay at INFO.
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.org.apache.kafka.common.config=WARN
log4j.logger.org.apache.kafka.common.metrics=WARN
log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN
log4j.logger.kafka.server.KafkaConfig=WARN
log4j.logger.kafka.log=WARN
log4j.logger.org.apache.kafka.storage=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.raft=WARN
log4j.logger.org.apache.kafka.controller=WARN
log4j.logger.org.apache.kafka.image=WARN
log4j.logger.org.apache.kafka.metadata=WARN
log4j.logger.kafka.server.metadata=WARN
log4j.logger.kafka.server.ReplicaFetcherManager=WARN
log4j.logger.kafka.server.ReplicaAlterLogDirsManager=WARN
log4j.logger.kafka.cluster.Partition=WARN
EOF
}

kafka_fetch_jars() {
  if compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: the Kafka jars come from Maven Central (install with: apt-get install -y maven)"
  log "kafka: fetching broker jars from Maven Central (scripts/kafka/pom.xml) ..."
  local tmp="$KAFKA_LIBS.tmp"
  rm -rf "$tmp"
  mkdir -p "$KAFKA_DIR" "$(dirname "$KAFKA_LIBS")"
  # outputDirectory must be absolute: a relative one is resolved against the pom's folder.
  if ! mvn -B -ntp -Dstyle.color=never -f "$ROOT/scripts/kafka/pom.xml" \
    dependency:copy-dependencies -DoutputDirectory="$tmp" >"$LOGS/kafka-mvn.log" 2>&1; then
    tail -n 30 "$LOGS/kafka-mvn.log" >&2
    die "kafka: mvn dependency:copy-dependencies failed (full output: $LOGS/kafka-mvn.log)"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || die "kafka: mvn ran but no kafka_2.13 jar was copied to $tmp"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  log "kafka: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in ${KAFKA_LIBS#"$ROOT/"}"
}

kafka_up() {
  local pid
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    if pid="$(live_pid "$KAFKA_PID" kafka.Kafka)"; then
      log "kafka: already running on $KAFKA_HOST:$KAFKA_PORT (pid $pid) - reusing it"
    else
      log "kafka: something already answers on $KAFKA_HOST:$KAFKA_PORT (not started by this script) - reusing it"
    fi
    return 0
  fi
  if pid="$(live_pid "$KAFKA_PID" kafka.Kafka)"; then
    # Started by us but not (yet) listening: maybe still booting from an earlier 'up'.
    log "kafka: pid $pid from an earlier 'up' is alive but not listening yet - waiting for it"
    if kafka_wait_ready "$pid" "$(now)"; then return 0; fi
    log "kafka: pid $pid exited without becoming ready - starting a new broker"
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; then
    die "kafka: port $KAFKA_CONTROLLER_PORT (controller) is taken by another process, but $KAFKA_PORT is not answering"
  fi

  command -v java >/dev/null 2>&1 || die "java not found: Kafka needs Java 11+ (install with: apt-get install -y openjdk-17-jre-headless)"
  local t0
  t0="$(now)"
  mkdir -p "$LOGS"
  kafka_fetch_jars
  kafka_write_config

  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
    [[ -n "$cluster_id" ]] || die "kafka: 'StorageTool random-uuid' printed nothing"
    log "kafka: formatting storage (cluster id $cluster_id)"
    java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" >"$LOGS/kafka-format.log" 2>&1 ||
      { cat "$LOGS/kafka-format.log" >&2; die "kafka: storage format failed (see $LOGS/kafka-format.log)"; }
  fi

  rotate_log "$KAFKA_LOG"
  log "kafka: starting on $KAFKA_HOST:$KAFKA_PORT (log: ${KAFKA_LOG#"$ROOT/"})"
  # setsid: own session, so Ctrl-C in the calling terminal (or the test runner exiting) leaves it running.
  setsid nohup java -Xms256m -Xmx"${KAFKA_HEAP:-1g}" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >"$KAFKA_LOG" 2>&1 </dev/null &
  echo $! >"$KAFKA_PID"
  if ! kafka_wait_ready "$!" "$t0"; then
    tail -n 40 "$KAFKA_LOG" >&2 || true
    die "kafka: the broker exited during startup (last lines of $KAFKA_LOG above)"
  fi
}

kafka_wait_ready() {
  # Returns 1 if the process exits; dies on timeout.
  local pid="$1" t0="$2" deadline=$(($(now) + ${KAFKA_START_TIMEOUT:-90}))
  while :; do
    if ! alive "$pid"; then
      rm -f "$KAFKA_PID"
      return 1
    fi
    if port_open "$KAFKA_HOST" "$KAFKA_PORT" && grep -q "Kafka Server started" "$KAFKA_LOG" 2>/dev/null; then
      log "kafka: ready on $KAFKA_HOST:$KAFKA_PORT (pid $pid, $(($(now) - t0))s)"
      return 0
    fi
    if (($(now) >= deadline)); then
      tail -n 40 "$KAFKA_LOG" >&2 || true
      die "kafka: not ready after ${KAFKA_START_TIMEOUT:-90}s (pid $pid still running; see $KAFKA_LOG; 'down' stops it)"
    fi
    sleep 0.5
  done
}

kafka_status() {
  local pid=""
  pid="$(live_pid "$KAFKA_PID" kafka.Kafka)" || true
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    echo "kafka:      up    $KAFKA_HOST:$KAFKA_PORT ($(owner "$pid"))"
    return 0
  fi
  if [[ -n "$pid" ]]; then
    echo "kafka:      down  $KAFKA_HOST:$KAFKA_PORT (pid $pid alive but not listening: starting up or stuck)"
  else
    echo "kafka:      down  $KAFKA_HOST:$KAFKA_PORT"
  fi
  return 1
}

# ----------------------------------------------------------------------------------------------
# ClickHouse
# ----------------------------------------------------------------------------------------------

# Sets CH_CMD to the command that runs the server: clickhouse-server (Debian's 18.16 or the
# official packages' symlink) or the single 'clickhouse' binary ('clickhouse server').
clickhouse_cmd() {
  local b
  for b in "$(command -v clickhouse-server 2>/dev/null || true)" /usr/sbin/clickhouse-server /usr/bin/clickhouse-server; do
    if [[ -n "$b" && -x "$b" ]]; then CH_CMD=("$b"); return 0; fi
  done
  for b in "$(command -v clickhouse 2>/dev/null || true)" /usr/bin/clickhouse; do
    if [[ -n "$b" && -x "$b" ]]; then CH_CMD=("$b" server); return 0; fi
  done
  return 1
}

ch_query() { curl -sS --max-time 10 "http://$CH_HOST:$CH_HTTP_PORT/" --data-binary "$1"; }
ch_ping() { [[ "$(curl -s --max-time 2 "http://$CH_HOST:$CH_HTTP_PORT/ping" 2>/dev/null)" == "Ok." ]]; }

clickhouse_write_config() {
  mkdir -p "$CH_DIR/data/tmp" "$CH_DIR/data/user_files" "$CH_DIR/data/format_schemas" "$LOGS"
  # <yandex> root: ClickHouse 18.16 (Debian bookworm) requires it; newer versions still accept it.
  cat >"$CH_DIR/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by scripts/services.sh - edits are overwritten on every 'up'. -->
<yandex>
    <logger>
        <level>information</level>
        <log>$LOGS/clickhouse.log</log>
        <errorlog>$LOGS/clickhouse.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>$CH_HOST</listen_host>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port>$CH_TCP_PORT</tcp_port>
    <path>$CH_DIR/data/</path>
    <tmp_path>$CH_DIR/data/tmp/</tmp_path>
    <user_files_path>$CH_DIR/data/user_files/</user_files_path>
    <format_schema_path>$CH_DIR/data/format_schemas/</format_schema_path>
    <users_config>$CH_DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <!-- Small caches: 2-core / shared CI machine. -->
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <max_concurrent_queries>100</max_concurrent_queries>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>10</keep_alive_timeout>
    <mlock_executable>false</mlock_executable>
</yandex>
EOF
  cat >"$CH_DIR/users.xml" <<'EOF'
<?xml version="1.0"?>
<!-- Written by scripts/services.sh. User 'default', no password, local use only (server listens on 127.0.0.1). -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::/0</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

clickhouse_up() {
  local pid
  if ch_ping; then
    if pid="$(live_pid "$CH_PID" clickhouse)"; then
      log "clickhouse: already running on http://$CH_HOST:$CH_HTTP_PORT (pid $pid) - reusing it"
    else
      log "clickhouse: something already answers on http://$CH_HOST:$CH_HTTP_PORT (not started by this script) - reusing it"
    fi
    return 0
  fi
  if pid="$(live_pid "$CH_PID" clickhouse)"; then
    log "clickhouse: pid $pid from an earlier 'up' is alive but not answering yet - waiting for it"
    if clickhouse_wait_ready "$pid" "$(now)"; then return 0; fi
    log "clickhouse: pid $pid exited without becoming ready - starting a new server"
  fi
  command -v curl >/dev/null 2>&1 || die "curl not found (install with: apt-get install -y curl)"
  clickhouse_cmd || die "clickhouse server not found (install with: apt-get install -y clickhouse-server clickhouse-client)"
  local p
  for p in "$CH_HTTP_PORT" "$CH_TCP_PORT"; do
    port_open "$CH_HOST" "$p" && die "clickhouse: port $p is taken by another process (and /ping on $CH_HTTP_PORT does not answer Ok.)"
  done

  local t0
  t0="$(now)"
  clickhouse_write_config
  rotate_log "$LOGS/clickhouse.out.log"
  log "clickhouse: starting on http://$CH_HOST:$CH_HTTP_PORT and $CH_HOST:$CH_TCP_PORT (${CH_CMD[*]}; logs: ${LOGS#"$ROOT/"}/clickhouse*.log)"
  # cd: some versions resolve relative paths (and write status files) against the working directory.
  # Runs as the current user (root included): the data dir belongs to that user, so no user switch is needed.
  (cd "$CH_DIR" && exec setsid nohup "${CH_CMD[@]}" --config-file="$CH_DIR/config.xml" \
    >"$LOGS/clickhouse.out.log" 2>&1 </dev/null) &
  echo $! >"$CH_PID"
  if ! clickhouse_wait_ready "$!" "$t0"; then
    tail -n 20 "$LOGS/clickhouse.out.log" "$LOGS/clickhouse.err.log" >&2 2>/dev/null || true
    die "clickhouse: the server exited during startup (see $LOGS/clickhouse.err.log)"
  fi
}

clickhouse_wait_ready() {
  # Returns 1 if the process exits; dies on timeout.
  local pid="$1" t0="$2" deadline=$(($(now) + ${CLICKHOUSE_START_TIMEOUT:-60}))
  while :; do
    if ! alive "$pid"; then
      rm -f "$CH_PID"
      return 1
    fi
    if ch_ping && [[ "$(ch_query 'SELECT 1' 2>/dev/null)" == "1" ]]; then
      log "clickhouse: ready on http://$CH_HOST:$CH_HTTP_PORT, version $(ch_query 'SELECT version()') (pid $pid, $(($(now) - t0))s)"
      return 0
    fi
    if (($(now) >= deadline)); then
      tail -n 20 "$LOGS/clickhouse.out.log" "$LOGS/clickhouse.err.log" >&2 2>/dev/null || true
      die "clickhouse: not ready after ${CLICKHOUSE_START_TIMEOUT:-60}s (pid $pid still running; 'down' stops it)"
    fi
    sleep 0.5
  done
}

clickhouse_status() {
  local pid=""
  pid="$(live_pid "$CH_PID" clickhouse)" || true
  if ch_ping; then
    echo "clickhouse: up    http://$CH_HOST:$CH_HTTP_PORT ($(owner "$pid"), version $(ch_query 'SELECT version()' 2>/dev/null || echo '?'))"
    return 0
  fi
  if [[ -n "$pid" ]]; then
    echo "clickhouse: down  http://$CH_HOST:$CH_HTTP_PORT (pid $pid alive but not answering: starting up or stuck)"
  else
    echo "clickhouse: down  http://$CH_HOST:$CH_HTTP_PORT"
  fi
  return 1
}

# ----------------------------------------------------------------------------------------------
# Secure Kafka: a second single-node broker whose only client listener is SASL_SSL (SCRAM-SHA-512/256 and
# PLAIN), for the SASL/TLS tests. Own directory and ports; the jars are the shared broker's. Certificates
# (a CA, a broker cert for IP:127.0.0.1, a client cert) and random passwords are made on first start;
# the settings a driftline client needs are written to .services/secure-kafka/client.env.
# ----------------------------------------------------------------------------------------------

SECURE_KAFKA_PORT="${SECURE_KAFKA_PORT:-9094}"
SECURE_KAFKA_CONTROLLER_PORT="${SECURE_KAFKA_CONTROLLER_PORT:-9095}"
SECURE_KAFKA_DIR="$SVC/secure-kafka"
SECURE_KAFKA_PID="$SVC/secure-kafka.pid"
SECURE_KAFKA_LOG="$LOGS/secure-kafka.log"
SECURE_KAFKA_USER=driftline
# A word of the broker's command line that tells it apart from the shared broker (kafka.Kafka for both).
SECURE_KAFKA_MARKER=secure-kafka/server.properties

# Closes every file descriptor above 2 in the current (sub)shell: a daemon must not keep the caller's pipes
# open (a test runner waiting for their end would hang).
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd="${fd##*/}"
    if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

# A CA, a broker certificate (SAN IP:127.0.0.1, DNS:localhost) and a client certificate, PEM, signed by the CA.
secure_kafka_certs() {
  local certs="$SECURE_KAFKA_DIR/certs"
  [[ -f "$certs/client.pem" ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl not found (install with: apt-get install -y openssl)"
  log "secure-kafka: making certificates in ${certs#"$ROOT/"}"
  rm -rf "$certs"
  mkdir -p "$certs"
  (
    set -e
    cd "$certs"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=driftline test CA" \
      -keyout ca.key -out ca.pem 2>/dev/null
    for name in broker client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" -keyout "$name.key" -out "$name.csr" 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$name.ext"
      openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$name.ext" -out "$name.pem" 2>/dev/null
    done
    # Kafka's PEM keystore: an unencrypted PKCS#8 key followed by the certificate.
    openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.pk8
    cat broker.pk8 broker.pem >broker-keystore.pem
    chmod 644 ca.pem client.pem
  ) || die "secure-kafka: openssl failed to make the certificates"
}

secure_kafka_write_config() {
  local d="$SECURE_KAFKA_DIR" password="$1" admin_password="$2"
  mkdir -p "$d/data"
  # umask: the file holds the broker's own credentials.
  (umask 077 && cat >"$d/server.properties") <<PROPERTIES
# Written by scripts/services.sh - edits are overwritten on every 'secure-kafka-up'.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$SECURE_KAFKA_CONTROLLER_PORT
listeners=SASL_SSL://$KAFKA_HOST:$SECURE_KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$SECURE_KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://$KAFKA_HOST:$SECURE_KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule \
  required username="admin" password="$admin_password";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule \
  required username="admin" password="$admin_password";
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule \
  required username="admin" password="$admin_password" user_admin="$admin_password" user_$SECURE_KAFKA_USER="$password";
ssl.keystore.type=PEM
ssl.keystore.location=$d/certs/broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$d/certs/ca.pem
# A client certificate is verified when one is offered, not required (SASL authenticates the client).
ssl.client.auth=requested
log.dirs=$d/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=3000
auto.create.topics.enable=false
message.max.bytes=20971520
replica.fetch.max.bytes=20971520
log.retention.ms=-1
PROPERTIES
  cat >"$d/log4j.properties" <<'LOG4J'
# Written by scripts/services.sh. stdout is redirected to .services/logs/secure-kafka.log.
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
# INFO for the startup line the readiness check waits for, and for authentication failures.
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.org.apache.kafka.common.network.Selector=INFO
LOG4J
}

# Formats the storage once, with the SCRAM users (SCRAM-SHA-512 and -256) in the initial metadata.
secure_kafka_format() {
  local d="$SECURE_KAFKA_DIR" password="$1" admin_password="$2" cluster_id m
  [[ -f "$d/data/meta.properties" ]] && return 0
  cluster_id="$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  [[ -n "$cluster_id" ]] || die "secure-kafka: 'StorageTool random-uuid' printed nothing"
  local scram=()
  for m in SCRAM-SHA-512 SCRAM-SHA-256; do
    scram+=(--add-scram "$m=[name=admin,password=$admin_password]")
    scram+=(--add-scram "$m=[name=$SECURE_KAFKA_USER,password=$password]")
  done
  log "secure-kafka: formatting storage with SCRAM users admin and $SECURE_KAFKA_USER (cluster id $cluster_id)"
  java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$d/log4j.properties" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$d/server.properties" "${scram[@]}" \
    >"$LOGS/secure-kafka-format.log" 2>&1 ||
    { cat "$LOGS/secure-kafka-format.log" >&2; die "secure-kafka: storage format failed"; }
}

# What a driftline client needs for this broker (tests read it; in a shell: set -a; . client.env; set +a).
secure_kafka_client_env() {
  local d="$SECURE_KAFKA_DIR"
  (umask 077 && cat >"$d/client.env") <<ENV
KAFKA_BROKERS=$KAFKA_HOST:$SECURE_KAFKA_PORT
KAFKA_SECURITY_PROTOCOL=SASL_SSL
KAFKA_SASL_MECHANISM=SCRAM-SHA-512
KAFKA_SASL_USERNAME=$SECURE_KAFKA_USER
KAFKA_SASL_PASSWORD=$1
KAFKA_SSL_CA_FILE=$d/certs/ca.pem
ENV
}

secure_kafka_up() {
  local d="$SECURE_KAFKA_DIR" pid="" t0 p
  if pid="$(live_pid "$SECURE_KAFKA_PID" "$SECURE_KAFKA_MARKER")"; then
    if port_open "$KAFKA_HOST" "$SECURE_KAFKA_PORT"; then
      log "secure-kafka: already running on $KAFKA_HOST:$SECURE_KAFKA_PORT (pid $pid) - reusing it"
      return 0
    fi
    log "secure-kafka: pid $pid is alive but not listening yet - waiting for it"
    if secure_kafka_wait_ready "$pid" "$(now)"; then return 0; fi
  fi
  for p in "$SECURE_KAFKA_PORT" "$SECURE_KAFKA_CONTROLLER_PORT"; do
    if port_open "$KAFKA_HOST" "$p"; then
      die "secure-kafka: port $p is taken by another process (choose SECURE_KAFKA_PORT / SECURE_KAFKA_CONTROLLER_PORT)"
    fi
  done
  command -v java >/dev/null 2>&1 || die "java not found: Kafka needs Java 11+ (install with: apt-get install -y openjdk-17-jre-headless)"
  t0="$(now)"
  mkdir -p "$d" "$LOGS"
  kafka_fetch_jars
  secure_kafka_certs
  if [[ ! -f "$d/password" ]]; then
    (umask 077 && openssl rand -hex 12 >"$d/password" && openssl rand -hex 12 >"$d/admin-password")
  fi
  secure_kafka_write_config "$(cat "$d/password")" "$(cat "$d/admin-password")"
  secure_kafka_format "$(cat "$d/password")" "$(cat "$d/admin-password")"
  secure_kafka_client_env "$(cat "$d/password")"

  rotate_log "$SECURE_KAFKA_LOG"
  log "secure-kafka: starting SASL_SSL on $KAFKA_HOST:$SECURE_KAFKA_PORT (log: ${SECURE_KAFKA_LOG#"$ROOT/"})"
  (
    close_inherited_fds
    exec setsid nohup java -Xms128m -Xmx"${SECURE_KAFKA_HEAP:-512m}" -XX:+UseG1GC -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$d/log4j.properties" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$d/server.properties" >"$SECURE_KAFKA_LOG" 2>&1 </dev/null
  ) &
  echo $! >"$SECURE_KAFKA_PID"
  if ! secure_kafka_wait_ready "$!" "$t0"; then
    tail -n 40 "$SECURE_KAFKA_LOG" >&2 || true
    die "secure-kafka: the broker exited during startup (last lines of $SECURE_KAFKA_LOG above)"
  fi
}

secure_kafka_wait_ready() {
  # Returns 1 if the process exits; dies on timeout.
  local pid="$1" t0="$2" deadline=$(($(now) + ${KAFKA_START_TIMEOUT:-90}))
  while alive "$pid"; do
    if port_open "$KAFKA_HOST" "$SECURE_KAFKA_PORT" && grep -q "Kafka Server started" "$SECURE_KAFKA_LOG" 2>/dev/null; then
      log "secure-kafka: ready on $KAFKA_HOST:$SECURE_KAFKA_PORT (pid $pid, $(($(now) - t0))s; client settings in ${SECURE_KAFKA_DIR#"$ROOT/"}/client.env)"
      return 0
    fi
    if (($(now) >= deadline)); then
      tail -n 40 "$SECURE_KAFKA_LOG" >&2 || true
      die "secure-kafka: not ready after ${KAFKA_START_TIMEOUT:-90}s (pid $pid; 'secure-kafka-down' stops it)"
    fi
    sleep 0.5
  done
  rm -f "$SECURE_KAFKA_PID"
  return 1
}

secure_kafka_down() { stop_pid secure-kafka "$SECURE_KAFKA_PID" 45 "$SECURE_KAFKA_MARKER"; }

# ----------------------------------------------------------------------------------------------
# Schema Registry: Apicurio Registry (a Quarkus app from Maven Central), in-memory storage, with the
# Confluent-compatible API under /apis/ccompat/v7. It needs Java 21+; Debian bookworm's Java is 17, so a newer
# JDK under /usr/lib/jvm (or APICURIO_JAVA_HOME) is used. Ids: contentId (legacy-id-mode off), as Confluent,
# where one schema has one id in every subject; canonical hash on, so a reformatted schema keeps its id.
# ----------------------------------------------------------------------------------------------

APICURIO_VERSION=3.3.3
SR_HOST=127.0.0.1
SR_PORT="${SCHEMA_REGISTRY_PORT:-8081}"
# Quarkus' management interface (health, metrics); its default port 9000 is ClickHouse's.
SR_MANAGEMENT_PORT="${SCHEMA_REGISTRY_MANAGEMENT_PORT:-8082}"
SR_URL="http://$SR_HOST:$SR_PORT/apis/ccompat/v7"
SR_DIR="$SVC/schema-registry"
# The app (160 MB) is shared with private instances (DRIFTLINE_SERVICES_DIR), like the Kafka jars.
SR_APP="$ROOT/.services/schema-registry/apicurio-registry-$APICURIO_VERSION"
SR_PID="$SVC/schema-registry.pid"
SR_LOG="$LOGS/schema-registry.log"
SR_MARKER="apicurio-registry-$APICURIO_VERSION/quarkus-run.jar"
SR_STARTED_PID=""

sr_ping() { curl -sf --max-time 2 -o /dev/null "$SR_URL/subjects" 2>/dev/null; }

# Sets SR_JAVA to a java of version 21 or newer: APICURIO_JAVA_HOME, JAVA_HOME, PATH, then /usr/lib/jvm/*.
sr_find_java() {
  local j major
  for j in "${APICURIO_JAVA_HOME:-/nonexistent}/bin/java" "${JAVA_HOME:-/nonexistent}/bin/java" \
    "$(command -v java 2>/dev/null || true)" /usr/lib/jvm/*/bin/java; do
    [[ -n "$j" && -x "$j" ]] || continue
    major="$("$j" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
    if [[ "$major" =~ ^[0-9]+$ ]] && ((major >= 21)); then SR_JAVA="$j"; return 0; fi
  done
  return 1
}

sr_fetch_app() {
  [[ -f "$SR_APP/quarkus-run.jar" ]] && return 0
  command -v mvn >/dev/null 2>&1 ||
    die "mvn not found: Apicurio Registry comes from Maven Central (install with: apt-get install -y maven)"
  local artifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" tmp="$SR_APP.tmp"
  log "schema-registry: fetching $artifact from Maven Central ..."
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # cd: without a pom.xml in the working directory, mvn runs the plugin on its stub project.
  if ! (cd "$tmp" && mvn -B -ntp -Dstyle.color=never dependency:copy -Dartifact="$artifact" -DoutputDirectory="$tmp" \
    >"$LOGS/schema-registry-mvn.log" 2>&1); then
    tail -n 30 "$LOGS/schema-registry-mvn.log" >&2
    die "schema-registry: mvn dependency:copy failed (full output: $LOGS/schema-registry-mvn.log)"
  fi
  tar -xzf "$tmp/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" -C "$tmp" ||
    die "schema-registry: could not unpack the tar.gz in $tmp"
  rm -f "$tmp/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz"
  [[ -f "$tmp/quarkus-run.jar" ]] || die "schema-registry: no quarkus-run.jar in $artifact"
  rm -rf "$SR_APP"
  mv "$tmp" "$SR_APP"
}

# Launches the registry without waiting (Kafka and ClickHouse start meanwhile); schema_registry_wait waits.
schema_registry_start() {
  local pid p
  if sr_ping; then
    if pid="$(live_pid "$SR_PID" "$SR_MARKER")"; then
      log "schema-registry: already running on $SR_URL (pid $pid) - reusing it"
    else
      log "schema-registry: something already answers on $SR_URL (not started by this script) - reusing it"
    fi
    return 0
  fi
  if pid="$(live_pid "$SR_PID" "$SR_MARKER")"; then
    log "schema-registry: pid $pid from an earlier 'up' is alive but not answering yet - waiting for it"
    SR_STARTED_PID="$pid" SR_T0="$(now)"
    return 0
  fi
  for p in "$SR_PORT" "$SR_MANAGEMENT_PORT"; do
    if port_open "$SR_HOST" "$p"; then
      die "schema-registry: port $p is taken by another process (another registry? set SCHEMA_REGISTRY_URL to use it;" \
        "else move this one with SCHEMA_REGISTRY_PORT / SCHEMA_REGISTRY_MANAGEMENT_PORT)"
    fi
  done
  sr_find_java || die "schema-registry: Apicurio Registry $APICURIO_VERSION needs Java 21 or newer and none was found" \
    "(APICURIO_JAVA_HOME, JAVA_HOME, PATH, /usr/lib/jvm/*); Debian bookworm packages Java 17 only: install a JDK 21+" \
    "(e.g. Eclipse Temurin) and set APICURIO_JAVA_HOME to it"
  SR_T0="$(now)"
  mkdir -p "$SR_DIR" "$LOGS"
  sr_fetch_app
  rotate_log "$SR_LOG"
  log "schema-registry: starting Apicurio Registry $APICURIO_VERSION on $SR_URL (log: ${SR_LOG#"$ROOT/"})"
  (
    # A daemon must not keep the caller's descriptors (a test runner's pipes, a flock) open.
    for fd in /proc/$BASHPID/fd/*; do
      fd="${fd##*/}"
      if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    cd "$SR_DIR" && exec setsid nohup "$SR_JAVA" -Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Dquarkus.http.host="$SR_HOST" -Dquarkus.http.port="$SR_PORT" \
      -Dquarkus.management.host="$SR_HOST" -Dquarkus.management.port="$SR_MANAGEMENT_PORT" \
      -Dapicurio.ccompat.legacy-id-mode.enabled=false -Dapicurio.ccompat.use-canonical-hash=true \
      -jar "$SR_APP/quarkus-run.jar" >"$SR_LOG" 2>&1 </dev/null
  ) &
  echo $! >"$SR_PID"
  SR_STARTED_PID=$!
}

schema_registry_wait() {
  [[ -n "$SR_STARTED_PID" ]] || return 0
  local pid="$SR_STARTED_PID" deadline=$(($(now) + ${SCHEMA_REGISTRY_START_TIMEOUT:-180}))
  while alive "$pid"; do
    if sr_ping; then
      # Confluent's default compatibility (Apicurio's is NONE); subjects may still set their own.
      curl -sf --max-time 10 -o /dev/null -X PUT -H 'Content-Type: application/json' \
        --data '{"compatibility":"BACKWARD"}' "$SR_URL/config" || die "schema-registry: PUT $SR_URL/config failed"
      log "schema-registry: ready on $SR_URL (pid $pid, $(($(now) - SR_T0))s; default compatibility BACKWARD)"
      return 0
    fi
    if (($(now) >= deadline)); then
      tail -n 30 "$SR_LOG" >&2 || true
      die "schema-registry: not ready after ${SCHEMA_REGISTRY_START_TIMEOUT:-180}s" \
        "(pid $pid; see $SR_LOG; 'down' stops it)"
    fi
    sleep 0.5
  done
  rm -f "$SR_PID"
  tail -n 30 "$SR_LOG" >&2 || true
  die "schema-registry: the registry exited during startup (last lines of $SR_LOG above)"
}

schema_registry_status() {
  local pid=""
  pid="$(live_pid "$SR_PID" "$SR_MARKER")" || true
  if sr_ping; then
    echo "schema-registry: up    $SR_URL ($(owner "$pid"))"
    return 0
  fi
  if [[ -n "$pid" ]]; then
    echo "schema-registry: down  $SR_URL (pid $pid alive but not answering: starting up or stuck)"
  else
    echo "schema-registry: down  $SR_URL"
  fi
  return 1
}

# ----------------------------------------------------------------------------------------------
# Label Studio (labelling tool), for the label export/import round trip: pip-installed into a venv under
# .services/label-studio/ on first use, served on 127.0.0.1 only, data (SQLite, uploads) in
# .services/label-studio/data. A first user with a random password and API token (Label Studio's legacy
# token, `Authorization: Token <token>`) is made on first start; both are kept in files readable by the
# owner only (token, password), never printed.
# ----------------------------------------------------------------------------------------------

LS_PORT="${LABEL_STUDIO_PORT:-8089}"
LS_VERSION="${LABEL_STUDIO_VERSION:-1.23.*}"
LS_DIR="$SVC/label-studio"
LS_VENV="$LS_DIR/venv"
LS_PID="$SVC/label-studio.pid"
LS_LOG="$LOGS/label-studio.log"
LS_USER=annotator@driftline.local

ls_health() { [[ "$(curl -s --max-time 3 "http://$KAFKA_HOST:$LS_PORT/health" 2>/dev/null)" == *'"UP"'* ]]; }

# True when the API accepts our token (a server started with another data dir would not).
ls_token_works() {
  [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Token $(cat "$LS_DIR/token")" \
    "http://$KAFKA_HOST:$LS_PORT/api/projects?page_size=1" 2>/dev/null)" == 200 ]]
}

# Python 3.10+ with venv support, for Label Studio's venv. As root with apt-get, Debian's python3 and python3-venv
# are installed when missing (a fresh Debian has neither); otherwise the error names the command to run.
label_studio_python() {
  local check='import sys, ensurepip; sys.exit(sys.version_info < (3, 10))'
  python3 -c "$check" 2>/dev/null && return 0
  local fix="apt-get update && apt-get install -y --no-install-recommends python3 python3-venv"
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "label-studio: installing python3 python3-venv with apt-get (log: ${LOGS#"$ROOT/"}/apt-get-python.log) ..."
    apt_install python3 python3-venv >"$LOGS/apt-get-python.log" 2>&1 ||
      die "label-studio: apt-get failed (full output: $LOGS/apt-get-python.log); to retry by hand:  $fix"
    python3 -c "$check" 2>/dev/null && return 0
  fi
  command -v python3 >/dev/null 2>&1 ||
    die "label-studio: python3 not found; Label Studio needs Python 3.10+:  sudo sh -c '$fix'"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    die "label-studio: Python 3.10+ needed, found $(python3 --version 2>&1) at $(command -v python3);" \
      "put a newer python3 first on PATH"
  die "label-studio: $(command -v python3) cannot make a venv (no ensurepip):  sudo sh -c '$fix'"
}

# Creates the venv and installs Label Studio from PyPI when it is not there yet (a few minutes, once).
label_studio_install() {
  [[ -f "$LS_VENV/.installed" && -x "$LS_VENV/bin/label-studio" ]] && return 0
  label_studio_python
  local t0
  t0="$(now)"
  rm -rf "$LS_VENV"
  mkdir -p "$LS_DIR" "$LOGS"
  local pip_log="$LOGS/label-studio-pip.log"
  if ! python3 -m venv "$LS_VENV" >"$pip_log" 2>&1; then
    cat "$pip_log" >&2
    die "label-studio: python3 -m venv failed (output above; on Debian: apt-get install -y python3-venv)"
  fi
  log "label-studio: installing 'label-studio==$LS_VERSION' from PyPI into ${LS_VENV#"$ROOT/"} (minutes, once) ..."
  # uv (a PyPI package) downloads and unpacks in parallel: several times faster than pip for Label Studio's ~200
  # packages, all wheels. pip alone does the same job when uv cannot be had.
  if ! { "$LS_VENV/bin/pip" install -q uv >>"$pip_log" 2>&1 &&
    "$LS_VENV/bin/uv" pip install -q --python "$LS_VENV/bin/python" "label-studio==$LS_VERSION" \
      >>"$pip_log" 2>&1; }; then
    log "label-studio: uv did not install it (see $pip_log) - trying pip"
    if ! "$LS_VENV/bin/pip" install -q "label-studio==$LS_VERSION" >>"$pip_log" 2>&1; then
      tail -n 30 "$pip_log" >&2
      die "label-studio: pip install failed (full output: $pip_log; network needed to reach pypi.org)"
    fi
  fi
  local version
  version="$("$LS_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("label-studio"))')"
  echo "Version: $version" >"$LS_VENV/.installed"
  log "label-studio: installed Label Studio $version in $(($(now) - t0))s"
}

# The first user's password and API token: random, made once, owner-only files.
label_studio_secrets() {
  local f
  for f in token password; do
    [[ -s "$LS_DIR/$f" ]] || (umask 077 && openssl rand -hex 20 >"$LS_DIR/$f") ||
      die "label-studio: cannot write $LS_DIR/$f (openssl needed: apt-get install -y openssl)"
  done
}

# One 'label-studio-up' at a time: a test run starts one in the background (test/e2e/label-studio-setup.ts) and the
# test's own call waits here for it, then finds the server running. The lock goes with this shell; the server
# started below does not inherit it (close_inherited_fds).
label_studio_lock() {
  exec 8>"$LS_DIR/up.lock"
  flock -n 8 && return 0
  log "label-studio: another 'label-studio-up' is installing or starting it - waiting for that one" \
    "(its output: ${LOGS#"$ROOT/"}/label-studio-up.log when the test run started it)"
  flock -w "${LABEL_STUDIO_LOCK_TIMEOUT:-1800}" 8 ||
    die "label-studio: another 'label-studio-up' still holds $LS_DIR/up.lock after ${LABEL_STUDIO_LOCK_TIMEOUT:-1800}s"
}

label_studio_up() {
  local pid t0
  mkdir -p "$LS_DIR" "$LOGS"
  label_studio_lock
  if pid="$(live_pid "$LS_PID" label-studio)" && ls_health; then
    log "label-studio: already running on http://$KAFKA_HOST:$LS_PORT (pid $pid) - reusing it"
    return 0
  fi
  if [[ -n "${pid:-}" ]]; then
    log "label-studio: pid $pid from an earlier 'label-studio-up' is alive but not answering yet - waiting for it"
    if label_studio_wait_ready "$pid" "$(now)"; then return 0; fi
  fi
  port_open "$KAFKA_HOST" "$LS_PORT" &&
    die "label-studio: port $LS_PORT is taken by another process (choose another with LABEL_STUDIO_PORT)"
  label_studio_install
  label_studio_secrets
  rotate_log "$LS_LOG"
  t0="$(now)"
  log "label-studio: starting on http://$KAFKA_HOST:$LS_PORT (log: ${LS_LOG#"$ROOT/"}; a first start migrates)"
  # --internal-host: listen on loopback only (its default is 0.0.0.0). The first user comes from the
  # LABEL_STUDIO_* variables (not arguments, which any process can read); legacy tokens are off unless enabled.
  (
    close_inherited_fds
    export LABEL_STUDIO_USERNAME="$LS_USER" LABEL_STUDIO_PASSWORD="$(cat "$LS_DIR/password")"
    export LABEL_STUDIO_USER_TOKEN="$(cat "$LS_DIR/token")" LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true
    # Its data dir before any settings load. Nothing leaves the machine: no update check, no usage analytics,
    # no error reports (its Sentry DSNs are set by default; empty turns them off).
    export LABEL_STUDIO_BASE_DATA_DIR="$LS_DIR/data" LABEL_STUDIO_LATEST_VERSION_CHECK=false
    export LABEL_STUDIO_COLLECT_ANALYTICS=false LABEL_STUDIO_SENTRY_DSN= LABEL_STUDIO_FRONTEND_SENTRY_DSN=
    # uv installs no .pyc files: let the first start write them (for the modules it imports), so later starts
    # skip compiling them again.
    unset PYTHONDONTWRITEBYTECODE
    exec setsid nohup "$LS_VENV/bin/label-studio" start --no-browser --internal-host "$KAFKA_HOST" --port "$LS_PORT" \
      --data-dir "$LS_DIR/data" --enable-legacy-api-token >"$LS_LOG" 2>&1 </dev/null
  ) &
  echo $! >"$LS_PID"
  if ! label_studio_wait_ready "$!" "$t0"; then
    tail -n 40 "$LS_LOG" >&2 || true
    die "label-studio: the server exited during startup (last lines of $LS_LOG above)"
  fi
}

label_studio_wait_ready() {
  # Returns 1 if the process exits; dies on timeout.
  local pid="$1" t0="$2" deadline=$(($(now) + ${LABEL_STUDIO_START_TIMEOUT:-900}))
  while alive "$pid"; do
    if ls_health; then
      ls_token_works || die "label-studio: up on port $LS_PORT but it refuses the token in $LS_DIR/token" \
        "(its data dir was made with another; remove $LS_DIR/data to start afresh)"
      log "label-studio: ready on http://$KAFKA_HOST:$LS_PORT (pid $pid, $(($(now) - t0))s;" \
        "user $LS_USER, token in ${LS_DIR#"$ROOT/"}/token)"
      return 0
    fi
    if (($(now) >= deadline)); then
      tail -n 40 "$LS_LOG" >&2 || true
      die "label-studio: not ready after ${LABEL_STUDIO_START_TIMEOUT:-900}s (pid $pid; 'label-studio-down' stops it)"
    fi
    sleep 1
  done
  rm -f "$LS_PID"
  return 1
}

label_studio_down() {
  [[ -f "$LS_PID" ]] || return 0
  stop_pid label-studio "$LS_PID" 20 label-studio
  # The exited server's listening socket lingers a moment; an 'up' right after must find the port free.
  local deadline=$(($(now) + 10))
  while port_open "$KAFKA_HOST" "$LS_PORT" && (($(now) < deadline)); do sleep 0.5; done
}

# ----------------------------------------------------------------------------------------------

usage() {
  echo "usage: bash scripts/services.sh up|down|status   (SERVICES=kafka|clickhouse|schema-registry to pick)" >&2
  exit 2
}

main() {
  [[ $# -eq 1 ]] || usage
  mkdir -p "$LOGS"
  case "$1" in
  up)
    local t0
    t0="$(now)"
    ensure_packages
    if want schema-registry; then schema_registry_start; fi
    if want kafka; then kafka_up; fi
    if want clickhouse; then clickhouse_up; fi
    if want schema-registry; then schema_registry_wait; fi
    log "up: done in $(($(now) - t0))s"
    ;;
  down)
    label_studio_down
    if want kafka; then secure_kafka_down; fi
    if want schema-registry; then stop_pid schema-registry "$SR_PID" 30 "$SR_MARKER"; fi
    if want clickhouse; then stop_pid clickhouse "$CH_PID" 30 clickhouse; fi
    if want kafka; then stop_pid kafka "$KAFKA_PID" 45 kafka.Kafka; fi
    ;;
  status)
    local rc=0
    if want kafka; then kafka_status || rc=1; fi
    if want clickhouse; then clickhouse_status || rc=1; fi
    if want schema-registry; then schema_registry_status || rc=1; fi
    return "$rc"
    ;;
  secure-kafka-up) secure_kafka_up ;;
  secure-kafka-down) secure_kafka_down ;;
  label-studio-up) label_studio_up ;;
  label-studio-down) label_studio_down ;;
  *) usage ;;
  esac
}

main "$@"
