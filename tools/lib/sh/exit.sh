# shellcheck shell=bash
# Exit codes and how a script stops: the codes (from tools/lib/base/exitcodes.h, one
# definition for C and bash), log, die, skip, the checks that skip for a missing piece, and
# ctr_in_list, the check of an argument against a list of known values.

while read -r _def _name _value _; do
	[[ $_def == "#define" && $_name == CTR_EXIT_* ]] && printf -v "$_name" '%s' "$_value"
done <"$CTR_TOP/tools/lib/base/exitcodes.h"
unset _def _name _value

ctr_in_list() { [[ " $2 " == *" $1 "* ]]; } # WORD "LIST"

ctr_log() { printf '%s\n' "$*" >&2; }
ctr_die() {
	local code=$1
	shift
	printf '%s: %s\n' "${CTR_PROG:-${0##*/}}" "$*" >&2
	exit "$code"
}
ctr_skip() { printf 'SKIP: %s\n' "$*"; exit "$CTR_EXIT_SKIP"; }

ctr_require_root() {
	[ "$EUID" -eq 0 ] || ctr_die "$CTR_EXIT_SKIP" "needs root (network namespaces, raw sockets, netfilter): run with sudo"
}

ctr_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || ctr_die "$CTR_EXIT_SKIP" "missing command '$c' (run 'sudo make deps')"
	done
}

# true when a command's error message says the kernel lacks a feature (no nf_tables, an
# iptables table or match not built, an unknown link type, a missing /proc/sys knob) rather
# than that the command was wrong: the caller skips instead of failing
ctr_kernel_lacks() {
	[[ $1 =~ (not supported|do you need to insmod|Unknown device type|Could not fetch rule set generation id|Couldn.t load|Directory nonexistent|No such file or directory) ]]
}
