# lib.sh - shared code for tests/integration/t_*.sh (sourced; bash).
#
# Each test starts the real daemon ($TINYHTTPD) on a free loopback port with
# its own configuration and document root under a fresh directory in
# $TOP_BUILDDIR/tests/tmp, talks to it with client.py (raw sockets) and curl,
# and exits 0 (pass), 1 (fail) or 77 (skip: a required tool is absent).
#
# The daemon is started by daemon_spawn (tests/integration/daemon.sh, shared
# with script/robustness and bench/): readiness comes from sd_notify, through
# client.py run-notify, which owns the notify socket, starts the daemon, and
# reports PID / READY / EXIT lines through a FIFO that is read with `read -t`,
# so no wait here is unbounded and none is a fixed sleep.  Other conditions
# are polled with a deadline (th_poll).  TINYHTTPD_WRAPPER="valgrind ..." (or
# strace ...) runs every daemon of the test under that wrapper (see
# daemon.sh); TH_READY_TIMEOUT is then 60 s unless set.
#
# The EXIT trap kills only the processes this test started (by PID), prints
# the daemon's logs when the test failed, and removes the temporary directory
# (set TH_KEEP=1 to keep it).

set -eu
export LC_ALL=C

TH_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TH_NAME=$(basename "$0" .sh)
: "${TOP_BUILDDIR:=$(cd "$TH_LIBDIR/../.." && pwd)}"
: "${TINYHTTPD:=$TOP_BUILDDIR/src/tinyhttpd}"
: "${PYTHON3:=}"
[ -n "$PYTHON3" ] || PYTHON3=$(command -v python3 || echo python3)
. "$TH_LIBDIR/daemon.sh"
TH_CLIENT=$DAEMON_CLIENT       # the one test client (tests/integration/client.py)
if [ -n "${TINYHTTPD_WRAPPER:-}" ]; then TH_READY_TIMEOUT=${TH_READY_TIMEOUT:-60}; fi
TH_READY_TIMEOUT=${TH_READY_TIMEOUT:-10}
TH_SETPRIV=$(command -v setpriv || true)
if [ -n "$TH_SETPRIV" ] && ! "$TH_SETPRIV" --pdeathsig KILL -- true 2>/dev/null; then TH_SETPRIV=; fi

TH_FAILS=0
TH_CHECKS=0
TH_TMP=
TH_PORT=
TH_CONF=
TH_CONF_EXTRA=()
TH_NDAEMON=0
TH_LOG=
TH_NOTIFY_LOG=
TH_DPID=          # the daemon, while it runs (DAEMON_PID of daemon.sh)
TH_DEXIT=         # exit status of the last daemon (DAEMON_EXIT)
TH_STOP_MS=       # how long the last th_stop / th_wait_exit took
TH_STDERR_ALLOW=  # ERE of [warning]..[emerg] lines a test expects
declare -A TH_BG_PID=() TH_BG_FD=()
TH_BG_LINE=
TH_BG_OUT=()
TH_BG_RC=

# ---------------------------------------------------------------- reporting

# A check that fails in a subshell (a command substitution, a pipeline)
# cannot raise TH_FAILS in the test's shell: it leaves a line in this file,
# which th_done and the EXIT trap count.
th__subfail() {
    [ "$BASHPID" = "$$" ] || [ -z "$TH_TMP" ] || echo "$1" >>"$TH_TMP/subshell-fails" 2>/dev/null || true
}

th__count_subfails() {
    local n=0
    if [ -n "$TH_TMP" ] && [ -f "$TH_TMP/subshell-fails" ]; then
        n=$(wc -l <"$TH_TMP/subshell-fails")
        rm -f "$TH_TMP/subshell-fails"
    fi
    TH_FAILS=$((TH_FAILS + n))
}

th_ok() {
    TH_CHECKS=$((TH_CHECKS + 1))
    printf 'ok - %s\n' "$1"
}

# th_fail DESCRIPTION [CONTEXT LINE...]
th_fail() {
    TH_CHECKS=$((TH_CHECKS + 1))
    TH_FAILS=$((TH_FAILS + 1))
    th__subfail "$1"
    printf 'FAIL - %s\n' "$1"
    shift
    local l
    for l in "$@"; do printf '    %s\n' "$l"; done
}

th_fatal() {
    th_fail "$@"
    exit 1
}

