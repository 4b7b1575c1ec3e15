# abuselib.sh - shared code for tests/abuse/a_*.sh (sourced; bash).  Not a
# test itself.
#
# The abuse tests reuse the integration harness (tests/integration/lib.sh:
# th_init, th_conf, th_start, th_bg_*, th_poll, ...; the same environment:
# TINYHTTPD, TOP_BUILDDIR, srcdir, PYTHON3; exit 0, 1 or 77) and drive the
# daemon with the hostile clients of the one test client,
# tests/integration/client.py.  Everything is on loopback and bounded in
# time.
#
# Under a sanitizer build (ASan keeps freed memory in quarantine and pads
# every allocation) the resident-memory bounds cannot hold, so they are
# printed but not enforced; descriptor and thread counts, statuses and byte
# checks are enforced everywhere.  Time bounds are multiplied by AB_SLOW.

AB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$AB_DIR/../integration/lib.sh"
AB_CLIENT=$TH_CLIENT         # the one test client, as ab_py and ab_bg run it

# ASan/UBSan/TSan or valgrind builds: memory figures are informational.
AB_SANITIZED=0
if grep -qaE '__(asan|tsan|msan)_init' "$TINYHTTPD" 2>/dev/null; then AB_SANITIZED=1; fi
# ThreadSanitizer's runtime has a thread of its own.
# shellcheck disable=SC2034  # used by the tests
{
    AB_EXTRA_THREADS=0
    if grep -qa '__tsan_init' "$TINYHTTPD" 2>/dev/null; then AB_EXTRA_THREADS=1; fi
}
# How much slower than a plain -O2 build the daemon may be.
if [ -n "${AB_SLOW:-}" ]; then :; elif [ "$AB_SANITIZED" = 1 ]; then AB_SLOW=3; else AB_SLOW=1; fi

# ab_py SUBCOMMAND ARGS...: run the abuse client in the foreground.
ab_py() { "$PYTHON3" -I -S "$AB_CLIENT" "$@"; }

# ab_bg NAME SUBCOMMAND ARGS...: run the abuse client in the background
# (its output is read with th_bg_expect NAME ...).
ab_bg() {
    local name=$1
    shift
    th_bg_start "$name" "$PYTHON3" -I -S "$AB_CLIENT" "$@" --port "$TH_PORT"
}

# ab_bg_done NAME SECONDS: read NAME's output up to its DONE line; the
# values are then in TH_BG_OUT for th_bg_val (which sees only this client's
# lines).  Returns 1 on timeout.
ab_bg_done() {
    TH_BG_OUT=()
    th_bg_expect "$1" '^DONE' "$2"
}

# ab_nofile N: raise the soft open-file limit to N (or the hard limit);
# prints the resulting soft limit.
ab_nofile() {
    local want=$1 hard
    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
    ulimit -n "$want" 2>/dev/null || true
    ulimit -n
}

ab_status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$TH_DPID/status"; }
ab_rss_kb() { ab_status_kb VmRSS; }
ab_hwm_kb() { ab_status_kb VmHWM; }

# ab_settled_rss_kb: VmRSS once two readings 300 ms apart agree within
# 16 KiB (or after 5 s).
ab_settled_rss_kb() {
    local a b i
    a=$(ab_rss_kb)
    for i in $(seq 1 16); do
        sleep 0.3
        b=$(ab_rss_kb)
        if [ $((b > a ? b - a : a - b)) -le 16 ]; then break; fi
        a=$b
    done
    echo "$b"
}

ab_alive() { [ -n "$TH_DPID" ] && kill -0 "$TH_DPID" 2>/dev/null && ! th__gone "$TH_DPID"; }

# ab_mem_le DESCRIPTION VALUE BOUND: th_le, but only reported under a
# sanitizer build.
ab_mem_le() {
    if [ "$AB_SANITIZED" = 1 ]; then
        echo "# (sanitizer build: not enforced) $1: $2 vs bound $3"
    else
        th_le "$1" "$2" "$3"
    fi
}

# ab_ms_le DESCRIPTION MS BOUND: a time bound, scaled by AB_SLOW.
ab_ms_le() { th_le "$1 (ms)" "$2" $(($3 * AB_SLOW)); }

