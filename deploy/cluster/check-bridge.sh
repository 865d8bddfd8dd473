#!/bin/sh
# Checks mosquitto-leaf-bridge.conf against a hub broker (default: the local
# Mosquitto on 127.0.0.1:1883, anonymous, as on the dev machine): starts a leaf
# from the file (listener, hub address and logins rewritten for the check), then
#   uplink:   4 events published on the leaf reach the hub's $share/ingest group
#             with two members, each event exactly once;
#   downlink: a command published on the hub reaches a subscriber on the leaf.
# Exits non-zero when either does not hold. Needs mosquitto, mosquitto_pub/_sub.
set -eu
HUB_HOST=${HUB_HOST:-127.0.0.1}
HUB_PORT=${HUB_PORT:-1883}
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
leaf_pid=
cleanup() { [ -n "$leaf_pid" ] && kill "$leaf_pid" 2>/dev/null; rm -rf "$t"; }
trap cleanup EXIT
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
dev="bridge-check-$port"
sed -e "s/^listener 1883 0.0.0.0/listener $port 127.0.0.1\nallow_anonymous true/" \
    -e "s/^address .*/address $HUB_HOST:$HUB_PORT/" -e '/^remote_username/d' -e '/^remote_password/d' -e '/^bridge_cafile/d' \
    -e "s/^connection gatehouse-hub/connection gatehouse-hub-$port/" "$here/mosquitto-leaf-bridge.conf" >"$t/leaf.conf"
mosquitto -c "$t/leaf.conf" 2>"$t/leaf.err" &
leaf_pid=$!
sleep 1.5
for s in 1 2; do
  timeout 5 mosquitto_sub -V mqttv5 -h "$HUB_HOST" -p "$HUB_PORT" -t "\$share/ingest/gh/v1/dev/$dev/up/events" >"$t/s$s" &
done
timeout 5 mosquitto_sub -p "$port" -t "gh/v1/dev/$dev/down/#" >"$t/down" &
sleep 1
for i in 1 2 3 4; do mosquitto_pub -p "$port" -q 1 -t "gh/v1/dev/$dev/up/events" -m "ev$i"; done
mosquitto_pub -h "$HUB_HOST" -p "$HUB_PORT" -q 1 -t "gh/v1/dev/$dev/down/cmd" -m cmd1
sleep 5
got=$(cat "$t/s1" "$t/s2" | sort | tr '\n' ' ')
echo "uplink: member 1 got [$(tr '\n' ' ' <"$t/s1")], member 2 got [$(tr '\n' ' ' <"$t/s2")]"
echo "downlink: leaf got [$(tr '\n' ' ' <"$t/down")]"
[ "$got" = "ev1 ev2 ev3 ev4 " ] || { echo "FAIL: each event exactly once in the group"; exit 1; }
[ "$(cat "$t/down")" = "cmd1" ] || { echo "FAIL: the command did not reach the leaf"; exit 1; }
echo ok