th_skip() {
    printf 'SKIP: %s\n' "$1"
    exit 77
}

# Several daemons at a time: lib.sh's th_* calls act on one, so a test keeps
# the state of each under a name of its own and swaps it in (th_use NAME)
# and out (th_keep NAME) around them.
declare -A TH_KEPT=()
TH_DAEMON_VARS="DAEMON_PID DAEMON_SUP DAEMON_CTL DAEMON_EXIT TH_DPID TH_DEXIT TH_LOG TH_NOTIFY_LOG"
th_keep() {
    local v
    for v in $TH_DAEMON_VARS; do TH_KEPT[$1.$v]=${!v}; done
}
th_use() {
    local v
    for v in $TH_DAEMON_VARS; do printf -v "$v" '%s' "${TH_KEPT[$1.$v]-}"; done
}

# th_shim NAME: build the LD_PRELOAD shim tests/shim/NAME.c with $CC into
# $TH_TMP (after th_init) and set TH_SHIM to it; skip the test without a C
# compiler.  An ASan runtime wants to be first among the libraries: the
# shim wraps one call, so let it come first.
th_shim() {
    local cc=${CC:-cc} src=${srcdir:-$TH_LIBDIR/../..}/tests/shim/$1.c
    TH_SHIM=$TH_TMP/$1.so
    command -v "$cc" >/dev/null 2>&1 || th_skip "no C compiler ($cc) to build the $1 shim"
    "$cc" -Wall -Wextra -shared -fPIC -o "$TH_SHIM" "$src" -ldl >"$TH_TMP/cc.out" 2>&1 ||
        th_fatal "could not build the $1 shim" "$(cat "$TH_TMP/cc.out")"
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
}

# th_check DESCRIPTION COMMAND...: pass if the command succeeds.
th_check() {
    local desc=$1
    shift
    if "$@"; then th_ok "$desc"; else th_fail "$desc" "command failed: $*"; fi
}

# th_eq DESCRIPTION EXPECTED ACTUAL
th_eq() {
    if [ "$2" = "$3" ]; then th_ok "$1"; else th_fail "$1" "expected: '$2'" "got:      '$3'"; fi
}

# th_match DESCRIPTION ERE ACTUAL
th_match() {
    if [[ $3 =~ $2 ]]; then th_ok "$1"; else th_fail "$1" "expected to match: $2" "got: '$3'"; fi
}

th_nomatch() {
    if [[ $3 =~ $2 ]]; then th_fail "$1" "expected NOT to match: $2" "got: '$3'"; else th_ok "$1"; fi
}

# th_le DESCRIPTION A B: integer A <= B
th_le() {
    if [ "$2" -le "$3" ]; then th_ok "$1 ($2 <= $3)"; else th_fail "$1" "expected $2 <= $3"; fi
}

# ---------------------------------------------------------------- time

th_now_ms() { daemon_now_ms; }

