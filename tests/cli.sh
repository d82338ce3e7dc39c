#!/bin/sh
# The llmcap program as a user runs it: commands, exit codes, error messages, determinism.
# usage: cli.sh PATH/TO/llmcap SOURCE_DIR
set -u
LLMCAP=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect_ok NAME PATTERN -- CMD...: exit 0 and stdout contains PATTERN
expect_ok() {
	name=$1 pattern=$2; shift 3
	if "$@" >"$T/out" 2>"$T/err"; then
		if grep -qF -- "$pattern" "$T/out"; then ok; else ko "$name: output lacks '$pattern'"; cat "$T/out"; fi
	else
		ko "$name: exit $?"; cat "$T/err"
	fi
}

# expect_err NAME PATTERN -- CMD...: non-zero exit, stderr contains PATTERN, stdout empty
expect_err() {
	name=$1 pattern=$2; shift 3
	if "$@" >"$T/out" 2>"$T/err"; then
		ko "$name: succeeded"
	elif ! grep -qF -- "$pattern" "$T/err"; then
		ko "$name: stderr lacks '$pattern'"; cat "$T/err"
	elif [ -s "$T/out" ]; then
		ko "$name: printed to stdout on error"
	else
		ok
	fi
}

# The reference scenario: the guide's numbers, a verdict, a digest.
expect_ok "run" 'self-hosted  $273,200 = capex $155,000 + 36 x $2,450/month' -- "$LLMCAP" run
cp "$T/out" "$T/run1"
for want in 'verdict: ' 'run digest ' 'latency by class' 'llama-3.1-70b'; do
	grep -qF -- "$want" "$T/run1" && ok || ko "run output lacks '$want'"
done
# the peak is at 14:00: the hours on either side of it carry the same expected traffic
peak_hours='busiest hour (13:00-14:00|14:00-15:00)'
grep -qE -- "$peak_hours" "$T/run1" && ok || ko "run: busiest hour not beside the 14:00 peak"

# Determinism: same scenario and seed, same bytes; another seed, other results.
"$LLMCAP" run >"$T/run2" 2>/dev/null
cmp -s "$T/run1" "$T/run2" && ok || ko "two runs of the same scenario differ"
"$LLMCAP" run --set seed=43 >"$T/run3" 2>/dev/null
cmp -s "$T/run1" "$T/run3" && ko "seed 43 gave the same output as seed 42" || ok

# The resolved scenario is a scenario: running it gives the same results.
expect_ok "config" 'gpu_memory_utilization: 0.9' -- "$LLMCAP" config
cp "$T/out" "$T/resolved.yaml"
"$LLMCAP" run "$T/resolved.yaml" >"$T/run4" 2>/dev/null
cmp -s "$T/run1" "$T/run4" && ok || ko "running the resolved scenario differs from the built-in run"
# and the built-in text is the file in models/
"$LLMCAP" run "$SRC/models/scenarios/default.yaml" >"$T/run5" 2>/dev/null
cmp -s "$T/run1" "$T/run5" && ok || ko "models/scenarios/default.yaml differs from the built-in scenario"

# The guide's flat API bill, with the per-token prices shown beside it.
expect_ok "flat bill" '$135,000 = 36 x $3,750/month flat bill' -- \
	"$LLMCAP" run "$SRC/models/scenarios/guide-flat-bill.yaml" --set horizon=6h
grep -qF 'at the per-token prices in cost.api.prices' "$T/out" && ok || ko "flat bill: no per-token comparison"

expect_ok "override" 'llmcap: reference-4xh100 (seed 42, horizon 2h)' -- "$LLMCAP" run --set horizon=2h
# run --check: exit 1 when the report's verdict is that an SLO is missed or the fleet is
# overloaded, 0 when the fleet serves the load; --json carries the same verdict
"$LLMCAP" run --check -q --set horizon=2h --set workload.rate=10000/day 2>"$T/err" && ok || { ko "run --check failed a light load"; cat "$T/err"; }
"$LLMCAP" run --check -q --set horizon=2h --set workload.rate=1e6/day 2>"$T/err"; rc=$?
[ "$rc" -eq 1 ] && grep -qF -- "--check: the fleet is overloaded" "$T/err" && ok || { ko "run --check on an overload exited $rc"; cat "$T/err"; }
"$LLMCAP" run -q --set horizon=2h --set workload.rate=1e6/day && ok || ko "run without --check failed on an overload"
expect_ok "run --json verdict" '"verdict": {"slo_met": false, "overloaded": true' -- \
	"$LLMCAP" run --json --set horizon=2h --set workload.rate=1e6/day
expect_ok "run --json verdict light" '"verdict": {"slo_met": true, "overloaded": false' -- \
	"$LLMCAP" run --json --set horizon=2h --set workload.rate=10000/day
expect_ok "catalog" 'llama-3.1-70b' -- "$LLMCAP" catalog
expect_ok "schema" '| `pools.NAME.block_size` | integer' -- "$LLMCAP" schema
expect_ok "help" 'usage: llmcap' -- "$LLMCAP" --help

# The traffic alone: statistics, and the requests as CSV (written whole or not at all).
expect_ok "workload" 'busiest hour 1' -- "$LLMCAP" workload
grep -qE -- "$peak_hours of day 1" "$T/out" && ok || ko "workload: busiest hour not beside the 14:00 peak"
grep -qF 'peak/mean over 1-minute windows' "$T/out" && ok || ko "workload: no 1-minute peak/mean"
grep -qF 'tokens/month generated' "$T/out" && ok || ko "workload: no tokens/month"
expect_ok "workload --out" "requests to $T/req.csv" -- "$LLMCAP" workload --set horizon=6h --out "$T/req.csv"
n=$(sed -n 's/^generated  \([0-9]*\) requests.*/\1/p' "$T/out")
[ "$(head -1 "$T/req.csv")" = "arrival_s,class,prompt_tokens,output_tokens" ] && ok || ko "workload --out: header"
[ "$(($(wc -l <"$T/req.csv") - 1))" = "$n" ] && ok || ko "workload --out: $n requests reported, $(wc -l <"$T/req.csv") lines written"
ls "$T"/req.csv.tmp* >/dev/null 2>&1 && ko "workload --out left a temporary file" || ok
"$LLMCAP" workload --set horizon=6h --out "$T/req2.csv" >/dev/null 2>&1
cmp -s "$T/req.csv" "$T/req2.csv" && ok || ko "workload --out differs between two runs"
# the written requests are a trace that a scenario can draw its lengths from, row by row
expect_ok "replay lengths" 'trace; expected mean' -- "$LLMCAP" workload --set horizon=1h \
	--set "workload.classes.utility.prompt={dist: trace, file: $T/req.csv, column: prompt_tokens}" \
	--set "workload.classes.utility.output={dist: trace, file: $T/req.csv, column: output_tokens}"
expect_ok "tokens per month" 'from 7.50B tokens/month' -- "$LLMCAP" workload --set workload.tokens_per_month=7.5e9 \
	--set workload.arrival=gamma --set workload.gamma_cv=2 --set workload.diurnal.shape=azure-code --set horizon=7d
# an example scenario whose trace file is named relative to the scenario's folder
cd "$T"
expect_ok "bursty week" 'class reasoning has its own stream: mmpp' -- \
	"$LLMCAP" workload "$SRC/models/scenarios/bursty-week.yaml" --set horizon=1d
cd "$OLDPWD"
expect_err "workload --out unwritable" "$T/nodir/r.csv: cannot create" -- \
	"$LLMCAP" workload --out "$T/nodir/r.csv"
[ -e "$T/nodir/r.csv" ] && ko "unwritable --out created a file" || ok
expect_err "--out on run" "unknown option '--out'" -- "$LLMCAP" run --out "$T/x.csv"
expect_err "gamma cv 0" "workload.gamma_cv: '0' is not valid; expected a value > 0" -- \
	"$LLMCAP" workload --set workload.gamma_cv=0
expect_err "missing profile file" "workload.diurnal.file: cannot open '$T/none.csv'" -- \
	"$LLMCAP" workload --set "workload.diurnal.file=$T/none.csv"

