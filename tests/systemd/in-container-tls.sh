#!/bin/bash
# Runs INSIDE a booted systemd container (tests/systemd/run.sh): HTTPS under
# the real systemd.  Both tinyhttpd.socket and tinyhttpd-https.socket (on
# test ports) are passed to one tinyhttpd.service; the private key is
# readable by root only and reaches the hardened unit's transient user
# (a) through the ssl-cert group, (b) as a credential (LoadCredential=);
# renewal by reload (a) and by restart (b) with a download in flight;
# restart under HTTPS load.  Needs openssl and ssl-cert in the container.
set -euo pipefail
D=${SANDBOX_DIR:?}
UNITS="tinyhttpd.service tinyhttpd.socket tinyhttpd-https.socket"
. "$D/container-lib.sh"

PLAIN=8080
TLS=8443
CERT=/etc/ssl/certs/tinyhttpd.pem
KEY=/etc/ssl/private/tinyhttpd.key
CRED=/run/credentials/tinyhttpd.service/tls.key
CA=/root/ca
WWW=/srv/www
DROPIN=/etc/systemd/system/tinyhttpd.service.d
EXAMPLES=/usr/share/doc/tinyhttpd/examples
https() { curl -fsS --max-time 10 --cacert "$CA/ca.pem" "$@"; }
# The serial number of the certificate a new connection to the HTTPS port
# gets, verified against the test CA.
serial() {
    timeout 10 openssl s_client -connect 127.0.0.1:$TLS -servername localhost \
        -CAfile "$CA/ca.pem" -verify_return_error </dev/null 2>/dev/null |
        openssl x509 -noout -serial | sed 's/^serial=//'
}
serial_is() { [ "$(serial)" = "$1" ]; }
# A new ECDSA P-256 key and a certificate for localhost and 127.0.0.1 with
# serial $1, written over $CERT and $KEY (owner and mode kept), as an ACME
# client's renewal does.
renew() {
    local t
    t=$(mktemp -d)
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
        -keyout "$t/key" -out "$t/csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$t/ext"
    openssl x509 -req -in "$t/csr" -CA "$CA/ca.pem" -CAkey "$CA/ca.key" -set_serial "$1" \
        -days 30 -extfile "$t/ext" -out "$t/cert" 2>/dev/null
    cat "$t/cert" >"$CERT"
    cat "$t/key" >"$KEY"
    rm -rf "$t"
}
pid() { systemctl show -p MainPID --value tinyhttpd.service; }

step "install"
for d in "$D"/root/*; do
    cp -a "$d/." "/${d##*/}/"
done
systemctl daemon-reload
units="/lib/systemd/system/tinyhttpd.service /lib/systemd/system/tinyhttpd.socket
       /lib/systemd/system/tinyhttpd-https.socket"
# shellcheck disable=SC2086
systemd-analyze verify --man=no $units || fail "systemd-analyze verify"
[ "$(systemctl is-enabled tinyhttpd-https.socket)" = disabled ] ||
    fail "tinyhttpd-https.socket is enabled by default"
[ "$(systemctl show -p FileDescriptorName --value tinyhttpd-https.socket)" = https ] ||
    fail "tinyhttpd-https.socket is not named https"
