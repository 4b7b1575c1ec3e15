#!/bin/bash
# The Debian package, end to end: build it from a clean clone with
# dpkg-buildpackage, check it with lintian, check that a debian/changelog
# that disagrees with configure.ac fails the build, build a second package
# with a higher version, then install, reload, upgrade under load, remove
# and purge under a real systemd (tests/systemd/package-in-container.sh in
# ../shared/systemd-sandbox).  Needs root, git, dpkg-dev, debhelper and
# lintian (script/bootstrap installs them).
# Usage: tests/systemd/package.sh   (from anywhere; it tests the committed
# HEAD of the source tree's git repository, not uncommitted changes)
# Environment: SYSTEMD_SANDBOX (the run-in-systemd script), PACKAGE_JOURNAL
# (a file for the container's journal).
# Exit status: 0 pass, 1 a step failed, 77 skipped (no root, no sandbox,
# not a git checkout).
set -euo pipefail

srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
sandbox=${SYSTEMD_SANDBOX:-$srcdir/../shared/systemd-sandbox/run-in-systemd}
t0=$SECONDS

step() { echo "== $* ($((SECONDS - t0)) s)"; }
fail() {
    echo "FAIL: $*"
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: the systemd sandbox needs root"
    exit 77
fi
if [ ! -x "$sandbox" ]; then
    echo "SKIP: no systemd sandbox at $sandbox"
    exit 77
fi
if ! git -C "$srcdir" rev-parse --verify -q HEAD >/dev/null; then
    echo "SKIP: $srcdir is not a git checkout"
    exit 77
fi
for tool in dpkg-buildpackage dh lintian; do
    command -v "$tool" >/dev/null || fail "$tool is missing (script/bootstrap installs it)"
done

tmp=$(mktemp -d /var/tmp/tinyhttpd-package.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"

# Build in a clone, so that dpkg-buildpackage's ../*.deb and the build
# droppings stay in $tmp.  $1: directory, $2: log; more: environment.
build() {
    local dir=$1 log=$2
    shift 2
    (cd "$dir" && env "$@" dpkg-buildpackage -us -uc -b) >"$log" 2>&1
}

step "build the package from a clean clone"
git clone -q "$srcdir" "$tmp/a/tinyhttpd"
version=$(cd "$tmp/a/tinyhttpd" && dpkg-parsechangelog -S Version)
acver=$(sed -n 's/^AC_INIT(\[tinyhttpd\], \[\([^]]*\)\].*/\1/p' "$tmp/a/tinyhttpd/configure.ac")
echo "configure.ac: $acver, debian/changelog: $version"
build "$tmp/a/tinyhttpd" "$tmp/build-a.log" || {
    tail -n 60 "$tmp/build-a.log"
    fail "dpkg-buildpackage"
}
deb=$tmp/a/tinyhttpd_${version}_amd64.deb
[ -f "$deb" ] || fail "no $deb (built: $(cd "$tmp/a" && ls ./*.deb))"
[ -f "$tmp/a/tinyhttpd-dbgsym_${version}_amd64.deb" ] || fail "no -dbgsym package"
grep -q "^debian/rules: version $acver in configure.ac and debian/changelog" "$tmp/build-a.log" ||
    fail "the version check did not run"
grep -E '^# (TOTAL|PASS|FAIL|ERROR):' "$tmp/build-a.log" || fail "dh_auto_test ran no tests"
grep -q '^# FAIL: *0$' "$tmp/build-a.log" || fail "unit tests failed in the package build"
left=$(git -C "$tmp/a/tinyhttpd" status --porcelain)
[ -z "$left" ] || fail "the build leaves files that .gitignore does not name: $left"

step "package contents"
dpkg-deb -c "$deb" | awk '{ print $6 }' >"$tmp/contents"
for f in ./usr/sbin/tinyhttpd ./etc/tinyhttpd.conf ./lib/systemd/system/tinyhttpd.service \
         ./lib/systemd/system/tinyhttpd.socket ./usr/share/tinyhttpd/www/index.html \
         ./usr/share/man/man8/tinyhttpd.8.gz ./usr/share/man/man5/tinyhttpd.conf.5.gz \
         ./usr/share/doc/tinyhttpd/examples/tinyhttpd.conf ./usr/share/doc/tinyhttpd/copyright \
         ./usr/share/doc/tinyhttpd/changelog.Debian.gz; do
    grep -qx "$f" "$tmp/contents" || fail "the package lacks $f"
done
conffiles=$(dpkg-deb -I "$deb" conffiles 2>/dev/null || true)
[ "$conffiles" = /etc/tinyhttpd.conf ] || fail "conffiles is '$conffiles', expected /etc/tinyhttpd.conf"
dpkg-deb -I "$deb" control | sed -n 's/^\(Depends\|Recommends\): /&/p'

step "lintian: no error, no warning"
# Informational tags are shown and allowed; overrides are in debian/.
lrc=0
lintian --fail-on error,warning --display-info \
        "$deb" "$tmp/a/tinyhttpd-dbgsym_${version}_amd64.deb" >"$tmp/lintian.out" 2>&1 || lrc=$?
grep -v 'running with root privileges is not recommended' "$tmp/lintian.out" || true
[ "$lrc" -eq 0 ] || fail "lintian exits $lrc: errors or warnings"
! grep -q '^[EW]:' "$tmp/lintian.out" || fail "lintian reports errors or warnings"

step "a debian/changelog that disagrees with configure.ac fails the build"
git clone -q "$srcdir" "$tmp/b/tinyhttpd"
# A new changelog entry, as dch would add it.  $1: version.
add_entry() {
    local f=$tmp/b/tinyhttpd/debian/changelog
    git -C "$tmp/b/tinyhttpd" checkout -q debian/changelog
    {
        printf 'tinyhttpd (%s) UNRELEASED; urgency=medium\n\n  * Test upgrade.\n\n' "$1"
        printf ' -- Package Test <package-test@localhost>  %s\n\n' "$(date -R)"
        cat "$f"
    } >"$f.new"
    mv "$f.new" "$f"
}
add_entry "9.9.9-1"
if build "$tmp/b/tinyhttpd" "$tmp/build-bad.log"; then
    fail "a build with debian/changelog 9.9.9-1 against configure.ac $acver succeeded"
fi
grep "configure.ac says version '$acver'.*must agree" "$tmp/build-bad.log" ||
    { tail -n 20 "$tmp/build-bad.log"; fail "the build failed, but not on the version check"; }

step "build the upgrade, $version+test1"
add_entry "$version+test1"
# Same sources, so the unit tests are not run twice.
build "$tmp/b/tinyhttpd" "$tmp/build-b.log" DEB_BUILD_OPTIONS=nocheck || {
    tail -n 60 "$tmp/build-b.log"
    fail "dpkg-buildpackage of the upgrade"
}
! grep -q '^# TOTAL:' "$tmp/build-b.log" || fail "DEB_BUILD_OPTIONS=nocheck still ran the tests"
deb2=$tmp/b/tinyhttpd_${version}+test1_amd64.deb
[ -f "$deb2" ] || fail "no $deb2"
dpkg --compare-versions "$version+test1" gt "$version" || fail "the upgrade's version is not higher"

step "install, reload, upgrade, remove and purge under systemd"
mkdir "$tmp/sbx"
cp "$deb" "$tmp/sbx/old.deb"
cp "$deb2" "$tmp/sbx/new.deb"
cp "$srcdir/tests/systemd/package-in-container.sh" "$srcdir/tests/systemd/container-lib.sh" "$tmp/sbx/"
printf '%s\n%s\n' "$version" "$version+test1" >"$tmp/sbx/versions"
chmod -R a+rX "$tmp/sbx"
# The same root file system as tests/systemd/run.sh: the package's
# dependencies are there, so apt needs no network.
export SANDBOX_PACKAGES="${SANDBOX_PACKAGES:-libconfig9 media-types openssl ssl-cert}"
# PACKAGE_JOURNAL=FILE keeps the container's journal.
rc=0
"$sandbox" -t 240 ${PACKAGE_JOURNAL:+-j "$PACKAGE_JOURNAL"} "$tmp/sbx" package-in-container.sh || rc=$?
step "done, status $rc"
exit "$rc"
