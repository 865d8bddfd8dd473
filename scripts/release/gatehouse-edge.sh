#!/bin/sh
# Gatehouse edge launcher, installed as /opt/gatehouse-edge/bin/gatehouse-edge.
# It stays put across updates: the unit and operators call it, and it runs the
# release that `current` points to (switched atomically by the updater).
# `boot-guard` runs from bin/ (a copy made at install), never from `current`:
# it must still work when the release on trial cannot even load.
set -e
ROOT="${GATEHOUSE_EDGE_ROOT:-$(dirname "$(dirname "$(readlink -f "$0")")")}"
NODE="${GATEHOUSE_EDGE_NODE:-node}"
if [ "${1:-}" = boot-guard ]; then
  shift
  exec "$NODE" "$ROOT/bin/boot-guard.mjs" "$@"
fi
exec "$NODE" "$ROOT/current/agent/gatehouse-edge.mjs" "$@"