# Traces: statistics, formats, bad rows, replay (docs/traces.md).
expect_ok "trace stats" 'rows       19366' -- "$LLMCAP" trace stats "$SRC/traces/data/azure2023_conv.csv"
for want in 'peak/mean  over 1-minute windows' 'prompt       1154.7     1020     2734     4142' 'tokens/month at this rate'; do
	grep -qF -- "$want" "$T/out" && ok || ko "trace stats output lacks '$want'"
done
expect_ok "trace stats burstgpt" '17 failed requests (0 response tokens)' -- \
	"$LLMCAP" trace stats "$SRC/traces/data/burstgpt_1_first400rows.csv"
expect_ok "trace stats mooncake" '(mooncake)' -- "$LLMCAP" trace stats "$SRC/traces/data/mooncake_conversation_first2000.jsonl"
printf 'a,b\n1,2\n' >"$T/unknown.csv"
expect_err "trace unknown format" "$T/unknown.csv:1: header 'a,b' is not a known trace format; expected one of: azure" -- \
	"$LLMCAP" trace stats "$T/unknown.csv"
expect_err "trace stats usage" "usage: llmcap trace stats FILE" -- "$LLMCAP" trace
printf 'TIMESTAMP,ContextTokens,GeneratedTokens\n2024-01-01 00:00:01,5,5\n2024-01-01 00:00:02,x,5\n' >"$T/badrow.csv"
expect_err "trace bad row" "$T/badrow.csv:3: bad row (non-numeric value)" -- \
	"$LLMCAP" run --set "workload.trace.file=$T/badrow.csv"
expect_ok "trace bad row skipped" 'not replayed: 1 bad rows (not-a-number 1)' -- \
	"$LLMCAP" run --set "workload.trace.file=$T/badrow.csv" --set workload.trace.bad_rows=skip --set horizon=10min
expect_ok "trace stats skip" 'not-a-number 1' -- "$LLMCAP" trace stats "$T/badrow.csv" --bad-rows skip
expect_err "trace format name" "workload.trace.format: 'parquet' is not valid; expected one of: auto azure" -- \
	"$LLMCAP" trace stats "$T/badrow.csv" --format parquet
# the shipped replay scenarios run and give the same digest twice (their first 5 minutes, to stay
# fast under the sanitizers)
for s in replay-azure-code replay-burstgpt replay-mooncake replay-azure-conv; do
	expect_ok "$s" 'replayed ' -- "$LLMCAP" run "$SRC/models/scenarios/$s.yaml" --set horizon=5min
	grep 'run digest' "$T/out" >"$T/$s.d1"
	"$LLMCAP" run "$SRC/models/scenarios/$s.yaml" --set horizon=5min 2>/dev/null | grep 'run digest' >"$T/$s.d2"
	[ -s "$T/$s.d1" ] && cmp -s "$T/$s.d1" "$T/$s.d2" && ok || ko "$s: two runs differ"
done
expect_ok "workload on a trace" 'utility          19366' -- "$LLMCAP" workload "$SRC/models/scenarios/replay-azure-conv.yaml"

# Bad input: a clear message, a non-zero exit, nothing on stdout.
printf 'name: x\nworkload:\n  rate: 5/s\n  clases: {}\n' >"$T/typo.yaml"
expect_err "unknown key" "$T/typo.yaml:4:3: unknown key 'clases' in workload; valid keys: rate, tokens_per_month, start_day, arrival, gamma_cv, mmpp, diurnal, classes" -- \
	"$LLMCAP" run "$T/typo.yaml"
expect_err "missing file" "$T/none.yaml: cannot open scenario file" -- "$LLMCAP" run "$T/none.yaml"
expect_err "negative rate" "workload.rate: '-3/s' is not valid; expected a value > 0" -- \
	"$LLMCAP" run --set workload.rate=-3/s
expect_err "zero gpus" "hardware.gpus_per_server: '0' is not valid; expected an integer >= 1" -- \
	"$LLMCAP" run --set hardware.gpus_per_server=0
expect_err "does not fit" "pools.reasoning.model: 'llama-3.1-70b' (70.55B parameters) in bf16 needs" -- \
	"$LLMCAP" run --set pools.reasoning.tensor_parallel_size=1
expect_err "too few gpus" "need 6 GPUs" -- "$LLMCAP" run --set pools.utility.replicas=4
expect_err "bad --set" "expected path.to.key=value" -- "$LLMCAP" run --set horizon
expect_err "unknown command" "unknown command 'fly'" -- "$LLMCAP" fly
expect_err "unknown option" "unknown option '--fast'" -- "$LLMCAP" run --fast
printf 'workload: {rate: 5/s\n' >"$T/broken.yaml"
expect_err "yaml syntax" "$T/broken.yaml:" -- "$LLMCAP" run "$T/broken.yaml"

# HDF5 output: written atomically, never over an existing file without --force.
expect_ok "output" "results written to $T/r.h5" -- "$LLMCAP" run --set horizon=2h -o "$T/r.h5"
[ -s "$T/r.h5" ] && ok || ko "no output file"
ls -a "$T" | grep -q 'tmp-' && ko "a temporary file was left behind" || ok
expect_err "no overwrite" "$T/r.h5: exists; not overwritten (use --force" -- \
	"$LLMCAP" run --set horizon=2h -o "$T/r.h5"
expect_ok "force" "results written to $T/r.h5" -- "$LLMCAP" run --set horizon=2h -o "$T/r.h5" --force
expect_err "bad output dir" "cannot create the output file" -- "$LLMCAP" run -o "$T/no/such/dir.h5"
# the digest does not depend on whether output is written
"$LLMCAP" run --set horizon=2h -o "$T/r2.h5" --no-requests --no-timeseries | grep 'run digest' >"$T/d1"
"$LLMCAP" run --set horizon=2h | grep 'run digest' >"$T/d2"
cmp -s "$T/d1" "$T/d2" && ok || ko "writing output changed the results"
# the step-by-step reference prints the same bytes as the default fast mode
"$LLMCAP" run --set horizon=3h >"$T/fast" 2>/dev/null
"$LLMCAP" run --set horizon=3h --exact-steps >"$T/exact" 2>/dev/null
cmp -s "$T/fast" "$T/exact" && ok || ko "--exact-steps changed the report"
"$LLMCAP" run --set horizon=3h --set engine_mode=exact --json >"$T/exact.json" 2>/dev/null
"$LLMCAP" run --set horizon=3h --json >"$T/fast.json" 2>/dev/null
cmp -s "$T/fast.json" "$T/exact.json" && ok || ko "engine_mode: exact changed the JSON summary"

# --quiet prints nothing; --json prints one JSON object
"$LLMCAP" run --set horizon=1h --quiet >"$T/q" 2>&1 && [ ! -s "$T/q" ] && ok || ko "--quiet printed something"
expect_ok "json" '"self_hosted_total": 273200' -- "$LLMCAP" run --set horizon=1h --json
if command -v /usr/bin/python3 >/dev/null 2>&1; then
	/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["classes"][0]["name"]=="utility"' "$T/out" \
		&& ok || ko "--json output is not valid JSON"
fi

# Interrupted runs leave no file at the target name.
"$LLMCAP" run --set horizon=60d -o "$T/int.h5" >/dev/null 2>"$T/int.err" &
pid=$!
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] && ok || ko "interrupted run exited $rc, expected 130"
grep -qF "interrupted at simulated time" "$T/int.err" && ok || ko "no interruption message"
[ -e "$T/int.h5" ] && ko "an interrupted run left $T/int.h5" || ok
ls -a "$T" | grep -q 'int.h5.tmp-' && ko "an interrupted run left its temporary file" || ok
# killed outright: the target name still never holds a partial file
"$LLMCAP" run --set horizon=60d -o "$T/kill.h5" >/dev/null 2>&1 &
pid=$!
sleep 1
kill -KILL "$pid"
wait "$pid" 2>/dev/null
[ -e "$T/kill.h5" ] && ko "a killed run left $T/kill.h5" || ok

