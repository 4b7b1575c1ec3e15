#!/bin/bash
# t_affinity.sh - cpu_affinity: off by default (every thread may run on
# every CPU the daemon may use); on, worker k runs on the k-th of those CPUs
# only, wrapping round, and the event loop thread stays unpinned; a daemon
# started under taskset keeps to its CPUs; a reload that turns it off is
# warned about and changes nothing.  Requests are served in every case.
. "$(dirname "$0")/lib.sh"

th_init
# Started as root, the daemon serves as nobody and a reload re-reads the file
# with those rights: the file of the reload check lives where anyone can read it.
pub=$(mktemp -d /tmp/tinyhttpd-affinity.XXXXXX)
trap 'rc=$?; rm -rf "$pub"; (exit $rc); th__cleanup' EXIT
mkdir "$pub/root"
cp "$TH_ROOT/file.txt" "$pub/root/"
chmod -R a+rX "$pub"
# pub_conf LINE...: $pub/tinyhttpd.conf, serving $pub/root
pub_conf() {
    {
        printf 'listen = [ "127.0.0.1:%s" ];\n' "$TH_PORT"
        printf 'document_root = "%s";\n' "$pub/root"
        printf '%s\n' "$@"
    } >"$pub/tinyhttpd.conf"
    chmod 644 "$pub/tinyhttpd.conf"
}
command -v taskset >/dev/null 2>&1 || th_skip "taskset (util-linux) not found"

# The CPUs this test may run on, in order; the daemon inherits them.
read -r -a CPUS < <("$PYTHON3" -I -S -c 'import os; print(*sorted(os.sched_getaffinity(0)))')
NCPU=${#CPUS[@]}
ALL=$(IFS=,; echo "${CPUS[*]}")
NW=$((NCPU + 1))                  # one more worker than CPUs: the last wraps round
echo "# CPUs: ${CPUS[*]}; pool_size $NW"

# The CPUs thread TID of the daemon may run on, as "0,1,3".
cpus_of() { taskset -pc "$1" | sed 's/.*: //' | "$PYTHON3" -I -S -c '
import sys
out = []
for part in sys.stdin.read().strip().split(","):
    a, _, b = part.partition("-")
    out += range(int(a), int(b or a) + 1)
print(",".join(map(str, out)))'; }

# check_threads WHAT EXPECT-FOR-WORKER-K...: the masks of the loop thread
# (must be $ALL) and of every worker (the K-th argument is worker K's).
check_threads() {
    local what=$1 t comm k seen=0
    shift
    local -a want=("$@")
    for t in /proc/"$TH_DPID"/task/*; do
        comm=$(cat "$t/comm")
        case $comm in
        tinyhttpd-w*)
            k=${comm#tinyhttpd-w}
            seen=$((seen + 1))
            th_eq "$what: worker $k may run on" "${want[$k]}" "$(cpus_of "${t##*/}")"
            ;;
        *) th_eq "$what: the event loop thread ($comm) may run on" "$ALL" "$(cpus_of "${t##*/}")" ;;
        esac
    done
    th_eq "$what: workers seen" "$NW" "$seen"
}

serves() {
    th_get "$1" /file.txt
    th_expect_status "$1" 200
    th_expect_body "$1" "$TH_ROOT/file.txt"
}

# --- off by default: no thread is pinned
th_conf "pool_size = $NW;"
th_start
want=()
for ((k = 0; k < NW; k++)); do want[k]=$ALL; done
check_threads "default" "${want[@]}"
th_check "default: nothing about cpu_affinity logged" eval '! grep -aq cpu_affinity "$TH_LOG"'
serves default
th_stop

# --- on: worker k on the k-th CPU, wrapping round
pub_conf "pool_size = $NW;" "cpu_affinity = true;"
th_start "$TINYHTTPD" -c "$pub/tinyhttpd.conf"
for ((k = 0; k < NW; k++)); do want[k]=${CPUS[k % NCPU]}; done
check_threads "on" "${want[@]}"
th_check "on: the pinning is logged" \
    th_wait_log "\\[info\\] cpu_affinity: $NW workers pinned, one per CPU in turn, over $NCPU CPUs?\$" 5
serves on

# --- a reload cannot change it: warned about, masks unchanged
TH_STDERR_ALLOW='takes effect only after a restart'
pub_conf "pool_size = $NW;" "cpu_affinity = false;"
th_signal HUP
th_check "reload: cpu_affinity change warned about" \
    th_wait_log '\[warning\] reload: cpu_affinity changed; this takes effect only after a restart' 5
check_threads "after reload" "${want[@]}"
serves reloaded
th_stop
TH_STDERR_ALLOW=

# --- started on one CPU only (taskset): every worker there, the loop too
LAST=${CPUS[NCPU - 1]}
th_conf "pool_size = $NW;" "cpu_affinity = true;"
th_start taskset -c "$LAST" "$TINYHTTPD" -c "$TH_CONF"
ALL=$LAST                         # the loop thread too
for ((k = 0; k < NW; k++)); do want[k]=$LAST; done
check_threads "under taskset -c $LAST" "${want[@]}"
th_check "under taskset: pinned over 1 CPU" \
    th_wait_log "\\[info\\] cpu_affinity: $NW workers pinned, one per CPU in turn, over 1 CPU\$" 5
serves taskset
th_stop

th_done