# th_poll SECONDS COMMAND...: run COMMAND every 50 ms until it succeeds or
# SECONDS (an integer) have passed.
th_poll() {
    local deadline=$(($(th_now_ms) + ${1%.*} * 1000))
    shift
    while :; do
        if "$@"; then return 0; fi
        [ "$(th_now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# th_readline FD VAR DEADLINE_MS: read one line from FD before the deadline.
th_readline() { daemon_readline "$@"; }

# ---------------------------------------------------------------- setup

th_free_port() { "$PYTHON3" -I -S "$TH_CLIENT" free-port "$@"; }

th_init() {
    [ -x "$TINYHTTPD" ] || th_fatal "TINYHTTPD=$TINYHTTPD is not an executable file"
    command -v "$PYTHON3" >/dev/null 2>&1 || th_skip "python3 not found"
    # the interpreter itself, not a wrapper script (pyenv shims cost 0.2 s a call)
    PYTHON3=$("$PYTHON3" -I -S -c 'import sys; print(sys.executable)')
    command -v curl >/dev/null 2>&1 || th_skip "curl not found"
    # TH_TMPBASE: where the test's directory goes (a test whose daemon drops
    # privileges sets it to a directory that user can reach)
    local base=${TH_TMPBASE:-$TOP_BUILDDIR/tests/tmp}
    mkdir -p "$base"
    TH_TMP=$(mktemp -d "$base/$TH_NAME.XXXXXX")
    TH_ROOT=$TH_TMP/root
    TH_OUTSIDE=$TH_TMP/outside
    mkdir -p "$TH_ROOT/sub" "$TH_ROOT/noindex" "$TH_ROOT/.well-known/acme-challenge" \
        "$TH_OUTSIDE" "$TH_TMP/resp"
    (
        cd "$TH_ROOT"
        printf '<!DOCTYPE html>\n<html><body>th-index-root</body></html>\n' >index.html
        yes 'tinyhttpd integration test, file.txt' | head -c 1024 >file.txt
        head -c 1048576 /dev/urandom >big.bin
        printf '<html><body>th-index-sub</body></html>\n' >sub/index.html
        printf 'th-noindex-a\n' >noindex/a.txt
        printf 'th-secret-dotfile\n' >.secret
        printf 'th-secret-hidden\n' >sub/.hidden
        printf 'th-acme-token\n' >.well-known/acme-challenge/token
        printf 'th-space-name\n' >'with space.txt'
        printf 'th-utf8-name\n' >$'caf\xc3\xa9-\xc3\xbc.txt'
        printf 'th-noext\n' >README
        ln -s file.txt link-in.txt
        ln -s ../outside/secret.txt link-out.txt
        ln -s "$TH_OUTSIDE/secret.txt" link-out-abs.txt
        ln -s ../outside linkdir-out
        printf 'th-outside-secret\n' >"$TH_OUTSIDE/secret.txt"
    )
    TH_PORT=$(th_free_port)
    export TH_PORT
}

# th_test_ca DIR: a test CA (ECDSA P-256, 30 days) in DIR/ca.key and
# DIR/ca.pem, for th_test_leaf; openssl's messages go to DIR/openssl.log.
th_test_ca() {
    TH_PKI=$1
    mkdir -p "$TH_PKI"
    th__ossl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$TH_PKI/ca.key" -out "$TH_PKI/ca.pem" -days 30 -subj "/CN=tinyhttpd test CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$TH_PKI/ext"
}

# th_test_leaf NAME [ec|rsa] [DAYS] [SERIAL]: a certificate for localhost and
# 127.0.0.1 signed by th_test_ca's CA: $TH_PKI/NAME.key, NAME.crt, and
# NAME.pem (the certificate, then the CA: a chain as tls_certificate takes
# it).  Fails the test when openssl does.
th_test_leaf() {
    local name=$1 alg=${2:-ec} days=${3:-30} serial=${4:-0x1001}
    case $alg in
    ec) th__ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TH_PKI/$name.key" ;;
    rsa) th__ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TH_PKI/$name.key" ;;
    esac
    th__ossl req -new -key "$TH_PKI/$name.key" -subj "/CN=localhost" -out "$TH_PKI/$name.csr"
    th__ossl x509 -req -in "$TH_PKI/$name.csr" -CA "$TH_PKI/ca.pem" -CAkey "$TH_PKI/ca.key" \
        -set_serial "$serial" -days "$days" -extfile "$TH_PKI/ext" -out "$TH_PKI/$name.crt"
    cat "$TH_PKI/$name.crt" "$TH_PKI/ca.pem" >"$TH_PKI/$name.pem"
    [ -s "$TH_PKI/$name.crt" ] ||
        th_fatal "could not make the test certificate $name" "$(tail -n 5 "$TH_PKI/openssl.log")"
}

th__ossl() { openssl "$@" 2>>"$TH_PKI/openssl.log" >/dev/null; }

# A custom error page for tests that ask for one.
th_add_404() {
    printf '<!DOCTYPE html>\n<html><body>th-custom-404</body></html>\n' >"$TH_ROOT/404.html"
}

# th_conf [LINE...]: write $TH_CONF listening on 127.0.0.1:$TH_PORT with
# document_root $TH_ROOT and the given extra lines.
th_conf() {
    TH_CONF_EXTRA=("$@")
    th__write_conf
}

th__write_conf() {
    TH_CONF=$TH_TMP/tinyhttpd.conf
    {
        printf '# written by %s\n' "$TH_NAME"
        printf 'listen = [ "127.0.0.1:%s" ];\n' "$TH_PORT"
        printf 'document_root = "%s";\n' "$TH_ROOT"
        local l
        for l in "${TH_CONF_EXTRA[@]}"; do printf '%s\n' "$l"; done
    } >"$TH_CONF"
}