# breakeven: the smallest fleet per volume, its cost, a table file and a plot
expect_ok "breakeven" "break-even with the largest model in fp8" -- \
	"$LLMCAP" breakeven --volumes 1e9,3e9 --dtypes fp8 --set horizon=2h --jobs 1 -o "$T/be.h5"
grep -qE '^ +1\.00B +fp8 +1 +1 +3 +1 ' "$T/out" && ok || { ko "breakeven: unexpected fleet at 1B tokens/month"; cat "$T/out"; }
[ -s "$T/be.h5" ] && ok || ko "breakeven wrote no file"
if /usr/bin/python3 -c 'import h5py, matplotlib' 2>/dev/null; then
	/usr/bin/python3 "$SRC/analysis/plot_breakeven.py" "$T/be.h5" "$T/be.png" >/dev/null && [ -s "$T/be.png" ] \
		&& ok || ko "plot_breakeven.py failed"
fi
grep -qE '\$[0-9]{4}|\$[0-9]+k' "$T/out" && ko "breakeven prints money unlike \$273,200" || ok
grep -qE '\$[0-9]{1,3},[0-9]{3}' "$T/out" && ok || ko "breakeven prints no \$273,200 money"
expect_err "breakeven volumes" "--volumes 'lots': expected tokens per month" -- "$LLMCAP" breakeven --volumes lots
# decide: every option sized by simulation, the cheapest and where it changes; a CSV and its plot
expect_ok "decide" "where the cheapest option changes" -- \
	"$LLMCAP" decide --volumes 1B,20B --dtypes fp8 --seeds 1 --set horizon=2h --jobs 1 -o "$T/decide.csv"
grep -qE '^ +1\.00B +\$[0-9,]+ ' "$T/out" && ok || { ko "decide: no row at 1B tokens/month"; cat "$T/out"; }
grep -q 'rent: the autoscaled fleet' "$T/out" && ok || ko "decide does not say rent is autoscaled (the default)"
expect_ok "decide --rent fixed" "fixed fleet every hour of the month (--rent fixed)" -- \
	"$LLMCAP" decide --volumes 1B --dtypes fp8 --seeds 1 --set horizon=2h --jobs 1 --rent fixed
expect_err "decide --rent" "--rent 'hourly': expected autoscaled or fixed" -- "$LLMCAP" decide --rent hourly
head -1 "$T/decide.csv" | grep -q '^tokens_per_month,option,gpu,dtype,slo_met,monthly' && ok || ko "decide wrote no CSV"
[ "$(grep -c ',1,[^,]*$' "$T/decide.csv")" = 2 ] && ok || ko "decide's CSV lacks one best option per volume"
if /usr/bin/python3 -c 'import matplotlib, pandas' 2>/dev/null; then
	/usr/bin/python3 "$SRC/analysis/plot_breakeven.py" "$T/decide.csv" "$T/decide.png" >/dev/null && [ -s "$T/decide.png" ] \
		&& ok || ko "plot_breakeven.py failed on decide's CSV"
fi
# run --decide: the given fleet's report, then apart the decision, the same as decide's at that
# volume and seeds
VOL="--set workload.rate=null --set workload.tokens_per_month=20B --set horizon=2h"
expect_ok "run --decide" "are its answer" -- "$LLMCAP" run $VOL --decide --seeds 2 --jobs 1
grep '^decision: ' "$T/out" > "$T/run_decision" && ok || ko "run --decide printed no decision"
# go signal 1 and the verdict name the decision's option, never the price-only break-even
best=$(sed -n 's/^decision: \([^,]*\),.*/\1/p' "$T/out")
grep -q "^  1\. volume above break-even .*cheapest option meeting every SLO is $best " "$T/out" && ok \
	|| ko "run --decide: go signal 1 is not the decision ($best)"
grep -q "^verdict: $best is the cheapest option meeting every SLO" "$T/out" && ok \
	|| ko "run --decide: the verdict is not the decision ($best)"
grep -q '^runner-up: ' "$T/out" && ok || ko "run --decide printed no runner-up"
expect_ok "run without --decide" "not decided" -- "$LLMCAP" run --set horizon=2h
expect_ok "decide one volume" "decision: " -- "$LLMCAP" decide $VOL --volumes 20B --seeds 2 --jobs 2
grep '^decision: ' "$T/out" | cmp -s - "$T/run_decision" && ok || { ko "run --decide and decide disagree"; cat "$T/run_decision" "$T/out"; }
expect_err "run --decide --json" "--decide: prints a table" -- "$LLMCAP" run --decide --json
expect_err "decide seeds" "--seeds" -- "$LLMCAP" decide --seeds 99
# run --decide --gpus per-pool on a fleet of two GPU types: each pool's GPU chosen, and the
# options of the given GPUs named by every type they hold, not hardware.gpu alone
MIX="$SRC/models/scenarios/mixed-gpus.yaml"
expect_ok "run --decide --gpus per-pool" "per-pool GPUs: utility on " -- \
	"$LLMCAP" run "$MIX" $VOL --set workload.tokens_per_month=5B --decide --gpus per-pool --seeds 1 --jobs 1
grep -qE '^  own h200-141gb\+l40s-48gb bf16 +\$' "$T/out" && ok || ko "run --decide: a mixed fleet's option does not name both GPUs"
grep -qE '^decision: [^,]+, \$[0-9,]+/month .*GPUs? on [0-9]+ servers?$' "$T/out" && ok || ko "run --decide --gpus per-pool: no decision line"
# its rent, each pool at its own GPU's price, and the type lacking a price named
grep -qF 'on demand $' "$T/out" && grep -qF "each pool at its GPU's price:" "$T/out" && ok || ko "mixed fleet: rent not per GPU type"
grep -qE '^ +l40s-48gb +\$[0-9,]+/month = [0-9,.]+ GPU-hours x \$' "$T/out" && ok || ko "mixed fleet: no on-demand line for the L40S pool"
expect_ok "plan on a mixed fleet" "(utility on 4-GPU l40s-48gb)" -- "$LLMCAP" plan "$MIX" --set horizon=2h
expect_ok "plan, every pool on its own GPU" "smallest fleet (utility on 4-GPU l40s-48gb, reasoning on 4-GPU h100-sxm-80gb) meeting" -- \
	"$LLMCAP" plan "$MIX" --set horizon=2h --set pools.reasoning.gpu=h100-sxm-80gb
long=$(printf 'h100-sxm-80gb,%.0s' $(seq 40))
expect_err "decide --gpus too long" "--gpus: the list is longer than 511 characters" -- "$LLMCAP" decide --gpus "$long"
expect_err "decide --gpus too many" "--gpus: at most 8 GPUs" -- "$LLMCAP" decide --gpus a,b,c,d,e,f,g,h,i
long=$(printf 'fp8,%.0s' $(seq 70))
expect_err "decide --dtypes too long" "--dtypes: the list is longer than 255 characters" -- "$LLMCAP" decide --dtypes "$long"
long=$(printf '2500000000,%.0s' $(seq 100))
expect_err "decide --volumes too long" "--volumes: the list is longer than 1023 characters" -- "$LLMCAP" decide --volumes "$long"
# catalog: each GPU's prices with their sources
expect_ok "catalog prices" "rent per GPU-hour: on demand" -- "$LLMCAP" catalog
grep -qE 'h100-sxm-80gb +buy \$30,000 per GPU' "$T/out" && ok || ko "catalog: no H100 purchase price"
grep -q ' spot: ' "$T/out" && ok || ko "catalog: no spot price source"
# token volumes take suffixes; a bare small number is refused, not taken as 5 tokens a month
expect_err "breakeven bare volume" "--volumes: '5' would be 5 tokens a month" -- "$LLMCAP" breakeven --volumes 5
expect_ok "breakeven suffixes" '"tokens_per_month": 1200000000' -- \
	"$LLMCAP" breakeven "$SRC/tests/data/plan-linear.yaml" --volumes 1.2B,500M --dtypes fp8 --jobs 1 --json
/usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not (len(d["rows"]) == 2 and abs(d["rows"][1]["tokens_per_month"] / 5e8 - 1) < 1e-9 and d["breakeven"][0]["dtype"] == "fp8"))' "$T/out" \
	&& ok || { ko "breakeven --json is not its table of 1.2B and 500M"; cat "$T/out"; }
