#!/usr/bin/env bash
# fusejail in a script: start a container, run jobs in it, read its processes as JSON, rename it,
# and act on exit statuses. Run as root, after `make`.
set -euo pipefail
fusejail=${FUSEJAIL:-$(command -v fusejail || echo "$(dirname "$0")/../bin/fusejail")}

name=automation-$$
# A detached container from the embedded default; `rm -f` at exit removes it whatever happens.
"$fusejail" run -d --name "$name" --hostname worker -- sleep infinity >/dev/null
trap '"$fusejail" rm -f "$name" >/dev/null' EXIT

# exec runs a job inside; its exit status is exec's, so `set -e` stops the script on a failure.
"$fusejail" exec "$name" -- sh -c 'echo 42 >/tmp/answer'
echo "job wrote: $("$fusejail" exec "$name" -- cat /tmp/answer)"

# A job allowed to fail: its status is caught instead.
status=0
"$fusejail" exec "$name" -- sh -c 'exit 3' || status=$?
echo "the failing job exited with $status"

# ps --json: every process on the container's list, with its PID inside and on the host.
"$fusejail" ps --json "$name" | node -e '
  const ps = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const p of ps) console.log(`pid ${p.containerPid} inside: ${p.command}`);'

# The hostname context: read it, change it for every process attached to it.
echo "hostname: $("$fusejail" hostname "$name")"
"$fusejail" hostname "$name" renamed
echo "hostname seen inside now: $("$fusejail" exec "$name" -- hostname)"

# run's own status: the command's, 127 when it is not found.
status=0
"$fusejail" run -- sh -c 'exit 7' || status=$?
echo "run exited with $status"
status=0
"$fusejail" run -- no-such-program 2>/dev/null || status=$?
echo "a missing program: $status"
