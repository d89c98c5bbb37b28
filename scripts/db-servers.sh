#!/usr/bin/env bash
# Private PostgreSQL and MariaDB servers for the database tests (ffu-py/tests/test_db.py).
#
#   scripts/db-servers.sh [start]   install what is missing, start both, write target/db/env
#   scripts/db-servers.sh stop      stop both (their data stays for the next start)
#   scripts/db-servers.sh status    say which run
#
# Each server is one private instance on loopback, on a fixed non-default port, with its
# data under target/db/ of the workspace: nothing of the system's own configuration or
# clusters (/etc/postgresql, /etc/mysql, /var/lib/...) is read or touched, and the
# system's own services are never started by this script. Both get a database `ffu_test`
# and a user `ffu` (password `ffu`) with every right on it; in MariaDB `ffu` may also create
# and drop databases named `t_...` (the tests make one per test); in PostgreSQL `ffu` may
# create databases (the OpenStack harness makes its own, named `t_...` too).
#
# Starting is idempotent: servers already running are only checked (a second run takes a
# second or so). Debian packages are installed when missing (`postgresql`,
# `mariadb-server`, with --no-install-recommends; `apt-get update` only when the install
# fails for want of package lists). Needs root for that and to run the servers as their
# system users (PostgreSQL refuses to run as root); without root, servers already
# installed run as the calling user.
#
# At the end it writes target/db/env, one KEY=VALUE per line, the value unquoted up to the
# end of the line (the format of docker --env-file and of $GITHUB_ENV; not shell syntax:
# read it line by line, as ffu-py/scripts/test.sh does):
#   FFU_TEST_POSTGRES=host=127.0.0.1 port=55432 dbname=ffu_test user=ffu password=ffu
#       a libpq conninfo string (psycopg.connect(value))
#   FFU_TEST_MYSQL=127.0.0.1:53306:ffu_test:ffu:ffu
#       host:port:database:user:password
# A server that cannot be installed or started is reported on one line (which one and
# why); its variable is left out and the script still exits 0, so that the tests that need
# it skip with a clear message. The exit status is non-zero only for bad usage.
#
# Environment:
#   FFU_PG_PORT     PostgreSQL's port (default 55432)
#   FFU_MYSQL_PORT  MariaDB's port (default 53306)
#   FFU_DB_TIMEOUT  seconds to wait for each server to accept connections (default 60)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dbdir="$root/target/db"
pg_port="${FFU_PG_PORT:-55432}"
my_port="${FFU_MYSQL_PORT:-53306}"
timeout="${FFU_DB_TIMEOUT:-60}"
action="${1:-start}"

say() { printf 'db-servers: %s\n' "$*"; }

# ---------------------------------------------------------------------------------------
# Where the data lives.
#
# The servers run as the `postgres` and `mysql` system users, which must be able to reach
# their data directory. target/db/ of the workspace is used when they can (and when its
# path is short enough for the Unix sockets kept there: at most 107 bytes per socket path);
# a checkout under a private home directory (/root/...) is not reachable by them, and then
# the data lives in /var/tmp/ffu-db-HASH (HASH from the workspace path, so that every run
# of the same checkout finds the same place), with target/db/data a symbolic link to it.
# ---------------------------------------------------------------------------------------
mkdir -p "$dbdir"

# run_as USER CMD...: runs CMD as USER when we are root, else as ourselves.
run_as() {
    local user="$1"
    shift
    if [[ $EUID -eq 0 ]]; then
        # From /: the caller's directory may be closed to USER.
        (cd / && runuser -u "$user" -- "$@")
    else
        "$@"
    fi
}

# reachable USER DIR: whether USER can enter DIR (every directory above it included).
reachable() {
    [[ $EUID -ne 0 ]] || ! id "$1" >/dev/null 2>&1 || run_as "$1" test -x "$2"
}

