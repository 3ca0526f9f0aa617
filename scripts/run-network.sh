#!/bin/sh
# The demo network (make run-network): Qingdao (鲁B) on :5000 and Jinan (鲁A) on :5001, each its
# own deployment with its own SQLite database, instance folder and keys, peered by typing each
# other's fingerprint as two administrators would, both outbox workers, audit integrators and
# witnesses running, and cross-deployment transfer cases at every step. A second run reuses the two deployments.
# Demo data only: never in production.
set -eu
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
ROOT=${NETWORK_DEMO_DIR:-instance/network-demo}
mkdir -p "$ROOT"
ROOT=$(cd "$ROOT" && pwd)
Q=${QINGDAO_PORT:-5000}
J=${JINAN_PORT:-5001}
export FLASK_APP=app:create_app
pids=""
cleanup() {  # stop every process started below, then wait for each to finish its work
	trap - EXIT INT TERM
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

env_of() {  # city port -> the deployment's settings, as its own server and commands see them
	# (each city's typing keys begin with its own prefix, so the other city routes typed checks)
	case $1 in qingdao) kp=QD ;; *) kp=JN ;; esac
	echo "INSTANCE_PATH=$ROOT/$1 DATABASE_URL=sqlite:///$ROOT/$1/jiaoguan.db PUBLIC_BASE_URL=http://$HOST:$2 DEPLOYMENT_NAME=jiaoguan-$1 LICENCE_KEY_PREFIX=$kp"
}
city() {  # city port command... -> run a command as that deployment
	c=$1 p=$2; shift 2
	env $(env_of "$c" "$p") "$@"
}
start() {  # city port command... -> run it in the background as that deployment; the process
	# itself (exec, no shell in between) is what cleanup stops
	(
		c=$1 p=$2; shift 2
		exec env $(env_of "$c" "$p") "$@"
	) &
	pids="$pids $!"
}

fresh=""
for spec in qingdao:$Q jinan:$J; do
	c=${spec%%:*} p=${spec##*:}
	mkdir -p "$ROOT/$c"
	[ -f "$ROOT/$c/jiaoguan.db" ] || fresh=yes
	city "$c" "$p" "$BIN/flask" db upgrade >/dev/null
	city "$c" "$p" "$BIN/flask" network-demo load "$c"
	city "$c" "$p" "$BIN/flask" network show-key >/dev/null  # makes the key on first use
	start "$c" "$p" "$BIN/gunicorn" --bind "$HOST:$p" --workers 2 --log-level warning 'app:create_app()'
done
for p in $Q $J; do
	until curl -fsS "http://$HOST:$p/.well-known/jiaoguan.json" >/dev/null 2>&1; do sleep 0.3; done
done

fingerprint() { city "$1" "$2" "$BIN/flask" network show-key | sed -n 's/.*fingerprint: *//p'; }
if [ -n "$fresh" ]; then
	# Each administrator types the fingerprint the other city read out on the telephone.
	fingerprint jinan $J | city qingdao $Q "$BIN/flask" network add-peer "http://$HOST:$J"
	fingerprint qingdao $Q | city jinan $J "$BIN/flask" network add-peer "http://$HOST:$Q"
fi
# Per city: the outbox worker, the audit log's integrator (numbers the entries and signs
# checkpoints) and its witness client (asks the other city to cosign the newest checkpoint), so
# each audit page shows its latest checkpoint cosigned by the other city.
for spec in qingdao:$Q jinan:$J; do
	for cmd in "network worker" "audit integrate" "audit witness --interval ${WITNESS_INTERVAL:-5}"; do
		start "${spec%%:*}" "${spec##*:}" "$BIN/flask" $cmd
	done
done

if [ -n "$fresh" ]; then
	echo "making the demo's cross-deployment cases ..."
	cars=$(city qingdao $Q "$BIN/flask" network-demo cars)
	city jinan $J "$BIN/flask" network-demo cases "$cars"       # invoices, buyers confirm
	city qingdao $Q "$BIN/flask" network-demo origin confirm    # sellers confirm at Qingdao
	city jinan $J "$BIN/flask" network-demo cases "$cars"       # inspections
	city qingdao $Q "$BIN/flask" network-demo origin send       # archives sent
	city jinan $J "$BIN/flask" network-demo cases "$cars"       # a registration
	city qingdao $Q "$BIN/flask" network-demo wait
fi

echo
echo "=== Qingdao (鲁B, where the cars are registered): http://$HOST:$Q"
city qingdao $Q "$BIN/flask" demo logins
echo "=== Jinan (鲁A, where the buyers register them): http://$HOST:$J"
city jinan $J "$BIN/flask" demo logins
echo "Staff codes: FLASK_APP=app:create_app $(env_of jinan $J) $BIN/flask demo code vehicle"
wait
