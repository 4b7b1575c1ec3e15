#!/bin/bash
# t_config.sh - the command line (-t, -h, -V, -c and their long forms) and
# configuration errors:
# FILE:LINE messages, exit status 1, no start with a bad file (an index
# that is not one file name among them); a single string for listen;
# log_level and access_log take effect.
. "$(dirname "$0")/lib.sh"

th_init
th_conf 'pool_size = 2;'
D=$TH_TMP/cfg
mkdir -p "$D"

# run NAME COMMAND...: run with a 5 s bound; RC, $D/NAME.out, $D/NAME.err
run() {
    local name=$1
    shift
    RC=0
    timeout 5 "$@" >"$D/$name.out" 2>"$D/$name.err" </dev/null || RC=$?
}

# expect_rc NAME WANT
expect_rc() {
    if [ "$RC" = "$2" ]; then
        th_ok "$1: exit status $RC"
    else
        th_fail "$1: exit status $RC, expected $2" "stdout: $(head -c 500 "$D/$1.out")" "stderr: $(head -c 500 "$D/$1.err")"
    fi
}

# expect_in NAME out|err FIXED-STRING
expect_in() {
    if grep -qF -- "$3" "$D/$1.$2"; then
        th_ok "$1: std$2 has '$3'"
    else
        th_fail "$1: std$2 lacks '$3'" "std$2: $(head -c 500 "$D/$1.$2")"
    fi
}

# --- -t with a good file
run good "$TINYHTTPD" -t -c "$TH_CONF"
expect_rc good 0
th_eq "good: one line on stdout" 1 "$(wc -l <"$D/good.out")"
expect_in good out "tinyhttpd: configuration file $TH_CONF test is successful"

# bad FILE-NAME LINE-NO EXPECTED-MESSAGE-PART LINES...: write the file,
# then -t and a real start must both fail with FILE:LINE: message.
bad() {
    local name=$1 line=$2 msg=$3 f
    shift 3
    f=$D/$name.conf
    printf '%s\n' "$@" >"$f"
    run "$name-t" "$TINYHTTPD" -t -c "$f"
    expect_rc "$name-t" 1
    expect_in "$name-t" err "$f:$line:$msg"
    expect_in "$name-t" err "tinyhttpd: configuration file $f test failed"
    th_eq "$name-t: nothing on stdout" "" "$(cat "$D/$name-t.out")"
    run "$name-start" "$TINYHTTPD" -c "$f"
    expect_rc "$name-start" 1
    expect_in "$name-start" err "$f:$line:$msg"
}

L="listen = [ \"127.0.0.1:$TH_PORT\" ];"
DR="document_root = \"$TH_ROOT\";"

bad unknown 3 " unknown key 'document_rot'" "$L" "$DR" 'document_rot = "/tmp";'
bad unknown-later 4 " unknown key 'workers'" "# comment" "$L" "$DR" 'workers = 4;'
bad syntax 4 "" "$L" "$DR" 'pool_size = 2;' 'index = ;'
bad missing-value 3 "" "$L" "$DR" 'pool_size = ;' 'index = "index.html";'
bad type 3 "" "$L" "$DR" 'pool_size = "two";'
bad range 3 "" "$L" "$DR" 'pool_size = 0;'
bad listen 1 "" 'listen = [ "nonsense" ];' "$DR"
bad log-level 3 "" "$L" "$DR" 'log_level = "loud";'
# index names one file in a directory: no '/', no '..', at most NAME_MAX bytes
bad index-slash 3 " 'index' must be a file name without '/'" "$L" "$DR" 'index = "a/b.html";'
bad index-dotdot 3 " 'index' must be a file name without '/'" "$L" "$DR" 'index = "..";'
long=$(printf '%0256d' 0)
bad index-long 3 " 'index' must be a file name of at most 255 bytes" "$L" "$DR" "index = \"$long\";"

# --- a missing -c file
run missing-t "$TINYHTTPD" -t -c "$D/nonexistent.conf"
expect_rc missing-t 1
expect_in missing-t err "No such file or directory"
run missing-start "$TINYHTTPD" -c "$D/nonexistent.conf"
expect_rc missing-start 1
expect_in missing-start err "No such file or directory"

# --- a document_root that does not exist
printf '%s\n' "$L" "document_root = \"$TH_TMP/no-such-dir\";" >"$D/noroot.conf"
run noroot-t "$TINYHTTPD" -t -c "$D/noroot.conf"
expect_rc noroot-t 1
expect_in noroot-t err "$TH_TMP/no-such-dir"
run noroot-start "$TINYHTTPD" -c "$D/noroot.conf"
expect_rc noroot-start 1
expect_in noroot-start err "$TH_TMP/no-such-dir"

# --- no document_root at all
printf '%s\n' "$L" >"$D/nodr.conf"
run nodr-t "$TINYHTTPD" -t -c "$D/nodr.conf"
expect_rc nodr-t 1
expect_in nodr-t err "document_root"

