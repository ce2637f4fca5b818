# shellcheck shell=bash
# ctreset's shared bash library, the one file scripts source: topology/, bench/ and tests/.
# It sets the tree's paths and sources one file per concept (each says what it is for).
#
# - Every namespace of a run is named "<prefix>-<role>" with prefix "ctr-XXXXXX" (hex),
#   and its owner is recorded in $CTR_STATE/<prefix>/owner so that `ctr_reap` can remove
#   the namespaces of runs that died (SIGKILL) without touching live ones (reap.sh).
# - Nothing here touches the root namespace's firewall or sysctls: every command names its
#   namespace (ip -n NS / ip netns exec NS).
# - The bench's dimensions are tables here (topologies.sh, backends.sh, workarounds.sh):
#   every list other code reads (CTR_TOPOLOGIES, CTR_BACKENDS, CTR_FAMILIES,
#   CTR_WORKAROUNDS) is derived from them.

# sourced once per shell: a second source (topology/up's, from a runner that has it) would
# reset the defer stack and the sleep FIFO
[ -z "${CTR_SH_LOADED:-}" ] || return 0
_d=${BASH_SOURCE[0]%/*}
[ "$_d" = "${BASH_SOURCE[0]}" ] && _d=.
CTR_TOP=${CTR_TOP:-$(cd "$_d/../../.." && pwd)} # (no dirname exec: every script sources this)
CTR_STATE=${CTR_STATE:-/run/ctreset}
CTR_BIN=${CTR_BIN:-$CTR_TOP/build}

# (one line each, in dependency order: later files use the earlier ones' functions)
# shellcheck source=tools/lib/sh/exit.sh
. "$_d/exit.sh"
# shellcheck source=tools/lib/sh/time.sh
. "$_d/time.sh"
# shellcheck source=tools/lib/sh/fault.sh
. "$_d/fault.sh"
# shellcheck source=tools/lib/sh/defer.sh
. "$_d/defer.sh"
# shellcheck source=tools/lib/sh/addr.sh
. "$_d/addr.sh"
# shellcheck source=tools/lib/sh/reap.sh
. "$_d/reap.sh"
# shellcheck source=tools/lib/sh/netns.sh
. "$_d/netns.sh"
# shellcheck source=tools/lib/sh/counters.sh
. "$_d/counters.sh"
# shellcheck source=tools/lib/sh/table.sh
. "$_d/table.sh"
# shellcheck source=tools/lib/sh/topologies.sh
. "$_d/topologies.sh"
# shellcheck source=tools/lib/sh/backends.sh
. "$_d/backends.sh"
# shellcheck source=tools/lib/sh/workarounds.sh
. "$_d/workarounds.sh"
unset _d
CTR_SH_LOADED=1
