#!/bin/bash
# Runs INSIDE a booted systemd container (tests/systemd/package.sh), as
# root, with old.deb, new.deb (a higher version of the same package) and
# versions (their two versions) in $SANDBOX_DIR: installs the package as an
# administrator would, reloads, upgrades under load, removes and purges,
# and checks that nothing is left.
set -euo pipefail
D=${SANDBOX_DIR:?}
cd "$D"
{ read -r old; read -r new; } <versions
export DEBIAN_FRONTEND=noninteractive
. "$D/container-lib.sh"
apt_get() { apt-get -q -y -o Dpkg::Use-Pty=0 "$@" 2>&1 | grep -v '^N: Download is performed unsandboxed'; }
status() { dpkg-query -W -f='${Status} ${Version}' tinyhttpd 2>/dev/null || true; }
listening() { [ -n "$(ss -Hltn 'sport = :80')" ]; }
prop() { systemctl show -p "$1" --value "$2"; }
# The files a package could leave behind (paths only).
snapshot() {
    find /etc /usr /var/lib/systemd /var/lib/dpkg/info -xdev 2>/dev/null | sort
}
leftovers() {
    local what=$1 f
    [ ! -e /etc/tinyhttpd.conf ] || fail "$what: /etc/tinyhttpd.conf is left"
    f=$(find /etc /lib/systemd /usr/lib/systemd /run/systemd /var/lib/systemd /var/lib/dpkg/info \
             /usr/sbin /usr/share -name '*tinyhttpd*' 2>/dev/null || true)
    [ -z "$f" ] || fail "$what: left: $f"
    [ -z "$(systemctl list-unit-files --no-legend 'tinyhttpd*')" ] ||
        fail "$what: systemd still knows unit files: $(systemctl list-unit-files --no-legend 'tinyhttpd*')"
    ! listening || fail "$what: port 80 is still listening"
    ! pgrep -x tinyhttpd >/dev/null || fail "$what: a tinyhttpd process is left"
    snapshot >/tmp/after
    diff -u /tmp/before /tmp/after || fail "$what: the files differ from before the installation"
}

systemctl daemon-reload
snapshot >/tmp/before
[ -z "$(status)" ] || fail "tinyhttpd is installed before the test: $(status)"

step "install $old with apt-get: the socket is enabled, started and serves the welcome page"
apt_get install ./old.deb
[ "$(status)" = "install ok installed $old" ] || fail "status after install: '$(status)'"
[ "$(systemctl is-enabled tinyhttpd.socket)" = enabled ] || fail "socket not enabled"
systemctl is-active --quiet tinyhttpd.socket || fail "socket not started"
listening || fail "nothing listens on port 80"
[ "$(systemctl is-enabled tinyhttpd.service)" = disabled ] ||
    fail "service is $(systemctl is-enabled tinyhttpd.service), expected disabled (started by its socket)"
dpkg-query -W -f='${Conffiles}\n' tinyhttpd | grep -q '^ /etc/tinyhttpd.conf ' ||
    fail "/etc/tinyhttpd.conf is not a conffile"
grep -q '^document_root = "/usr/share/tinyhttpd/www";' /etc/tinyhttpd.conf ||
    fail "/etc/tinyhttpd.conf does not point at the welcome site"
