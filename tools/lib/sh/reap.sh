# shellcheck shell=bash
# Run identity and the reaper: a run's prefix, its recorded owner, and the removal of the
# namespaces and state of runs whose owner is gone.

# 24 random bits; topology/up refuses a prefix in use, so a collision fails loudly.
# ctr_new_prefix prints it; ctr_new_prefix_reply -> REPLY, no fork (a runner's per-cell
# and per-group path: a fork of its bash is 2-4 ms here). SRANDOM (the kernel's random
# bits) differs in every subshell of a run, where RANDOM's state is the parent's copy.
ctr_new_prefix_reply() { printf -v REPLY 'ctr-%06x' $(((SRANDOM ^ (BASHPID << 7)) & 0xffffff)); }
ctr_new_prefix() {
	ctr_new_prefix_reply
	printf '%s\n' "$REPLY"
}
ctr_valid_prefix() { [[ $1 =~ ^ctr-[0-9a-f]{6}$ ]]; }

# ctr_run_id -> REPLY: a run's directory name, the time and 16 random bits
# (20261130T183804-3a61), without an exec (date, od and tr were three a run)
ctr_run_id() { printf -v REPLY '%(%Y%m%dT%H%M%S)T-%04x' -1 $((SRANDOM & 0xffff)); }

# start time of a pid (field 22 of /proc/PID/stat): a recycled pid has another
ctr_pid_start() { # PID -> REPLY
	local stat fields
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	read -ra fields <<<"${stat##*) }"
	REPLY=${fields[19]}
}

# ctr_claim PREFIX OWNER_PID: records the owner; OWNER_PID 0 = manual (never auto-reaped).
# The state directory is made by one mkdir (which fails when the prefix is taken), then
# the owner file is written into it by this shell (no exec). A reaper running in another
# run between the two sees a prefix without an owner, or an owner file still empty: both
# are "not mine to judge" to ctr_prefix_dead (alive), never a dead run's; the record is
# one write of a few bytes into a new file, and a reader sees the file's size grow only
# once its bytes are there, so no reader sees half of it. Re-claiming an existing prefix
# rewrites the owner file the same way (empty for a moment: alive).
ctr_claim() {
	local dir=$CTR_STATE/$1 owner=manual
	if [ "$2" != 0 ]; then
		ctr_pid_start "$2" || return 1
		owner="$2 $REPLY"
	fi
	[ -d "$CTR_STATE" ] || mkdir -p "$CTR_STATE" || return 1
	if [ -d "$dir" ]; then
		echo "$owner" >"$dir/owner"
		return
	fi
	mkdir -m 755 "$dir" || return 1
	echo "$owner" >"$dir/owner" || { rm -rf "$dir"; return 1; }
}

# true when the run that made PREFIX is gone. A prefix with no owner record here is not
# this state directory's to judge: its namespaces belong to a run that keeps its state
# elsewhere (CTR_STATE set otherwise: a test's own, another user's), alive as far as we
# know, and only --all takes it. (Every run of ours claims its prefix, owner file in
# place, before its first namespace, and its teardown removes the record last: a prefix
# of ours is never seen with namespaces and without an owner.)
ctr_prefix_dead() {
	local owner pid start
	{ read -r owner <"$CTR_STATE/$1/owner"; } 2>/dev/null || return 1
	[ "$owner" = manual ] && return 1
	read -r pid start <<<"$owner"
	[ -n "$pid" ] && ctr_pid_start "$pid" && [ "$REPLY" = "$start" ] && return 1
	return 0
}

# the namespaces of PREFIX, one a line (ip netns keeps them as files in /run/netns)
ctr_prefix_namespaces() {
	local f
	for f in /run/netns/"$1"-*; do
		[ -e "$f" ] && echo "${f##*/}"
	done
	return 0
}

# removes every namespace of PREFIX, the processes in them first (a process keeps a
# deleted namespace alive), then its state. One ip call lists the pids, one deletes.
ctr_destroy_prefix() {
	local ns=() f pids='' batch dir=$CTR_STATE/$1
	for f in /run/netns/"$1"-*; do
		[ -e "$f" ] && ns+=("${f##*/}")
	done
	if [ ${#ns[@]} -gt 0 ]; then
		# here-strings, not pipes: no fork for printf; the list through a file of the
		# state directory (removed below) when there is one: one fork for ip, where
		# $(... <<<) takes two
		printf -v batch 'netns pids %s\n' "${ns[@]}"
		if [ -d "$dir" ] && { : >"$dir/pids"; } 2>/dev/null; then
			ip -force -batch - <<<"$batch" >>"$dir/pids" 2>/dev/null
			IFS= read -r -d '' pids <"$dir/pids"
		else
			pids=$(ip -force -batch - <<<"$batch" 2>/dev/null)
		fi
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
		ctr_fault_point teardown.namespaces
		printf -v batch 'netns del %s\n' "${ns[@]}"
		ip -force -batch - <<<"$batch" 2>/dev/null
	fi
	ctr_fault_point teardown.state
	# the record goes only with the last namespace: one that would not go keeps its owner,
	# for the next reaper (without it, nobody but --all would ever take it)
	for f in /run/netns/"$1"-*; do
		[ -e "$f" ] && return 1
	done
	rm -rf "${CTR_STATE:?}/$1"
}

# reaps runs whose owner died; with "all", every ctreset run (manual ones too): how many
# -> REPLY (no fork for a runner's first step). Also
# removes the scratch left by a run killed in the middle of a claim or a hashing (older
# than a minute: a live one is done with it in milliseconds).
ctr_reap() {
	local p f reaped=0
	local -A seen=()
	# (find only when there is scratch at all: usually none, and no exec)
	for f in "$CTR_STATE"/.claim.* "$CTR_STATE"/hash.*; do
		[ -e "$f" ] || continue
		find "$CTR_STATE" -mindepth 1 -maxdepth 1 \( -name '.claim.*' -o -name 'hash.*' \) \
			-mmin +1 -exec rm -rf {} + 2>/dev/null
		break
	done
	# the prefixes of every bench namespace (ip netns keeps them as files in /run/netns)
	# and every state directory, each once, without ip, awk, grep, ls or sort
	for f in /run/netns/ctr-*; do
		p=${f##*/}
		p=${p:0:10}
		[ -e "$f" ] && ctr_valid_prefix "$p" && seen[$p]=1
	done
	for f in "$CTR_STATE"/ctr-*; do
		p=${f##*/}
		[ -e "$f" ] && ctr_valid_prefix "$p" && seen[$p]=1
	done
	for p in "${!seen[@]}"; do
		if [ "${1:-}" = all ] || ctr_prefix_dead "$p"; then
			# a fault point is armed for the run's own teardown, not for its reaper's
			CTR_FAULT_AT='' ctr_destroy_prefix "$p"
			reaped=$((reaped + 1))
		fi
	done
	REPLY=$reaped
}
