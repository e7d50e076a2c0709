# Throwaway PostgreSQL and Redis for the test suite: a temporary data
# directory, free ports, stopped by stop_services. A server named by
# TEST_DATABASE_URL / TEST_REDIS_URL is used instead when set.

SERVICES_DIR=
PG_DATA=
PG_BIN=
REDIS_PIDFILE=

# PostgreSQL refuses to run as root; root runs it as the postgres user.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_services() {
    SERVICES_DIR=$(mktemp -d /tmp/auth-test-services.XXXXXX)
    chmod 755 "$SERVICES_DIR"
    if [ -z "${TEST_DATABASE_URL:-}" ]; then
        PG_BIN=$(postgres_bin_dir)
        local port
        port=$(free_port)
        PG_DATA="$SERVICES_DIR/pg"
        mkdir -p "$PG_DATA"
        [ "$(id -u)" = 0 ] && chown postgres "$PG_DATA"
        as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 >/dev/null
        # Durability is pointless for a throwaway cluster: fsync off makes tests faster.
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w -o \
            "-p $port -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
            start >/dev/null
        export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
        echo "throwaway PostgreSQL on 127.0.0.1:$port"
    else
        echo "PostgreSQL from TEST_DATABASE_URL"
    fi
    if [ -z "${TEST_REDIS_URL:-}" ]; then
        local port
        port=$(free_port)
        REDIS_PIDFILE="$SERVICES_DIR/redis.pid"
        redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
            --dir "$SERVICES_DIR" --pidfile "$REDIS_PIDFILE" --logfile "$SERVICES_DIR/redis.log"
        for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
        export TEST_REDIS_URL="redis://127.0.0.1:$port"
        echo "throwaway Redis on 127.0.0.1:$port"
    else
        echo "Redis from TEST_REDIS_URL"
    fi
}

stop_services() {
    if [ -n "$PG_DATA" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true
    fi
    if [ -n "$REDIS_PIDFILE" ] && [ -f "$REDIS_PIDFILE" ]; then
        kill "$(cat "$REDIS_PIDFILE")" 2>/dev/null || true
    fi
    [ -n "$SERVICES_DIR" ] && rm -rf "$SERVICES_DIR"
    SERVICES_DIR= PG_DATA= REDIS_PIDFILE=
}
