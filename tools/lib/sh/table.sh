# shellcheck shell=bash
# The tables of the bench's dimensions (topologies.sh, backends.sh, workarounds.sh): one
# entry per name with all its fields beside each other, and the lists derived from them.

# CTR_TABLE["KIND NAME FIELD"] = value; CTR_TABLE_NAMES[KIND] = the names, in table order
declare -gA CTR_TABLE=() CTR_TABLE_NAMES=()

# ctr_table_add KIND NAME SUMMARY [FIELD=VALUE]...: one entry (a FIELD given twice keeps
# both values, one a line)
ctr_table_add() {
	local kind=$1 name=$2 kv f
	CTR_TABLE_NAMES[$kind]+="${CTR_TABLE_NAMES[$kind]:+ }$name"
	CTR_TABLE["$kind $name summary"]=$3
	shift 3
	for kv in "$@"; do
		f="$kind $name ${kv%%=*}"
		CTR_TABLE[$f]+="${CTR_TABLE[$f]:+$'\n'}${kv#*=}"
	done
}

# ctr_table_get KIND NAME FIELD -> REPLY ("" when the entry has no such field); status 1
# when it has none
ctr_table_get() {
	REPLY=${CTR_TABLE["$1 $2 $3"]-}
	[ -n "$REPLY" ]
}

# ctr_table_names KIND [FIELD VALUE] -> REPLY: the names, in table order, optionally only
# those whose FIELD is not VALUE (e.g. "matrix no": the matrix's default list)
ctr_table_names() {
	local n
	REPLY=
	for n in ${CTR_TABLE_NAMES[$1]}; do
		[ $# -lt 3 ] || [ "${CTR_TABLE["$1 $n $2"]-}" != "$3" ] || continue
		REPLY+="${REPLY:+ }$n"
	done
}

# ctr_table_list KIND: one line per entry, "NAME<TAB>SUMMARY" (the --list options)
ctr_table_list() {
	local n
	for n in ${CTR_TABLE_NAMES[$1]}; do
		printf '%s\t%s\n' "$n" "${CTR_TABLE["$1 $n summary"]}"
	done
}