# ab_quick_get NAME PATH [MAX_MS]: a GET that must be answered with 200
# within MAX_MS (default 1000, scaled); prints the time.
ab_quick_get() {
    local name=$1 path=$2 max=${3:-1000} code secs ms
    th_get "$name" "$path" -w '%{http_code} %{time_total}' --max-time 10
    read -r code secs <"$TH_TMP/resp/$name/code" || true
    ms=$(awk -v s="${secs:-99}" 'BEGIN { printf "%d", s * 1000 }')
    echo "# $name: GET $path: HTTP ${code:-none} in $ms ms"
    th_eq "$name: GET $path answered 200" 200 "${code:-none}"
    ab_ms_le "$name: answered promptly" "$ms" "$max"
}

# ---------------------------------------------------------------- HTTPS

# ab_tls_setup: after th_init, make a test CA and a leaf certificate for
# localhost and 127.0.0.1 (ECDSA P-256) in $TH_TMP/tls, pick a second free
# port AB_TLS_PORT, and set AB_TLS_CONF to the configuration lines that
# serve HTTPS there (pass "${AB_TLS_CONF[@]}" to th_conf).  AB_CA is the CA
# certificate for the clients (curl --cacert, client.py tls-* --cafile).
# Skips the test when the daemon was built without OpenSSL.
ab_tls_setup() {
    local d=$TH_TMP/tls
    command -v openssl >/dev/null 2>&1 || th_skip "openssl not found"
    "$TINYHTTPD" --print-keys 2>/dev/null | grep -q '^tls_listen' ||
        th_skip "the daemon was built without OpenSSL"
    th_test_ca "$d"
    th_test_leaf leaf
    AB_CA=$d/ca.pem
    while :; do
        AB_TLS_PORT=$(th_free_port)
        [ "$AB_TLS_PORT" != "$TH_PORT" ] && break
    done
    AB_TLS_CONF=("tls_listen = [ \"127.0.0.1:$AB_TLS_PORT\" ];"
        "tls_certificate = \"$d/leaf.pem\";" "tls_certificate_key = \"$d/leaf.key\";")
}

# ab_tls_py SUBCOMMAND ARGS...: a client.py tls-* subcommand against the
# HTTPS port, in the foreground; ab_tls_bg NAME SUBCOMMAND ARGS...: in the
# background (read with ab_bg_done / th_bg_val).
ab_tls_py() {
    local cmd=$1
    shift
    ab_py "$cmd" --port "$AB_TLS_PORT" --cafile "$AB_CA" "$@"
}
ab_tls_bg() {
    local name=$1 cmd=$2
    shift 2
    th_bg_start "$name" "$PYTHON3" -I -S "$AB_CLIENT" "$cmd" --port "$AB_TLS_PORT" --cafile "$AB_CA" "$@"
}

# ab_tls_get NAME PATH [MAX_MS]: ab_quick_get over HTTPS (curl --cacert).
ab_tls_get() {
    local name=$1 path=$2 max=${3:-1000} out code secs ms
    out=$(th_curl --cacert "$AB_CA" -o /dev/null -w '%{http_code} %{time_total}' \
        "https://localhost:$AB_TLS_PORT$path" --resolve "localhost:$AB_TLS_PORT:127.0.0.1" 2>&1) || true
    read -r code secs <<<"$out" || true
    ms=$(awk -v s="${secs:-99}" 'BEGIN { printf "%d", s * 1000 }')
    echo "# $name: GET https://localhost$path: HTTP ${code:-none} in $ms ms"
    th_eq "$name: GET $path over HTTPS answered 200" 200 "${code:-none}"
    ab_ms_le "$name: answered promptly over HTTPS" "$ms" "$max"
}

# ab_sample_until_gone NAME: until background client NAME has exited, sample
# the daemon's threads and descriptors every 0.1 s: tmin and tmax (starting
# from threads0), fmax, and the number of samples.
ab_sample_until_gone() {
    local t f
    tmin=$threads0 tmax=$threads0 fmax=0 samples=0
    while ! th__gone "${TH_BG_PID[$1]}"; do
        t=$(th_threads)
        f=$(th_fds)
        [ "$t" -ge "$tmin" ] || tmin=$t
        [ "$t" -le "$tmax" ] || tmax=$t
        [ "$f" -le "$fmax" ] || fmax=$f
        samples=$((samples + 1))
        sleep 0.1
    done
}