# ---------------------------------------------------------------- the daemon

# th_spawn [COMMAND...]: start the daemon (default: $TINYHTTPD -c $TH_CONF)
# with daemon_spawn; sets TH_DPID, TH_LOG (its stdout and stderr) and
# TH_NOTIFY_LOG.  Then th_ready.
th_spawn() {
    local -a cmd
    if [ $# -gt 0 ]; then cmd=("$@"); else cmd=("$TINYHTTPD" -c "$TH_CONF"); fi
    TH_NDAEMON=$((TH_NDAEMON + 1))
    TH_LOG=$TH_TMP/daemon.$TH_NDAEMON.log
    TH_NOTIFY_LOG=$TH_TMP/notify.$TH_NDAEMON.log
    : >"$TH_LOG"
    : >"$TH_NOTIFY_LOG"
    if daemon_spawn "$TH_LOG" "$TH_NOTIFY_LOG" "$TH_TMP/ctl.$TH_NDAEMON" "$TH_READY_TIMEOUT" "${cmd[@]}"; then
        th__sync
    else
        th__sync
        th_fatal "could not start the daemon: ${DAEMON_LINE:-no answer from run-notify}" "command: ${DAEMON_CMD[*]}"
    fi
}

th__sync() {
    TH_DPID=$DAEMON_PID
    TH_DEXIT=$DAEMON_EXIT
}

# th_ready: wait for READY=1.  Returns 1 if the daemon exits first (status
# in TH_DEXIT); fatal if neither happens in time.
th_ready() {
    local rc=0
    daemon_ready $((TH_READY_TIMEOUT + 5)) || rc=$?
    th__sync
    case $rc in
    0)
        echo "# daemon $TH_NDAEMON ready: pid $TH_DPID, port $TH_PORT"
        return 0
        ;;
    1) return 1 ;;
    esac
    daemon_reap
    th__sync
    th_fatal "daemon did not report READY=1 within ${TH_READY_TIMEOUT}s"
}