data_base() {
    local link="$dbdir/data"
    # Where an earlier run put it, if any.
    if [[ -L "$link" ]]; then
        readlink -f "$link"
        return
    elif [[ -d "$link" ]]; then
        echo "$link"
        return
    fi
    local ok=1 user
    [[ ${#dbdir} -le 70 ]] || ok=0
    for user in postgres mysql; do
        reachable "$user" "$dbdir" || ok=0
    done
    if [[ $ok -eq 1 ]]; then
        echo "$dbdir/data"
    else
        local hash
        hash="$(printf '%s' "$root" | md5sum | cut -c1-10)"
        echo "/var/tmp/ffu-db-$hash"
    fi
}

# setup_paths: decides where the data lives (after any installation, which may create the
# system users) and names every file of the two instances.
setup_paths() {
    base="$(data_base)"
    if [[ "$base" != "$dbdir/data" ]]; then
        mkdir -p "$base"
        ln -sfn "$base" "$dbdir/data"
    fi
    mkdir -p "$base"
    chmod 755 "$base"
    pgdata="$base/pg"
    pglog="$pgdata/server.log"
    mydata="$base/mysql"
    mysock="$mydata/mysqld.sock"
    mypid="$mydata/mysqld.pid"
    mylog="$mydata/server.log"
}

# The newest PostgreSQL server installed (Debian keeps each major in its own directory).
pg_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [[ -n "$dir" && -x "$dir/postgres" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
        echo "$dir"
    fi
}

have_mariadb() {
    command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]]
}

# ---------------------------------------------------------------------------------------
# Installation of what is missing.
# ---------------------------------------------------------------------------------------
install_missing() {
    local packages=()
    [[ -n "$(pg_bindir)" ]] || packages+=(postgresql)
    have_mariadb && command -v mariadb-install-db >/dev/null 2>&1 || packages+=(mariadb-server)
    [[ ${#packages[@]} -gt 0 ]] || return 0
    if [[ $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        say "cannot install ${packages[*]}: needs root and apt-get"
        return 0
    fi
    say "installing ${packages[*]} (apt-get)"
    local log="$dbdir/apt.log"
    # The packages' maintainer scripts may start the system's own services where the
    # machine allows it (a Docker image's policy-rc.d forbids it); ours run apart from
    # them, on other ports and data directories, either way.
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${packages[@]}" >"$log" 2>&1; then
        say "apt-get install failed; updating the package lists and trying again"
        DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${packages[@]}" >>"$log" 2>&1 || say "apt-get install ${packages[*]} failed (see $log)"
    fi
}

# ---------------------------------------------------------------------------------------
# PostgreSQL.
# ---------------------------------------------------------------------------------------

# The superuser of each instance: the OS user the server runs as, who logs in over the
# private Unix socket without a password (PostgreSQL peer, MariaDB unix_socket).
if [[ $EUID -eq 0 ]]; then pg_super=postgres my_super=root; else pg_super="$(id -un)" my_super="$(id -un)"; fi

# pg_sql SQL [PSQL OPTIONS]: runs SQL as the superuser over the private Unix socket (peer
# authentication: only the OS user of the server can log in that way).
pg_sql() {
    local bin sql="$1"
    shift
    bin="$(pg_bindir)"
    run_as postgres "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pgdata" -p "$pg_port" \
        -U "$pg_super" -d postgres "$@" -c "$sql"
}

pg_running() {
    local bin
    bin="$(pg_bindir)"
    [[ -n "$bin" && -f "$pgdata/PG_VERSION" ]] && run_as postgres "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1
}

pg_start() {
    local bin
    bin="$(pg_bindir)"
    [[ -n "$bin" ]] || fail "no PostgreSQL server installed (apt-get install postgresql failed: see $dbdir/apt.log)"
    if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        fail "no 'postgres' system user to run the server as"
    fi
    if [[ ! -f "$pgdata/PG_VERSION" ]]; then
        rm -rf "$pgdata"
        mkdir -p "$pgdata"
        [[ $EUID -ne 0 ]] || chown postgres: "$pgdata"
        chmod 700 "$pgdata"
        # Superuser through the socket only (peer: the OS user postgres); every TCP
        # connection with a password.
        run_as postgres "$bin/initdb" -D "$pgdata" -U "$pg_super" --auth-local=peer \
            --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$base/pg-initdb.log" 2>&1 \
            || fail "initdb failed (see $base/pg-initdb.log)"
        # The instance's settings live in ffu.conf, rewritten at every start below.
        echo "include_if_exists = 'ffu.conf'" >>"$pgdata/postgresql.conf"
    fi
    if pg_running; then
        "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -d postgres \
            || fail "already running, but not on port $pg_port: run '$0 stop' first"
        say "PostgreSQL already running on 127.0.0.1:$pg_port"
    else
        port_free "$pg_port" || fail "port $pg_port is taken by another program (set FFU_PG_PORT)"
        # A throwaway test instance: no durability needed, so no fsync.
        run_as postgres tee "$pgdata/ffu.conf" >/dev/null <<EOF
port = $pg_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$pgdata'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOF
        local out from
        from="$(log_end "$pglog")"
        out="$(without_fds run_as postgres "$bin/pg_ctl" -D "$pgdata" -l "$pglog" -w -t "$timeout" start </dev/null 2>&1)" \
            || fail "pg_ctl start failed: $(log_error "$pglog" "$from" "$out")"
        say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') started on 127.0.0.1:$pg_port (data in $pgdata)"
    fi
    wait_for "PostgreSQL" "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" -d postgres
    # The test user and database, made once.
    pg_sql "DO \$\$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ffu') THEN
                CREATE ROLE ffu LOGIN PASSWORD 'ffu';
              END IF;
              -- harness/openstack_harness.py makes a database per OpenStack database.
              ALTER ROLE ffu CREATEDB;
            END \$\$;" >/dev/null || fail "could not create the user ffu"
    if [[ "$(pg_sql "SELECT 1 FROM pg_database WHERE datname = 'ffu_test'" -t 2>/dev/null)" != *1* ]]; then
        pg_sql "CREATE DATABASE ffu_test OWNER ffu" >/dev/null || fail "could not create the database ffu_test"
    fi
    # Check what the tests will do: log in as ffu over TCP with the password.
    PGPASSWORD=ffu PGCONNECT_TIMEOUT=5 "$bin/psql" -X -q -At -h 127.0.0.1 -p "$pg_port" -U ffu -d ffu_test \
        -c "SELECT 1" >/dev/null 2>&1 || fail "the user ffu cannot log in to ffu_test on 127.0.0.1:$pg_port"
}

pg_stop() {
    local bin
    bin="$(pg_bindir)"
    if pg_running; then
        run_as postgres "$bin/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null
        say "PostgreSQL stopped"
    else
        say "PostgreSQL was not running"
    fi
}

# ---------------------------------------------------------------------------------------
# MariaDB.
# ---------------------------------------------------------------------------------------
my_user() { if [[ $EUID -eq 0 ]]; then echo mysql; else id -un; fi; }

mariadbd_bin() { command -v mariadbd 2>/dev/null || echo /usr/sbin/mariadbd; }

# my_sql SQL [CLIENT OPTIONS]: runs SQL as the superuser over the private Unix socket
# (mariadb-install-db makes root@localhost, and the account of the OS user the server runs
# as, authenticated by unix_socket).
my_sql() {
    local sql="$1"
    shift
    mariadb --no-defaults --protocol=socket --socket="$mysock" -u "$my_super" "$@" -e "$sql"
}

my_running() {
    [[ -f "$mypid" ]] && kill -0 "$(cat "$mypid")" 2>/dev/null
}

my_start() {
    have_mariadb && command -v mariadb-install-db >/dev/null 2>&1 \
        || fail "no MariaDB server installed (apt-get install mariadb-server failed: see $dbdir/apt.log)"
    local user
    user="$(my_user)"
    id "$user" >/dev/null 2>&1 || fail "no '$user' system user to run the server as"
    if [[ ! -d "$mydata/mysql" ]]; then
        rm -rf "$mydata"
        mkdir -p "$mydata"
        [[ $EUID -ne 0 ]] || chown "$user": "$mydata"
        chmod 750 "$mydata"
        # --no-defaults: nothing read from /etc/mysql.
        mariadb-install-db --no-defaults --datadir="$mydata" --user="$user" \
            --auth-root-authentication-method=socket --skip-test-db \
            >"$base/mysql-install-db.log" 2>&1 \
            || fail "mariadb-install-db failed (see $base/mysql-install-db.log)"
    fi
    if my_running; then
        port_free "$my_port" && fail "already running, but not on port $my_port: run '$0 stop' first"
        say "MariaDB already running on 127.0.0.1:$my_port"
    else
        port_free "$my_port" || fail "port $my_port is taken by another program (set FFU_MYSQL_PORT)"
        rm -f "$mysock" "$mypid"
        local from
        from="$(log_end "$mylog")"
        # In the background, in its own session, so that it outlives this script.
        # A throwaway test instance: no durability needed.
        without_fds setsid "$(mariadbd_bin)" --no-defaults --user="$user" --datadir="$mydata" \
            --socket="$mysock" --pid-file="$mypid" --log-error="$mylog" \
            --port="$my_port" --bind-address=127.0.0.1 --skip-networking=0 --skip-name-resolve \
            --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
            --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
            </dev/null >/dev/null 2>&1 &
        local waited=0
        until mariadb-admin --no-defaults --protocol=socket --socket="$mysock" -u "$my_super" ping >/dev/null 2>&1; do
            if ((waited >= timeout)); then
                fail "did not accept connections within ${timeout} s: $(log_error "$mylog" "$from" "")"
            fi
            if ((waited > 2)) && ! my_running; then
                fail "exited at start: $(log_error "$mylog" "$from" "")"
            fi
            sleep 1
            waited=$((waited + 1))
        done
        say "MariaDB $(my_sql 'SELECT VERSION()' -N 2>/dev/null | cut -d- -f1) started on 127.0.0.1:$my_port (data in $mydata)"
    fi
    # The test user and database, made once (IF NOT EXISTS). `ffu`@`%` because, with
    # skip-name-resolve, a TCP client is known by its address; no anonymous users, which
    # would shadow it for local clients. `t\_%`: databases named t_..., made per test.
    my_sql "DELETE FROM mysql.global_priv WHERE User = '';
            CREATE DATABASE IF NOT EXISTS ffu_test;
            CREATE USER IF NOT EXISTS 'ffu'@'%' IDENTIFIED BY 'ffu';
            CREATE USER IF NOT EXISTS 'ffu'@'localhost' IDENTIFIED BY 'ffu';
            GRANT ALL PRIVILEGES ON ffu_test.* TO 'ffu'@'%', 'ffu'@'localhost';
            GRANT ALL PRIVILEGES ON \`t\\_%\`.* TO 'ffu'@'%', 'ffu'@'localhost';
            FLUSH PRIVILEGES;" || fail "could not create the user ffu and the database ffu_test"
    # Check what the tests will do: log in as ffu over TCP with the password.
    mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$my_port" -u ffu -pffu ffu_test \
        -e "SELECT 1" >/dev/null 2>&1 || fail "the user ffu cannot log in to ffu_test on 127.0.0.1:$my_port"
}

my_stop() {
    if my_running; then
        local pid waited=0
        pid="$(cat "$mypid")"
        kill -TERM "$pid"
        while kill -0 "$pid" 2>/dev/null; do
            ((waited < 5 * timeout)) || fail "pid $pid did not stop within ${timeout} s"
            sleep 0.2
            waited=$((waited + 1))
        done
        say "MariaDB stopped"
    else
        say "MariaDB was not running"
    fi
}

# ---------------------------------------------------------------------------------------
# Shared helpers.
# ---------------------------------------------------------------------------------------

# fail REASON: inside a server's setup (a subshell), records why and ends it.
fail() {
    printf '%s\n' "$*" >"$reason"
    exit 1
}

# port_free PORT: whether nothing listens on 127.0.0.1:PORT.
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# without_fds CMD...: runs CMD (a command or a function) in a subshell that has closed every
# file descriptor but 0, 1 and 2. The servers outlive this script: they must not keep open a
# pipe the caller inherited (a CI runner waiting for its end would wait for them).
without_fds() {
    (
        local fd
        for fd in /proc/$BASHPID/fd/*; do
            fd="${fd##*/}"
            if ((fd > 2)); then
                eval "exec $fd>&-" 2>/dev/null || true
            fi
        done
        "$@"
    )
}

# log_end FILE: the size of a server log before a start.
log_end() { stat -c %s "$1" 2>/dev/null || echo 0; }

# log_error FILE FROM OTHERWISE: the last error the log got past byte FROM (else its last
# new line, else OTHERWISE), on one line.
log_error() {
    local new line
    new="$(tail -c +"$(($2 + 1))" "$1" 2>/dev/null || true)"
    line="$(grep -E -i 'FATAL|ERROR|PANIC' <<<"$new" | tail -n 1 || true)"
    [[ -n "$line" ]] || line="$(grep -v '^$' <<<"$new" | tail -n 1 || true)"
    [[ -n "$line" ]] || line="$3"
    [[ -n "$line" ]] || line="no message"
    printf '%s\n' "${line//$'\n'/ }"
}

# wait_for NAME CMD...: until CMD succeeds, at most $timeout seconds.
wait_for() {
    local name="$1" waited=0
    shift
    until "$@" >/dev/null 2>&1; do
        ((waited < timeout)) || fail "$name did not accept connections within ${timeout} s"
        sleep 1
        waited=$((waited + 1))
    done
}

# attempt NAME FUNCTION: runs FUNCTION in a subshell with errexit, so that one server's
# failure is reported on one line and the other server still gets its chance; sets `ok` to
# 1 or 0. (Never call it from an if, && or ||: bash ignores errexit inside those.)
reason="$dbdir/.reason"
attempt() {
    local name="$1" fn="$2" status=0
    : >"$reason"
    set +e
    (
        set -eE
        trap 'rc=$?; [[ -s "$reason" ]] || printf "%s failed (line %s, status %s)\n" "$BASH_COMMAND" "$LINENO" "$rc" >"$reason"' ERR
        "$fn"
    )
    status=$?
    set -e
    ok=1
    if [[ $status -ne 0 ]]; then
        ok=0
        say "$name not available: $(cat "$reason")"
    fi
    rm -f "$reason"
}

case "$action" in
start)
    install_missing
    setup_paths
    env_lines=()
    attempt PostgreSQL pg_start
    if [[ $ok -eq 1 ]]; then
        env_lines+=("FFU_TEST_POSTGRES=host=127.0.0.1 port=$pg_port dbname=ffu_test user=ffu password=ffu")
    else
        say "FFU_TEST_POSTGRES left unset: the PostgreSQL tests will skip"
    fi
    attempt MariaDB my_start
    if [[ $ok -eq 1 ]]; then
        env_lines+=("FFU_TEST_MYSQL=127.0.0.1:$my_port:ffu_test:ffu:ffu")
    else
        say "FFU_TEST_MYSQL left unset: the MySQL/MariaDB tests will skip"
    fi
    # Written whole, then moved into place: a reader never sees half a file.
    {
        echo "# Written by scripts/db-servers.sh; KEY=VALUE lines, values unquoted to the end of the line."
        [[ ${#env_lines[@]} -eq 0 ]] || printf '%s\n' "${env_lines[@]}"
    } >"$dbdir/env.tmp"
    mv "$dbdir/env.tmp" "$dbdir/env"
    say "wrote $dbdir/env (${#env_lines[@]} of 2 servers)"
    ;;
stop)
    setup_paths
    attempt PostgreSQL pg_stop
    attempt MariaDB my_stop
    rm -f "$dbdir/env"
    ;;
status)
    setup_paths
    if pg_running; then say "PostgreSQL running on 127.0.0.1:$pg_port"; else say "PostgreSQL not running"; fi
    if my_running; then say "MariaDB running on 127.0.0.1:$my_port"; else say "MariaDB not running"; fi
    ;;
*)
    echo "usage: $0 [start|stop|status]" >&2
    exit 2
    ;;
esac
