# shellcheck shell=bash
# bash completion for ctreset (installed as PREFIX/share/bash-completion/completions/ctreset):
# the subcommands, topology's verbs, help's subjects, and each subcommand's long options as
# its --help lists them.
_ctreset() {
	local cur=${COMP_WORDS[COMP_CWORD]} subs="repro matrix kernels review audit advise load soak scale kube-proxy-table topology inject workload deps version help"
	if [ "$COMP_CWORD" -eq 1 ]; then
		mapfile -t COMPREPLY < <(compgen -W "$subs --help --version" -- "$cur")
		return
	fi
	case ${COMP_WORDS[1]} in
	help) [ "$COMP_CWORD" -eq 2 ] && mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur") ;;
	topology) [ "$COMP_CWORD" -eq 2 ] && mapfile -t COMPREPLY < <(compgen -W "up down reap" -- "$cur") ;;
	*)
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(ctreset help "${COMP_WORDS[1]}" 2>/dev/null |
				grep -o -- '--[a-z][a-z0-9-]*' | sort -u)" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		;;
	esac
}
complete -F _ctreset ctreset
