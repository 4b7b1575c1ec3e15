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

echo "PASS"
