#!/usr/bin/env bash
# Starts the local servers the tests use when they are down (the commands this machine kind
# documents). Each check is a TCP probe of the server's port; a server already up is left alone.
set -u

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do
    up "$port" && return 0
    sleep 0.5
  done
  echo "warning: $name did not come up on port $port" >&2
  return 1
}

start() {
  local port=$1 name=$2
  shift 2
  if up "$port"; then return 0; fi
  echo "starting $name (port $port)"
  "$@" >/dev/null 2>&1 || echo "warning: starting $name failed: $*" >&2
  wait_for "$port" "$name"
}

start 5432 PostgreSQL pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql 2>/dev/null | head -n1)" main start
start 6379 Redis redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
start 4222 NATS start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
start 5672 RabbitMQ rabbitmq-server -detached
start 1883 Mosquitto mosquitto -d -c /etc/mosquitto/mosquitto.conf
start 3306 MariaDB start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
exit 0
