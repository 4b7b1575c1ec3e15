#!/bin/bash
# Runs INSIDE a booted systemd container (tests/systemd/run.sh): installs
# the tree, then drives tinyhttpd through systemctl and journalctl.
set -euo pipefail
D=${SANDBOX_DIR:?}
. "$D/container-lib.sh"

step "install"
# Top-level directory by directory: /lib may be a symlink into /usr.
for d in "$D"/root/*; do
    cp -a "$d/." "/${d##*/}/"
done
systemctl daemon-reload
grep -q '^document_root = "/usr/share/tinyhttpd/www";' /etc/tinyhttpd.conf ||
    fail "installed configuration does not point at the welcome site"
systemd-analyze verify --man=no /lib/systemd/system/tinyhttpd.service /lib/systemd/system/tinyhttpd.socket ||
    fail "systemd-analyze verify"
exposure=$(systemd-analyze security tinyhttpd.service --no-pager | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
echo "installed service exposure: $exposure"
awk -v l="$exposure" 'BEGIN { exit !(l != "" && l <= 2.0) }' || fail "exposure '$exposure' above 2.0"

step "socket activation: inactive until the first request"
systemctl start tinyhttpd.socket
systemctl is-active --quiet tinyhttpd.socket || fail "socket not active"
defer=$(systemctl show -p DeferAcceptUSec --value tinyhttpd.socket)
[ "$defer" = 1s ] || fail "socket DeferAcceptUSec is '$defer', expected 1s"
! systemctl is-active --quiet tinyhttpd.service || fail "service active before any request"
body=$(curl -fsS --max-time 10 http://127.0.0.1/) || fail "first request failed"
grep -q 'Welcome to tinyhttpd' <<<"$body" || fail "welcome page not served"
[ "$(systemctl is-active tinyhttpd.service)" = active ] || fail "service not active after a request"
curl -sS --max-time 10 -o /dev/null http://127.0.0.1/no-such-page || true

step "journal: start-up line and access records with fields"
wait_for "ready line" journal_has --grep 'ready: '
wait_for "404 record" journal_has HTTP_STATUS=404
rec=$(journalctl -q -u tinyhttpd.service -b HTTP_STATUS=404 -o verbose)
for f in REMOTE_ADDR=127.0.0.1 HTTP_METHOD=GET HTTP_PATH=/no-such-page HTTP_STATUS=404 \
         HTTP_BYTES= DURATION_USEC= PRIORITY=6; do
    grep -q "^ *$f" <<<"$rec" || fail "access record lacks $f"
done
journal_has HTTP_STATUS=200 || fail "no 200 record"
user=$(ps -o user= -C tinyhttpd | head -n1)
echo "daemon runs as: $user"
[ "$user" != root ] || fail "daemon runs as root"

step "reload applies a new document root"
mkdir -p /srv/site2
echo "second site" >/srv/site2/index.html
chmod -R a+rX /srv/site2
pid=$(systemctl show -p MainPID --value tinyhttpd.service)
sed -i 's|^document_root = .*|document_root = "/srv/site2";|' /etc/tinyhttpd.conf
systemctl reload tinyhttpd.service || fail "systemctl reload"
[ "$(curl -fsS --max-time 10 http://127.0.0.1/)" = "second site" ] || fail "reload not applied"
[ "$(systemctl show -p MainPID --value tinyhttpd.service)" = "$pid" ] || fail "reload restarted the daemon"

step "the file cache follows changes under the hardened unit (inotify through /proc/self/fd)"
! journal_has --grep 'no inotify' || fail "the daemon could not use inotify under the unit"
curl -fsS --max-time 10 -o /dev/null http://127.0.0.1/ || fail "request before the change"
echo "second site, changed" >/srv/site2/index.html
[ "$(curl -fsS --max-time 10 http://127.0.0.1/)" = "second site, changed" ] ||
    fail "a changed file was served from the cache"

step "reload with an invalid file keeps the running configuration"
cp /etc/tinyhttpd.conf /etc/tinyhttpd.conf.good
echo 'document_rot = "/x";' >>/etc/tinyhttpd.conf
systemctl reload tinyhttpd.service && fail "reload of an invalid file succeeded"
[ "$(curl -fsS --max-time 10 http://127.0.0.1/)" = "second site, changed" ] || fail "bad reload broke serving"
cp /etc/tinyhttpd.conf.good /etc/tinyhttpd.conf

step "stop while a download is in flight: it completes, Result=success"
head -c 100000000 /dev/urandom >/srv/site2/big.bin
chmod a+r /srv/site2/big.bin
curl -fsS --max-time 60 --limit-rate 40M -o /tmp/big.out http://127.0.0.1/big.bin &
dl=$!
wait_for "download started" test -s /tmp/big.out
systemctl stop tinyhttpd.service
wait "$dl" || fail "download failed during stop"
cmp -s /tmp/big.out /srv/site2/big.bin || fail "download truncated or corrupted"
show=$(systemctl show -p Result,ExecMainStatus tinyhttpd.service)
echo "$show"
grep -qx Result=success <<<"$show" || fail "stop was not clean"
grep -qx ExecMainStatus=0 <<<"$show" || fail "exit status not 0"
journal_has --grep 'STOPPING|shutting down' || fail "no shutdown line"
rm -f /srv/site2/big.bin /tmp/big.out

step "restart under load loses no request (the socket stays with systemd)"
want=$(curl -fsS --max-time 10 http://127.0.0.1/) || fail "re-activation failed"
# A download in flight makes the stop (and so the restart) take about a
# second, since the old daemon finishes it first: requests keep arriving
# then, queued on the socket that systemd holds.
head -c 4000000 /dev/urandom >/srv/site2/slow.bin
chmod a+r /srv/site2/slow.bin
load_start 20000 "$want" curl -fsS --max-time 10 http://127.0.0.1/
wait_for "20 requests before the restart" ok_at_least 20
curl -fsS --max-time 30 --limit-rate 4M -o /tmp/slow.out http://127.0.0.1/slow.bin &
dl=$!
wait_for "the download started" test -s /tmp/slow.out
pid=$(systemctl show -p MainPID --value tinyhttpd.service)
r0=$EPOCHREALTIME
systemctl restart tinyhttpd.service || fail "systemctl restart"
r1=$EPOCHREALTIME
wait_for "20 requests after the restart" ok_at_least $(($(count_ok) + 20))
load_stop
wait "$dl" || fail "the download in flight failed across the restart"
cmp -s /tmp/slow.out /srv/site2/slow.bin || fail "the download in flight was cut by the restart"
new=$(systemctl show -p MainPID --value tinyhttpd.service)
[ "$new" != "$pid" ] && [ "$new" != 0 ] || fail "no new daemon after the restart (MainPID $pid -> $new)"
load_check "$r0" "$r1" requests
systemctl is-active --quiet tinyhttpd.service || fail "not active after restart"
rm -f /srv/site2/slow.bin /tmp/slow.out /tmp/load.out /tmp/load.stop

step "cpu_affinity under the hardened unit: the workers are pinned"
echo 'cpu_affinity = true;' >>/etc/tinyhttpd.conf
systemctl restart tinyhttpd.service
curl -fsS --max-time 10 -o /dev/null http://127.0.0.1/ || fail "no answer with cpu_affinity"
wait_for "pinning logged" journal_has --grep 'cpu_affinity: [0-9]+ workers pinned'
journal_has --grep 'cannot pin' && fail "the unit refused to pin the workers"
pid=$(systemctl show -p MainPID --value tinyhttpd.service)
for t in /proc/"$pid"/task/*; do
    case $(cat "$t/comm") in
    tinyhttpd-w*)
        cpus=$(taskset -pc "${t##*/}" | sed 's/.*: //')
        [[ $cpus =~ ^[0-9]+$ ]] || fail "worker ${t##*/} may run on $cpus, not on one CPU" ;;
    esac
done


step "a failed event loop: exit status 1, and systemd restarts the service"
# The epoll_wait shim (tests/shim/epoll_fail.c, built by run.sh) is put where
# the unit's transient user can read it (ProtectSystem=strict leaves /usr
# and /srv readable; /tmp is private to the unit), and preloaded through a
# drop-in.  It fails epoll_wait with EBADF while the trigger file holds the
# daemon's PID, so the restarted daemon runs normally.
shim=/usr/local/lib/tinyhttpd-test/epoll_fail.so
trigger=/srv/loopfail/trigger
install -d -m 755 /usr/local/lib/tinyhttpd-test /srv/loopfail
install -m 644 "$D/epoll_fail.so" "$shim"
mkdir -p /etc/systemd/system/tinyhttpd.service.d
printf '[Service]\nEnvironment=LD_PRELOAD=%s EPOLL_FAIL_FILE=%s\n' "$shim" "$trigger" \
    >/etc/systemd/system/tinyhttpd.service.d/loopfail.conf
systemctl daemon-reload
systemctl restart tinyhttpd.service || fail "restart with the shim"
pid=$(systemctl show -p MainPID --value tinyhttpd.service)
grep -q "$shim" "/proc/$pid/maps" || fail "the shim is not loaded in the daemon (pid $pid)"
curl -fsS --max-time 10 -o /dev/null http://127.0.0.1/ || fail "no answer with the shim loaded"
n0=$(systemctl show -p NRestarts --value tinyhttpd.service)
echo "$pid" >"$trigger"
chmod 644 "$trigger"
restarted() {
    local p n
    p=$(systemctl show -p MainPID --value tinyhttpd.service)
    n=$(systemctl show -p NRestarts --value tinyhttpd.service)
    [ "$p" != 0 ] && [ "$p" != "$pid" ] && [ "$n" -gt "$n0" ] && systemctl is-active --quiet tinyhttpd.service
}
wait_for "systemd restarted the service after epoll_wait failed" restarted
new=$(systemctl show -p MainPID --value tinyhttpd.service)
echo "MainPID $pid -> $new, NRestarts $n0 -> $(systemctl show -p NRestarts --value tinyhttpd.service)"
journal_has -p err --grep 'epoll_wait: Bad file descriptor; the event loop cannot continue' ||
    fail "no err-level 'epoll_wait: ...; the event loop cannot continue' in the journal"
journal_has --grep 'Main process exited, code=exited, status=1/FAILURE' ||
    fail "systemd did not see exit status 1"
[ "$(curl -fsS --max-time 10 http://127.0.0.1/)" = "second site, changed" ] ||
    fail "the restarted daemon does not serve"
[ "$(systemctl show -p MainPID --value tinyhttpd.service)" = "$new" ] || fail "the restarted daemon failed too"
rm -f /etc/systemd/system/tinyhttpd.service.d/loopfail.conf "$trigger"
systemctl daemon-reload

step "the shipped unit sets WatchdogSec=30s"
[ "$(systemctl show -p WatchdogUSec --value tinyhttpd.service)" = 30s ] ||
    fail "WatchdogUSec is '$(systemctl show -p WatchdogUSec --value tinyhttpd.service)', expected 30s"

step "metrics_listen under the hardened unit: the daemon binds it itself"
echo 'metrics_listen = "127.0.0.1:9108";' >>/etc/tinyhttpd.conf
systemctl restart tinyhttpd.service || fail "restart with metrics_listen"
curl -fsS --max-time 10 -o /dev/null http://127.0.0.1/ || fail "no answer with metrics_listen"
m=$(curl -fsS --max-time 10 http://127.0.0.1:9108/metrics) || fail "no answer on the metrics listener"
grep -Eq '^tinyhttpd_requests_total\{method="GET",code="2xx"\} [1-9]' <<<"$m" ||
    fail "no GET 2xx counted: $(grep requests_total <<<"$m" | head -n 3)"
[ "$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:9108/index.html)" = 404 ] ||
    fail "the metrics listener served something else than /metrics"

step "heavy but healthy load with a 2 s watchdog: never killed"
# A shorter watchdog through a drop-in, so that a wrong verdict would show
# within the test.  Many keep-alive clients for a few seconds (files of two
# sizes, every body checked): the queue is seldom empty, but jobs finish.
mkdir -p /etc/systemd/system/tinyhttpd.service.d
printf '[Service]\nWatchdogSec=2\n' >/etc/systemd/system/tinyhttpd.service.d/watchdog.conf
head -c 300000 /dev/urandom >/srv/site2/mid.bin
chmod a+r /srv/site2/mid.bin
systemctl daemon-reload
since=$(date '+%Y-%m-%d %H:%M:%S')
systemctl restart tinyhttpd.service || fail "restart with WatchdogSec=2"
[ "$(systemctl show -p WatchdogUSec --value tinyhttpd.service)" = 2s ] || fail "the drop-in did not apply"
curl -fsS --max-time 10 -o /dev/null http://127.0.0.1/ || fail "no answer with WatchdogSec=2"
pid=$(systemctl show -p MainPID --value tinyhttpd.service)
n0=$(systemctl show -p NRestarts --value tinyhttpd.service)
python3 - "$(cat /srv/site2/index.html)" <<'PY' || fail "the load client failed"
import socket, sys, threading, time
want = {"/": sys.argv[1].encode() + b"\n", "/mid.bin": open("/srv/site2/mid.bin", "rb").read()}
stop = time.monotonic() + 6
counts, errors = [0] * 48, []
def client(i):
    try:
        s = socket.create_connection(("127.0.0.1", 80), timeout=10)
        f = s.makefile("rb")
        while time.monotonic() < stop:
            path = "/mid.bin" if counts[i] % 4 == 0 else "/"
            s.sendall(("GET %s HTTP/1.1\r\nHost: l\r\n\r\n" % path).encode())
            status = f.readline()
            length = None
            while True:
                line = f.readline()
                if line in (b"\r\n", b""):
                    break
                k, _, v = line.decode().partition(":")
                if k.lower() == "content-length":
                    length = int(v)
            body = f.read(length or 0)
            if b" 200 " not in status or body != want[path]:
                raise RuntimeError("%r: %r, %d bytes" % (path, status, len(body)))
            counts[i] += 1
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=client, args=(i,)) for i in range(len(counts))]
for t in threads: t.start()
for t in threads: t.join()
print("healthy load: %d requests on %d connections in 6 s, %d errors" % (sum(counts), len(counts), len(errors)))
if errors:
    print("\n".join(errors[:5]))
sys.exit(1 if errors or sum(counts) < 1000 else 0)
PY
[ "$(systemctl show -p MainPID --value tinyhttpd.service)" = "$pid" ] || fail "the daemon was replaced under healthy load"
[ "$(systemctl show -p NRestarts --value tinyhttpd.service)" = "$n0" ] || fail "NRestarts rose under healthy load"
journalctl -q -b --since "$since" -u tinyhttpd.service | grep -q 'Watchdog timeout' &&
    fail "a watchdog timeout under healthy load"
journalctl -q -b --since "$since" -u tinyhttpd.service | grep -q 'withholding the watchdog ping' &&
    fail "the daemon withheld a ping under healthy load"

step "every worker stuck: the watchdog kills the daemon and systemd restarts it"
# The worker shim (tests/shim/worker_hang.c, built by run.sh) makes every
# worker hang in recv() while the trigger holds the daemon's PID; requests
# then queue and no job finishes.  No core file is written in the test
# (LimitCORE=0): the host's core pattern is not ours to fill.
hang=/usr/local/lib/tinyhttpd-test/worker_hang.so
trigger=/srv/loopfail/hang
install -d -m 755 /usr/local/lib/tinyhttpd-test /srv/loopfail
install -m 644 "$D/worker_hang.so" "$hang"
printf '[Service]\nWatchdogSec=2\nLimitCORE=0\nEnvironment=LD_PRELOAD=%s WORKER_HANG_FILE=%s\n' \
    "$hang" "$trigger" >/etc/systemd/system/tinyhttpd.service.d/watchdog.conf
systemctl daemon-reload
systemctl restart tinyhttpd.service || fail "restart with the worker shim"
pid=$(systemctl show -p MainPID --value tinyhttpd.service)
grep -q "$hang" "/proc/$pid/maps" || fail "the shim is not loaded in the daemon (pid $pid)"
curl -fsS --max-time 10 -o /dev/null http://127.0.0.1/ || fail "no answer with the shim loaded"
n0=$(systemctl show -p NRestarts --value tinyhttpd.service)
echo "$pid" >"$trigger"
chmod 644 "$trigger"
t0=$EPOCHREALTIME
for i in 1 2 3 4 5 6 7 8; do
    curl -sS --max-time 30 -o /dev/null http://127.0.0.1/ 2>/dev/null &
done
restarted() {
    local p n
    p=$(systemctl show -p MainPID --value tinyhttpd.service)
    n=$(systemctl show -p NRestarts --value tinyhttpd.service)
    [ "$p" != 0 ] && [ "$p" != "$pid" ] && [ "$n" -gt "$n0" ] && systemctl is-active --quiet tinyhttpd.service
}
for _ in $(seq 300); do restarted && break; sleep 0.1; done
restarted || fail "no restart within 30 s of every worker hanging"
echo "watchdog restart $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s after the hang;" \
    "MainPID $pid -> $(systemctl show -p MainPID --value tinyhttpd.service)," \
    "NRestarts $n0 -> $(systemctl show -p NRestarts --value tinyhttpd.service)"
journal_has --grep 'withholding the watchdog ping' || fail "the daemon did not log the stall"
journal_has --grep 'Watchdog timeout' || fail "no watchdog timeout in the journal"
journal_has --grep 'Killing process .* with signal SIGABRT|Main process exited, code=(dumped|killed), status=6/ABRT' ||
    fail "systemd did not kill the daemon with SIGABRT"
[ "$(curl -fsS --max-time 10 http://127.0.0.1/)" = "second site, changed" ] ||
    fail "the restarted daemon does not serve"
wait
rm -f /etc/systemd/system/tinyhttpd.service.d/watchdog.conf "$trigger" /srv/site2/mid.bin
systemctl daemon-reload

echo "PASS"
