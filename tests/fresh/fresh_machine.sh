#!/usr/bin/env bash
# Fresh-machine check (on demand: ctest --test-dir build -L fresh, or run this script directly).
# Builds a bare Debian 12 root with debootstrap --variant=minbase, copies the checkout in, and runs
# the README's two commands inside it with chroot, exactly as README.md writes them: they must
# install every package they need on a bare system. Needs root, debootstrap and the Debian mirror;
# takes about as long as two installs and two builds.
#   TFREEZE_FRESH_MIRROR   Debian mirror (default http://deb.debian.org/debian)
#   TFREEZE_FRESH_KEEP=1   keep the root afterwards (its path is printed)
#   FRESH_STUDIO_SECONDS   how long the studio of the first command trains before it is stopped (180)
set -euo pipefail

checkout=$(cd "$(dirname "$0")/../.." && pwd)
mirror=${TFREEZE_FRESH_MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d /tmp/tfreeze-fresh.XXXXXX)

cleanup() {
    for mount in dev/pts dev proc sys; do
        mountpoint -q "$root/$mount" && umount -l "$root/$mount" || true
    done
    if [ "${TFREEZE_FRESH_KEEP:-0}" = 1 ]; then
        echo "fresh-machine root kept at $root"
    else
        rm -rf --one-file-system "$root"
    fi
}
trap cleanup EXIT

command -v debootstrap >/dev/null || { echo "fresh_machine: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }

# The README's commands: the first two ```sh blocks of its "Build and run" section.
mapfile -t commands < <(awk '
    /^## Build and run/ { in_section = 1; next }
    /^## / && in_section { exit }
    in_section && /^```sh/ { in_block = 1; next }
    in_block && /^```/ { in_block = 0; next }
    in_block { print }
' "$checkout/README.md")
if [ "${#commands[@]}" -ne 2 ]; then
    echo "fresh_machine: expected the README's two commands, found ${#commands[@]}" >&2
    exit 1
fi

started=$(date +%s)
echo "== debootstrap --variant=minbase bookworm $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 \
    || { tail -20 "$root.debootstrap.log" >&2; exit 1; }
rm -f "$root.debootstrap.log"

echo "== copying the checkout (tracked and untracked, not ignored files)"
mkdir -p "$root/root/checkout"
(cd "$checkout" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) \
    | tar -xf - -C "$root/root/checkout"

cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount -t sysfs sys "$root/sys"

# The first command installs, builds and starts the studio on the default run, which stays open:
# in the chroot it runs offscreen (no display there). It passes when the studio is still running
# $studioSeconds s after it started and the run it started has recorded steps. The studio is found by
# its process name: the shell running the command has the studio's path in its command line too.
studioSeconds=${FRESH_STUDIO_SECONDS:-180}
inRoot() {
    chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        QT_QPA_PLATFORM=offscreen /bin/bash -c "cd /root/checkout && $1"
}
for i in 0 1; do
    echo "== README command $((i + 1)): ${commands[$i]}"
    if [ "$i" -eq 1 ]; then
        inRoot "${commands[$i]}"
        continue
    fi
    inRoot "${commands[$i]}" &
    commandPid=$!
    while kill -0 "$commandPid" 2>/dev/null && ! pgrep -x tfreeze-studio >/dev/null; do
        sleep 5 # the install and the build come first
    done
    if ! pgrep -x tfreeze-studio >/dev/null; then
        status=0
        wait "$commandPid" || status=$?
        echo "fresh_machine: the first command ended (status $status) before the studio started" >&2
        exit 1
    fi
    sleep "$studioSeconds"
    if ! pgrep -x tfreeze-studio >/dev/null; then
        status=0
        wait "$commandPid" || status=$?
        echo "fresh_machine: the studio quit within $studioSeconds s (status $status)" >&2
        exit 1
    fi
    pkill -TERM -x tfreeze-studio
    wait "$commandPid" || true
    # Read back with the CLI from the same build folder (a minimal root has no sqlite3 tool).
    steps=$(inRoot "cmake --build build -j\"\$(nproc)\" --target tfreeze >/dev/null && ./build/app/tfreeze/tfreeze runs list --db runs/history.sqlite" \
        | awk 'NR == 2 { print $3 }')
    steps=${steps:-0}
    echo "== the studio ran the default run: $steps steps recorded in $studioSeconds s"
    [ "$steps" -gt 0 ] || { echo "fresh_machine: the default run recorded no step" >&2; exit 1; }
    rm -rf "$root/root/checkout/build" # the second command starts from a clean build too
done
echo "== fresh-machine check passed in $(( $(date +%s) - started )) s"
