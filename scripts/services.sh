#!/usr/bin/env bash
# Real services for tests and local runs, without Docker:
#   - Apache Kafka 3.9.1, single-node KRaft (broker+controller): 127.0.0.1:9092 (controller 127.0.0.1:9093)
#     Jars come from Maven Central through scripts/kafka/pom.xml (Java 17 + Maven needed).
#   - ClickHouse (Debian's clickhouse-server, or any newer clickhouse binary): HTTP 127.0.0.1:8123, native 127.0.0.1:9000
#
# Usage: bash scripts/services.sh up|down|status      (npm run services:up|down|status)
#
# Environment:
#   SERVICES=kafka|clickhouse|"kafka clickhouse"   which services to act on (default: both)
#   KAFKA_HEAP=1g                                  broker max heap
#   KAFKA_START_TIMEOUT=90 CLICKHOUSE_START_TIMEOUT=60   readiness timeouts (seconds)
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
KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
KAFKA_DIR="$SVC/kafka"
KAFKA_LIBS="$KAFKA_DIR/libs"
KAFKA_PID="$SVC/kafka.pid"
KAFKA_LOG="$LOGS/kafka.log"

CH_HOST=127.0.0.1
CH_HTTP_PORT="${CLICKHOUSE_HTTP_PORT:-8123}"
CH_TCP_PORT="${CLICKHOUSE_TCP_PORT:-9000}"
CH_DIR="$SVC/clickhouse"
CH_PID="$SVC/clickhouse.pid"

SERVICES="${SERVICES:-kafka clickhouse}"
SERVICES="${SERVICES//,/ }"

log() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

want() { [[ " $SERVICES " == *" $1 "* ]]; }

for s in $SERVICES; do
  case "$s" in kafka | clickhouse) ;; *) die "unknown service '$s' in SERVICES (use kafka and/or clickhouse)" ;; esac
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
  local tmp="$KAFKA_DIR/libs.tmp"
  rm -rf "$tmp"
  mkdir -p "$KAFKA_DIR"
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

usage() {
  echo "usage: bash scripts/services.sh up|down|status   (SERVICES=kafka|clickhouse to pick one)" >&2
  exit 2
}

main() {
  [[ $# -eq 1 ]] || usage
  mkdir -p "$LOGS"
  case "$1" in
  up)
    local t0
    t0="$(now)"
    if want kafka; then kafka_up; fi
    if want clickhouse; then clickhouse_up; fi
    log "up: done in $(($(now) - t0))s"
    ;;
  down)
    if want clickhouse; then stop_pid clickhouse "$CH_PID" 30 clickhouse; fi
    if want kafka; then stop_pid kafka "$KAFKA_PID" 45 kafka.Kafka; fi
    ;;
  status)
    local rc=0
    if want kafka; then kafka_status || rc=1; fi
    if want clickhouse; then clickhouse_status || rc=1; fi
    return "$rc"
    ;;
  *) usage ;;
  esac
}

main "$@"
