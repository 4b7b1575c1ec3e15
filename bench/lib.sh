# bench/lib.sh - what bench/run and bench/profile share: process
# bookkeeping (every process started is stopped by PID on exit), installing
# the tools and peers with apt-get, building tinyhttpd optimised, the
# document root, and the configuration and start-up of each server.
#
# Sourced, not run.  The caller sets BENCH_DIR, TOP, SERVERS, NO_INSTALL,
# KEEP, RUN_AS, CORES, POOL, IDLE and KEEPALIVE first.  tinyhttpd is started
# the way the tests start it (tests/integration/daemon.sh: awaited through
# its READY=1; TINYHTTPD_WRAPPER wraps it), the peers in the background and
# awaited by polling them.
# shellcheck shell=bash
# shellcheck disable=SC2317  # functions called by name or from traps
# shellcheck disable=SC2034  # variables used by the sourcing script

# shellcheck source=../tests/integration/daemon.sh
. "$TOP/tests/integration/daemon.sh"

FAILED=0
BUSY=()                        # background CPU load, label:percent
STARTED_PIDS=()                # everything we started, stopped by PID on exit
CREATED_POLICY=""              # a policy-rc.d we put in place, removed on exit
TMP=""

say() { printf 'bench: %s\n' "$*" >&2; }
fail() { printf 'bench: FAILED: %s\n' "$*" >&2; FAILED=1; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# Whether PID is still a live child of this script (so that a PID that
# was reaped and reused by someone else is never signalled).
is_our_child() {
    local stat fields
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -r -a fields <<<"${stat##*) }"    # the fields after "(comm) "
    [ "${fields[1]}" = "$$" ]
}

cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        is_our_child "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${STARTED_PIDS[@]}"; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            is_our_child "$pid" || break
            sleep 0.2
        done
        is_our_child "$pid" && kill -KILL "$pid" 2>/dev/null
    done
    [ -n "$CREATED_POLICY" ] && rm -f "$CREATED_POLICY"
    if [ -n "$TMP" ] && [ -d "$TMP" ]; then
        if [ "$KEEP" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Run as root directly, else through sudo when it works without a password.
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
    else return 1
    fi
}

# A free TCP port on 127.0.0.1 (the kernel picks it).
free_port() { python3 -I -S "$DAEMON_CLIENT" free-port; }

# The PID given and all its descendants.
tree_pids() {
    local kid
    echo "$1"
    for kid in $(pgrep -P "$1" 2>/dev/null); do tree_pids "$kid"; done
}

# "RSS_KIB THREADS" summed over a server's processes.
rss_threads() {
    local pid key val _ rss=0 thr=0
    for pid in $(tree_pids "$1"); do
        [ -r "/proc/$pid/status" ] || continue
        while read -r key val _; do
            case $key in
            VmRSS:) rss=$((rss + val)) ;;
            Threads:) thr=$((thr + val)) ;;
            esac
        done <"/proc/$pid/status"
    done
    echo "$rss $thr"
}

