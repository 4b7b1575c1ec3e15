#!/bin/bash
# Runs INSIDE a booted systemd container (tests/systemd/run.sh): installs
# the tree, then drives tinyhttpd through systemctl and journalctl.
set -euo pipefail
D=${SANDBOX_DIR:?}
step() { echo "== $*"; }
fail() {
    echo "FAIL: $*"
    journalctl --no-pager -u tinyhttpd.service -u tinyhttpd.socket -b | tail -n 40
    exit 1
}
# Poll for a condition for up to 10 s.
wait_for() {
    local what=$1
    shift
    for _ in $(seq 100); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "timed out waiting for: $what"
}
journal_has() { journalctl -q -u tinyhttpd.service -b "$@" | grep -q .; }

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
curl -fsS --max-time 10 -o /dev/null http://127.0.0.1/ || fail "re-activation failed"
end=$((SECONDS + 4))
fails=0 total=0
(
    while [ $SECONDS -lt $end ]; do
        curl -fsS --max-time 10 -o /dev/null http://127.0.0.1/ || echo miss
    done
) >/tmp/load.out &
load=$!
sleep 1
systemctl restart tinyhttpd.service
wait "$load"
misses=$(grep -c miss /tmp/load.out || true)
[ "$misses" -eq 0 ] || fail "$misses requests failed across a restart"
systemctl is-active --quiet tinyhttpd.service || fail "not active after restart"

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

echo "PASS"
