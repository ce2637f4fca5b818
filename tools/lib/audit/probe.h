/* ctreset-audit --probe: the kernel's conntrack behaviours measured by the bench's own
 * probe cells (bench/behaviours.sh's ctr_behaviours), on a topology of their own in
 * throwaway namespaces, never the audited node's rules or sysctls. */
#ifndef CTR_AUDIT_PROBE_H
#define CTR_AUDIT_PROBE_H

#include <stddef.h>

/* Runs bash, sourcing lib_sh (bench/lib.sh), ctr_behaviours into a temporary directory
 * removed after. *behaviours gets what was measured ("ignore-delayed=1"; "" when the probe
 * measured nothing), *source its sentence (how long, what the release still decides, or
 * why the probe failed). 0, or -1 with *err when bash cannot run or says nothing. */
int audit_probe(const char *lib_sh, char *behaviours, size_t blen, char *source, size_t slen,
		char **err);

#endif