# --- -h, -V, an unknown option
run help "$TINYHTTPD" -h
expect_rc help 0
if grep -qi 'usage' "$D/help.out" && grep -q -- '-c' "$D/help.out"; then
    th_ok "-h: usage with -c on stdout"
else
    th_fail "-h: no usage on stdout" "$(head -c 500 "$D/help.out")"
fi
run version "$TINYHTTPD" -V
expect_rc version 0
th_match "-V prints the name and version" '^tinyhttpd[ /v]+[0-9]+\.[0-9]+\.[0-9]+' "$(head -n 1 "$D/version.out")"
run badopt "$TINYHTTPD" -Z
th_check "an unknown option fails (status $RC)" [ "$RC" != 0 ] && [ "$RC" != 124 ]

# --- the long forms: --help, --version, --test with --config=FILE and --config FILE
run lhelp "$TINYHTTPD" --help
expect_rc lhelp 0
th_eq "--help prints what -h prints" "$(cat "$D/help.out")" "$(cat "$D/lhelp.out")"
expect_in lhelp out "--config=FILE"
run lversion "$TINYHTTPD" --version
expect_rc lversion 0
th_eq "--version prints what -V prints" "$(cat "$D/version.out")" "$(cat "$D/lversion.out")"
run lgood "$TINYHTTPD" --test --config="$TH_CONF"
expect_rc lgood 0
expect_in lgood out "tinyhttpd: configuration file $TH_CONF test is successful"
printf 'pool_size = "two";\n' >"$D/lbad.conf"
run lbad "$TINYHTTPD" --test --config "$D/lbad.conf"
expect_rc lbad 1
expect_in lbad err "$D/lbad.conf:1:"
run badlong "$TINYHTTPD" --frobnicate
th_check "an unknown long option fails (status $RC)" [ "$RC" = 1 ]

# --- listen as a single string; log_level = "warning" and access_log = false
# silence the info lines and the access log
cat >"$D/quiet.conf" <<EOF
listen = "127.0.0.1:$TH_PORT";
document_root = "$TH_ROOT";
log_level = "warning";
access_log = false;
EOF
th_start "$TINYHTTPD" -c "$D/quiet.conf"
th_get quiet /file.txt
th_expect_status quiet 200
th_expect_body quiet "$TH_ROOT/file.txt"
th_stop
th_check "quiet: no access log line" eval '! grep -aq "GET /file.txt" "$TH_LOG"'
th_check "quiet: no [info] lines" eval '! grep -aq "\[info\]" "$TH_LOG"'

# --- log_level = "debug" and log_target = "stderr" work too
th_conf 'log_level = "debug";' 'log_target = "stderr";' 'access_log = true;'
th_start
th_get debug /file.txt
th_expect_status debug 200
th_check "debug: access log line" th_wait_log '"GET /file.txt HTTP/1.1" 200 1024 '
th_stop

# --- the tls_* keys: FILE:LINE errors from -t and from a start (the
# certificates are made here with openssl).  Built without OpenSSL, every
# tls_* key is refused.
NOSSL=" 'tls_hsts': HTTPS is not available: tinyhttpd was built without OpenSSL"
printf '%s\n' "$L" "$DR" 'tls_hsts = 0;' >"$D/tls-probe.conf"
if "$TINYHTTPD" -t -c "$D/tls-probe.conf" 2>&1 | grep -q 'built without OpenSSL'; then
    bad tls-nossl 3 "$NOSSL" "$L" "$DR" 'tls_hsts = 0;'
    bad tls-nossl-later 4 " 'tls_certificate': HTTPS is not available: tinyhttpd was built without OpenSSL" \
        "$L" "$DR" 'access_log = true;' 'tls_certificate = "/nonexistent.pem";'