# Open sockets of a server, summed over its processes (listening ones too).
sockets_open() {
    local pid n=0 f
    for pid in $(tree_pids "$1"); do
        for f in /proc/"$pid"/fd/*; do
            [[ $(readlink "$f" 2>/dev/null) == socket:* ]] && n=$((n + 1))
        done
    done
    echo "$n"
}

# "CPU_TICKS CONTEXT_SWITCHES" summed over a server's processes and their
# threads: user + system time in clock ticks (/proc/PID/stat, which counts
# every thread, finished ones too) and voluntary + involuntary switches
# (/proc/PID/task/*/status).
cpu_switches() {
    local pid stat f task key val ticks=0 cs=0
    for pid in $(tree_pids "$1"); do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a f <<<"${stat##*) }"    # f[0] is field 3 (state)
        ticks=$((ticks + f[11] + f[12]))  # fields 14 and 15: utime, stime
        for task in /proc/"$pid"/task/*/status; do
            while read -r key val; do
                case $key in
                voluntary_ctxt_switches:|nonvoluntary_ctxt_switches:) cs=$((cs + val)) ;;
                esac
            done <"$task" 2>/dev/null
        done
    done
    echo "$ticks $cs"
}

# Sample rss_threads of server PID $1 every 0.25 s; keep the peaks in $2.
sampler() {
    local pid=$1 out=$2 peak_rss=0 peak_thr=0 rss thr
    while kill -0 "$pid" 2>/dev/null; do
        read -r rss thr < <(rss_threads "$pid")
        [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
        [ "$thr" -gt "$peak_thr" ] && peak_thr=$thr
        echo "$peak_rss $peak_thr" >"$out.new" && mv "$out.new" "$out"
        sleep 0.25
    done
}

# Percentages of the machine's CPU time (all cores, from /proc/stat) over
# the next $1 seconds: busy at normal priority, and busy with niced
# processes (which a benchmark at normal priority mostly pre-empts).  With
# every server idle this is what other processes take from the benchmark.
cpu_busy() {
    local _ u n s i w q sq st t0 i0 n0 t1 i1 n1 dt
    read -r _ u n s i w q sq st _ </proc/stat
    t0=$((u + n + s + i + w + q + sq + st)); i0=$((i + w)); n0=$n
    sleep "$1"
    read -r _ u n s i w q sq st _ </proc/stat
    t1=$((u + n + s + i + w + q + sq + st)); i1=$((i + w)); n1=$n
    dt=$((t1 - t0 > 0 ? t1 - t0 : 1))
    echo "$(( 100 * ((t1 - t0) - (i1 - i0) - (n1 - n0)) / dt )) $(( 100 * (n1 - n0) / dt ))"
}

# Note the background load (servers idle) under label $1.
note_load() {
    local busy niced
    read -r busy niced < <(cpu_busy 1)
    BUSY+=("$1:$busy:$niced")
    if [ "$busy" -gt 10 ]; then
        say "warning: the machine is $busy% busy with every server idle; results will be noisy"
        ps -eo pcpu=,ni=,pid=,comm= --sort=-pcpu | head -n 3 | sed 's/^/bench:     /' >&2
    fi
}

start_bg() {                   # start_bg CMD...: run in the background, remember the PID
    "$@" &
    STARTED_PIDS+=("$!")
    LAST_PID=$!
}

# Stop a process we started (TERM, then KILL after 5 s), reap it and
# forget its PID.  tinyhttpd (DAEMON_PID) is a child of its run-notify.
stop_pid() {
    local pid=$1 p kept=()
    if [ -n "${DAEMON_PID:-}" ] && [ "$pid" = "$DAEMON_PID" ]; then
        kill -TERM "$pid" 2>/dev/null
        pid=$DAEMON_SUP
        daemon_wait_exit 5 || say "tinyhttpd did not stop within 5 s of SIGTERM (killed)"
    elif is_our_child "$pid"; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 50); do
            is_our_child "$pid" || break
            sleep 0.1
        done
        is_our_child "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
    STARTED_PIDS=("${kept[@]}")
    return 0
}

# The temporary directory, the user the servers run as (when we are root),
# and the descriptor limit that scenario f needs: IDLE sockets in the
# client and in the server, and tinyhttpd reserves two per connection.
setup_workdir() {
    local nofile
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/tinyhttpd-bench.XXXXXX")
    chmod 755 "$TMP"
    RUN_USER=""; RUN_GROUP=""
    if [ "$(id -u)" = 0 ] && id -u "$RUN_AS" >/dev/null 2>&1; then
        RUN_USER=$RUN_AS
        RUN_GROUP=$(id -gn "$RUN_AS")
    fi
    ulimit -Hn 65536 2>/dev/null
    ulimit -Sn "$(ulimit -Hn)" 2>/dev/null
    nofile=$(ulimit -Sn)
    [ "$nofile" = unlimited ] && nofile=1048576
    NOFILE=$((nofile < 65536 ? nofile : 65536))    # what the servers are told
    # tinyhttpd takes at most (limit - 128) / 2 connections (two
    # descriptors each, see fit_connections() in src/server.c); leave room
    # for the curl request of scenario f.
    IDLE_NOTE=""
    if [ $(((nofile - 128) / 2 - 64)) -lt "$IDLE" ]; then
        IDLE_NOTE="the open file limit here is $nofile (the hard limit cannot be raised), and tinyhttpd takes at most (limit - 128) / 2 connections, so scenario f holds $(((nofile - 128) / 2 - 64)) instead of $IDLE"
        IDLE=$(((nofile - 128) / 2 - 64))
        say "$IDLE_NOTE"
    fi
}

# ------------------------------------------------------------------ installing

# command -> Debian package; peers are optional, tools are not.
TOOLS="wrk:wrk ab:apache2-utils gnuplot:gnuplot-nox strace:strace pgrep:procps
python3:python3 curl:curl setpriv:util-linux openssl:openssl
autoreconf:autoconf automake:automake make:make gcc:gcc pkg-config:pkg-config
brotli:brotli gzip:gzip"
BUILD_LIBS="libconfig-dev libsystemd-dev libssl-dev"

have_pkg_candidate() {
    local cand
    cand=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p')
    [ -n "$cand" ] && [ "$cand" != "(none)" ]
}

install_packages() {
    local want=() missing_peers=() pair cmd pkg p updated=0
    for pair in $TOOLS; do
        cmd=${pair%%:*}; pkg=${pair#*:}
        command -v "$cmd" >/dev/null || want+=("$pkg")
    done
    for pkg in $BUILD_LIBS; do
        dpkg -s "$pkg" >/dev/null 2>&1 || want+=("$pkg")
    done
    for p in $SERVERS; do
        case $p in
        nginx) [ -x /usr/sbin/nginx ] || want+=("nginx-light|nginx") ;;
        lighttpd)
            [ -x /usr/sbin/lighttpd ] || want+=(lighttpd)
            # HTTPS is a module of its own in Debian.
            [ -e /usr/lib/lighttpd/mod_openssl.so ] || want+=(lighttpd-mod-openssl) ;;
        h2o) [ -x /usr/bin/h2o ] || want+=(h2o) ;;
        esac
    done
    [ ${#want[@]} -eq 0 ] && return 0
    if [ "$NO_INSTALL" = 1 ] || ! command -v apt-get >/dev/null || ! as_root true; then
        say "not installing (${want[*]}): no apt-get, no root, or --no-install"
        return 0
    fi
    # Resolve alternatives and drop what Debian does not have.
    local resolved=() alt found
    for pkg in "${want[@]}"; do
        found=""
        for alt in ${pkg//|/ }; do
            if ! have_pkg_candidate "$alt" && [ $updated = 0 ]; then
                say "apt-get update"
                as_root apt-get update -qq >&2 || true
                updated=1
            fi
            if have_pkg_candidate "$alt"; then found=$alt; break; fi
        done
        if [ -n "$found" ]; then resolved+=("$found")
        else say "package $pkg is not installable here (apt-cache policy: no candidate)"; missing_peers+=("$pkg")
        fi
    done
    [ ${#resolved[@]} -eq 0 ] && return 0
    # Keep the packages' maintainer scripts from starting system services
    # (nginx and h2o would take port 80): a policy-rc.d that denies, for the
    # duration of the install only.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        if as_root sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'; then
            CREATED_POLICY=/usr/sbin/policy-rc.d
        fi
    fi
    say "apt-get install ${resolved[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${resolved[@]}" >&2 || say "apt-get install failed; going on with what is there"
    if [ -n "$CREATED_POLICY" ]; then as_root rm -f "$CREATED_POLICY"; CREATED_POLICY=""; fi
}

check_tools() {
    local pair cmd
    for pair in $TOOLS; do
        cmd=${pair%%:*}
        command -v "$cmd" >/dev/null || die "$cmd is missing (Debian package ${pair#*:})"
    done
}

# ------------------------------------------------------------------ building

# Copy the work tree (tracked and new files, as git lists them; everything
# but build products otherwise), then autoreconf, configure and make it out
# of tree with -O2 -g and no sanitizers.
build_tinyhttpd() {
    local src=$TMP/build/src obj=$TMP/build/obj log=$TMP/build/build.log
    mkdir -p "$src" "$obj"
    say "building tinyhttpd (-O2 -g) in $obj"
    if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
            tar -cf - --null --ignore-failed-read -T - 2>/dev/null) | tar -xf - -C "$src"
    else
        tar -C "$TOP" -cf - --exclude=.git --exclude=./bench/results --exclude='./build*' \
            --exclude='*.o' --exclude='*.a' --exclude=.deps --exclude=autom4te.cache \
            --exclude=./config.status --exclude=./config.h --exclude=./config.log \
            --exclude=./Makefile --exclude=./stamp-h1 --exclude=./src/tinyhttpd . |
            tar -xf - -C "$src"
    fi
    if ! (cd "$src" && autoreconf -fi && cd "$obj" &&
          "$src/configure" CFLAGS='-O2 -g' --disable-sanitizers --disable-tsan &&
          make -j"$CORES" src/tinyhttpd) >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "the build failed (log above)"
    fi
    TINYHTTPD_BIN=$obj/src/tinyhttpd
    TINYHTTPD_VERSION=$("$TINYHTTPD_BIN" -V 2>/dev/null)
    TINYHTTPD_COMMIT=$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)
}

# ------------------------------------------------------------------ site

make_docroot() {
    DOCROOT=$TMP/www
    mkdir -p "$DOCROOT"
    # index.html of exactly 1024 bytes.
    python3 -c '
import sys
head = "<!DOCTYPE html>\n<html><head><title>bench</title></head><body>\n<p>"
tail = "</p>\n</body></html>\n"
sys.stdout.write(head + "x" * (1024 - len(head) - len(tail)) + tail)' >"$DOCROOT/index.html"
    head -c 65536 /dev/urandom >"$DOCROOT/64k.bin"
    head -c 1048576 /dev/urandom >"$DOCROOT/1m.bin"
    [ "$(stat -c %s "$DOCROOT/index.html")" = 1024 ] || die "index.html is not 1 KiB"
    # Scenario k: app.js, 64 KiB of JavaScript-like text (compressible as a
    # real bundle is, made the same way every run), with the siblings a
    # site build makes: app.js.br (brotli -q 11) and app.js.gz (gzip -9).
    python3 -c '
import sys
out, i = [], 0
while sum(map(len, out)) < 65536:
    out.append("export function handler%d(event, ctx) {\n  const v%d = ctx.state[\"key%d\"] || %d;\n"
               "  if (event.type === \"click\" && v%d > %d) { return render(v%d * %d, event.target); }\n"
               "  return null;\n}\n" % (i, i, i % 97, i * 7, i, i % 13, i, i % 5 + 1))
    i += 1
sys.stdout.write("".join(out)[:65536])' >"$DOCROOT/app.js"
    [ "$(stat -c %s "$DOCROOT/app.js")" = 65536 ] || die "app.js is not 64 KiB"
    brotli -f -k -q 11 "$DOCROOT/app.js" || die "brotli failed"
    gzip -f -k -9 "$DOCROOT/app.js" || die "gzip failed"
    chmod -R a+rX "$DOCROOT"
}

# ------------------------------------------------------------------ HTTPS

# The certificate every server gets for HTTPS: a test CA and a leaf for
# 127.0.0.1 and localhost, both ECDSA P-256, signed with SHA-256, made with
# openssl in $TMP/tls.  The key is world-readable (the servers run as
# nobody and this is a throwaway directory).  Also builds no-resume.so (see
# below).  Sets TLS_DIR, TLS_CA, TLS_CERT, TLS_KEY, NORESUME_SO; start_server
# gives every server an HTTPS port (TPORT) once TLS_CERT is set.
make_tls() {
    local d=$TMP/tls
    mkdir -p "$d"
    printf '%s\n' 'subjectAltName = DNS:localhost, IP:127.0.0.1' 'basicConstraints = critical, CA:FALSE' \
        'keyUsage = critical, digitalSignature' 'extendedKeyUsage = serverAuth' >"$d/leaf.ext"
    if ! (cd "$d" &&
          openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
          openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=tinyhttpd bench CA" \
              -addext 'basicConstraints = critical, CA:TRUE' -out ca.pem &&
          openssl ecparam -name prime256v1 -genkey -noout -out key.pem &&
          openssl req -new -key key.pem -subj "/CN=localhost" -out leaf.csr &&
          openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
              -sha256 -extfile leaf.ext -out cert.pem) >"$d/openssl.log" 2>&1; then
        cat "$d/openssl.log" >&2
        die "openssl could not make the test certificate"
    fi
    chmod 644 "$d"/*.pem
    TLS_DIR=$d; TLS_CA=$d/ca.pem; TLS_CERT=$d/cert.pem; TLS_KEY=$d/key.pem
    build_noresume
}

# wrk keeps the TLS session of a connection for the next one it opens on
# the same slot (SSL_clear keeps it), so with `Connection: close` it would
# resume nearly every session instead of making a full handshake.
# no-resume.so, preloaded into wrk, drops that session before each
# handshake, and counts the handshakes and how many of them were resumed
# anyway; wrk prints "NORESUME handshakes=N resumed=M" when it exits.
build_noresume() {
    NORESUME_SO=$TLS_DIR/no-resume.so
    cat >"$TLS_DIR/no-resume.c" <<'EOF'
/* Written by bench/lib.sh: preloaded into wrk so that it makes a full TLS
 * handshake on every connection (no session resumption). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <openssl/ssl.h>

static unsigned long handshakes, resumed;

int SSL_connect(SSL *s)
{
    static int (*real)(SSL *);
    int rc;

    if (real == NULL)
        real = (int (*)(SSL *))dlsym(RTLD_NEXT, "SSL_connect");
    if (real == NULL)
        return -1;
    if (SSL_in_before(s) && SSL_get_session(s) != NULL)
        SSL_set_session(s, NULL);
    rc = real(s);
    if (rc == 1) {
        __atomic_add_fetch(&handshakes, 1, __ATOMIC_RELAXED);
        if (SSL_session_reused(s))
            __atomic_add_fetch(&resumed, 1, __ATOMIC_RELAXED);
    }
    return rc;
}

__attribute__((destructor)) static void report(void)
{
    fprintf(stderr, "NORESUME handshakes=%lu resumed=%lu\n",
            __atomic_load_n(&handshakes, __ATOMIC_RELAXED),
            __atomic_load_n(&resumed, __ATOMIC_RELAXED));
}
EOF
    local ssl_flags
    read -r -a ssl_flags < <(pkg-config --cflags --libs libssl 2>/dev/null || echo -lssl)
    gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$NORESUME_SO" "$TLS_DIR/no-resume.c" \
        "${ssl_flags[@]}" -ldl >"$TLS_DIR/gcc.log" 2>&1 ||
        { cat "$TLS_DIR/gcc.log" >&2; die "no-resume.so does not build (libssl-dev missing?)"; }
}

# Mozilla's "intermediate" TLS 1.2 cipher list (TLS 1.3 suites: OpenSSL's
# defaults everywhere); tinyhttpd's default tls_ciphers is the same list.
TLS_CIPHERS="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

# What a default OpenSSL client (as in wrk) negotiates with HTTPS port $1:
# "TLSv1.3 TLS_AES_256_GCM_SHA384 X25519".
tls_negotiated() {
    openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null |
        awk '/^New, / { sub(",", "", $2); p = $2; c = $NF }
             /^(Server|Peer) Temp Key:/ { k = $4; sub(",", "", k) }
             END { print p, c, k }'
}

# ------------------------------------------------------------------ servers

# Each server gets a state directory (config, logs, pid file) that the user
# it runs as can write.
state_dir() {
    local d=$TMP/$1
    mkdir -p "$d"
    [ -n "$RUN_USER" ] && chown "$RUN_USER" "$d"
    echo "$d"
}

conf_tinyhttpd() {
    local d=$1 port=$2 tport=${3:-}
    cat >"$d/tinyhttpd.conf" <<EOF
# Written by bench/run.
listen = [ "127.0.0.1:$port" ];
document_root = "$DOCROOT";
$([ "${DEFAULTS:-0}" = 1 ] || printf 'pool_size = %s;\ncpu_affinity = true;' "$POOL")
max_connections = $((IDLE + 2048));
keepalive_timeout = $KEEPALIVE;
shutdown_timeout = 2;
access_log = false;
log_target = "stderr";
log_level = "notice";
EOF
    # HTTPS: the defaults (TLS 1.2 and 1.3, Mozilla intermediate ciphers,
    # session tickets on) with the bench certificate.
    [ -n "$tport" ] && cat >>"$d/tinyhttpd.conf" <<EOF
tls_listen = [ "127.0.0.1:$tport" ];
tls_certificate = "$TLS_CERT";
tls_certificate_key = "$TLS_KEY";
EOF
    CMD=("$TINYHTTPD_BIN" -c "$d/tinyhttpd.conf")
}

conf_nginx() {
    local d=$1 port=$2 tport=${3:-} tls=""
    mkdir -p "$d/tmp"
    [ -n "$RUN_USER" ] && chown "$RUN_USER" "$d/tmp"
    # HTTPS as Mozilla's generator writes it for nginx ("intermediate"):
    # TLS 1.2 and 1.3, its cipher list, a shared session cache, no tickets.
    [ -n "$tport" ] && tls="
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers $TLS_CIPHERS;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;
    server {
        listen 127.0.0.1:$tport ssl;
        ssl_certificate $TLS_CERT;
        ssl_certificate_key $TLS_KEY;
        root $DOCROOT;
        index index.html;
    }"
    cat >"$d/nginx.conf" <<EOF
# Written by bench/run.
worker_processes auto;
worker_cpu_affinity auto;
pid $d/nginx.pid;
error_log $d/error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections $((IDLE + 2048)); }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout ${KEEPALIVE}s;
    keepalive_requests 1000000;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    # scenario k: app.js.gz for clients that accept gzip (Debian builds
    # gzip_static in; there is no brotli_static module in Debian).
    gzip_static on;
    server {
        listen 127.0.0.1:$port;
        root $DOCROOT;
        index index.html;
    }$tls
}
EOF
    CMD=(/usr/sbin/nginx -p "$d" -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;')
}

conf_lighttpd() {
    local d=$1 port=$2 tport=${3:-}
    cat >"$d/lighttpd.conf" <<EOF
# Written by bench/run.  Defaults otherwise ("as it comes"), except the
# keep-alive limits (requests per connection, idle seconds) and the
# descriptor limit, which would otherwise end wrk's connections or refuse
# scenario f.
server.bind = "127.0.0.1"
server.port = $port
server.document-root = "$DOCROOT"
server.errorlog = "$d/error.log"
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = $KEEPALIVE
server.max-fds = $NOFILE
server.max-connections = $((IDLE + 2048 < NOFILE / 2 ? IDLE + 2048 : NOFILE / 2))
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html", ".bin" => "application/octet-stream",
                    ".js" => "text/javascript" )
EOF
    # HTTPS with mod_openssl as Mozilla's generator writes it for lighttpd
    # ("intermediate"); session tickets and the session cache as they come.
    [ -n "$tport" ] && cat >>"$d/lighttpd.conf" <<EOF
server.modules += ( "mod_openssl" )
\$SERVER["socket"] == "127.0.0.1:$tport" {
    ssl.engine = "enable"
    ssl.pemfile = "$TLS_CERT"
    ssl.privkey = "$TLS_KEY"
    ssl.openssl.ssl-conf-cmd = ( "MinProtocol" => "TLSv1.2", "Options" => "-ServerPreference",
                                 "CipherString" => "$TLS_CIPHERS" )
}
EOF
    CMD=(/usr/sbin/lighttpd -D -f "$d/lighttpd.conf")
}

conf_h2o() {
    local d=$1 port=$2 tport=${3:-} tls=""
    # HTTPS: a second listener for the one host; session resumption as it
    # comes (internal cache and tickets), TLS 1.2 at least, Mozilla's list.
    [ -n "$tport" ] && tls="
    listen:
      host: 127.0.0.1
      port: $tport
      ssl:
        certificate-file: $TLS_CERT
        key-file: $TLS_KEY
        minimum-version: TLSv1.2
        cipher-suite: \"$TLS_CIPHERS\"
        cipher-preference: client"
    cat >"$d/h2o.conf" <<EOF
# Written by bench/run.
listen:
  host: 127.0.0.1
  port: $port
num-threads: $CORES
max-connections: $((IDLE + 2048))
http1-request-timeout: $KEEPALIVE
pid-file: $d/h2o.pid
error-log: $d/error.log
hosts:
  default:$tls
    paths:
      /:
        file.dir: $DOCROOT
        file.send-compressed: ON
EOF
    CMD=(/usr/bin/h2o -c "$d/h2o.conf")
}

# The HTTPS port $2 of server $1 answers the 1 KiB file with the bench
# certificate (curl verifies it against the bench CA); notes in TLS_INFO
# what a default OpenSSL client negotiates there.
https_ready() {
    local name=$1 tport=$2 code=""
    for _ in $(seq 50); do
        code=$(curl -s -o /dev/null -w '%{http_code}:%{size_download}' --max-time 2 \
            --cacert "$TLS_CA" "https://127.0.0.1:$tport/index.html" 2>/dev/null)
        [ "$code" = "200:1024" ] && break
        sleep 0.1
    done
    if [ "$code" != "200:1024" ]; then
        say "$name does not answer over HTTPS on port $tport (curl: ${code:-nothing})"
        return 1
    fi
    TPORT[$name]=$tport
    TLS_INFO[$name]=$(tls_negotiated "$tport")
    return 0
}

server_version() {
    case $1 in
    tinyhttpd) echo "$TINYHTTPD_VERSION ($TINYHTTPD_COMMIT)" ;;
    nginx) /usr/sbin/nginx -v 2>&1 | sed 's/.*: //' ;;
    lighttpd) /usr/sbin/lighttpd -v 2>&1 | sed -n '1s/ .*//p' ;;
    h2o) /usr/bin/h2o --version 2>&1 | head -n 1 | sed 's/ version /\//' ;;
    esac
}

