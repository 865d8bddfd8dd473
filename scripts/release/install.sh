#!/bin/sh
# Installs a Gatehouse edge release on a controller without dpkg (the .deb does the same).
#
#   sudo sh install.sh gatehouse-edge-<version>-linux-arm64.tar.gz
#   curl -fsSL https://<host>/install.sh | sudo sh -s -- https://<host>/gatehouse-edge-<version>-linux-arm64.tar.gz
#
# Needs Node.js 22 or 24 (`node` on PATH, or GATEHOUSE_EDGE_NODE). Creates the `gatehouse` system user,
# /var/lib/gatehouse-edge, /etc/gatehouse-edge, /opt/gatehouse-edge/{releases/<v>,current,previous,bin/gatehouse-edge}
# and the hardened unit; enables it, and starts it only once /etc/gatehouse-edge/config.json exists.
# Every file is checked against the release's manifest (sha256 and size) before anything is installed.
#
# For tests: GATEHOUSE_EDGE_ROOT (default /opt/gatehouse-edge) and GATEHOUSE_EDGE_NO_SYSTEM=1 (no user,
# no /etc, /var/lib or systemd: only the release tree, links and launcher).
set -eu

ROOT="${GATEHOUSE_EDGE_ROOT:-/opt/gatehouse-edge}"
NODE="${GATEHOUSE_EDGE_NODE:-node}"
NO_SYSTEM="${GATEHOUSE_EDGE_NO_SYSTEM:-0}"
SUPPORTED="22 24"

die() { echo "install.sh: $*" >&2; exit 1; }

case "$(uname -m)" in
  x86_64) PLATFORM=linux-x64 ;;
  aarch64 | arm64) PLATFORM=linux-arm64 ;;
  *) die "unsupported machine $(uname -m): releases are built for x86_64 and aarch64 (64-bit Raspberry Pi OS)" ;;
esac

command -v "$NODE" >/dev/null 2>&1 || die "Node.js 22 or 24 is needed (Raspberry Pi OS Bookworm: NodeSource, see the README)"
MAJOR="$("$NODE" -p 'process.versions.node.split(".")[0]')"
case " $SUPPORTED " in
  *" $MAJOR "*) ;;
  *) die "this release runs on Node 22 or 24; $("$NODE" --version) found (GATEHOUSE_EDGE_NODE names another node)" ;;
esac

if [ "$NO_SYSTEM" != 1 ] && [ "$(id -u)" != 0 ]; then die "run as root (sudo)"; fi

SRC="${1:-}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT INT TERM
if [ -z "$SRC" ]; then
  # Next to this script (a downloaded release directory), the tarball of this machine's platform.
  SRC="$(ls "$(dirname "$0")"/gatehouse-edge-*-"$PLATFORM".tar.gz 2>/dev/null | tail -n 1)"
  [ -n "$SRC" ] || die "usage: install.sh gatehouse-edge-<version>-$PLATFORM.tar.gz (or its URL)"
fi
case "$SRC" in
  http://* | https://*)
    echo "downloading $SRC"
    curl -fsSL -o "$TMP/release.tar.gz" "$SRC" || die "download failed: $SRC"
    SRC="$TMP/release.tar.gz"
    ;;
esac
[ -f "$SRC" ] || die "$SRC: no such file"
case "$SRC" in *"-$PLATFORM.tar.gz" | "$TMP/release.tar.gz") ;; *) die "$SRC is not a $PLATFORM release" ;; esac

mkdir "$TMP/x"
tar -xzf "$SRC" -C "$TMP/x" --strip-components=1 --no-same-owner
[ -f "$TMP/x/release.json" ] || die "$SRC has no release.json"