expect_err "breakeven dtypes" "--dtypes: 'fp4' is not one of" -- "$LLMCAP" breakeven --dtypes fp4
expect_err "breakeven exists" "be.h5: exists; not overwritten" -- "$LLMCAP" breakeven -o "$T/be.h5"

# sweep: the same table whatever the thread count; a killed sweep resumes to the same table
MD1="$SRC/tests/data/md1.yaml"
table() { h5dump -d /runs -d /points "$1" | tail -n +2; } # line 1 names the file
SW="--vary workload.rate=20:40:10/s --vary pools.p.max_num_seqs=1,2 --seeds 3 --set horizon=30s"
expect_ok "sweep jobs 1" "sweep: 6 points x 3 seeds written to" -- "$LLMCAP" sweep "$MD1" $SW --jobs 1 -o "$T/sw1.h5"
[ "$(grep -cE '^ +[0-5]  [2-4]0/s +[12] +(-|[0-3]/3) +[0-9]+ ms / - ' "$T/out")" = 6 ] && grep -q "SLOs met" "$T/out" \
	&& ok || { ko "sweep prints no table of its 6 points (axis values, SLOs met by seeds)"; cat "$T/out"; }
expect_ok "sweep jobs 2" "written to" -- "$LLMCAP" sweep "$MD1" $SW --jobs 2 -o "$T/sw2.h5"
table "$T/sw1.h5" >"$T/sw1.txt"
table "$T/sw2.h5" >"$T/sw2.txt"
[ -s "$T/sw1.txt" ] && cmp -s "$T/sw1.txt" "$T/sw2.txt" && ok || ko "sweep --jobs 1 and --jobs 2 differ"
grep -qF '"c_queue_mean_s"' "$T/sw1.txt" && grep -qF '"c_ttft_p99_s_ci95"' "$T/sw1.txt" && ok \
	|| ko "sweep table lacks its metric columns"
[ -e "$T/sw1.h5.partial" ] && ko "a finished sweep left its journal" || ok
if /usr/bin/python3 -c 'import h5py, pandas' 2>/dev/null; then
	/usr/bin/python3 -c 'import sys, h5py, pandas as pd
f = h5py.File(sys.argv[1]); r = pd.DataFrame(f["runs"][:]); p = pd.DataFrame(f["points"][:])
assert len(r) == 18 and len(p) == 6 and list(r.seed[:3]) == [1, 2, 3]
assert abs(r[r.point == 0].c_queue_mean_s.mean() - p.c_queue_mean_s_mean[0]) < 1e-15' "$T/sw1.h5" \
		&& ok || ko "sweep tables do not read as DataFrames with the expected rows"
	# --json: the same numbers as /points, and nothing but JSON on stdout
	"$LLMCAP" sweep "$MD1" $SW --jobs 2 -o "$T/swj.h5" --json >"$T/swj.json" 2>/dev/null
	/usr/bin/python3 -c 'import sys, json, h5py, pandas as pd, math
d = json.load(open(sys.argv[1])); p = pd.DataFrame(h5py.File(sys.argv[2])["points"][:])
assert d["axes"] == ["workload.rate", "pools.p.max_num_seqs"] and len(d["points"]) == 6
for i, q in enumerate(d["points"]):
	m = q["metrics"]["c_queue_mean_s"]
	assert m["n"] == 3 and abs(m["mean"] - p.c_queue_mean_s_mean[i]) <= 1e-12 * max(1, abs(m["mean"]))
	assert 0 <= q["slo_met_seeds"] <= 3
assert d["points"][5]["values"] == {"workload.rate": "40/s", "pools.p.max_num_seqs": "2"}' "$T/swj.json" "$T/swj.h5" \
		&& ok || { ko "sweep --json does not match /points"; head -c 600 "$T/swj.json"; }
fi
expect_err "sweep exists" "sw1.h5: exists; not overwritten" -- "$LLMCAP" sweep "$MD1" $SW -o "$T/sw1.h5"
expect_err "sweep spec" "a range is START:STOP:STEP" -- "$LLMCAP" sweep "$MD1" --vary workload.rate=1:x:2 -o "$T/x.h5"
expect_err "sweep bad value" "max_num_seqs" -- "$LLMCAP" sweep "$MD1" --vary pools.p.max_num_seqs=1,0 -o "$T/x.h5"
# a unit goes on each value of a list: 2e4 next to 5e4/day is refused, not applied bare; a value
# that is not valid is quoted as the --vary it came from, not as a --set
expect_err "sweep mixed units" "--vary workload.rate=2e4,5e4/day: '2e4' has no unit while '5e4/day' has one" -- \
	"$LLMCAP" sweep "$MD1" --vary workload.rate=2e4,5e4/day -o "$T/x.h5"
expect_err "sweep bad value quotes --vary" "--vary 'workload.rate=5e4/fortnight': workload.rate:" -- \
	"$LLMCAP" sweep "$MD1" --vary workload.rate=2e4/day,5e4/fortnight -o "$T/x.h5"
grep -qF -- "--set 'workload.rate" "$T/err" && ko "a --vary value's error names --set" || ok
expect_err "plan mixed units" "'2e4' has no unit" -- "$LLMCAP" plan --vary workload.rate=2e4,5e4/day
# token volumes with suffixes in a scenario and in --set
expect_ok "tokens_per_month 5B" "tokens_per_month: 5000000000" -- "$LLMCAP" config --set workload.tokens_per_month=5B
sed 's|^  rate: 50/s$|  tokens_per_month: 500M|' "$MD1" >"$T/tpm.yaml"
expect_ok "tokens_per_month 500M in a file" "tokens_per_month: 500000000" -- "$LLMCAP" config "$T/tpm.yaml"
expect_err "tokens_per_month bad suffix" "expected a count, e.g. 2.7e9, 500M, 5B or 1.2T" -- \
	"$LLMCAP" config --set workload.tokens_per_month=5X
expect_err "sweep zip" "zipped axes need as many values" -- \
	"$LLMCAP" sweep "$MD1" --zip --vary seed=1,2 --vary horizon=1s -o "$T/x.h5"
# killed outright (SIGKILL) after a few runs: the journal keeps them, --resume finishes the rest
SWK="--vary workload.rate=30:40:10/s --seeds 6 --set horizon=20min"
"$LLMCAP" sweep "$MD1" $SWK --jobs 2 -o "$T/full.h5" >/dev/null 2>&1
"$LLMCAP" sweep "$MD1" $SWK --jobs 1 -o "$T/k.h5" >/dev/null 2>&1 &
pid=$!
i=0
# header 32 bytes, a record (task, digest, series length, 31 metrics, checksum) x 8: kill once
# two runs are in
while [ "$(stat -c %s "$T/k.h5.partial" 2>/dev/null || echo 0)" -lt 592 ] && [ $i -lt 3000 ]; do
	sleep 0.02; i=$((i + 1))
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
[ -e "$T/k.h5" ] && ko "sweep finished before it was killed: make it longer" || ok
expect_err "sweep journal left" "continue it with --resume" -- "$LLMCAP" sweep "$MD1" $SWK -o "$T/k.h5"
"$LLMCAP" sweep "$MD1" $SWK --jobs 2 --resume -o "$T/k.h5" >/dev/null 2>"$T/resume.err" && ok \
	|| { ko "sweep --resume failed"; cat "$T/resume.err"; }
grep -qE '= 12 runs \(([1-9][0-9]*) already done\)' "$T/resume.err" && ok \
	|| { ko "resume redid every run"; cat "$T/resume.err"; }
table "$T/full.h5" >"$T/full.txt"
table "$T/k.h5" >"$T/k.txt"
[ -s "$T/full.txt" ] && cmp -s "$T/full.txt" "$T/k.txt" && ok || ko "a resumed sweep differs from an uninterrupted one"
[ -e "$T/k.h5.partial" ] && ko "a resumed sweep left its journal" || ok

