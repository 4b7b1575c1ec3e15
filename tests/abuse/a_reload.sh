#!/bin/bash
# a_reload.sh - SIGHUP storms under hostile load.
#
# While mixed keep-alive/pipelined/close traffic (every status checked),
# clients resetting mid-download, 200 slowloris connections and a steady
# 16 MiB download run, the daemon gets 50 SIGHUPs 100 ms apart;
# the configuration file is replaced (atomically) between some of them:
# header_timeout and access_log toggled, a restart-only key changed (a
# warning), one invalid file (the reload fails, nothing changes), and last a
# new document_root.  Nothing may crash or go wrong: every response as
# expected, the download byte-exact, every slow client 408, descriptors
# and threads back to where they were, the new document_root served, and
# exit status 0 with no unexpected warning.  Under ThreadSanitizer this is
# the test that exercises the site reference counting between the loop and
# the workers.
. "$(dirname "$0")/abuselib.sh"

POOL=3
HUPS=50
TH_STDERR_ALLOW='reload failed, keeping the running configuration|reload: pool_size changed'

nofile=$(ab_nofile 4096)
[ "$nofile" -ge 1024 ] || th_skip "the open file limit ($nofile) is too low"

# Started as root, the daemon re-reads its configuration as nobody: it and
# the document roots live in a directory of this test's own under /tmp,
# reachable by any user wherever the build tree is (a checkout under a
# private directory is not).
TH_TMPBASE=/tmp
th_init
chmod 755 "$TH_TMP"
mkdir -p "$TH_TMP/root2"
printf 'th-root2-file\n' >"$TH_TMP/root2/file.txt"
head -c $((16 << 20)) /dev/urandom >"$TH_ROOT/b16.bin"
sha_b16=$(sha256sum "$TH_ROOT/b16.bin" | awk '{ print $1 }')

# conf_write HEADER_TIMEOUT ACCESS_LOG POOL [DOCROOT] [EXTRA]: replace the
# configuration atomically (a reload never sees half a file).
conf_write() {
    {
        printf 'listen = [ "127.0.0.1:%s" ];\n' "$TH_PORT"
        printf 'document_root = "%s";\n' "${4:-$TH_ROOT}"
        printf 'pool_size = %s;\nheader_timeout = %s;\naccess_log = %s;\n' "$3" "$1" "$2"
        printf 'send_timeout = 2;\nkeepalive_timeout = 5;\n%s\n' "${5:-}"
    } >"$TH_CONF.new"
    mv -f "$TH_CONF.new" "$TH_CONF"
}
th_conf
conf_write 2 true $POOL
th_start "$TINYHTTPD" -c "$TH_CONF"

etag=$(th_curl -sI "http://127.0.0.1:$TH_PORT/file.txt" | tr -d '\r' | awk 'tolower($1) == "etag:" { print $2 }')
ab_quick_get warmup /file.txt
fds0=$(th_fds)
threads0=$(th_threads)

ab_bg mixed mixed --count 1000000 --conns 6 --etag "$etag" --timeout 8
# connections that a worker closes (after Connection: close, HTTP/1.0, 400)
ab_bg closing mixed --count 1000000 --conns 4 --kinds close,http10,bad400 --timeout 8
ab_bg rst reset --path /b16.bin --after 0,1000,100000,1000000,4000000,8000000 --timeout 20
ab_bg slow slowloris --conns 200 --rounds 2 --interval 0.5 --timeout 20
ab_bg ref download --path /b16.bin --rate 3000000 --timeout 30

failed_reloads=0
for i in $(seq 1 $HUPS); do
    case $i in
    10) conf_write 3 false $POOL ;;
    20) conf_write 2 true $((POOL + 1)) ;;         # restart-only: a warning
    30)
        conf_write 2 true $POOL '' 'header_timeout = "not a number";'
        th_signal HUP
        th_wait_log 'reload failed' 5 && failed_reloads=1
        conf_write 2 true $POOL
        ;;
    40) conf_write 3 true $POOL ;;
    esac
    th_signal HUP
    sleep 0.1
done

ab_bg_done mixed 30 || th_fail "mixed client did not finish"
echo "# mixed traffic during the reloads: $(th_bg_val total) responses ($(th_bg_val by_status)), errors $(th_bg_val errors)"
th_eq "every response during the reloads as expected" 0 "$(th_bg_val unexpected)"
th_eq "no connection error during the reloads" none "$(th_bg_val errors)"
th_le "traffic kept flowing" 1000 "$(th_bg_val total)"
ab_bg_done closing 30 || th_fail "closing client did not finish"
echo "# closing connections during the reloads: $(th_bg_val total) ($(th_bg_val by_status))"
th_eq "every response on closing connections as expected" 0 "$(th_bg_val unexpected)"
th_eq "no connection error on closing connections" none "$(th_bg_val errors)"
ab_bg_done rst 30 || th_fail "reset client did not finish"
th_eq "resetting clients went away as planned" 6 "$(th_bg_val reset)"
ab_bg_done slow 30 || th_fail "slowloris client did not finish"
echo "# slowloris during the reloads: $(th_bg_val got408) x 408 (after $(th_bg_val t408_min)..$(th_bg_val t408_max) ms), other: $(th_bg_val other)"
th_eq "every slow client got 408" 400 "$(th_bg_val got408)"
ab_bg_done ref 30 || th_fail "download did not finish"
th_eq "download across the reloads: complete and byte-exact" "200 $((16 << 20)) $((16 << 20)) $sha_b16" \
    "$(th_bg_val response)"

reloaded=$(grep -ac 'reloaded ' "$TH_LOG" || true)
echo "# $HUPS SIGHUPs (+1): $reloaded reloads logged, invalid file refused: $failed_reloads"
th_le "most SIGHUPs reloaded (signals may coalesce)" $((HUPS / 2)) "$reloaded"
th_eq "only the invalid file's reload failed" 1 "$(grep -ac 'reload failed' "$TH_LOG" || true)"
th_eq "the invalid configuration was refused" 1 "$failed_reloads"
th_check "the restart-only change was warned about" grep -aq 'reload: pool_size changed' "$TH_LOG"

settled() { [ "$(th_fds)" -le "$fds0" ]; }
th_check "descriptors back to $fds0" th_poll 10 settled
th_eq "thread count unchanged (pool_size is restart-only)" "$threads0" "$(th_threads)"

# a new document_root takes effect
conf_write 2 true $POOL "$TH_TMP/root2"
th_signal HUP
th_check "reloaded with the new document_root" th_wait_log "document_root $TH_TMP/root2" 5
th_get root2 /file.txt
th_expect_status root2 200
th_expect_body root2 "$TH_TMP/root2/file.txt"

th_done
