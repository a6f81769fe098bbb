#!/usr/bin/env bash
# make install: the release binary, the guide's tool names as symlinks to it, the systemd
# units, and the keystone system user, under PREFIX (default /usr/local). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
install -D -m 0755 .build/release/stratus "$PREFIX/bin/stratus"
for name in keystone-manage; do
    ln -sf stratus "$PREFIX/bin/$name"
done
if [ -d /etc/systemd/system ]; then
    install -m 0644 etc/systemd/*.service /etc/systemd/system/
    command -v systemctl >/dev/null && systemctl daemon-reload || true
fi
if [ "$(id -u)" = 0 ] && ! id keystone >/dev/null 2>&1; then
    useradd --system --user-group --home-dir /var/lib/keystone --shell /sbin/nologin keystone
fi
install -d -m 0755 /etc/keystone
echo "installed $PREFIX/bin/stratus (+ keystone-manage) and the systemd units"