# --skip-invalid: a model that does not fit its GPU (405B in bf16 on one H100) is not run and is
# marked with its reason; the valid points run; the same table with 1 and 2 threads, and after a
# kill and --resume. Without the flag the sweep refuses with the point's message.
SWI="--vary pools.p.model=llama-3.1-8b,llama-3.1-405b,mistral-7b --seeds 2 --set horizon=30s"
expect_err "sweep invalid point" "md1.yaml:19:3: pools.p.model: 'llama-3.1-405b' (405.85B parameters) in bf16 needs 756.0 GiB of weights per GPU" -- \
	"$LLMCAP" sweep "$MD1" $SWI -o "$T/x.h5"
grep -qF "(at point 1: pools.p.model=llama-3.1-405b; --skip-invalid runs the valid points" "$T/err" && ok \
	|| { ko "sweep: the refusal does not name the point"; cat "$T/err"; }
[ -e "$T/x.h5" ] && ko "a refused sweep wrote its file" || ok
expect_ok "sweep skip-invalid jobs 1" "sweep: 1 of 3 points not runnable (invalid scenario), 2 run" -- \
	"$LLMCAP" sweep "$MD1" $SWI --skip-invalid --jobs 1 -o "$T/si1.h5"
grep -qF "1 of 3 points skipped (--skip-invalid)" "$T/err" \
	&& grep -qF "point 1 (pools.p.model=llama-3.1-405b): $MD1:19:3: pools.p.model: 'llama-3.1-405b'" "$T/err" && ok \
	|| { ko "sweep --skip-invalid does not report the skipped point"; cat "$T/err"; }
expect_ok "sweep skip-invalid jobs 2" "1 of 3 points not runnable" -- \
	"$LLMCAP" sweep "$MD1" $SWI --skip-invalid --jobs 2 -o "$T/si2.h5"
table "$T/si1.h5" >"$T/si1.txt"
table "$T/si2.h5" >"$T/si2.txt"
[ -s "$T/si1.txt" ] && cmp -s "$T/si1.txt" "$T/si2.txt" && ok || ko "sweep --skip-invalid: --jobs 1 and --jobs 2 differ"
{ cat "$MD1"; printf 'sweep:\n  skip_invalid: true\n'; } >"$T/siyaml.yaml"
expect_ok "sweep.skip_invalid in the scenario" "sweep: 1 of 3 points not runnable" -- \
	"$LLMCAP" sweep "$T/siyaml.yaml" $SWI --jobs 2 -o "$T/si3.h5"
if /usr/bin/python3 -c 'import h5py, pandas' 2>/dev/null; then
	/usr/bin/python3 -c 'import sys, math, h5py, pandas as pd
f = h5py.File(sys.argv[1]); r = pd.DataFrame(f["runs"][:]); p = pd.DataFrame(f["points"][:])
assert len(r) == 6 and len(p) == 3, (len(r), len(p))
assert list(r.valid) == [1, 1, 0, 0, 1, 1] and list(p.valid) == [1, 0, 1]
bad = r[r.valid == 0]
assert bad.c_completed.isna().all() and bad.c_ttft_p99_s.isna().all()
assert (r[r.valid == 1].c_completed > 0).all()
assert all(b"does not fit" in e or b"756.0 GiB" in e for e in bad.error), list(bad.error)
assert (r[r.valid == 1].error == b"").all() and (bad.digest == b"").all()
assert math.isnan(p.c_completed_mean[1]) and f.attrs["n_invalid"] == 1' "$T/si1.h5" \
		&& ok || ko "sweep --skip-invalid rows: valid, NaN metrics, error"
fi
# killed after a run, resumed: the invalid point is neither journaled nor rerun
SWIK="--vary pools.p.model=llama-3.1-405b,llama-3.1-8b --seeds 6 --set horizon=20min --set workload.rate=30/s --skip-invalid"
"$LLMCAP" sweep "$MD1" $SWIK --jobs 2 -o "$T/sifull.h5" >/dev/null 2>&1
"$LLMCAP" sweep "$MD1" $SWIK --jobs 1 -o "$T/sik.h5" >/dev/null 2>&1 &
pid=$!
i=0
while [ "$(stat -c %s "$T/sik.h5.partial" 2>/dev/null || echo 0)" -lt 592 ] && [ $i -lt 3000 ]; do
	sleep 0.02; i=$((i + 1))
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
[ -e "$T/sik.h5" ] && ko "sweep --skip-invalid finished before it was killed: make it longer" || ok
"$LLMCAP" sweep "$MD1" $SWIK --jobs 2 --resume -o "$T/sik.h5" >/dev/null 2>"$T/siresume.err" && ok \
	|| { ko "sweep --skip-invalid --resume failed"; cat "$T/siresume.err"; }
grep -qE '= 12 runs \(([1-9][0-9]*) already done\)' "$T/siresume.err" && ! grep -qE '\(([6-9]|1[0-9]) already done\)' "$T/siresume.err" && ok \
	|| { ko "sweep --skip-invalid resume: wrong count of runs already done"; cat "$T/siresume.err"; }
table "$T/sifull.h5" >"$T/sifull.txt"
table "$T/sik.h5" >"$T/sik.txt"
[ -s "$T/sifull.txt" ] && cmp -s "$T/sifull.txt" "$T/sik.txt" && ok || ko "a resumed --skip-invalid sweep differs from an uninterrupted one"
expect_err "sweep no valid point" "sweep: none of the 2 points is valid" -- \
	"$LLMCAP" sweep "$MD1" --vary pools.p.model=llama-3.1-405b,deepseek-v3 --skip-invalid -o "$T/x.h5"

# a sweep declared in the scenario file gives the same table as the same sweep on the command
# line; command-line options override it or add to it
{ cat "$MD1"; printf 'sweep:\n  seeds: 3\n  sets:\n    slots: [1, 2]\n  vary:\n    workload.rate: 20:40:10/s\n    pools.p.max_num_seqs: "@slots"\n'; } >"$T/swfile.yaml"
expect_ok "sweep from file" "sweep: 6 points x 3 seeds written to" -- \
	"$LLMCAP" sweep "$T/swfile.yaml" --set horizon=30s --jobs 2 -o "$T/swf.h5"
table "$T/swf.h5" >"$T/swf.txt"
[ -s "$T/swf.txt" ] && cmp -s "$T/sw1.txt" "$T/swf.txt" && ok || ko "a sweep from the file differs from the same sweep on the command line"
expect_ok "sweep file override" "sweep: 3 points x 1 seeds written to" -- \
	"$LLMCAP" sweep "$T/swfile.yaml" --set horizon=30s --seeds 1 --vary pools.p.max_num_seqs=4 -o "$T/swo.h5"
expect_ok "sweep file add" "sweep: 54 points x 1 seeds" -- \
	"$LLMCAP" sweep "$T/swfile.yaml" --set horizon=30s --seeds 1 --vary pools.p.router=@all -o "$T/swa.h5"
# bad input in the file: its place, and no output
{ cat "$MD1"; printf 'sweep:\n  vary:\n    pools.p.dtype: "@fast"\n'; } >"$T/swbad1.yaml"
expect_err "sweep unknown set" "$T/swbad1.yaml:29:5: sweep.vary.pools.p.dtype: no set named '@fast'" -- \
	"$LLMCAP" sweep "$T/swbad1.yaml" -o "$T/x.h5"
{ cat "$MD1"; printf 'sweep:\n  vary:\n    workload.rate: 1:x:2\n'; } >"$T/swbad2.yaml"
expect_err "sweep bad range in file" "$T/swbad2.yaml:29:20: sweep.vary.workload.rate: --vary workload.rate=1:x:2: a range" -- \
	"$LLMCAP" sweep "$T/swbad2.yaml" -o "$T/x.h5"
{ cat "$MD1"; printf 'sweep:\n  seeds: many\n'; } >"$T/swbad3.yaml"
expect_err "sweep seeds in file" "$T/swbad3.yaml:28:10: sweep.seeds: 'many' is not valid" -- \
	"$LLMCAP" sweep "$T/swbad3.yaml" -o "$T/x.h5"
expect_err "sweep no axes" "sweep needs at least one --vary KEY=SPEC, or a sweep.vary section" -- \
	"$LLMCAP" sweep "$MD1" -o "$T/x.h5"
