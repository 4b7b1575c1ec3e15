# shellcheck shell=bash
# shellcheck disable=SC2034  # DAEMON_LINE, DAEMON_CMD: for the callers
# daemon.sh - the one way tinyhttpd is started by the integration and abuse
# tests (through tests/integration/lib.sh), by script/robustness (valgrind)
# and by bench/lib.sh.  Sourced (bash); it defines functions and
# DAEMON_CLIENT, and changes nothing else.
#
# daemon_spawn runs the command under `client.py run-notify`, which owns an
# sd_notify socket, and reads its reports (PID, READY, EXIT) from a FIFO
# with a deadline: readiness is the daemon's own READY=1, never a sleep.
#
# TINYHTTPD_WRAPPER (environment): words put in front of the daemon, e.g.
#     TINYHTTPD_WRAPPER="valgrind --error-exitcode=99 --log-file=/tmp/vg.%p"
#     TINYHTTPD_WRAPPER="strace -f -o /tmp/daemon.strace"
# They go just before the word of the command that is $TINYHTTPD or ends in
# /tinyhttpd (so "taskset -c 1 $TINYHTTPD ..." becomes "taskset -c 1
# valgrind ... $TINYHTTPD ..."), else at the front; split at blanks and
# newlines, no quoting.  A wrapper that runs the daemon in its own process (valgrind,
# setpriv, taskset) leaves DAEMON_PID the daemon's; with one that forks
# (strace), DAEMON_PID is the wrapper's and signals go to it.
#
# State, one daemon at a time: DAEMON_PID (the daemon, while it runs),
# DAEMON_SUP (run-notify, its parent), DAEMON_CTL (the FIFO's descriptor),
# DAEMON_EXIT (its exit status, once reported; "timeout" if it was killed),
# DAEMON_CMD (the command as run), DAEMON_LINE (the first report).

DAEMON_CLIENT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/client.py

daemon_now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((10#$t / 1000))
}

# daemon_readline FD VAR DEADLINE_MS: read one line from FD into VAR before
# the deadline; 1 on timeout or EOF.
daemon_readline() {
    local left=$(($3 - $(daemon_now_ms)))
    [ "$left" -gt 0 ] || return 1
    IFS= read -r -t "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))" "$2" <&"$1"
}

# daemon_command COMMAND...: DAEMON_CMD = COMMAND with $TINYHTTPD_WRAPPER.
daemon_command() {
    local -a wrap=()
    local i w
    DAEMON_CMD=("$@")
    [ -n "${TINYHTTPD_WRAPPER:-}" ] || return 0
    read -r -d '' -a wrap <<<"$TINYHTTPD_WRAPPER" || true
    for ((i = 0; i < ${#DAEMON_CMD[@]}; i++)); do
        w=${DAEMON_CMD[i]}
        if { [ -n "${TINYHTTPD:-}" ] && [ "$w" = "$TINYHTTPD" ]; } || [[ $w == */tinyhttpd ]]; then
            DAEMON_CMD=("${DAEMON_CMD[@]:0:i}" "${wrap[@]}" "${DAEMON_CMD[@]:i}")
            return 0
        fi
    done
    DAEMON_CMD=("${wrap[@]}" "${DAEMON_CMD[@]}")
}

# daemon_spawn LOG NOTIFY_LOG FIFO TIMEOUT COMMAND...: start COMMAND (with
# the wrapper) under run-notify: stdin /dev/null, stdout and stderr appended
# to LOG, every notify message to NOTIFY_LOG, the reports through FIFO
# (created here).  run-notify kills the command if READY=1 has not come
# within TIMEOUT seconds.  Returns 1 (everything reaped; DAEMON_LINE says
# why) if the command could not be started.
daemon_spawn() {
    local log=$1 nlog=$2 fifo=$3 timeout=$4 line=''
    shift 4
    daemon_command "$@"
    DAEMON_SUP=
    DAEMON_PID=
    DAEMON_EXIT=
    DAEMON_LINE=
    mkfifo "$fifo" || return 1
    exec {DAEMON_CTL}<>"$fifo"
    "${PYTHON3:-python3}" -I -S "$DAEMON_CLIENT" run-notify --log "$log" --notify-log "$nlog" \
        --timeout "$timeout" -- "${DAEMON_CMD[@]}" >"$fifo" &
    DAEMON_SUP=$!
    daemon_readline "$DAEMON_CTL" line $(($(daemon_now_ms) + 5000)) || true
    DAEMON_LINE=$line
    case $line in
    "PID "*)
        DAEMON_PID=${line#PID }
        return 0
        ;;
    esac
    daemon_reap
    return 1
}

# daemon_ready SECONDS: wait for READY=1: 0; 1 if the daemon exited first
# (DAEMON_EXIT, everything reaped); 2 if neither came within SECONDS.
# Other reports are printed as comments.
daemon_ready() {
    local line='' deadline=$(($(daemon_now_ms) + $1 * 1000))
    while daemon_readline "$DAEMON_CTL" line "$deadline"; do
        case $line in
        READY) return 0 ;;
        "EXIT "*)
            DAEMON_EXIT=${line#EXIT }
            daemon_reap
            return 1
            ;;
        *) echo "# run-notify: $line" ;;
        esac
    done
    return 2
}

# daemon_wait_exit SECONDS: wait for the daemon to exit (DAEMON_EXIT = its
# status, 128+N for signal N); on timeout kill it, set DAEMON_EXIT=timeout
# and return 1.  Reaps run-notify either way.
daemon_wait_exit() {
    local line='' deadline=$(($(daemon_now_ms) + $1 * 1000))
    while daemon_readline "$DAEMON_CTL" line "$deadline"; do
        case $line in "EXIT "*) DAEMON_EXIT=${line#EXIT }; break ;; esac
    done
    if [ -z "$DAEMON_EXIT" ]; then
        daemon_reap
        DAEMON_EXIT=timeout
        return 1
    fi
    daemon_reap
}

# daemon_reap: forget the daemon: kill it and run-notify unless it reported
# its exit, wait for run-notify, close the FIFO.
daemon_reap() {
    if [ -n "${DAEMON_SUP:-}" ]; then
        if [ -z "${DAEMON_EXIT:-}" ]; then
            [ -z "${DAEMON_PID:-}" ] || kill -KILL "$DAEMON_PID" 2>/dev/null || true
            kill -KILL "$DAEMON_SUP" 2>/dev/null || true
        fi
        wait "$DAEMON_SUP" 2>/dev/null || true
    fi
    DAEMON_SUP=
    DAEMON_PID=
    [ -z "${DAEMON_CTL:-}" ] || exec {DAEMON_CTL}<&-
    DAEMON_CTL=
}
