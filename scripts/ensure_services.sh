#!/usr/bin/env bash
# Starts the local PostgreSQL and Redis used by the test suite when they are installed but down.
# It never installs them: a machine without them fails here with a clear message.
set -u

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
fi
pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432 (trust auth expected)" >&2; exit 1; }

if ! redis_up && command -v redis-server >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
fi
redis_up || echo "note: Redis is not reachable on 127.0.0.1:6379; tests that need it will fail" >&2

# MariaDB is optional for `make test`; `make pytest-mysql` uses it.
mysql_up() { mysqladmin -h 127.0.0.1 -u root status >/dev/null 2>&1; }
if ! mysql_up && [ -x /usr/sbin/mariadbd ]; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  for _ in $(seq 1 30); do mysql_up && break; sleep 1; done
fi
exit 0