[ -e "$T/x.h5" ] || [ -e "$T/x.h5.partial" ] && ko "a refused sweep left a file" || ok
# a scenario's sweep section changes nothing in a run
"$LLMCAP" run "$MD1" --set horizon=30s | grep 'run digest' >"$T/d_md1"
"$LLMCAP" run "$T/swfile.yaml" --set horizon=30s | grep 'run digest' >"$T/d_swf"
[ -s "$T/d_md1" ] && cmp -s "$T/d_md1" "$T/d_swf" && ok || ko "the sweep section changed a run"
# batch means: options checked before anything runs
expect_err "batch means 1" "--batch-means '1': expected a number of batches from 2" -- \
	"$LLMCAP" sweep "$MD1" --vary seed=1,2 --batch-means 1 -o "$T/x.h5"
expect_err "batch too short" "are shorter than output.timeseries_interval" -- \
	"$LLMCAP" sweep "$MD1" --vary seed=1,2 --batch-means 10 -o "$T/x.h5"
expect_err "warmup too long" "--warmup 3min: leaves nothing of the 2min horizon" -- \
	"$LLMCAP" sweep "$MD1" --vary seed=1,2 --batch-means 2 --warmup 3min -o "$T/x.h5"
# per-run time series, killed mid-sweep and resumed: the same file as an uninterrupted sweep
SWT="--vary workload.rate=30:40:10/s --seeds 6 --set horizon=20min --timeseries --batch-means 4"
fulltable() { h5dump -d /runs -d /points -g /timeseries "$1" | tail -n +2; }
"$LLMCAP" sweep "$MD1" $SWT --jobs 2 -o "$T/tfull.h5" >/dev/null 2>&1
"$LLMCAP" sweep "$MD1" $SWT --jobs 1 -o "$T/tk.h5" >/dev/null 2>&1 &
pid=$!
i=0
# a record with 20 samples: (35 + 1 words) x 8 + 20 x 80 bytes = 1888 (+ 8 batch-means pairs):
# kill once two are in
while [ "$(stat -c %s "$T/tk.h5.partial" 2>/dev/null || echo 0)" -lt 4200 ] && [ $i -lt 3000 ]; do
	sleep 0.02; i=$((i + 1))
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
[ -e "$T/tk.h5" ] && ko "time-series sweep finished before it was killed: make it longer" || ok
"$LLMCAP" sweep "$MD1" $SWT --jobs 2 --resume -o "$T/tk.h5" >/dev/null 2>"$T/tresume.err" && ok \
	|| { ko "time-series sweep --resume failed"; cat "$T/tresume.err"; }
grep -qE '= 12 runs \(([1-9][0-9]*) already done\)' "$T/tresume.err" && ok \
	|| { ko "time-series resume redid every run"; cat "$T/tresume.err"; }
fulltable "$T/tfull.h5" >"$T/tfull.txt"
fulltable "$T/tk.h5" >"$T/tk.txt"
grep -qF 'GROUP "point_000001"' "$T/tfull.txt" && grep -qF 'DATASET "replicate_5"' "$T/tfull.txt" && ok \
	|| ko "no per-run time series in the sweep file"
[ -s "$T/tfull.txt" ] && cmp -s "$T/tfull.txt" "$T/tk.txt" && ok || ko "a resumed time-series sweep differs"

# llmcap run --batch-means: a table beside the report; the run itself is unchanged
expect_ok "run batch means" "batch means: 4 batches of 25s after a warm-up of 25s" -- \
	"$LLMCAP" run "$MD1" --set horizon=125s --set output.timeseries_interval=1s --batch-means 4
grep -qE '^  c_queue_mean_s +[0-9.e-]+ \+- [0-9.e-]+' "$T/out" && ok || { ko "run --batch-means: no queue line"; cat "$T/out"; }
grep 'run digest' "$T/out" >"$T/bm_d1"
"$LLMCAP" run "$MD1" --set horizon=125s --set output.timeseries_interval=1s | grep 'run digest' >"$T/bm_d2"
[ -s "$T/bm_d1" ] && cmp -s "$T/bm_d1" "$T/bm_d2" && ok || ko "--batch-means changed the run"
# --json: the same JSON with a last key "batch_means"; -o FILE: /summary/batch_means
expect_ok "run batch means json" '"batch_means": {"batches": 4, "batch_length_s": 25, "warmup_s": 25' -- \
	"$LLMCAP" run "$MD1" --set horizon=125s --set output.timeseries_interval=1s --batch-means 4 --json
mv "$T/out" "$T/bm.json"
"$LLMCAP" run "$MD1" --set horizon=125s --set output.timeseries_interval=1s --json >"$T/nobm.json" 2>/dev/null
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); base = json.load(open(sys.argv[2]))
bm = d.pop("batch_means")
assert d == base and list(d) == list(base), "keys other than batch_means changed"
names = [m["name"] for m in bm["metrics"]]
assert len(names) == 18 and names[0] == "c_completed" and names[-1] == "p_kv_mean", names
q = bm["metrics"][names.index("c_queue_mean_s")]
assert 0 < q["mean"] < 0.05 and q["ci95_half_width"] > 0, q
' "$T/bm.json" "$T/nobm.json" && ok || ko "run --batch-means --json: not valid JSON with a batch_means object"
"$LLMCAP" run "$MD1" --set horizon=125s --set output.timeseries_interval=1s --batch-means 4 -q -o "$T/bm.h5" \
	&& h5dump -d /summary/batch_means "$T/bm.h5" >"$T/bm.txt" 2>&1 \
	&& grep -qF '"c_queue_mean_s"' "$T/bm.txt" && grep -qF 'ATTRIBUTE "batches"' "$T/bm.txt" && ok \
	|| ko "run --batch-means -o: no /summary/batch_means"
expect_err "warmup alone" "--warmup is the warm-up of --batch-means K, which is not given" -- \
	"$LLMCAP" run "$MD1" --warmup 10s
expect_err "sweep warmup alone" "--warmup is the warm-up of --batch-means K (or sweep.batch_means), which is off" -- \
	"$LLMCAP" sweep "$MD1" --vary seed=1,2 --warmup 10s -o "$T/x.h5"
expect_err "run batch too short" "batches of 10.91s (horizon 2min, warm-up 10.91s) are shorter" -- \
	"$LLMCAP" run "$MD1" --batch-means 10

# plan: the hand-computed smallest fleets (tests/data/plan-linear.yaml), ranked by cost then GPUs
expect_ok "plan" "best: pools.p.max_num_seqs=16: 1 GPUs on 1 server" -- \
	"$LLMCAP" plan "$SRC/tests/data/plan-linear.yaml" --vary pools.p.max_num_seqs=8,16 --jobs 2
grep -qE '^  #1 +pools.p.max_num_seqs=16 +1 +1 +\$[0-9,]+ ' "$T/out" && ok || { ko "plan: 16 slots need 1 replica, ranked first"; cat "$T/out"; }
grep -qE '^  #2 +pools.p.max_num_seqs=8 +2 +1 ' "$T/out" && ok || { ko "plan: 8 slots need 2 replicas"; cat "$T/out"; }
grep -qF 'limited by step time (busy)' "$T/out" && ok || ko "plan gives no limit"
# one money format in every text output: $336,000, never $336000 or $336k
grep -qE '\$[0-9]{4}|\$[0-9]+k' "$T/out" && ko "plan prints money unlike \$273,200" || ok
# plan --skip-invalid: a candidate that does not fit is listed last with its reason
expect_ok "plan skip-invalid" "best: pools.p.max_num_seqs=16 pools.p.model=llama-3.1-8b: 1 GPUs on 1 server" -- \
	"$LLMCAP" plan "$SRC/tests/data/plan-linear.yaml" --vary pools.p.max_num_seqs=8,16 \
	--vary pools.p.model=llama-3.1-8b,llama-3.1-405b --skip-invalid --jobs 2
