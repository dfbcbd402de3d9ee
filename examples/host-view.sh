#!/usr/bin/env bash
# A container's root is a real host directory: a file written from the host is read inside,
# and a file written inside is read on the host. Run as root, after `make`.
set -euo pipefail
fusejail=${FUSEJAIL:-$(command -v fusejail || echo "$(dirname "$0")/../bin/fusejail")}

name=host-view-$$
"$fusejail" run -d --name "$name" -- sleep infinity >/dev/null
trap '"$fusejail" rm -f "$name" >/dev/null' EXIT

root=$("$fusejail" root "$name")
echo "the container's root is served at $root"

echo "written on the host" >"$root/tmp/from-host"
echo "inside, /tmp/from-host says: $("$fusejail" exec "$name" -- cat /tmp/from-host)"

"$fusejail" exec "$name" -- sh -c 'echo "written inside" >/tmp/from-inside'
echo "on the host, $root/tmp/from-inside says: $(cat "$root/tmp/from-inside")"
