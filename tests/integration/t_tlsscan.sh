#!/bin/bash
# t_tlsscan.sh - a TLS configuration scanner (sslscan) finds nothing weak.
#
# The HTTPS port is scanned with sslscan (Debian's package; the test is
# skipped without it), once with an ECDSA P-256 certificate and once with
# an RSA 2048 one, in the default configuration.  From its XML report:
# SSLv2, SSLv3, TLS 1.0 and 1.1 are disabled, TLS 1.2 and 1.3 enabled;
# every cipher suite accepted is at least 128 bits, rated "acceptable" or
# "strong" by sslscan, and none is RC4, (3)DES, NULL, export, anonymous,
# MD5 or CBC with SHA-1; renegotiation is not supported; no heartbleed;
# compression is not supported (when the scanner's OpenSSL can test it: it
# says so otherwise, and the test prints that).  A few seconds in all.
# (The certificates: the abuse tests' ab_tls_setup, and lib.sh's th_test_leaf.)
. "$(dirname "$0")/../abuse/abuselib.sh"

SSLSCAN=$(command -v sslscan || true)
[ -n "$SSLSCAN" ] || th_skip "sslscan is not installed (script/bootstrap installs it)"

th_init
ab_tls_setup
d=$TH_TMP/tls
th_test_leaf rsa rsa 30 0x2001 # beside ab_tls_setup's ECDSA one, by the same CA

# scan LABEL: sslscan the running daemon's HTTPS port and check its report
scan() {
    local label=$1 xml=$TH_TMP/sslscan-$1.xml t0 v p c bad
    t0=$(th_now_ms)
    timeout 120 "$SSLSCAN" --no-colour --xml="$xml" "127.0.0.1:$AB_TLS_PORT" >"$TH_TMP/sslscan-$label.txt" 2>&1 ||
        th_fail "$label: sslscan failed" "$(cat "$TH_TMP/sslscan-$label.txt")"
    echo "# $label: sslscan took $(($(th_now_ms) - t0)) ms"
    grep -E '<(protocol|cipher|renegotiation|compression|heartbleed) ' "$xml" | sed 's/^ */# /'
    grep -q '<ssltest ' "$xml" || { th_fail "$label: no report from sslscan" "$(cat "$TH_TMP/sslscan-$label.txt")"; return; }
    for v in "ssl 2" "ssl 3" "tls 1.0" "tls 1.1"; do
        p=$(grep -c "<protocol type=\"${v% *}\" version=\"${v#* }\" enabled=\"0\"" "$xml" || true)
        th_eq "$label: $v disabled" 1 "$p"
    done
    for v in 1.2 1.3; do
        p=$(grep -c "<protocol type=\"tls\" version=\"$v\" enabled=\"1\"" "$xml" || true)
        th_eq "$label: TLS $v enabled" 1 "$p"
    done
    c=$(grep -c '<cipher ' "$xml" || true)
    th_le "$label: some cipher suites accepted" 3 "$c"
    bad=$(grep '<cipher ' "$xml" | grep -E 'cipher="[^"]*(RC4|DES|NULL|EXP|anon|ADH|AECDH|MD5)' || true)
    th_eq "$label: no RC4, DES, 3DES, NULL, export, anonymous or MD5 suite" "" "$bad"
    bad=$(grep '<cipher ' "$xml" | grep -E 'cipher="[^"]*-SHA"|cipher="[^"]*CBC' || true)
    th_eq "$label: no CBC suite with SHA-1" "" "$bad"
    bad=$(grep '<cipher ' "$xml" | grep -vE 'strength="(acceptable|strong)"' || true)
    th_eq "$label: every suite rated acceptable or strong by sslscan" "" "$bad"
    bad=$(grep '<cipher ' "$xml" | awk -F'bits="' '{ split($2, b, "\""); if (b[1] + 0 < 128) print }')
    th_eq "$label: no suite under 128 bits" "" "$bad"
    th_eq "$label: no renegotiation" 1 "$(grep -c '<renegotiation supported="0"' "$xml" || true)"
    th_eq "$label: not vulnerable to heartbleed" 0 "$(grep -c '<heartbleed [^>]*vulnerable="1"' "$xml" || true)"
    if grep -q '<compression ' "$xml"; then
        th_eq "$label: no TLS compression" 1 "$(grep -c '<compression supported="0"' "$xml" || true)"
    else
        echo "# $label: compression not tested: $(grep -A1 'TLS Compression' "$TH_TMP/sslscan-$label.txt" | tail -n 1)"
    fi
}

th_conf "${AB_TLS_CONF[@]}"
th_start
scan ecdsa
th_stop

th_conf "tls_listen = [ \"127.0.0.1:$AB_TLS_PORT\" ];" "tls_certificate = \"$d/rsa.pem\";" \
    "tls_certificate_key = \"$d/rsa.key\";"
th_start
scan rsa
th_match "rsa: the RSA suites are offered" 'ECDHE-RSA-AES128-GCM-SHA256' "$(cat "$TH_TMP/sslscan-rsa.xml")"
th_stop

th_done
