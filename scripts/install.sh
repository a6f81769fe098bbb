#!/usr/bin/env bash
# make install: the release binary, every registered service's program names as symlinks to it
# (keystone-manage, glance-manage, …), the systemd units, and for each service its system user,
# /etc/<project> and /var/lib/<project>, under PREFIX (default /usr/local). Run as root.
# The services come from `stratus modules` (one line each: project type port programs…).
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
install -D -m 0755 .build/release/stratus "$PREFIX/bin/stratus"
names=()
while read -r project _type _port programs; do
    for name in $programs; do
        ln -sf stratus "$PREFIX/bin/$name"
        names+=("$name")
    done
    if [ "$(id -u)" = 0 ] && ! id "$project" >/dev/null 2>&1; then
        useradd --system --user-group --home-dir "/var/lib/$project" --shell /sbin/nologin "$project"
    fi
    install -d -m 0755 "/etc/$project"
    install -d -m 0750 "/var/lib/$project"
    if [ "$(id -u)" = 0 ]; then chown "$project:$project" "/var/lib/$project"; fi
done < <("$PREFIX/bin/stratus" modules)
while read -r project dir; do
    install -d -m 0750 "$dir"
    if [ "$(id -u)" = 0 ]; then chown "$project:$project" "$dir"; fi
done < <("$PREFIX/bin/stratus" modules --directories)
if [ -d /etc/systemd/system ]; then
    install -m 0644 etc/systemd/*.service /etc/systemd/system/
    command -v systemctl >/dev/null && systemctl daemon-reload || true
fi
echo "installed $PREFIX/bin/stratus (+ ${names[*]}) and the systemd units"