grep -qE "^  #4 +pools.p.max_num_seqs=16 pools.p.model=llama-3.1-405b +not runnable: $SRC/tests/data/plan-linear.yaml:23:3: pools.p.model: 'llama-3.1-405b'" "$T/out" && ok \
	|| { ko "plan --skip-invalid does not list the invalid candidate last"; cat "$T/out"; }
expect_err "plan invalid" "(at point 1: pools.p.model=llama-3.1-405b; --skip-invalid" -- \
	"$LLMCAP" plan "$SRC/tests/data/plan-linear.yaml" --vary pools.p.model=llama-3.1-8b,llama-3.1-405b
# a candidate's own tensor-parallel size may need more GPUs than the scenario's servers hold:
# plan chooses the servers, so that is no reason to refuse it (docs/sweeps.md's example)
expect_ok "plan tensor_parallel_size" "best: pools.reasoning.tensor_parallel_size=" -- \
	"$LLMCAP" plan --vary pools.reasoning.tensor_parallel_size=2,4 --set horizon=1h --jobs 2
# -o FILE and --json; an existing FILE is kept
"$LLMCAP" plan "$SRC/tests/data/plan-linear.yaml" --jobs 2 --json -o "$T/plan.json" >"$T/out" 2>"$T/err" \
	&& ok || { ko "plan -o failed"; cat "$T/err"; }
[ -s "$T/out" ] && ko "plan -o also printed to stdout" || ok
/usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); c = d["candidates"][0]; sys.exit(not (d["command"] == "plan" and c["feasible"] and c["pools"][0]["replicas"] == 2))' "$T/plan.json" \
	&& ok || { ko "plan --json: not the 2 replicas of plan-linear"; cat "$T/plan.json"; }
expect_err "plan -o exists" "plan.json: exists; not overwritten" -- "$LLMCAP" plan "$SRC/tests/data/plan-linear.yaml" -o "$T/plan.json"

# maxrate: one replica of 8 slots at 11 steps of 100 ms a request serves at most 7.27 requests/s;
# the p99 TTFT target of 3 s holds below that (bisected to 10% from 12/s: 6 passes at 0.83)
expect_ok "maxrate" "95% confidence over 2 seeds" -- \
	"$LLMCAP" maxrate "$SRC/tests/data/plan-linear.yaml" --seeds 2 --tolerance 0.1 --jobs 2
awk '/max rate/ { r = $3 } END { exit !(r >= 6 && r < 7.28) }' "$T/out" && ok || { ko "maxrate out of range"; cat "$T/out"; }
grep -qE '^  seed +requests/s +per day +simulations$' "$T/out" && ok || { ko "maxrate prints no table header"; cat "$T/out"; }
expect_ok "maxrate --json" '"command": "maxrate"' -- \
	"$LLMCAP" maxrate "$SRC/tests/data/plan-linear.yaml" --seeds 2 --tolerance 0.1 --jobs 2 --json
/usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); r = d["mean_rate_per_s"]; sys.exit(not (len(d["seeds"]) == 2 and 6 <= r < 7.28))' "$T/out" \
	&& ok || { ko "maxrate --json: not 2 seeds with the rate in range"; cat "$T/out"; }
"$LLMCAP" maxrate "$SRC/tests/data/plan-linear.yaml" --seeds 1 --tolerance 0.2 -o "$T/mr.txt" >"$T/out" 2>"$T/err" \
	&& ok || { ko "maxrate -o failed"; cat "$T/err"; }
grep -qF "max rate " "$T/mr.txt" && ok || ko "maxrate -o wrote no table"
expect_err "maxrate -o exists" "mr.txt: exists; not overwritten" -- "$LLMCAP" maxrate -o "$T/mr.txt"
# progress on stderr when it is a terminal (script gives the command one), never otherwise
if script -qec "true" /dev/null >/dev/null 2>&1; then
	script -qec "'$LLMCAP' maxrate '$SRC/tests/data/plan-linear.yaml' --seeds 2 --tolerance 0.2 --jobs 1" /dev/null >"$T/tty" 2>&1
	grep -qF 'maxrate: seeds bisected: 2/2' "$T/tty" && ok || { ko "maxrate shows no progress on a terminal"; cat "$T/tty"; }
	grep -qF 'seeds bisected' "$T/err" && ko "maxrate showed progress off a terminal" || ok
	script -qec "'$LLMCAP' plan '$SRC/tests/data/plan-linear.yaml' --vary pools.p.max_num_seqs=8,16 --jobs 1" /dev/null >"$T/tty" 2>&1
	grep -qF 'plan: candidates done: 2/2' "$T/tty" && ok || { ko "plan shows no progress on a terminal"; cat "$T/tty"; }
	script -qec "'$LLMCAP' breakeven '$SRC/tests/data/plan-linear.yaml' --volumes 1B,2B --dtypes fp8 --jobs 1" /dev/null >"$T/tty" 2>&1
	grep -qF 'breakeven: fleets searched: 2/2' "$T/tty" && ok || { ko "breakeven shows no progress on a terminal"; cat "$T/tty"; }
fi

# an invalid scenario writes no output file
expect_err "invalid, no file" "workload.rate: '-1/s' is not valid" -- "$LLMCAP" run --set workload.rate=-1/s -o "$T/never.h5"
[ -e "$T/never.h5" ] && ko "an invalid scenario left $T/never.h5" || ok

# a typo in a pool's or class's name is refused, not a new entry with every default
expect_err "--set unknown pool" "the scenario has no pool 'reasonig' (it has: utility, reasoning)" -- "$LLMCAP" run --set pools.reasonig.engine=vllm-0.5
expect_err "--set unknown class" "the scenario has no class 'utilty'" -- "$LLMCAP" run --set workload.classes.utilty.share=0.5
expect_err "--vary unknown pool" "no pool 'reasonig'" -- "$LLMCAP" sweep --vary pools.reasonig.replicas=1,2 -o "$T/never2.h5"
expect_ok "--set a known pool" "digest" -- "$LLMCAP" run --set pools.reasoning.engine=vllm-0.5 --set horizon=10min