# th_start [COMMAND...]: th_spawn and th_ready; fatal if the daemon exits
# before READY=1.  With the default command, a port taken by another process
# in the meantime is retried on a new port.
th_start() {
    local attempt
    for attempt in 1 2 3; do
        th_spawn "$@"
        th_ready && return 0
        if [ $# -eq 0 ] && grep -q 'in use' "$TH_LOG"; then
            echo "# port $TH_PORT was taken meanwhile; retrying on another port"
            TH_PORT=$(th_free_port)
            th__write_conf
            continue
        fi
        th_fatal "daemon exited with status $TH_DEXIT before READY=1"
    done
    th_fatal "no free port for the daemon after $attempt attempts"
}

th_signal() { kill -"$1" "$TH_DPID"; }

# th_wait_exit SECONDS: wait for the daemon to exit; sets TH_DEXIT and
# TH_STOP_MS (time waited).  Returns 1 (daemon killed) on timeout.
th_wait_exit() {
    local t0 rc=0
    t0=$(th_now_ms)
    daemon_wait_exit "$1" || rc=$?
    TH_STOP_MS=$(($(th_now_ms) - t0))
    th__sync
    return "$rc"
}

# th_stop [EXPECTED_STATUS] [SECONDS]: SIGTERM, wait for the exit, check the
# status and that stderr holds no unexpected warnings or errors.
th_stop() {
    local want=${1:-0} limit=${2:-10}
    th_signal TERM || true
    if th_wait_exit "$limit"; then
        th_eq "daemon exits with status $want after SIGTERM (${TH_STOP_MS} ms)" "$want" "$TH_DEXIT"
    else
        th_fail "daemon did not exit within ${limit}s of SIGTERM (killed)"
    fi
    th_stderr_clean
}

# th_stderr_clean [LOG]: no [warning]..[emerg] line (other than those matching
# $TH_STDERR_ALLOW) and no sanitizer report.
th_stderr_clean() {
    local log=${1:-$TH_LOG} bad
    bad=$(grep -aE '\[(warning|err|crit|alert|emerg)\]|AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:' "$log" |
        { if [ -n "$TH_STDERR_ALLOW" ]; then grep -aEv "$TH_STDERR_ALLOW"; else cat; fi; } || true)
    if [ -z "$bad" ]; then
        th_ok "no unexpected warnings or errors in $(basename "$log")"
    else
        local -a lines
        mapfile -t lines <<<"$bad"
        th_fail "unexpected warnings or errors in $(basename "$log")" "${lines[@]}"
    fi
}

# th_wait_log ERE [SECONDS] [FILE]: poll the daemon log until a line matches.
th_wait_log() {
    th_poll "${2:-5}" grep -aqE -- "$1" "${3:-$TH_LOG}"
}

th_threads() { awk '/^Threads:/ { print $2 }' "/proc/$TH_DPID/status"; }
th_fds() { ls "/proc/$TH_DPID/fd" | wc -l; }

# ---------------------------------------------------------------- clients

th_curl() { curl -sS --max-time 10 "$@"; }

# th_req NAME [client.py request OPTIONS] STEP...: raw request(s); the
# responses are saved under NAME for th_status, th_hdr, th_body, th_sum.
th_req() {
    local name=$1 dir
    shift
    dir=$TH_TMP/resp/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    if ! "$PYTHON3" -I -S "$TH_CLIENT" request --port "$TH_PORT" --save "$dir" "$@" >"$dir/out" 2>&1; then
        echo "# client.py request $name failed:"
        sed 's/^/#   /' "$dir/out"
        echo "end clienterror" >>"$dir/summary"
    fi
}

# th_get NAME PATH [CURL OPTIONS...]: GET with curl, saved like th_req.
th_get() {
    local name=$1 path=$2 dir
    shift 2
    dir=$TH_TMP/resp/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    th_curl -D "$dir/1.head" -o "$dir/1.body" -w '%{http_code}' "$@" \
        "http://127.0.0.1:$TH_PORT$path" >"$dir/code" 2>"$dir/curl.err" || true
    [ -f "$dir/1.head" ] || : >"$dir/1.head"
    [ -f "$dir/1.body" ] || : >"$dir/1.body"
    printf 'curl %s\n' "$(cat "$dir/curl.err")" >"$dir/summary"
}

th_body() { echo "$TH_TMP/resp/$1/${2:-1}.body"; }

th_status() {
    local f=$TH_TMP/resp/$1/${2:-1}.head
    if [ -s "$f" ]; then head -n 1 "$f" | awk '{ print $2 }'; else echo none; fi
}

# th_hdr NAME HEADER [N]: the value of the first HEADER field of response N.
th_hdr() {
    local f=$TH_TMP/resp/$1/${3:-1}.head
    [ -f "$f" ] || return 0
    tr -d '\r' <"$f" | awk -v h="$2" 'NR > 1 {
        i = index($0, ":"); if (i == 0) next
        if (tolower(substr($0, 1, i - 1)) == tolower(h)) {
            v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/[ \t]+$/, "", v); print v; exit
        } }'
}

th_hdr_count() {
    local f=$TH_TMP/resp/$1/${3:-1}.head
    [ -f "$f" ] || { echo 0; return 0; }
    tr -d '\r' <"$f" | awk -v h="$2" 'BEGIN { n = 0 } NR > 1 {
        i = index($0, ":"); if (i && tolower(substr($0, 1, i - 1)) == tolower(h)) n++ }
        END { print n }'
}

# th_sum NAME KEY: a value from the client's summary (responses, end, extra,
# close_ms, error ...).
th_sum() {
    awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$TH_TMP/resp/$1/summary" 2>/dev/null || true
}

# What a failed response check prints.
th__ctx() {
    local dir=$TH_TMP/resp/$1 i=${2:-1}
    sed 's/^/summary: /' "$dir/summary" 2>/dev/null || true
    [ ! -f "$dir/$i.head" ] || tr -d '\r' <"$dir/$i.head" | head -n 20 | sed 's/^/head: /' | cat -v
    [ ! -s "$dir/$i.body" ] || head -c 300 "$dir/$i.body" | cat -v | sed 's/^/body: /'
}

# th_expect_status NAME ERE [N]
th_expect_status() {
    local got
    got=$(th_status "$1" "${3:-1}")
    if [[ $got =~ ^($2)$ ]]; then
        th_ok "$1: status $got"
    else
        local -a ctx
        mapfile -t ctx < <(th__ctx "$1" "${3:-1}")
        th_fail "$1: status '$got', expected $2" "${ctx[@]}"
    fi
}