exposure() {
    local l
    l=$(systemd-analyze security tinyhttpd.service --no-pager |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    echo "service exposure ($1): $l"
    awk -v l="$l" 'BEGIN { exit !(l != "" && l <= 1.2) }' || fail "exposure '$l' above 1.2 ($1)"
}
exposure "as shipped"
for f in https-key-group.conf https-key-credential.conf; do
    [ -f "$EXAMPLES/$f" ] || fail "example drop-in $EXAMPLES/$f not installed"
done

# Test ports through drop-ins, as a user would change them.
mkdir -p /etc/systemd/system/tinyhttpd.socket.d /etc/systemd/system/tinyhttpd-https.socket.d "$DROPIN"
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' $PLAIN \
    >/etc/systemd/system/tinyhttpd.socket.d/port.conf
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' $TLS \
    >/etc/systemd/system/tinyhttpd-https.socket.d/port.conf
mkdir -p "$WWW"
echo "hello over systemd" >"$WWW/index.html"
head -c 20000000 /dev/urandom >"$WWW/big.bin"
chmod -R a+rX "$WWW"
sed -i "s|^document_root = .*|document_root = \"$WWW\";|" /etc/tinyhttpd.conf
printf 'tls_certificate = "%s";\ntls_certificate_key = "%s";\n' "$CERT" "$KEY" >>/etc/tinyhttpd.conf
cp /etc/tinyhttpd.conf /etc/tinyhttpd.conf.group

# The test CA (ECDSA P-256) and the first certificate.
mkdir -p "$CA"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=tinyhttpd test CA" \
    -days 30 -keyout "$CA/ca.key" -out "$CA/ca.pem" 2>/dev/null || fail "cannot make the test CA"
getent group ssl-cert >/dev/null || fail "no ssl-cert group (package ssl-cert)"
[ "$(stat -c %U:%G:%a /etc/ssl/private)" = root:ssl-cert:710 ] ||
    fail "/etc/ssl/private is $(stat -c %U:%G:%a /etc/ssl/private), not root:ssl-cert:710"
install -m 644 /dev/null "$CERT"
install -m 640 -g ssl-cert /dev/null "$KEY"
renew 0x1001
systemctl daemon-reload

step "(a) key root:ssl-cert 0640: refused without the group"
systemctl start tinyhttpd.service && fail "the service started without access to the key"
journal_has --grep "cannot open $KEY: Permission denied" ||
    fail "no 'cannot open $KEY: Permission denied' in the journal"
systemctl stop tinyhttpd.service tinyhttpd.socket
systemctl reset-failed tinyhttpd.service tinyhttpd.socket tinyhttpd-https.socket 2>/dev/null || true

step "(a) with the shipped drop-in SupplementaryGroups=ssl-cert: both sockets, one service"
cp "$EXAMPLES/https-key-group.conf" "$DROPIN/"
systemctl daemon-reload
exposure "with https-key-group.conf"
systemctl start tinyhttpd.socket tinyhttpd-https.socket || fail "cannot start the sockets"
! systemctl is-active --quiet tinyhttpd.service || fail "service active before any request"
body=$(https "https://127.0.0.1:$TLS/") || fail "HTTPS request (socket activation) failed"
[ "$body" = "hello over systemd" ] || fail "HTTPS body: '$body'"
[ "$(curl -fsS --max-time 10 "http://127.0.0.1:$PLAIN/")" = "hello over systemd" ] ||
    fail "plain request failed"
wait_for "the HTTPS socket logged" journal_has --grep "listening on 127.0.0.1:$TLS \\(fd [0-9]+, socket-activated, HTTPS\\)"
journal_has --grep "listening on 127.0.0.1:$PLAIN \\(fd [0-9]+, socket-activated\\)$" ||
    fail "the plain socket was not logged as plain"
journalctl -q -u tinyhttpd.service -b --grep 'listening on' -o cat
# Each port speaks its own protocol.
out=$(curl -sS --max-time 10 "http://127.0.0.1:$TLS/" 2>&1 || true)
grep -q 'This port speaks HTTPS' <<<"$out" || fail "plain HTTP to the HTTPS port: '$out'"
https -o /dev/null "https://127.0.0.1:$PLAIN/" 2>/dev/null && fail "HTTPS answered on the plain port"
serial_is 1001 || fail "serial '$(serial)', expected 1001"
p=$(pid)
echo "daemon runs as $(ps -o user= -p "$p"), $(grep '^Groups:' "/proc/$p/status")"
[ "$(ps -o user= -p "$p")" != root ] || fail "daemon runs as root"
grep -qw "$(getent group ssl-cert | cut -d: -f3)" <(grep '^Groups:' "/proc/$p/status") ||
    fail "the daemon lacks the ssl-cert group"
wait_for "a journal record with TLS fields" journal_has TLS_PROTOCOL=TLSv1.3

step "(a) renewal: new pair over the old files, systemctl reload, a download in flight"
rm -f /tmp/big.out
# 20 MB at 4 MiB/s: about 5 s, still running when the reload is done.
https --limit-rate 4M -o /tmp/big.out "https://127.0.0.1:$TLS/big.bin" &
dl=$!
wait_for "download started" test -s /tmp/big.out
t0=$EPOCHREALTIME
renew 0x1002
systemctl reload tinyhttpd.service || fail "systemctl reload"
[ "$(pid)" = "$p" ] || fail "reload restarted the daemon"
wait_for "certificate reloaded" journal_has --grep 'certificate reloaded'
kill -0 "$dl" 2>/dev/null ||
    fail "the download ended before the reload was done ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s)"
serial_is 1002 || fail "after reload: serial '$(serial)', expected 1002"
wait "$dl" || fail "the download in flight failed across the reload"
cmp -s /tmp/big.out "$WWW/big.bin" || fail "the download in flight was corrupted by the reload"
rm -f /tmp/big.out

step "(a) a new key that does not match the certificate: reload refused, the old pair stays"
cp -p "$KEY" /root/key.good
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null >"$KEY"
systemctl reload tinyhttpd.service && fail "reload with a mismatched key succeeded"
# The documented message is "... does not match the certificate in ...";
# tinyhttpd -t prints OpenSSL's "key values mismatch" for a mismatched key
# (reported to the daemon's owner): either is a refusal for this key.
journal_has --grep "'tls_certificate_key': .*(does not match the certificate|key values mismatch)" ||
    fail "no 'tls_certificate_key': mismatch error in the journal"
[ "$(pid)" = "$p" ] || fail "the refused reload replaced the daemon"
systemctl is-active --quiet tinyhttpd.service || fail "the refused reload stopped the daemon"
serial_is 1002 || fail "after a refused reload: serial '$(serial)', expected 1002"
cat /root/key.good >"$KEY"

step "restart under HTTPS load loses no request"
load_start 5000 "hello over systemd" https "https://127.0.0.1:$TLS/"
wait_for "20 requests before the restart" ok_at_least 20
# A download in flight makes the old daemon take a while to stop: requests
# arrive meanwhile and queue on the socket systemd holds.
https --limit-rate 10M -o /tmp/big.out "https://127.0.0.1:$TLS/big.bin" &
dl=$!
wait_for "download started" test -s /tmp/big.out
r0=$EPOCHREALTIME
systemctl restart tinyhttpd.service || fail "systemctl restart"
r1=$EPOCHREALTIME
wait_for "20 requests after the restart" ok_at_least $(($(count_ok) + 20))
load_stop
wait "$dl" || fail "the download in flight failed across the restart"
cmp -s /tmp/big.out "$WWW/big.bin" || fail "the download in flight was cut by the restart"
[ "$(pid)" != "$p" ] || fail "no new daemon after the restart"
load_check "$r0" "$r1" "HTTPS requests"
rm -f /tmp/big.out /tmp/load.out /tmp/load.stop

step "(b) key root:root 0600 through LoadCredential=: refused without the credential"
rm -f "$DROPIN/https-key-group.conf"
chgrp root "$KEY"
chmod 600 "$KEY"
sed -i "s|^tls_certificate_key = .*|tls_certificate_key = \"$CRED\";|" /etc/tinyhttpd.conf
systemctl daemon-reload
systemctl restart tinyhttpd.service && fail "the service started with no credential"
journal_has --grep "cannot open $CRED" || fail "no 'cannot open $CRED' in the journal"
systemctl stop tinyhttpd.service
systemctl reset-failed tinyhttpd.service tinyhttpd.socket tinyhttpd-https.socket 2>/dev/null || true

step "(b) with the shipped drop-in LoadCredential=tls.key:$KEY"
cp "$EXAMPLES/https-key-credential.conf" "$DROPIN/"
systemctl daemon-reload
exposure "with https-key-credential.conf"
systemctl start tinyhttpd-https.socket tinyhttpd.socket
[ "$(https "https://127.0.0.1:$TLS/")" = "hello over systemd" ] || fail "HTTPS with the credential failed"
[ "$(curl -fsS --max-time 10 "http://127.0.0.1:$PLAIN/")" = "hello over systemd" ] ||
    fail "plain request failed"
serial_is 1002 || fail "serial '$(serial)', expected 1002"
p=$(pid)
echo "daemon runs as $(ps -o user= -p "$p"); credential: $(stat -c '%U %a' "$CRED")"
[ "$(stat -c %U "$KEY"):$(stat -c %a "$KEY")" = root:600 ] || fail "the key is not root 0600"

step "(b) renewal: new pair over the old files, systemctl restart, a download in flight"
rm -f /tmp/big.out
https --limit-rate 10M -o /tmp/big.out "https://127.0.0.1:$TLS/big.bin" &
dl=$!
wait_for "download started" test -s /tmp/big.out
renew 0x1003
# The credential is the copy made at start: a reload would pair the new
# certificate with the old key, and is refused (the old pair stays).
systemctl reload tinyhttpd.service && fail "reload with a stale credential succeeded"
serial_is 1002 || fail "after a refused reload: serial '$(serial)', expected 1002"
systemctl restart tinyhttpd.service || fail "systemctl restart"
[ "$(pid)" != "$p" ] || fail "no new daemon after the restart"
serial_is 1003 || fail "after restart: serial '$(serial)', expected 1003"
wait "$dl" || fail "the download in flight failed across the restart"
cmp -s /tmp/big.out "$WWW/big.bin" || fail "the download in flight was cut by the restart"
rm -f /tmp/big.out "$DROPIN/https-key-credential.conf"

echo "PASS"
