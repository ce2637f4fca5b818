#!/usr/bin/env bash
# Every command the README shows runs in CI as written (tests/readme-commands says which
# step and why): the README's commands and the list must be the same set, each make
# target listed as an alias must run the command the list says, each "cirun" command must
# be a line of .ci/run, and the commands of one class run, each with its exit status
# checked. In make check: the class "check" and the "hand" block; `make check-readme`
# (.ci/run's second step) runs CTR_README_CLASS=ci.
set -uo pipefail
. "${BASH_SOURCE[0]%/*}/lib.sh"
t_require_root
class=${CTR_README_CLASS:-check}
case $class in check | ci) ;; *) ctr_die "$CTR_EXIT_USAGE" "CTR_README_CLASS=\"$class\" is wrong: check or ci" ;; esac
list=$CTR_TOP/tests/readme-commands
top=$CTR_TOP

out=$(mktemp -d)
runs=$top/pcaps/runs
mkdir -p "$runs"
entries() { find "$runs" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort; }
entries >"$out/runs-before"
# what the commands made, whatever happened: their runs (the failed ones are kept under
# pcaps/runs/test_readme-*), the topologies they printed, the README's scratch files
cleanup() {
	local p d keep=
	[ "$T_FAILS" -gt 0 ] && keep=$runs/test_readme-${out##*.}
	[ -s "$out/prefixes" ] && while read -r p; do "$top/topology/down" --prefix "$p" >/dev/null 2>&1; done <"$out/prefixes"
	while read -r d; do
		[ -n "$d" ] || continue
		if [ -n "$keep" ]; then mkdir -p "$keep" && mv "$runs/$d" "$keep/"; else rm -rf "${runs:?}/$d"; fi
	done < <(entries | comm -13 "$out/runs-before" - | grep -v '^test_readme-')
	if [ -n "$keep" ]; then mv "$out" "$keep/test" && echo "kept the failed run's artifacts in $keep"; else rm -rf "$out"; fi
}
trap cleanup EXIT

# --- the README's commands against the list ------------------------------------------------
# every line of a ```sh block and of a 4-space indented block starting with a command
# (continuations joined, comments dropped), every inline code span starting with "sudo "
# or "make " (it may wrap a line)
readme_commands() {
	perl -e '
	local $/; my $t = <STDIN>; my @out;
	sub norm { my $c = shift; $c =~ s/\\\n\s*/ /g; $c =~ s/\s+#.*$//; $c =~ s/\s+/ /g; $c =~ s/^ | $//g; $c }
	while ($t =~ /^```sh\n(.*?)^```/msg) {
		(my $b = $1) =~ s/\\\n\s*/ /g;
		for (split /\n/, $b) { my $c = norm($_); push @out, $c if length $c && $c !~ /^#/ }
	}
	my @l = split /\n/, $t; my $fence = 0;
	for (my $i = 0; $i < @l; $i++) {
		$fence = !$fence if $l[$i] =~ /^```/;
		next if $fence || $l[$i] !~ m{^    (sudo|make|bench/|build/|topology/)};
		my $c = $l[$i];
		$c .= "\n" . $l[++$i] while $c =~ /\\$/ && $i + 1 < @l;
		push @out, norm($c);
	}
	(my $prose = $t) =~ s/^```.*?^```//msg;
	push @out, norm($1) while $prose =~ /`((?:sudo|make)\s[^`]*)`/g;
	print "$_\n" for @out;' <"$top/README.md" | sort -u
}
# the list's rows: CLASS<TAB>STATUSES<TAB>COMMAND[<TAB>NOTE]
rows() { grep -v '^#' "$list" | grep -v '^[[:space:]]*$'; }
readme_commands >"$out/readme"
rows | cut -f3 | sort -u >"$out/listed"
t_check "the README's commands were found" 1 "$([ "$(wc -l <"$out/readme")" -ge 15 ] && echo 1)" "$(wc -l <"$out/readme") found"
t_check "every README command is in tests/readme-commands" "" "$(comm -23 "$out/readme" "$out/listed")"
t_check "every command of tests/readme-commands is in the README" "" "$(comm -13 "$out/readme" "$out/listed")"
t_check "each command listed once" "" "$(rows | cut -f3 | sort | uniq -d)"
t_check "every row has a known class and statuses" "" \
	"$(rows | awk -F'\t' '$1 !~ /^(check|hand|ci|cirun|test|alias|manual)$/ || $2 !~ /^[0-9]+(,[0-9]+)*$/')"

# --- cirun: the CI's own steps are lines of .ci/run ------------------------------------------
while IFS=$'\t' read -r cls _ cmd _; do
	[ "$cls" = cirun ] || continue
	t_check "cirun: .ci/run runs '${cmd//sudo /}'" 1 "$(grep -cxF "${cmd//sudo /}" "$top/.ci/run")"
done < <(rows)

# --- test: another integration test runs the command (its note: that test's name, then how) ---
while IFS=$'\t' read -r cls _ cmd note; do
	[ "$cls" = test ] || continue
	tname=${note%%:*} words=${cmd//sudo /}
	# the command's words, in order, on one line of that test (its options may come between)
	re=$(printf '%s\n' "$words" | sed 's/[][\.*^$/]/\\&/g; s/ \{1,\}/.*/g')
	t_check "test: $tname runs '$words'" 1 \
		"$(grep -q -- "$re" "$top/tests/integration/$tname.sh" 2>/dev/null && echo 1)" \
		"no line of tests/integration/$tname.sh has the words '$words' in that order"
done < <(rows)

# --- aliases: the make target runs the command the list names --------------------------------
while IFS=$'\t' read -r cls _ cmd note; do
	[ "$cls" = alias ] || continue
	target=${cmd#make }
	ran=$(make -C "$top" -n -s "$target" 2>/dev/null | grep -vE '^(bench/deps|make|mkdir|cc |clang |ar )' | tail -1 | sed 's/[[:space:]]*$//')
	t_check "alias: '$cmd' runs '$note'" "$note" "$ran"
	grep -qxF "$note" "$out/listed" || grep -qF "$note" "$out/readme" ||
		t_fail "alias: '$note' (what '$cmd' runs) is not itself a README command"
done < <(rows)

# --- running them ------------------------------------------------------------------------------
# run_one STATUSES COMMAND: as written, less "sudo ", from the top of the tree; its exit
# status among STATUSES; the prefixes of the topologies it printed recorded for removal
n=0
run_one() {
	local allowed=$1 cmd=$2 shown=$2 rc log t0=$SECONDS
	n=$((n + 1))
	log=$out/cmd-$n.log
	cmd=${cmd//sudo /}
	(cd "$top" && timeout "${CTR_README_TIMEOUT:-3600}" bash -c "$cmd") </dev/null >"$log" 2>&1
	rc=$?
	sed -n 's/^PREFIX=\(ctr-[0-9a-f]*\)$/\1/p' "$log" >>"$out/prefixes"
	if [[ ,$allowed, == *,$rc,* ]]; then
		t_pass "'$shown': exit $rc in $((SECONDS - t0)) s"
	else
		t_fail "'$shown': exit $rc in $((SECONDS - t0)) s, expected $allowed"
		tail -n 15 "$log" | sed 's/^/  /'
	fi
}

# CTR_README_ONLY=ERE: only the commands of the class matching it (a rerun of one)
declare -A done_cmds=()
while IFS=$'\t' read -r cls statuses cmd _; do
	[ "$cls" = "$class" ] || continue
	[ -z "${CTR_README_ONLY:-}" ] || [[ $cmd =~ $CTR_README_ONLY ]] || continue
	key=${cmd//sudo /}
	[ -z "${done_cmds[$key]:-}" ] || { t_pass "'$cmd': the same as '${done_cmds[$key]}' run above"; continue; }
	done_cmds[$key]=$cmd
	run_one "$statuses" "$cmd"
done < <(rows)

# the "By hand" block, in order in one shell, its fixed prefix under a lock;
# whatever it left (ctr-000001, /tmp/s) removed
if [ "$class" = check ] && [ -z "${CTR_README_ONLY:-}" ]; then
	exec 9>"$CTR_STATE/readme-hand.lock"
	if flock -w 900 9; then
		"$top/topology/down" --prefix ctr-000001 >/dev/null 2>&1
		rm -rf /tmp/s
		script=$out/hand.sh
		{
			echo "cd $(printf '%q' "$top")"
			k=0
			while IFS=$'\t' read -r cls statuses cmd _; do
				[ "$cls" = hand ] || continue
				k=$((k + 1))
				printf '( %s ) >%q 2>&1 </dev/null; echo "%s $?"\n' "${cmd//sudo /}" "$out/hand-$k.log" "$statuses"
			done < <(rows)
		} >"$script"
		k=0
		while read -r statuses rc; do
			k=$((k + 1))
			cmd=$(rows | awk -F'\t' '$1 == "hand"' | sed -n "${k}p" | cut -f3)
			if [[ ,$statuses, == *,$rc,* ]]; then
				t_pass "by hand, '$cmd': exit $rc"
			else
				t_fail "by hand, '$cmd': exit $rc, expected $statuses"
				tail -n 15 "$out/hand-$k.log" | sed 's/^/  /'
			fi
		done < <(timeout 600 bash "$script")
		t_check "by hand: every line ran" "$(rows | awk -F'\t' '$1 == "hand"' | wc -l)" "$k"
		t_check "by hand: the verdict of seq-above is reset" 1 "$(grep -cE '^verdict: +reset ' "$out/hand-5.log")" "$(cat "$out/hand-5.log")"
		"$top/topology/down" --prefix ctr-000001 >/dev/null 2>&1
		t_check "by hand: its namespaces are gone" "" "$(ip netns list | grep -o '^ctr-000001-[a-zA-Z]*' || true)"
		rm -rf /tmp/s
		flock -u 9
	else
		t_fail "by hand: the lock $CTR_STATE/readme-hand.lock was held for 900 s"
	fi
fi
for cls in ci manual; do
	[ "$cls" = "$class" ] && continue
	echo "# not run here: $(rows | awk -F'\t' -v c="$cls" '$1 == c' | wc -l) $cls command(s) (tests/readme-commands)"
done
t_done