# th_expect_hdr NAME HEADER ERE [N]: the header is present and matches.
th_expect_hdr() {
    local n=${4:-1} v
    if [ "$(th_hdr_count "$1" "$2" "$n")" -eq 0 ]; then
        local -a ctx
        mapfile -t ctx < <(th__ctx "$1" "$n")
        th_fail "$1: header $2 missing (response $n)" "${ctx[@]}"
        return 0
    fi
    v=$(th_hdr "$1" "$2" "$n")
    th_match "$1: $2: $v" "$3" "$v"
}

th_expect_no_hdr() {
    local v
    v=$(th_hdr "$1" "$2" "${3:-1}")
    if [ "$(th_hdr_count "$1" "$2" "${3:-1}")" -eq 0 ]; then th_ok "$1: no $2 header"; else th_fail "$1: unexpected header $2: $v"; fi
}

# th_expect_body NAME FILE [N]: the body equals FILE byte for byte.
th_expect_body() {
    local b
    b=$(th_body "$1" "${3:-1}")
    if [ -f "$b" ] && cmp -s "$b" "$2"; then
        th_ok "$1: body equals $(basename "$2") ($(wc -c <"$2") bytes)"
    else
        local -a ctx
        mapfile -t ctx < <(th__ctx "$1" "${3:-1}")
        th_fail "$1: body differs from $2 ($(wc -c <"$b" 2>/dev/null || echo no) vs $(wc -c <"$2") bytes)" "${ctx[@]}"
    fi
}

# th_expect_body_has NAME ERE [N]
th_expect_body_has() {
    if grep -aqE -- "$2" "$(th_body "$1" "${3:-1}")" 2>/dev/null; then
        th_ok "$1: body has /$2/"
    else
        local -a ctx
        mapfile -t ctx < <(th__ctx "$1" "${3:-1}")
        th_fail "$1: body lacks /$2/" "${ctx[@]}"
    fi
}

th_expect_body_empty() {
    local b
    b=$(th_body "$1" "${2:-1}")
    if [ -f "$b" ] && [ ! -s "$b" ]; then th_ok "$1: no body"; else th_fail "$1: body not empty or missing" "$(head -c 200 "$b" 2>/dev/null | cat -v)"; fi
}

# th_expect_sum NAME KEY ERE: a summary value (e.g. "end" "closed").
th_expect_sum() {
    local v
    v=$(th_sum "$1" "$2")
    if [[ $v =~ ^($3)$ ]]; then
        th_ok "$1: $2 $v"
    else
        local -a ctx
        mapfile -t ctx < <(th__ctx "$1")
        th_fail "$1: $2 '$v', expected $3" "${ctx[@]}"
    fi
}

# The server answered and closed: EOF after the response, nothing extra.
th_expect_closed() {
    th_expect_sum "$1" end closed
    th_expect_sum "$1" extra 0
}

# ---------------------------------------------------------------- background helpers

# th_bg_start NAME COMMAND...: run COMMAND in the background, its stdout and
# stderr going to a FIFO that th_bg_expect reads.
th_bg_start() {
    local name=$1 fifo fd
    shift
    fifo=$TH_TMP/bg.$name
    rm -f "$fifo"
    mkfifo "$fifo"
    exec {fd}<>"$fifo"
    # it dies with us, even if we are killed without running the trap
    if [ -n "$TH_SETPRIV" ]; then set -- "$TH_SETPRIV" --pdeathsig KILL -- "$@"; fi
    "$@" >"$fifo" 2>&1 &
    TH_BG_PID[$name]=$!
    TH_BG_FD[$name]=$fd
}

# th_bg_expect NAME ERE SECONDS: read NAME's output until a line matches
# (kept in TH_BG_LINE; every line read is appended to TH_BG_OUT).  Returns 1
# on timeout.
th_bg_expect() {
    local line='' deadline=$(($(th_now_ms) + $3 * 1000))
    while th_readline "${TH_BG_FD[$1]}" line "$deadline"; do
        echo "# [$1] $line"
        TH_BG_OUT+=("$line")
        if [[ $line =~ $2 ]]; then
            TH_BG_LINE=$line
            return 0
        fi
    done
    TH_BG_LINE=
    return 1
}