server_installed() {
    case $1 in
    tinyhttpd) [ -x "$TINYHTTPD_BIN" ] ;;
    nginx) [ -x /usr/sbin/nginx ] ;;
    lighttpd) [ -x /usr/sbin/lighttpd ] ;;
    h2o) [ -x /usr/bin/h2o ] ;;
    *) return 1 ;;
    esac
}

declare -A PORT TPORT TLS_INFO PID RSS_START SOCKETS_START

# Start server $1 and wait until it answers (over HTTPS too when TLS_CERT
# is set); 1 if it does not.
start_server() {
    local name=$1 d port tport="" code
    d=$(state_dir "$name")
    port=$(free_port)
    [ -n "${TLS_CERT:-}" ] && tport=$(free_port)
    "conf_$name" "$d" "$port" "$tport"
    if [ -n "$RUN_USER" ]; then
        CMD=(setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups -- "${CMD[@]}")
    fi
    if [ "$name" = tinyhttpd ]; then
        : >"$d/stdout.log"
        rm -f "$d/ctl"             # the FIFO of an earlier start (scenario j starts again)
        if ! PYTHON3=python3 daemon_spawn "$d/stderr.log" "$d/notify.log" "$d/ctl" 20 "${CMD[@]}"; then
            say "tinyhttpd could not be started: $DAEMON_LINE"
            return 1
        fi
        STARTED_PIDS+=("$DAEMON_SUP")
        PID[$name]=$DAEMON_PID
        if ! daemon_ready 25 >&2; then
            daemon_reap
            tail -n 20 "$d/stderr.log" >&2
            say "tinyhttpd did not report READY=1 (exit status ${DAEMON_EXIT:-none})"
            return 1
        fi
    else
        start_bg "${CMD[@]}" >"$d/stdout.log" 2>"$d/stderr.log" </dev/null
        PID[$name]=$LAST_PID
    fi
    PORT[$name]=$port
    for _ in $(seq 100); do
        if ! kill -0 "${PID[$name]}" 2>/dev/null; then
            cat "$d"/stderr.log "$d"/error.log 2>/dev/null | tail -n 20 >&2
            return 1
        fi
        code=$(curl -s -o /dev/null -w '%{http_code}:%{size_download}' --max-time 1 \
            "http://127.0.0.1:$port/index.html" 2>/dev/null)
        if [ "$code" = "200:1024" ]; then
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
                "http://127.0.0.1:$port/missing.html")
            if [ "$code" != 404 ]; then
                say "$name answers $code, not 404, for a missing file"
                return 1
            fi
            if [ -n "$tport" ] && ! https_ready "$name" "$tport"; then
                cat "$d"/stderr.log "$d"/error.log 2>/dev/null | tail -n 20 >&2
                return 1
            fi
            read -r RSS_START["$name"] _ < <(rss_threads "${PID[$name]}")
            SOCKETS_START[$name]=$(sockets_open "${PID[$name]}")
            say "$name $(server_version "$name") on 127.0.0.1:$port${tport:+, HTTPS on $tport (${TLS_INFO[$name]})} (PID ${PID[$name]})"
            return 0
        fi
        sleep 0.1
    done
    say "$name does not answer on port $port"
    return 1
}

