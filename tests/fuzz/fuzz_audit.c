/* ctreset-audit's dump parsers (make fuzz FUZZ_TARGETS=audit): iptables-save and
 * nft list ruleset text, nft -j list ruleset JSON, sysctl -a, uname -r, then the judgement
 * of what they hold against a small oracle. The first byte picks the file the rest is
 * (byte % 9; nft-ruleset.txt's 4 with bit 3 set, e.g. 0x0d, is nft-ruleset.json), and whether the
 * text is judged with the others empty (bits 4 and 5 both set: also judged); a bug shows as a
 * sanitizer report. */
#include "target.h"
#include "audit/audit.h"
#include "audit/dump.h"
#include "audit/rules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* rows enough to take every branch of the judgement: kernel ranges, a combination */
static const char oracle_text[] =
    "seq-below\t*\t*\t*\t*\tclean@>=6.1,reset@<6.1\tkernel\n"
    "seq-above\tkube-proxy-drop|kube-proxy-drop+tcp-loose-0\t*\t*\t*\tclean\tdrop\n"
    "connect\t*\tasymmetric\t*\t*\tworks\tconnect\n"
    "*\t*\t*\t*\t*\treset\tthe rest\n";

FUZZ_TARGET(audit)
{
	static const enum dump_file files[] = {DUMP_IPT4,	 DUMP_IPT6,    DUMP_IPT4_LEGACY,
					       DUMP_IPT6_LEGACY, DUMP_NFT_TXT, DUMP_SYSCTL,
					       DUMP_UNAME,	 DUMP_IPVS,    DUMP_LINK};
	struct dump d;
	struct audit_node node;
	struct audit_options opt = {NULL, NULL, 0, NULL, NULL};
	struct audit_result *res = NULL;
	struct oracle o;
	size_t nres = 0;
	char *text, *err = NULL;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	memset(&d, 0, sizeof(d));
	{
		enum dump_file f = files[data[0] % (sizeof(files) / sizeof(files[0]))];

		d.text[f == DUMP_NFT_TXT && (data[0] & 0x08) ? DUMP_NFT_JSON : f] = text;
	}
	if (data[0] & 0x80) { /* the same text as every rule file at once */
		for (int i = 0; i < 5; i++)
			d.text[files[i]] = text;
		d.text[DUMP_NFT_JSON] = text;
	}
	if (data[0] & 0x40)
		opt.keepalive_s = 1;
	/* the judgement (every path x trigger x family) only on one input in four: it is the
	 * slow part, and the parsers are what takes the fuzzer's input */
	if (audit_node_read(&d, &opt, &node, &err) == 0 && (data[0] & 0x30) == 0x30 &&
	    oracle_parse(oracle_text, "fuzz.expect", &o, &err) == 0) {
		if (audit_judge(&node, &o, &res, &nres, &err) == 0)
			free(res);
		oracle_free(&o);
	}
	free(err);
	free(text);
	return 0;
}