# th_bg_val KEY: VALUE from the last "KEY VALUE" line in TH_BG_OUT.
th_bg_val() {
    local l v=
    for l in "${TH_BG_OUT[@]}"; do
        [ "${l%% *}" != "$1" ] || v=${l#* }
    done
    echo "$v"
}

# th_bg_wait NAME SECONDS: wait for NAME to exit (TH_BG_RC = its status);
# kill it and return 1 on timeout.
th_bg_wait() {
    local pid=${TH_BG_PID[$1]} rc=0
    if ! th_poll "$2" th__gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        th__bg_forget "$1"
        TH_BG_RC=timeout
        return 1
    fi
    wait "$pid" || rc=$?
    TH_BG_RC=$rc
    th__bg_forget "$1"
}

# th_bg_kill NAME: SIGTERM our background process and reap it.
th_bg_kill() {
    kill -TERM "${TH_BG_PID[$1]}" 2>/dev/null || true
    th_bg_wait "$1" 5 || true
}

th__bg_forget() {
    local fd=${TH_BG_FD[$1]}
    exec {fd}<&-
    unset "TH_BG_PID[$1]" "TH_BG_FD[$1]"
}

# True when PID (our unreaped child) has exited: a zombie or gone.
th__gone() {
    local st
    st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
    [ -z "$st" ] || [ "$st" = Z ]
}

# ---------------------------------------------------------------- cleanup

th__cleanup() {
    local rc=$? name f
    trap - ERR
    set +e
    for name in "${!TH_BG_PID[@]}"; do
        kill -KILL "${TH_BG_PID[$name]}" 2>/dev/null
        wait "${TH_BG_PID[$name]}" 2>/dev/null
    done
    DAEMON_EXIT=
    daemon_reap
    th__count_subfails
    [ "$rc" -ne 0 ] || [ "$TH_FAILS" -eq 0 ] || rc=1
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$TH_TMP" ]; then
        for f in "$TH_TMP"/daemon.*.log "$TH_TMP"/notify.*.log; do
            [ -f "$f" ] || continue
            echo "---- $(basename "$f") (last 150 lines) ----"
            tail -n 150 "$f" | cat -v
        done
        for f in "$TH_TMP"/daemon.*.log; do
            [ -f "$f" ] || continue
            th_sanitizer_reports "$f"
        done
        echo "---- end of logs ----"
    fi
    if [ -n "$TH_TMP" ] && [ "${TH_KEEP:-0}" != 1 ]; then
        chmod -R u+rwX "$TH_TMP" 2>/dev/null
        rm -rf "$TH_TMP"
    elif [ -n "$TH_TMP" ]; then
        echo "# kept $TH_TMP"
    fi
    case $rc in 0 | 77) ;; *) rc=1 ;; esac
    exit "$rc"
}
trap th__cleanup EXIT
trap 'exit 1' HUP INT TERM
set -E
# A command failing under set -e is a failed test, whatever trap runs next.
th__err() {
    TH_FAILS=$((TH_FAILS + 1))
    th__subfail "unexpected: status $1 at $2"
    echo "FAIL - unexpected: status $1 at $2: $3"
}
trap 'th__err $? "${BASH_SOURCE[0]##*/}:$LINENO" "$BASH_COMMAND"' ERR

# th_sanitizer_reports LOG: print every sanitizer report in LOG whole, from
# its first line to its SUMMARY line (a long log's tail may not hold them).
th_sanitizer_reports() {
    awk -v name="$(basename "$1")" '
        function done_rep() { print "---- end of sanitizer report " n " ----"; inrep = 0 }
        inrep && ubsan && !/^ / { done_rep() }
        inrep && lines > 400 { print "(report cut after 400 lines)"; done_rep() }
        !inrep && /^==[0-9]+==(ERROR|WARNING): [A-Za-z]+Sanitizer|^WARNING: ThreadSanitizer|runtime error:/ {
            inrep = 1; lines = 0; n++
            ubsan = /runtime error:/
            print "---- sanitizer report " n " in " name " (line " NR ") ----"
        }
        inrep { print; lines++ }
        inrep && /^SUMMARY: / { done_rep() }
        END { if (inrep) done_rep() }
    ' "$1" | cat -v
}

# th_done: stop a daemon still running, print the tally, exit 0 or 1.
th_done() {
    [ -z "$TH_DPID" ] || th_stop
    th__count_subfails
    echo "# $TH_NAME: $TH_CHECKS checks, $TH_FAILS failed"
    [ "$TH_FAILS" -eq 0 ] || exit 1
    exit 0
}
