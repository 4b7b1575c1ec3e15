#!/bin/bash
# t_burst.sh - a burst of requests on many connections, which then stay
# open and idle, does not leave a request buffer behind on each of them
# until the loop's next sweep: the daemon's peak resident memory (VmHWM)
# grows by less than 4 KiB per connection (about 10 KiB when every one of
# them kept its buffer until the sweep).
. "$(dirname "$0")/lib.sh"

N=1500

want=4096
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge $want ] || want=$hard
ulimit -n "$want" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((N + 64)) ] ||
    th_fatal "the open file limit ($(ulimit -n), hard $hard) is too low for $N sockets"

th_init
th_conf 'max_connections = 1900;' 'keepalive_timeout = 60;' 'access_log = false;'
th_start
th_get warm /file.txt
th_expect_status warm 200
hwm() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$TH_DPID/status"; }
hwm0=$(hwm)

th_bg_start burst "$PYTHON3" -I -S "$TH_CLIENT" burst --port "$TH_PORT" --conns "$N" --hold 60
th_bg_expect burst '^READY' 30 || true
th_match "every request of the burst was answered 200" "^READY ok=$N\$" "$TH_BG_LINE"
hwm1=$(hwm)
per=$(( (hwm1 - hwm0) * 1024 / N ))
echo "# VmHWM $hwm0 -> $hwm1 KiB: $per bytes per connection"
if grep -qaE '__(asan|tsan|msan)_init' "$TINYHTTPD" 2>/dev/null; then
    # A sanitizer keeps freed memory in quarantine: the figure means nothing.
    th_ok "peak memory per connection not checked under a sanitizer ($per bytes)"
else
    th_le "peak memory per connection of the burst (bytes)" "$per" 4096
fi
th_bg_kill burst

th_done
