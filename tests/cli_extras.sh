#!/bin/sh
# The man page and the bash completion (docs/cli_extras.py) are current with the option table,
# the page renders without warnings, and the completion completes commands and options.
# usage: cli_extras.sh PATH/TO/llmcap SOURCE_DIR
set -u
LLMCAP=$1
SRC=$2
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

"$PY" "$SRC/docs/cli_extras.py" "$LLMCAP" --check && ok || ko "docs/llmcap.1 or docs/llmcap.bash-completion is stale"
bash -n "$SRC/docs/llmcap.bash-completion" && ok || ko "the completion is not valid bash"

complete_words() { # the completions of the words given (the last one is being typed)
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _llmcap; echo "${COMPREPLY[*]}"' \
		_ "$SRC/docs/llmcap.bash-completion" "$@"
}
out=$(complete_words llmcap sw)
[ "$out" = "sweep" ] && ok || ko "'llmcap sw' completes to '$out', not sweep"
out=$(complete_words llmcap sweep --va)
[ "$out" = "--vary" ] && ok || ko "'llmcap sweep --va' completes to '$out', not --vary"
out=$(complete_words llmcap help ma)
[ "$out" = "maxrate" ] && ok || ko "'llmcap help ma' completes to '$out', not maxrate"
out=$(complete_words llmcap run -)
case " $out " in *" --exact-steps "*" --help "*) ok ;; *) ko "'llmcap run -' lacks run's options: $out" ;; esac
# every option the parser lists for run is offered (the table through help --markdown)
for o in $("$LLMCAP" help --markdown | sed -n '/^## llmcap run$/,/^## /p' | grep -o '`--[a-z-]*`' | tr -d '`'); do
	case " $out " in *" $o "*) ok ;; *) ko "'llmcap run -' does not offer $o" ;; esac
done

if command -v groff >/dev/null 2>&1; then
	warn=$(groff -man -Tutf8 -ww -z "$SRC/docs/llmcap.1" 2>&1)
	[ -z "$warn" ] && ok || ko "groff warns on docs/llmcap.1: $warn"
	groff -man -Tutf8 -P-cbou "$SRC/docs/llmcap.1" 2>/dev/null | grep -q "LLMCAP SWEEP" && ok || ko "the man page has no sweep section"
else
	echo "groff not installed: the man page's rendering is not checked"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
