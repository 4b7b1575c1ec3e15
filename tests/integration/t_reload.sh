#!/bin/bash
# SIGHUP reload: a valid file applies the new document root without a
# restart and without dropping an open connection, around RELOADING=1 and
# READY=1; an invalid file changes nothing and logs FILE:LINE; a change to a
# restart-only key is warned about.
. "$(dirname "$0")/lib.sh"

th_init
# Started as root, the daemon serves as nobody, and a reload re-reads the
# file with those rights: keep the file and the new root where any user can
# read them.
pub=$(mktemp -d /tmp/tinyhttpd-reload.XXXXXX)
trap 'rc=$?; rm -rf "$pub"; (exit $rc); th__cleanup' EXIT
chmod 755 "$pub"
mkdir -p "$pub/root2"
printf 'th-root2-index\n' >"$pub/root2/index.html"
chmod -R a+rX "$pub"
conf=$pub/tinyhttpd.conf
# write_conf ROOT [POOL]: the test's configuration, pool_size POOL (default 3).
write_conf() {
    {
        printf 'listen = [ "127.0.0.1:%s" ];\n' "$TH_PORT"
        printf 'document_root = "%s";\n' "$1"
        printf 'keepalive_timeout = 30;\npool_size = %s;\n' "${2:-3}"
    } >"$conf"
    chmod 644 "$conf"
}
write_conf "$TH_ROOT"
th_start "$TINYHTTPD" -c "$conf"
pid=$TH_DPID

th_get before /
th_expect_body_has before 'th-index-root'

# A keep-alive connection opened before the reload: it is asked for one
# page, then waits for $go to appear, then asks for a second page on the
# same connection.
go=$TH_TMP/go
cat >"$TH_TMP/ka.py" <<'PY'
import os, socket, sys, time
port, go = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
def ask():
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            return "closed"
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(body) < n:
        chunk = s.recv(4096)
        if not chunk:
            return "closed"
        body += chunk
    return body.decode().replace("\n", " ").strip()
print("first", ask(), flush=True)
deadline = time.time() + 10
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.02)
print("second", ask(), flush=True)
PY
th_bg_start ka "$PYTHON3" -I -S "$TH_TMP/ka.py" "$TH_PORT" "$go"
th_bg_expect ka '^first ' 5 || th_fail "keep-alive client got no first answer"
th_match "first answer on the kept connection comes from the old root" 'th-index-root' "$TH_BG_LINE"

# --- a valid reload
write_conf "$pub/root2"
th_signal HUP
th_check "log says the file was reloaded" th_wait_log '\[notice\] reloaded .*root2' 5
th_check "RELOADING=1 was sent" th_poll 5 grep -q '^RELOADING=1' "$TH_NOTIFY_LOG"
th_check "READY=1 follows RELOADING=1" th_poll 5 \
    awk '/^RELOADING=1/ { r = 1 } r && /^READY=1/ { ok = 1 } END { exit !ok }' "$TH_NOTIFY_LOG"
th_get after /
th_expect_status after 200
th_expect_body_has after 'th-root2-index'
th_eq "same daemon process after reload" "$pid" "$TH_DPID"
th_check "daemon still running" kill -0 "$TH_DPID"

touch "$go"
th_bg_expect ka '^second ' 5 || th_fail "keep-alive client got no second answer"
th_match "kept connection survives the reload and sees the new root" 'th-root2-index' "$TH_BG_LINE"
th_bg_wait ka 5 || true

# --- an invalid file changes nothing
TH_STDERR_ALLOW='reload failed|takes effect only after a restart'
printf 'document_rot = "/nowhere";\n' >>"$conf"
line=$(grep -n '^document_rot' "$conf" | cut -d: -f1)
th_signal HUP
th_check "invalid file: FILE:LINE error logged" \
    th_wait_log "\\[err\\] reload failed.*$conf:$line: unknown key 'document_rot'" 5
th_get kept /
th_expect_status kept 200
th_expect_body_has kept 'th-root2-index'
th_check "READY=1 after the failed reload too" th_poll 5 \
    awk '/^RELOADING=1/ { n++ } /^READY=1/ && n == 2 { ok = 1 } END { exit !ok }' "$TH_NOTIFY_LOG"

# --- a restart-only key is warned about, the rest applies
threads=$(th_threads)
write_conf "$pub/root2" 7
printf 'access_log = false;\n' >>"$conf"
th_signal HUP
th_check "restart-only change warned about" \
    th_wait_log '\[warning\] reload: pool_size changed; this takes effect only after a restart' 5
th_eq "threads unchanged after a pool_size reload" "$threads" "$(th_threads)"
th_eq "pool_size 3: 3 workers and the loop" 4 "$threads"

th_done