# The manifest's files for this platform, hashes and sizes, and nothing else (mix-and-match); the signature
# is the updater's business (the keys ship in the same tarball, so here it would prove nothing).
VERSION="$("$NODE" --input-type=module -e "
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
const dir = process.argv[1], platform = process.argv[2];
const signed = JSON.parse(readFileSync(join(dir, 'release.json'), 'utf8'));
const m = JSON.parse(Buffer.from(signed.payload, 'base64').toString('utf8'));
const want = new Map(m.files.filter((f) => !f.platform || f.platform === platform).map((f) => [f.path, f]));
const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? walk(join(d, e.name)) : [relative(dir, join(d, e.name))]);
for (const p of walk(dir)) {
  if (p === 'release.json') continue;
  const f = want.get(p);
  if (!f) { console.error('not in the manifest: ' + p); process.exit(1); }
  const data = readFileSync(join(dir, p));
  if (data.length !== f.size || createHash('sha256').update(data).digest('hex') !== f.sha256) { console.error('checksum mismatch: ' + p); process.exit(1); }
  want.delete(p);
}
if (want.size) { console.error('missing: ' + [...want.keys()].join(', ')); process.exit(1); }
if (!/^[0-9A-Za-z.+~-]+\$/.test(m.version)) { console.error('bad version'); process.exit(1); }
process.stdout.write(m.version);
" "$TMP/x" "$PLATFORM")" || die "the release does not match its manifest; nothing installed"

echo "installing gatehouse-edge $VERSION ($PLATFORM) into $ROOT"
mkdir -p "$ROOT/releases" "$ROOT/bin"
DEST="$ROOT/releases/$VERSION"
if [ -e "$DEST" ] && [ "$(readlink "$ROOT/current" 2>/dev/null || true)" = "releases/$VERSION" ]; then
  echo "$VERSION is already the current release: reinstalling it in place"
fi
rm -rf "$DEST.tmp"
cp -R "$TMP/x" "$DEST.tmp"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
install -m 0755 "$DEST/share/gatehouse-edge" "$ROOT/bin/gatehouse-edge"
install -m 0644 "$DEST/agent/boot-guard.mjs" "$ROOT/bin/boot-guard.mjs"

# Atomic switches (a link under a temp name renamed over the old one), `previous` first.
CUR="$(readlink "$ROOT/current" 2>/dev/null || true)"
if [ -n "$CUR" ] && [ "$CUR" != "releases/$VERSION" ]; then
  ln -sfn "$CUR" "$ROOT/.previous.tmp" && mv -Tf "$ROOT/.previous.tmp" "$ROOT/previous"
fi
ln -sfn "releases/$VERSION" "$ROOT/.current.tmp" && mv -Tf "$ROOT/.current.tmp" "$ROOT/current"

if [ "$NO_SYSTEM" = 1 ]; then
  echo "installed $VERSION (no system changes: GATEHOUSE_EDGE_NO_SYSTEM=1)"
  exit 0
fi

getent group gpio >/dev/null || groupadd --system gpio
getent group dialout >/dev/null || groupadd --system dialout
getent passwd gatehouse >/dev/null ||
  useradd --system --user-group --home-dir /var/lib/gatehouse-edge --no-create-home --shell /usr/sbin/nologin gatehouse
install -d -m 0700 -o gatehouse -g gatehouse /var/lib/gatehouse-edge
install -d -m 0750 -o root -g gatehouse /etc/gatehouse-edge
# The agent installs later releases beside this one and switches the links; the release files stay root's.
chown gatehouse:gatehouse "$ROOT" "$ROOT/releases"
install -m 0644 "$DEST/share/gatehouse-edge.service" /etc/systemd/system/gatehouse-edge.service

if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable gatehouse-edge.service
  if [ -f /etc/gatehouse-edge/config.json ]; then
    systemctl restart gatehouse-edge.service
    echo "gatehouse-edge $VERSION installed and (re)started"
  else
    echo "gatehouse-edge $VERSION installed and enabled; it starts once /etc/gatehouse-edge/config.json exists:"
    echo "  write it (see edge-agent/README.md), then: sudo $ROOT/bin/gatehouse-edge enroll --cloud URL --code CODE"
    echo "  and: sudo systemctl start gatehouse-edge"
  fi
else
  echo "gatehouse-edge $VERSION installed (no running systemd: enable the unit yourself)"
fi
