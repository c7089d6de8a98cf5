#!/bin/bash
# Build the Debian package: `packaging/build-deb.sh OUTDIR` (`make deb`), on Debian 12 as
# any user (file owners in the package are root via dpkg-deb --root-owner-group).
#
# The project and its dependencies, at the versions of constraints.txt, go into a virtual
# environment made at its final place under a staging folder; the few files that name the
# staging path (scripts' #! lines, activate*) are rewritten to /opt/annotatiestraat, and the
# bytecode is compiled with the final paths (the hub unit's /opt is read-only).
#
# Environment: DEB_VERSION (default: the version in pyproject.toml; a different one is also
# written into the built project, so `straat-hub --version` says it), DEB_COMPRESS (zstd,
# gzip, xz or none; default zstd), PYTHON (default /usr/bin/python3.11, Debian's).
set -euo pipefail
umask 022  # the usual modes in the package whatever the caller's (dpkg-deb refuses a 0700 DEBIAN)

SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3.11}  # Debian's, which the package depends on
PREFIX=/opt/annotatiestraat
UNITS=lib/systemd/system
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

# the sources as they are in the working tree (committed or not), without build leftovers
mkdir "$STAGE/src"
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) \
    | tar -xf - -C "$STAGE/src"
VERSION=${DEB_VERSION:-$(sed -n 's/^version = "\(.*\)"$/\1/p' "$SRC/pyproject.toml")}
sed -i "s/^version = \".*\"$/version = \"$VERSION\"/" "$STAGE/src/pyproject.toml"

ROOT="$STAGE/root"
VENV="$ROOT$PREFIX/.venv"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-compile \
    -c "$STAGE/src/constraints.txt" "$STAGE/src[postgres]"  # psycopg: a site may move to PostgreSQL
"$VENV/bin/pip" uninstall --quiet --yes pip  # no installer inside the service's venv
rm -f "$VENV"/bin/Activate.ps1 "$VENV"/lib/python3.11/site-packages/annotatiestraat-*.dist-info/direct_url.json
grep -rlIF "$ROOT" "$VENV" | while read -r f; do sed -i "s#$ROOT##g" "$f"; done
"$VENV/bin/python" -m compileall -q -j 2 -s "$ROOT" -p / "$VENV/lib" >/dev/null

mkdir -p "$ROOT$PREFIX/systemd" "$ROOT/$UNITS" "$ROOT/etc/annotatiestraat" "$ROOT/usr/bin"
cp "$SRC/systemd/README.md" "$ROOT$PREFIX/systemd/"
# a hub on PostgreSQL (opt-in, README "Running on PostgreSQL"): the hub unit's drop-in, pg_dump
cp "$SRC"/packaging/systemd/straat-hub-postgresql.conf "$SRC"/packaging/systemd/straat-hub-pgdump.* \
    "$ROOT$PREFIX/systemd/"
cp "$SRC"/systemd/*.service "$SRC"/systemd/*.timer "$ROOT/$UNITS/"
for unit in straat-hub.service straat-hub-backup.service; do
    mkdir -p "$ROOT/$UNITS/$unit.d"
    cp "$SRC/packaging/systemd/package-user.conf" "$ROOT/$UNITS/$unit.d/package-user.conf"
done
cp "$SRC/projects/geweld.toml" "$ROOT/etc/annotatiestraat/project.toml"
for cmd in straat-hub straat-kiosk; do
    ln -s "$PREFIX/.venv/bin/$cmd" "$ROOT/usr/bin/$cmd"
done

mkdir "$ROOT/DEBIAN"
ARCH=$(dpkg --print-architecture)
SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" \
    "$SRC/packaging/debian/control.in" > "$ROOT/DEBIAN/control"
install -m 0755 "$SRC"/packaging/debian/{postinst,prerm,postrm} "$ROOT/DEBIAN/"
echo /etc/annotatiestraat/project.toml > "$ROOT/DEBIAN/conffiles"
find "$ROOT" -path "$ROOT/DEBIAN" -prune -o -type d -exec chmod 0755 {} +

DEB="$OUT/annotatiestraat_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-zstd}" --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
