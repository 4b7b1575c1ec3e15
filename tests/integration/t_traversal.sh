#!/bin/bash
# t_traversal.sh - nothing outside the document root is ever served: dot
# segments (raw and encoded), encoded slashes and backslashes, NUL, the
# absolute form, and symlinks that point outside; hidden files are refused
# except under /.well-known/.  Raw sockets (and curl --path-as-is), since
# clients normalise paths.
. "$(dirname "$0")/lib.sh"

th_init
th_conf
th_start

# Markers of content that must never be served.
SECRETS='th-outside-secret|th-secret-dotfile|th-secret-hidden|root:.*:0:0:'

n=0
# refused TARGET [STATUS-ERE]: a request for TARGET is answered 400/403/404
# and the body holds none of the secrets.
refused() {
    local name want=${2:-400|403|404}
    n=$((n + 1))
    name=refused-$n
    th_req "$name" "GET $1 HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
    echo "# $name: GET $1"
    th_expect_status "$name" "$want"
    if grep -aqE "$SECRETS" "$(th_body "$name")" 2>/dev/null; then
        th_fail "$name: GET $1 served protected content"
    else
        th_ok "$name: no protected content"
    fi
}

# served NAME TARGET FILE
served() {
    th_req "$1" "GET $2 HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
    echo "# $1: GET $2"
    th_expect_status "$1" 200
    th_expect_body "$1" "$3"
}

# --- dot segments above the root, raw and percent-encoded
refused /../etc/passwd
refused /../../../../../../etc/passwd
refused /../outside/secret.txt
refused /sub/../../outside/secret.txt
refused /%2e%2e/%2e%2e/etc/passwd
refused /%2E%2E/%2E%2E/%2E%2E/etc/passwd
refused /%2e%2e/outside/secret.txt
refused /.%2e/outside/secret.txt
refused /sub/%2e%2e/%2e%2e/outside/secret.txt
# --- encoded slashes and backslashes
refused /a/..%2f..%2fetc/passwd
refused /..%2f..%2f..%2fetc/passwd
refused /sub/..%2f..%2foutside/secret.txt
refused /sub%2Findex.html
refused /sub%2findex.html
refused /..%5c..%5cetc/passwd
refused /..%5C..%5Coutside%5Csecret.txt
refused /sub%5Cindex.html
refused '/..\..\outside\secret.txt'
# --- NUL and other control bytes
refused /file.txt%00
refused /file.txt%00.html
refused /%00/../outside/secret.txt
refused /file%0a.txt
# --- absolute form
refused http://x/../../etc/passwd
refused http://x/%2e%2e/outside/secret.txt
refused http://x/../outside/secret.txt
# --- symlinks leaving the root
refused /link-out.txt
refused /link-out-abs.txt
refused /linkdir-out/secret.txt
refused /linkdir-out/
# --- hidden files and directories
refused /.secret '403|404'
refused /%2esecret '403|404'
refused /sub/.hidden '403|404'
refused /.well-known/../.secret '403|404'
refused /.well-known/acme-challenge/../../.secret '403|404'

# --- what stays inside the root is served
served link-in /link-in.txt "$TH_ROOT/file.txt"
served acme /.well-known/acme-challenge/token "$TH_ROOT/.well-known/acme-challenge/token"
served dot-inside /sub/../file.txt "$TH_ROOT/file.txt"
served dot-current /./file.txt "$TH_ROOT/file.txt"
served absolute-form http://x/file.txt "$TH_ROOT/file.txt"

served absolute-port http://x:8080/file.txt "$TH_ROOT/file.txt"
served absolute-ipv6 'http://[::1]:80/file.txt' "$TH_ROOT/file.txt"

# --- long targets: their limit is max_header_size (8192 here), not a 4 KiB buffer
# a file whose path is 3880 bytes: 15 directories of 254 bytes
seg=$(head -c 254 /dev/zero | tr '\0' d)
deep=
(
    cd "$TH_ROOT" || exit 1
    for _ in $(seq 15); do mkdir "$seg" && cd "$seg" || exit 1; done
    cp "$TH_ROOT/file.txt" long-file-name-that-takes-the-path-past-3840-bytes.txt
) || th_fatal "cannot make the deep directory"
for _ in $(seq 15); do deep="$deep/$seg"; done
served long-path "$deep/long-file-name-that-takes-the-path-past-3840-bytes.txt" "$TH_ROOT/file.txt"
# a 6000-byte target whose path is short
dots=$(printf '/.%.0s' $(seq 3000))
served long-dots "$dots/file.txt" "$TH_ROOT/file.txt"
# a path of PATH_MAX (4096) bytes or more names no file: 404, not 414
refused "/$(head -c 5000 /dev/zero | tr '\0' a)" 404
refused "$deep$deep/file.txt" 404

# --- curl --path-as-is sends the same requests through a real client
for p in /../outside/secret.txt /sub/../../outside/secret.txt /link-out.txt /.secret; do
    n=$((n + 1))
    th_get "curl-$n" "$p" --path-as-is
    th_expect_status "curl-$n" '400|403|404'
    if grep -aqE "$SECRETS" "$(th_body "curl-$n")"; then th_fail "curl-$n: $p served protected content"; else th_ok "curl-$n: $p: no protected content"; fi
done

th_done
