#!/usr/bin/env bash
# A throwaway 3-master Redis Cluster on loopback for the RedisStore cluster tests and benchmarks.
#
#   bash scripts/redis-cluster.sh start   # idempotent: starts what is missing, forms the cluster once
#   bash scripts/redis-cluster.sh stop    # shuts the three nodes down (no save)
#   bash scripts/redis-cluster.sh status
#
# Nodes: 127.0.0.1:7000-7002 (override with REDIS_CLUSTER_PORTS="7000 7001 7002"), no persistence
# (--save "" --appendonly no), daemonized, data and nodes.conf under /tmp/jwt-sessions-redis-cluster.
set -euo pipefail

PORTS=(${REDIS_CLUSTER_PORTS:-7000 7001 7002})
HOST=127.0.0.1
BASE=${REDIS_CLUSTER_DIR:-/tmp/jwt-sessions-redis-cluster}

cli() { redis-cli -h "$HOST" -p "$1" "${@:2}"; }
up() { cli "$1" ping 2>/dev/null | grep -q PONG; }
info_field() { cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }

start_node() {
  local port=$1 dir="$BASE/$1"
  mkdir -p "$dir"
  up "$port" && return 0
  redis-server --port "$port" --bind "$HOST" --dir "$dir" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
    --save "" --appendonly no --daemonize yes --logfile "$dir/redis.log" --pidfile "$dir/redis.pid"
  for _ in $(seq 1 50); do up "$port" && return 0; sleep 0.1; done
  echo "redis-cluster: node $port did not start (see $dir/redis.log)" >&2
  return 1
}

all_ok() {
  local port
  for port in "${PORTS[@]}"; do
    [ "$(info_field "$port" cluster_state)" = ok ] || return 1
    [ "$(info_field "$port" cluster_slots_assigned)" = 16384 ] || return 1
    [ "$(info_field "$port" cluster_known_nodes)" = "${#PORTS[@]}" ] || return 1
  done
}

wait_ok() { # wait_ok <tenths of a second>
  for _ in $(seq 1 "$1"); do all_ok && return 0; sleep 0.1; done
  return 1
}

fresh() { # every node alone and without slots: never part of a cluster
  local port
  for port in "${PORTS[@]}"; do
    [ "$(info_field "$port" cluster_known_nodes)" = 1 ] || return 1
    [ "$(info_field "$port" cluster_slots_assigned)" = 0 ] || return 1
  done
}

create() {
  local nodes=() port
  for port in "${PORTS[@]}"; do nodes+=("$HOST:$port"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
}

reset_all() { # a half-formed or stale cluster: wipe it and start over
  local port
  for port in "${PORTS[@]}"; do
    cli "$port" flushall >/dev/null 2>&1 || true
    cli "$port" cluster reset hard >/dev/null 2>&1 || true
  done
}

start() {
  command -v redis-server >/dev/null || { echo "redis-cluster: redis-server not installed" >&2; return 1; }
  local port
  for port in "${PORTS[@]}"; do start_node "$port"; done
  if all_ok; then echo "redis-cluster: ok (${PORTS[*]})"; return 0; fi
  if ! fresh; then
    # Restarted nodes re-form from nodes.conf within a few seconds; give them the chance first.
    wait_ok 100 && { echo "redis-cluster: ok (${PORTS[*]})"; return 0; }
    reset_all
  fi
  create
  if wait_ok 300; then echo "redis-cluster: ok (${PORTS[*]})"; return 0; fi
  echo "redis-cluster: cluster_state did not become ok" >&2
  return 1
}

stop() {
  local port
  for port in "${PORTS[@]}"; do cli "$port" shutdown nosave >/dev/null 2>&1 || true; done
  for port in "${PORTS[@]}"; do
    for _ in $(seq 1 50); do up "$port" || break; sleep 0.1; done
  done
  echo "redis-cluster: stopped"
}

status() {
  local port
  for port in "${PORTS[@]}"; do
    echo "$port: $(up "$port" && echo up || echo down) state=$(info_field "$port" cluster_state)"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