body=$(curl -fsS --max-time 10 http://127.0.0.1/) || fail "GET / failed"
grep -q 'Welcome to tinyhttpd' <<<"$body" || fail "welcome page not served"
systemctl is-active --quiet tinyhttpd.service || fail "service not active after a request"
for f in /usr/share/man/man8/tinyhttpd.8.gz /usr/share/doc/tinyhttpd/copyright; do
    [ -f "$f" ] || fail "$f is not installed"
done

step "edit /etc/tinyhttpd.conf and systemctl reload tinyhttpd"
mkdir -p /srv/site
echo "edited site" >/srv/site/index.html
chmod -R a+rX /srv/site
pid=$(prop MainPID tinyhttpd.service)
sed -i 's|^document_root = .*|document_root = "/srv/site";|' /etc/tinyhttpd.conf
systemctl reload tinyhttpd || fail "systemctl reload tinyhttpd"
[ "$(curl -fsS --max-time 10 http://127.0.0.1/)" = "edited site" ] || fail "reload not applied"
[ "$(prop MainPID tinyhttpd.service)" = "$pid" ] || fail "reload restarted the daemon"

step "upgrade to $new while requests run: none fails, the service restarts, the socket stays"
sock=$(prop ActiveEnterTimestampMonotonic tinyhttpd.socket)
rm -f /tmp/load.out /tmp/load.stop
(
    # Bounded: at most 60 s.
    end=$((SECONDS + 60))
    while [ ! -e /tmp/load.stop ] && [ $SECONDS -lt $end ]; do
        if out=$(curl -sS --max-time 10 http://127.0.0.1/ 2>&1) && [ "$out" = "edited site" ]; then
            echo ok
        else
            echo "miss: $out"
        fi
    done
) >/tmp/load.out &
load=$!
oks() { grep -c '^ok' /tmp/load.out || true; }
oks_reach() { [ "$(oks)" -ge "$1" ]; }
wait_for "requests before the upgrade" oks_reach 5
t=$SECONDS
apt_get install ./new.deb
echo "upgrade took $((SECONDS - t)) s"
n=$(oks)
wait_for "requests after the upgrade" oks_reach $((n + 5))
touch /tmp/load.stop
wait "$load"
total=$(wc -l </tmp/load.out)
misses=$(grep -c '^miss' /tmp/load.out || true)
echo "$total requests during the upgrade, $misses failed"
grep -m 5 '^miss' /tmp/load.out || true
[ "$misses" -eq 0 ] || fail "$misses of $total requests failed across the upgrade"
[ "$(status)" = "install ok installed $new" ] || fail "status after upgrade: '$(status)'"
[ "$(prop MainPID tinyhttpd.service)" != "$pid" ] || fail "the upgrade did not restart the service"
systemctl is-active --quiet tinyhttpd.service || fail "service not active after the upgrade"
[ "$(prop ActiveEnterTimestampMonotonic tinyhttpd.socket)" = "$sock" ] ||
    fail "the upgrade restarted the socket"
grep -q '^document_root = "/srv/site";' /etc/tinyhttpd.conf || fail "the upgrade lost the edited configuration"
ls /etc/tinyhttpd.conf.* 2>/dev/null && fail "the upgrade left a .dpkg-* configuration"

step "an administrator's disable survives an upgrade (reinstall)"
systemctl disable --now tinyhttpd.socket tinyhttpd.service
apt_get install --reinstall ./new.deb
[ "$(systemctl is-enabled tinyhttpd.socket)" = disabled ] || fail "the upgrade enabled the socket again"
! listening || fail "the upgrade started the disabled socket"
systemctl enable --now tinyhttpd.socket
curl -fsS --max-time 10 -o /dev/null http://127.0.0.1/ || fail "no answer after enable --now"
systemctl is-active --quiet tinyhttpd.service || fail "service not active after a request"

step "remove: the service and the socket stop, the configuration stays"
apt_get remove tinyhttpd
[ "$(status)" = "deinstall ok config-files $new" ] || fail "status after remove: '$(status)'"
! systemctl is-active --quiet tinyhttpd.service || fail "service still active"
! systemctl is-active --quiet tinyhttpd.socket || fail "socket still active"
! listening || fail "port 80 still listening after remove"
! curl -fsS --max-time 5 -o /dev/null http://127.0.0.1/ 2>/dev/null || fail "still served after remove"
! pgrep -x tinyhttpd >/dev/null || fail "a tinyhttpd process is left after remove"
[ ! -e /usr/sbin/tinyhttpd ] || fail "/usr/sbin/tinyhttpd is left"
[ ! -e /lib/systemd/system/tinyhttpd.socket ] || fail "the socket unit is left"
grep -q '^document_root = "/srv/site";' /etc/tinyhttpd.conf || fail "remove did not keep the configuration"

step "purge: nothing is left"
apt_get purge tinyhttpd
[ -z "$(status)" ] || [[ $(status) == *not-installed* ]] || fail "status after purge: '$(status)'"
leftovers "after purge"

step "systemctl mask before installing keeps it from starting"
systemctl mask tinyhttpd.socket tinyhttpd.service
apt_get install ./old.deb
! systemctl is-active --quiet tinyhttpd.socket || fail "a masked socket was started"
! listening || fail "port 80 listens although the socket is masked"
apt_get purge tinyhttpd
systemctl unmask tinyhttpd.socket tinyhttpd.service
systemctl daemon-reload
leftovers "after the masked install and purge"

echo "PASS"
