#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Prometheus and Alertmanager files of deploy/, checked with the real
# tools (Debian's prometheus and prometheus-alertmanager packages):
# - alerts.yml loads (promtool check rules) and passes every unit test in
#   tests/deploy/*.test.yml (promtool test rules), cases that must not fire
#   included;
# - the unit tests bite: with the `for:` debounce removed, or the thresholds
#   lowered, each test file must fail;
# - prometheus.yml passes promtool check config;
# - alertmanager.yml passes amtool check-config and routes as documented;
# - every sba_* name in the alerts and the dashboard is a documented family.
# Ends with "N passed, N failed". No root needed.
set -u
cd "$(dirname "$0")/../.."
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok - $1"; }
ko() { fail=$((fail + 1)); echo "not ok - $1"; [ $# -lt 2 ] || sed 's/^/    /' <<<"$2" | head -n 40; }
# check NAME CMD...: passes when CMD exits 0
check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then ok "$name"; else ko "$name" "$out"; fi
}

for tool in promtool amtool jq; do
	if ! command -v "$tool" >/dev/null; then
		ko "$tool is installed (scripts/install-deps.sh installs it)"
		echo "$pass passed, $fail failed"
		exit 1
	fi
done

RULES=deploy/prometheus/alerts.yml
check "promtool check rules $RULES" promtool check rules "$RULES"

# Unit tests against the real rules.
for t in tests/deploy/*.test.yml; do
	check "promtool test rules ${t##*/}" promtool test rules "$t"
done

# The tests must fail against broken rules: $1 = name, $2 = sed script.
# Each mutant sits at the same relative path as the real file, so the
# tests' rule_files entry (../../deploy/prometheus/alerts.yml) finds it.
mutant() {
	local name=$1 script=$2 t out
	rm -rf "$tmp/m" && mkdir -p "$tmp/m/deploy/prometheus" "$tmp/m/tests/deploy"
	sed -E "$script" "$RULES" >"$tmp/m/$RULES"
	if cmp -s "$RULES" "$tmp/m/$RULES"; then ko "mutant '$name' changes the rules"; return; fi
	for t in "${@:3}"; do
		cp "tests/deploy/$t" "$tmp/m/tests/deploy/$t"
		if out=$(promtool test rules "$tmp/m/tests/deploy/$t" 2>&1); then
			ko "$t fails when $name" "$out"
		else
			ok "$t fails when $name"
		fi
	done
}
all_tests=$(cd tests/deploy && ls ./*.test.yml | sed 's|^\./||')
# shellcheck disable=SC2086
mutant "the for: debounce is removed" 's/^( +)for: .*/\1for: 0s/' $all_tests
mutant "the thresholds are lowered" \
	's/\) > 0\.01$/) > 0.004/; s/\) > 0\.3$/) > 0.2/; s/> 0\.75$/> 0.6/; s/vector\(1000\)/vector(800)/; s/vector\(5000\)/vector(1500)/' \
	http-errors.test.yml latency.test.yml memory.test.yml queue-depth.test.yml worker-errors.test.yml

# prometheus.yml, with its credentials file pointing to a file that exists
# (promtool checks it) and its rule file beside it.
mkdir -p "$tmp/p"
echo "test-token-$$" >"$tmp/p/token"
sed "s|credentials_file: .*|credentials_file: $tmp/p/token|" deploy/prometheus/prometheus.yml >"$tmp/p/prometheus.yml"
cp "$RULES" "$tmp/p/alerts.yml"
if out=$(promtool check config "$tmp/p/prometheus.yml" 2>&1); then
	ok "promtool check config deploy/prometheus/prometheus.yml"
elif grep -q 'field kubernetes_sd_configs not found' <<<"$out"; then
	# Debian builds Prometheus without Kubernetes discovery: check the rest
	# of the file, and say so.
	echo "# this promtool has no kubernetes_sd_configs (Debian build): checking prometheus.yml without that block"
	awk '/^    kubernetes_sd_configs:/{skip=1;next} skip && /^    [a-z_]+:/{skip=0} !skip' \
		"$tmp/p/prometheus.yml" >"$tmp/p/nok8s.yml"
	check "promtool check config prometheus.yml (kubernetes_sd_configs block left out)" \
		promtool check config "$tmp/p/nok8s.yml"
else
	ko "promtool check config deploy/prometheus/prometheus.yml" "$out"
fi
# Both jobs every 15 s with the token from a file, and /metrics only.
n_jobs=$(grep -c '^  - job_name:' deploy/prometheus/prometheus.yml)
n_auth=$(grep -c 'credentials_file:' deploy/prometheus/prometheus.yml)
n_int=$(grep -c '^    scrape_interval: 15s$' deploy/prometheus/prometheus.yml)
if [ "$n_jobs" = 2 ] && [ "$n_auth" = 2 ] && [ "$n_int" = 2 ] &&
	! grep -q 'metrics_path: /metrics/workers' deploy/prometheus/prometheus.yml; then
	ok "prometheus.yml: 2 jobs, 15 s, credentials_file, /metrics only"
else
	ko "prometheus.yml: 2 jobs, 15 s, credentials_file, /metrics only" "jobs $n_jobs, auth $n_auth, 15s $n_int"
fi

AM=deploy/alertmanager/alertmanager.yml
check "amtool check-config $AM" amtool check-config "$AM"
# route: labels -> receiver
while IFS='|' read -r labels want; do
	# shellcheck disable=SC2086
	got=$(amtool config routes test --config.file="$AM" $labels 2>/dev/null)
	if [ "$got" = "$want" ]; then ok "alertmanager routes {$labels} to $want"
	else ko "alertmanager routes {$labels} to $want" "got: $got"; fi
done <<'EOF'
alertname=SbaObserverDown severity=critical instance=n1|platform-slack-and-email
alertname=SbaObserverAbsent severity=critical|platform-slack-and-email
alertname=SbaHttpErrorRateHigh severity=warning service=api|app-slack
alertname=SbaWorkerErrorRateHigh severity=warning queue_name=emails|app-slack
alertname=SbaObserverDroppingEvents severity=warning instance=n1|team-email
EOF

# The names used are families that docs/METRICS.md documents (histogram
# suffixes stripped). The dashboard test checks them against a live scrape.
DASH=deploy/grafana/sba-observer.json
undocumented=""
# documented names, with METRICS.md's brace lists (sba_worker_jobs_{added,failed}_total) expanded
documented=$(grep -ohE 'sba_[a-z0-9_]*(\{[a-z0-9,]+\}[a-z0-9_]*)?' docs/METRICS.md | sort -u |
	while read -r n; do
		if [[ $n =~ ^([a-z0-9_]*)\{([a-z0-9,]+)\}(.*)$ ]]; then
			for m in ${BASH_REMATCH[2]//,/ }; do echo "${BASH_REMATCH[1]}$m${BASH_REMATCH[3]}"; done
		else echo "$n"; fi
	done)
for name in $(grep -ohE 'sba_[a-z0-9_]+' "$RULES" "$DASH" tests/deploy/*.test.yml | sort -u); do
	case $name in *:* | *_) continue ;; esac # recording rules; prefixes in prose
	base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$name")
	grep -qx "$base" <<<"$documented" || undocumented="$undocumented $name"
done
if [ -z "$undocumented" ]; then ok "every sba_* name in alerts, tests and dashboard is in docs/METRICS.md"
else ko "every sba_* name in alerts, tests and dashboard is in docs/METRICS.md" "undocumented:$undocumented"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
