#!/bin/bash
# The journal backend: with log_target = "journal" every message and every
# access record goes to the journal socket in journald's native protocol,
# with PRIORITY, the code location, and the access fields REMOTE_ADDR,
# HTTP_METHOD, HTTP_PATH, HTTP_STATUS, HTTP_BYTES and DURATION_USEC.  The
# test runs in a private mount namespace whose /run holds a socket of ours
# at /run/systemd/journal/socket, so it reads exactly what journald would.
if [ -z "${TH_IN_NS:-}" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1; then
        echo "SKIP: needs root and unshare(1) for a private /run"
        exit 77
    fi
    TH_IN_NS=1 exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

th_init
mount -t tmpfs -o mode=755 tmpfs /run || th_fatal "cannot mount a private /run"
mkdir -p /run/systemd/journal
dgrams=$TH_TMP/journal.dgrams
cat >"$TH_TMP/journal.py" <<'PY'
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
print("listening", flush=True)
with open(out, "ab") as f:
    while True:
        d = s.recv(1 << 20)
        # one record per line of output: fields joined by \x1e
        fields = []
        i = 0
        while i < len(d):
            nl = d.index(b"\n", i)
            line = d[i:nl]
            if b"=" in line:
                fields.append(line)
                i = nl + 1
            else:  # binary-safe form: NAME\n<le64 size><data>\n
                n = int.from_bytes(d[nl + 1:nl + 9], "little")
                fields.append(line + b"=" + d[nl + 9:nl + 9 + n])
                i = nl + 9 + n + 1
        f.write(b"\x1e".join(fields) + b"\n")
        f.flush()
PY
th_bg_start journal "$PYTHON3" -I -S "$TH_TMP/journal.py" /run/systemd/journal/socket "$dgrams"
th_bg_expect journal '^listening' 5 || th_fatal "journal stand-in did not start"

th_conf 'log_target = "journal";'
th_start
th_get ok /file.txt -A 'th-agent'
th_expect_status ok 200
th_get missing '/no/such%20file?q=1'
th_expect_status missing 404
th_stop

record() { tr '\036' '\n' <<<"$1"; }
th_check "journal got the start-up line" th_poll 5 grep -aq 'MESSAGE=ready: ' "$dgrams"
ready=$(grep -a 'MESSAGE=ready: ' "$dgrams" | head -n1)
th_match "start-up line has PRIORITY=6" $'(^|\036)PRIORITY=6(\036|$)' "$ready"
th_match "start-up line has CODE_FILE" $'(^|\036)CODE_FILE=[^\036]*server\\.c' "$ready"
th_match "start-up line has CODE_LINE" $'(^|\036)CODE_LINE=[0-9]+' "$ready"
th_match "start-up line has CODE_FUNC" $'(^|\036)CODE_FUNC=server_run' "$ready"
th_match "start-up line has SYSLOG_IDENTIFIER" $'(^|\036)SYSLOG_IDENTIFIER=tinyhttpd' "$ready"

th_check "journal got the 404 record" th_poll 5 grep -aq 'HTTP_STATUS=404' "$dgrams"
rec=$(grep -a 'HTTP_STATUS=404' "$dgrams" | head -n1)
for f in 'REMOTE_ADDR=127\.0\.0\.1' 'HTTP_METHOD=GET' 'HTTP_PATH=/no/such%20file\?q=1' \
         'HTTP_STATUS=404' 'HTTP_BYTES=[0-9]+' 'DURATION_USEC=[0-9]+' 'PRIORITY=6'; do
    th_match "404 record has ${f%%=*}" "(^|"$'\036'")$f("$'\036'"|\$)" "$rec"
done
rec=$(grep -a 'HTTP_STATUS=200' "$dgrams" | head -n1)
th_match "200 record counts the body bytes" $'(^|\036)HTTP_BYTES=1024(\036|$)' "$rec"
th_match "200 record has the user agent" $'(^|\036)HTTP_USER_AGENT=th-agent(\036|$)' "$rec"
th_check "nothing but the journal on stderr" test ! -s "$TH_LOG"
th_check "SIGTERM line in the journal" grep -aq 'MESSAGE=got SIGTERM' "$dgrams"
th_bg_kill journal
umount /run || true

th_done