# Your own models and GPUs (docs/models.md): names without case, aliases, did you mean
expect_ok "alias H100" 'x h100-sxm-80gb' -- "$LLMCAP" run --set hardware.gpu=H100 --set horizon=10min
expect_ok "alias llama-3.3-70b" 'llama-3.1-70b' -- "$LLMCAP" config --set pools.reasoning.model=llama-3.3-70b
expect_ok "case Llama-3.1-70B" 'model: llama-3.1-70b' -- "$LLMCAP" config --set pools.reasoning.model=Llama-3.1-70B
expect_err "did you mean gpu" "'h100-sxm-80g' is not in the catalog (did you mean 'h100-sxm-80gb'?)" -- "$LLMCAP" run --set hardware.gpu=h100-sxm-80g
expect_err "did you mean model" "(did you mean 'mixtral-8x7b'?)" -- "$LLMCAP" run --set pools.utility.model=mixtral-8x7
expect_err "did you mean engine" "(did you mean 'sglang'?)" -- "$LLMCAP" run --set pools.utility.engine=sglng
expect_err "did you mean price" "(did you mean 'groq-llama-3.1-8b'?)" -- "$LLMCAP" run --set cost.api.prices.utility.from=groq-llama-3.1-8
# model import -> --catalog -> a run on the imported model
expect_ok "model import" 'num_key_value_heads: 8' -- "$LLMCAP" model import "$SRC/tests/data/hf/llama-3.1-70b.json" --name my-70b
"$LLMCAP" model import "$SRC/tests/data/hf/llama-3.1-70b.json" --name my-70b -o "$T/my.yaml" >"$T/out" 2>&1 && [ ! -s "$T/out" ] && ok || ko "model import -o"
expect_ok "model import -o" '70.55B parameters' -- cat "$T/my.yaml"
expect_err "model import keeps a file" 'exists; not overwritten' -- "$LLMCAP" model import "$SRC/tests/data/hf/llama-3.1-70b.json" -o "$T/my.yaml"
expect_ok "model import default name" '  deepseek-v3:' -- "$LLMCAP" model import "$SRC/tests/data/hf/deepseek-v3.json"
expect_ok "run --catalog" 'reasoning  my-70b' -- "$LLMCAP" run --catalog "$T/my.yaml" --set pools.reasoning.model=my-70b --set horizon=10min
expect_ok "catalog --catalog" 'my-70b' -- "$LLMCAP" catalog --catalog "$T/my.yaml"
expect_err "model unknown without --catalog" "'my-70b' is not in the catalog" -- "$LLMCAP" run --set pools.reasoning.model=my-70b
expect_err "model import: not JSON" 'JSON syntax' -- "$LLMCAP" model import "$SRC/tests/cli.sh"
printf '{"model_type": "gpt2", "n_embd": 768}\n' >"$T/gpt2.json"
expect_err "model import: other architecture" "gpt2.json:1:17: model_type: 'gpt2' is not an architecture" -- "$LLMCAP" model import "$T/gpt2.json"
expect_err "model import needs a file" 'usage: llmcap model import' -- "$LLMCAP" model import
# a user GPU: located errors, replacing a built-in entry by name, a scenario's catalog: key
printf 'gpus:\n  my-gpu:\n    memory: 96GiB\n    hbm_bandwidth: fast\n' >"$T/bad.yaml"
expect_err "--catalog located error" "bad.yaml:4:20" -- "$LLMCAP" run --catalog "$T/bad.yaml"
printf 'gpus:\n  H100-SXM-80GB:\n    memory: 40GiB\n    hbm_bandwidth: 2e12\n    bf16_tflops: 500\n    fp8_tflops: 1000\n    tdp_watts: 400\n' >"$T/h100.yaml"
expect_ok "--catalog replaces an entry" '1 x 4 x h100-sxm-80gb, 3 of 4 GPUs in use; 40.0 GiB per GPU' -- "$LLMCAP" run --catalog "$T/h100.yaml" --set pools.utility.replicas=1 --set pools.reasoning.model=llama-3.1-8b --set horizon=10min
mkdir -p "$T/sc"
printf 'gpus:\n  my-gpu:\n    memory: 96GiB\n    hbm_bandwidth: 4e12\n    bf16_tflops: 600\n    fp8_tflops: 1200\n    tdp_watts: 500\n' >"$T/sc/gpus.yaml"
{ echo 'catalog: gpus.yaml'; cat "$SRC/models/scenarios/default.yaml"; } >"$T/sc/s.yaml"
expect_ok "scenario catalog: key" '1 x 4 x my-gpu' -- "$LLMCAP" run "$T/sc/s.yaml" --set hardware.gpu=MY-GPU --set horizon=10min
printf 'gpus:\n  my-gpu:\n    memory: 90GiB\n    hbm_bandwidth: 4e12\n    bf16_tflops: 600\n    fp8_tflops: 1200\n    tdp_watts: 500\n' >"$T/sc/more.yaml"
{ echo 'catalog: [gpus.yaml, more.yaml]'; cat "$SRC/models/scenarios/default.yaml"; } >"$T/sc/list.yaml"
expect_ok "scenario catalog: list, in order" '1 x 4 x my-gpu, 4 of 4 GPUs in use; 90.0 GiB' -- "$LLMCAP" run "$T/sc/list.yaml" --set hardware.gpu=my-gpu --set horizon=10min
expect_ok "config with a scenario catalog" 'gpu: my-gpu' -- "$LLMCAP" config "$T/sc/s.yaml" --set hardware.gpu=my-gpu
expect_ok "plan with a scenario catalog" 'my-gpu' -- "$LLMCAP" plan "$T/sc/s.yaml" --set hardware.gpu=my-gpu --set horizon=1h --vary hardware.gpu=my-gpu

# Help: every command's --help, -h and `help CMD` print the same text on stdout, exit 0; it lists
# the command's options with their defaults (all printed from the one command table)
CMDS="run workload breakeven decide trace sweep plan maxrate config schema catalog model version help"
for c in $CMDS; do
	expect_ok "$c --help" "usage: llmcap $c" -- "$LLMCAP" $c --help
	[ -s "$T/err" ] && ko "$c --help wrote to stderr" || ok
	grep -qF -- '-h, --help' "$T/out" && ok || ko "$c --help does not list --help"
	"$LLMCAP" $c -h >"$T/h2" 2>/dev/null && cmp -s "$T/out" "$T/h2" && ok || ko "$c -h differs from $c --help"
	"$LLMCAP" help $c >"$T/h3" 2>/dev/null && cmp -s "$T/out" "$T/h3" && ok || ko "help $c differs from $c --help"
	# the global usage lists it (the same table)
	"$LLMCAP" help | grep -qE "^  $c +[a-z]" && ok || ko "llmcap help does not list $c"
done
# help_default CMD OPTION-ERE DEFAULT: CMD's help gives OPTION with "(default: DEFAULT)"
help_default() {
	"$LLMCAP" help "$1" | tr '\n' ' ' | tr -s ' ' | grep -oE -- "$2 [^(]*\(default: [^)]*\)" \
		| grep -qF -- "(default: $3)" && ok || ko "help $1: $2 lacks its default '$3'"
}
help_default run '--warmup D' 'auto: one batch'
help_default workload '-o, --out FILE[.]csv' 'none'
help_default breakeven '--volumes V,[.]{3}' '500M,1B,2.7B,5B,7.5B,10B,20B,50B'
help_default trace '--bad-rows MODE' 'fail'
help_default sweep '--jobs N' 'the number of CPUs'
help_default plan '--jobs N' 'the number of CPUs'
help_default maxrate '--jobs N' 'the number of CPUs'
expect_ok "sweep --help lists --set" '-s, --set KEY=VALUE' -- "$LLMCAP" sweep --help
expect_ok "plan --help lists --set" '-s, --set KEY=VALUE' -- "$LLMCAP" plan --help
expect_ok "config --help lists --set" '-s, --set KEY=VALUE' -- "$LLMCAP" config --help
for c in plan maxrate breakeven; do
	for o in '-o, --output' '--json'; do
		"$LLMCAP" help $c | grep -qF -- "$o" && ok || ko "help $c does not list $o"
	done
done
expect_ok "-V" "llmcap " -- "$LLMCAP" -V
"$LLMCAP" --version >"$T/v2" && cmp -s "$T/out" "$T/v2" && ok || ko "-V differs from --version"
expect_ok "schema --help is help" 'usage: llmcap schema' -- "$LLMCAP" schema --help
grep -qF '| `' "$T/out" && ko "schema --help printed the schema" || ok
expect_ok "llmcap help" 'usage: llmcap COMMAND' -- "$LLMCAP" help
expect_ok "llmcap -h" 'usage: llmcap COMMAND' -- "$LLMCAP" -h
expect_err "help of no command" "unknown command 'fly'" -- "$LLMCAP" help fly
# an unknown option: exit 2, named, pointing at the command's help instead of the global usage
for c in $CMDS; do
	"$LLMCAP" $c --bogus >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" -eq 2 ] && ok || ko "$c --bogus exited $rc, expected 2"
	grep -qF -- "unknown option '--bogus' for $c; see llmcap $c --help" "$T/err" && ok \
		|| { ko "$c --bogus: no message naming the option"; cat "$T/err"; }
	grep -qF 'commands:' "$T/err" && ko "$c --bogus printed the global usage" || ok
done
expect_err "missing value" "-o needs FILE.h5; see llmcap run --help" -- "$LLMCAP" run -o
expect_err "value to a flag" "a value given to the flag '--force' for run" -- "$LLMCAP" run --force=yes
expect_ok "--set=KEY=VALUE" 'llmcap: reference-4xh100 (seed 42, horizon 2h)' -- "$LLMCAP" run --set=horizon=2h
expect_err "no arguments" "schema takes no arguments ('x')" -- "$LLMCAP" schema x
# docs/cli.md is the program's own reference: regenerate it with `llmcap help --markdown`
"$LLMCAP" help --markdown >"$T/cli.md" && cmp -s "$T/cli.md" "$SRC/docs/cli.md" && ok \
	|| { ko "docs/cli.md differs from 'llmcap help --markdown' (regenerate it)"; diff "$SRC/docs/cli.md" "$T/cli.md" | head; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