elif command -v openssl >/dev/null 2>&1; then
    # a directory any user can read: the unreadable-key case runs -t as nobody
    K=$(mktemp -d /tmp/tinyhttpd-config-tls.XXXXXX)
    trap 'rc=$?; trap - ERR; set +e; rm -rf "$K"; (exit $rc); th__cleanup' EXIT
    chmod 755 "$K"
    ossl() { openssl "$@" >>"$K/openssl.log" 2>&1; }
    # a CA, a valid leaf (c/k), a second key (k2), an expired leaf (ce/k2)
    ossl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/ca.key" \
        -out "$K/ca.pem" -days 30 -subj "/CN=tinyhttpd test CA"
    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/k.pem"
    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$K/k2.pem"
    ossl req -new -key "$K/k.pem" -subj /CN=localhost -out "$K/c.csr"
    ossl x509 -req -in "$K/c.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -set_serial 7 -days 30 -out "$K/c.pem"
    # expired: openssl ca with explicit dates (x509 -days cannot go back)
    printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index\nnew_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n' \
        "$K" "$K" "$K" >"$K/ca.cnf"
    : >"$K/index"
    echo 01 >"$K/serial"
    ossl req -new -key "$K/k2.pem" -subj /CN=localhost -out "$K/e.csr"
    ossl ca -batch -config "$K/ca.cnf" -cert "$K/ca.pem" -keyfile "$K/ca.key" -in "$K/e.csr" \
        -out "$K/ce.pem" -startdate 20200101000000Z -enddate 20200201000000Z -notext
    chmod 644 "$K"/*.pem
    [ -s "$K/c.pem" ] && [ -s "$K/ce.pem" ] || th_fatal "could not make the test certificates" "$(tail -n 5 "$K/openssl.log")"
    TL="tls_listen = [ \"127.0.0.1:$(th_free_port)\" ];"
    TC="tls_certificate = \"$K/c.pem\";"
    TK="tls_certificate_key = \"$K/k.pem\";"

    # the valid pair passes
    printf '%s\n' "$L" "$DR" "$TL" "$TC" "$TK" >"$D/tls-good.conf"
    run tls-good "$TINYHTTPD" -t -c "$D/tls-good.conf"
    expect_rc tls-good 0
    expect_in tls-good out "test is successful"

    bad tls-listen-nocert 3 " 'tls_listen': HTTPS needs tls_certificate and tls_certificate_key" "$L" "$DR" "$TL"
    bad tls-cert-missing 4 " 'tls_certificate': cannot open $K/nope.pem: No such file or directory" \
        "$L" "$DR" "$TL" "tls_certificate = \"$K/nope.pem\";" "$TK"
    bad tls-key-missing 5 " 'tls_certificate_key': cannot open $K/nope.key: No such file or directory" \
        "$L" "$DR" "$TL" "$TC" "tls_certificate_key = \"$K/nope.key\";"
    # the key does not match the certificate: the key's line and its file
    bad tls-mismatch 5 " 'tls_certificate_key': $K/k2.pem" "$L" "$DR" "$TL" "$TC" "tls_certificate_key = \"$K/k2.pem\";"
    th_check "tls-mismatch: says the key does not match" \
        grep -qE 'does not match the certificate|key values mismatch' "$D/tls-mismatch-t.err"
    bad tls-expired 4 " 'tls_certificate': the certificate in $K/ce.pem has expired" \
        "$L" "$DR" "$TL" "tls_certificate = \"$K/ce.pem\";" "tls_certificate_key = \"$K/k2.pem\";"
    bad tls-protocols-11 6 " 'tls_protocols' must name TLSv1.2, TLSv1.3 or both" \
        "$L" "$DR" "$TL" "$TC" "$TK" 'tls_protocols = "TLSv1.1";'
    bad tls-protocols-12-11 6 " 'tls_protocols' must name TLSv1.2, TLSv1.3 or both" \
        "$L" "$DR" "$TL" "$TC" "$TK" 'tls_protocols = "TLSv1.2 TLSv1.1";'
    bad tls-ciphers 6 " 'tls_ciphers': no usable cipher in 'NOPE-CIPHER'" \
        "$L" "$DR" "$TL" "$TC" "$TK" 'tls_ciphers = "NOPE-CIPHER";'
    bad tls-same-addr 3 " 'tls_listen': '127.0.0.1:$TH_PORT' is in 'listen' too" \
        "$L" "$DR" "tls_listen = [ \"127.0.0.1:$TH_PORT\" ];" "$TC" "$TK"
    bad tls-hsts-high 6 " 'tls_hsts' must be between 0 and 157680000" \
        "$L" "$DR" "$TL" "$TC" "$TK" 'tls_hsts = 157680001;'
    bad tls-hsts-negative 6 " 'tls_hsts' must be between 0 and 157680000" \
        "$L" "$DR" "$TL" "$TC" "$TK" 'tls_hsts = -1;'

    # a key only root may read, -t as another user: "Permission denied"
    if [ "$(id -u)" = 0 ] && [ -n "$TH_SETPRIV" ]; then
        chmod 600 "$K/k.pem"
        printf '%s\n' "$L" "document_root = \"$K\";" "$TL" "$TC" "$TK" >"$K/unreadable.conf"
        chmod 644 "$K/unreadable.conf"
        run tls-unreadable "$TH_SETPRIV" --reuid nobody --regid nogroup --clear-groups \
            "$TINYHTTPD" -t -c "$K/unreadable.conf"
        expect_rc tls-unreadable 1
        expect_in tls-unreadable err "$K/unreadable.conf:5: 'tls_certificate_key': cannot open $K/k.pem: Permission denied"
        chmod 644 "$K/k.pem"
    elif [ "$(id -u)" != 0 ]; then
        chmod 000 "$K/k.pem"
        bad tls-unreadable 5 " 'tls_certificate_key': cannot open $K/k.pem: Permission denied" "$L" "$DR" "$TL" "$TC" "$TK"
        chmod 644 "$K/k.pem"
    else
        echo "# skipped the unreadable-key case: root without setpriv"
    fi
else
    echo "# skipped the tls_* cases: no openssl command"
fi

th_done
