#!/bin/bash
# a_privileges.sh - started as root, the daemon binds, then drops to the
# configured user and group before it serves anything.  Skipped (77) unless
# run as root.
#
#  1. user = "nobody", group = "nogroup", listening on a privileged port
#     (< 1024, so binding needs root): after READY=1 every thread's real,
#     effective, saved and filesystem uid and gid are nobody's and nogroup's,
#     the supplementary groups are just nogroup, no capability is left; the
#     log says "running as" before "ready"; it serves; a file only root may
#     read is refused, also to a client that connected as early as the port
#     accepted (before READY); SIGHUP still reloads; SIGTERM exits 0.
#  2. no user/group keys: the defaults, nobody and nogroup, are used.
#  3. a user, or a group, that does not exist, and user = "root": exit 1
#     with a clear message before READY=1, and a client racing the start
#     never gets a response.
. "$(dirname "$0")/abuselib.sh"

[ "$(id -u)" = 0 ] || th_skip "not running as root"
getent passwd nobody >/dev/null || th_skip "no user nobody"
getent group nogroup >/dev/null || th_skip "no group nogroup"
uid=$(getent passwd nobody | cut -d: -f3)
gid=$(getent group nogroup | cut -d: -f3)

# After the drop the daemon re-reads its configuration (SIGHUP) as
# nobody: everything it reads lives in a directory of this test's own under
# /tmp, reachable by any user wherever the build tree is (a checkout under a
# private directory is not).
TH_TMPBASE=/tmp
th_init
chmod 755 "$TH_TMP"
printf 'th-root-only\n' >"$TH_ROOT/rootonly.txt"
chmod 600 "$TH_ROOT/rootonly.txt"

# A free privileged port, if there is one.
priv=$("$PYTHON3" -I -S -c '
import socket
for p in range(1023, 899, -1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
')
# As root one of 124 ports is free unless this machine is unusually busy.
[ -n "$priv" ] || th_fatal "no free privileged port in 900..1023 to bind"
TH_PORT=$priv
echo "# listening on port $TH_PORT"

# ---- 1. nobody:nogroup
th_conf 'user = "nobody";' 'group = "nogroup";' 'log_level = "info";'
nobody_reads() { setpriv --reuid="$uid" --regid="$gid" --clear-groups -- cat "$1" >/dev/null; }
if command -v setpriv >/dev/null; then
    th_check "nobody:nogroup can read the configuration" nobody_reads "$TH_CONF"
fi
ab_bg race race --path /rootonly.txt --timeout 15
th_bg_expect race '^STARTED' 5 || true
th_start "$TINYHTTPD" -c "$TH_CONF"
pid=$TH_DPID

for key in Uid Gid; do
    want=$([ $key = Uid ] && echo "$uid" || echo "$gid")
    th_eq "$key: real, effective, saved and fs are all $want" "$want $want $want $want" \
        "$(awk -v k="$key:" '$1 == k { print $2, $3, $4, $5 }' "/proc/$pid/status")"
done
th_eq "supplementary groups: nogroup only" "$gid" "$(awk '$1 == "Groups:" { $1 = ""; sub(/^ /, ""); print }' "/proc/$pid/status")"
th_eq "no effective capabilities" 0000000000000000 "$(awk '$1 == "CapEff:" { print $2 }' "/proc/$pid/status")"
th_eq "no permitted capabilities" 0000000000000000 "$(awk '$1 == "CapPrm:" { print $2 }' "/proc/$pid/status")"
bad_threads=0
for t in /proc/"$pid"/task/*; do
    u=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "$t/status")
    g=$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "$t/status")
    [ "$u" = "$uid $uid $uid $uid" ] && [ "$g" = "$gid $gid $gid $gid" ] || bad_threads=$((bad_threads + 1))
done
th_eq "every one of the $(ls /proc/"$pid"/task | wc -l) threads runs as nobody:nogroup" 0 "$bad_threads"
th_match "the log says it dropped privileges before it was ready" \
    'running as nobody:nogroup.*ready:' "$(grep -aoE 'running as [a-z]+:[a-z]+|ready:' "$TH_LOG" | tr '\n' ' ')"

ab_bg_done race 15 || th_fail "racing client did not finish"
echo "# racing client: connected after $(th_bg_val connected_ms) ms, answered $(th_bg_val status) after $(th_bg_val answered_ms) ms"
th_match "a request sent as early as possible cannot read a root-only file" '^(403|404)$' "$(th_bg_val status)"

th_get served /file.txt
th_expect_status served 200
th_expect_body served "$TH_ROOT/file.txt"
th_get rootonly /rootonly.txt
th_expect_status rootonly '403|404'
th_nomatch "the root-only file's content is not served" 'th-root-only' "$(cat "$(th_body rootonly)")"
th_le "bound a privileged port before dropping" "$TH_PORT" 1023
th_match "the log names the privileged port" "listening on 127\.0\.0\.1:$TH_PORT\$" \
    "$(grep -aoE 'listening on [0-9.:]+' "$TH_LOG" | head -n 1)"

th_signal HUP
th_check "SIGHUP reloads after the drop" th_wait_log 'reloaded ' 5
th_nomatch "no failed reload" 'reload failed' "$(grep -a 'reload failed' "$TH_LOG" || true)"
th_get served2 /index.html
th_expect_status served2 200
th_stop

# ---- 2. the defaults
th_conf 'log_level = "info";'
th_start "$TINYHTTPD" -c "$TH_CONF"
th_eq "default user and group: uid and gid of nobody:nogroup" "$uid $gid" \
    "$(awk '$1 == "Uid:" { u = $3 } $1 == "Gid:" { g = $3 } END { print u, g }' "/proc/$TH_DPID/status")"
th_get served3 /file.txt
th_expect_status served3 200
th_stop

# ---- 3. failures
# expect_refusal LABEL MESSAGE-ERE CONF-LINE...
expect_refusal() {
    local label=$1 msg=$2
    shift 2
    th_conf "$@"
    ab_bg race race --path /file.txt --timeout 3
    th_bg_expect race '^STARTED' 5 || true
    th_spawn "$TINYHTTPD" -c "$TH_CONF"
    if th_ready; then
        th_fail "$label: the daemon started (pid $TH_DPID, uid $(awk '$1 == "Uid:" { print $3 }' "/proc/$TH_DPID/status"))"
        th_stop
    else
        th_eq "$label: exit status 1 before READY=1" 1 "$TH_DEXIT"
    fi
    th_match "$label: clear message" "$msg" "$(grep -a 'cannot drop privileges' "$TH_LOG" | head -n 1)"
    th_nomatch "$label: no READY=1 sent" 'READY=1' "$(cat "$TH_NOTIFY_LOG")"
    ab_bg_done race 15 || th_fail "$label: racing client did not finish"
    th_eq "$label: a client racing the start got no response" none "$(th_bg_val status)"
}
expect_refusal "unknown user" "cannot drop privileges: user 'th-no-such-user': no such user" \
    'user = "th-no-such-user";' 'group = "nogroup";'
expect_refusal "unknown group" "cannot drop privileges: group 'th-no-such-group': no such group" \
    'user = "nobody";' 'group = "th-no-such-group";'
expect_refusal "user root" "cannot drop privileges: user 'root' is root" \
    'user = "root";' 'group = "nogroup";'

th_done
