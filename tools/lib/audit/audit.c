/* The node's facts named as the bench's workarounds, and the oracle asked about them. */
#include "audit.h"
#include "base/err.h"
#include "live/trigger.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const paths[AUDIT_NPATHS] = {"cross-node", "same-node", "host-network",
						"asymmetric"};

const char *audit_path_name(size_t i)
{
	return i < AUDIT_NPATHS ? paths[i] : NULL;
}

/* the workarounds in the workaround table's order: a combination's name joins its parts
 * in this order (kube-proxy-drop+tcp-loose-0) */
static const char *const part_order[] = {
    "kube-proxy-drop",	  "input-drop", "nft-invalid-drop", "be-liberal",
    "ignore-invalid-rst", "keepalive",	"tcp-loose-0",	    "calico-invalid-drop"};
#define NORDER (sizeof(part_order) / sizeof(part_order[0]))

static void assume(struct audit_node *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void assume(struct audit_node *n, const char *fmt, ...)
{
	size_t len = strlen(n->assumed);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(n->assumed + len, sizeof(n->assumed) - len, fmt, ap);
	va_end(ap);
	len = strlen(n->assumed);
	if (len + 1 < sizeof(n->assumed)) {
		n->assumed[len] = '\n';
		n->assumed[len + 1] = '\0';
	}
}

static void add_part(struct audit_family *f, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_part(struct audit_family *f, const char *name, const char *fmt, ...)
{
	va_list ap;

	for (size_t i = 0; i < f->nparts; i++)
		if (!strcmp(f->parts[i].name, name))
			return; /* the first evidence is enough */
	if (f->nparts == AUDIT_MAX_PARTS)
		return;
	f->parts[f->nparts].name = name;
	va_start(ap, fmt);
	vsnprintf(f->parts[f->nparts].evidence, sizeof(f->parts[0].evidence), fmt, ap);
	va_end(ap);
	f->nparts++;
}

/* "key = value" of sysctl -a; -1 when absent; -2 when the text is not sysctl -a's */
static int read_sysctls(const char *text, struct audit_node *n, char *bad, size_t blen)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
	    {"net.netfilter.nf_conntrack_tcp_be_liberal", offsetof(struct audit_node, be_liberal)},
	    {"net.netfilter.nf_conntrack_tcp_loose", offsetof(struct audit_node, tcp_loose)},
	    {"net.netfilter.nf_conntrack_tcp_ignore_invalid_rst",
	     offsetof(struct audit_node, ignore_invalid_rst)},
	    {"net.netfilter.nf_conntrack_tcp_timeout_established",
	     offsetof(struct audit_node, timeout_established)},
	};
	unsigned lineno = 0;

	for (const char *l = text; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0)) {
		size_t len = strcspn(l, "\n");
		const char *eq = memchr(l, '=', len);

		lineno++;
		if (!len)
			continue;
		if (!eq || eq == l || eq[-1] != ' ' ||
		    strspn(l,
			   "abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/@:") != (size_t)(eq - 1 - l)) {
			snprintf(bad, blen,
				 "sysctl.txt: line %u is not sysctl -a output: \"%.40s\"", lineno,
				 l);
			return -2;
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			size_t kl = strlen(keys[k].key);
			char *end;
			long v;

			if ((size_t)(eq - 1 - l) != kl || strncmp(l, keys[k].key, kl))
				continue;
			v = strtol(eq + 1, &end, 10);
			if (end == eq + 1 || v < 0) {
				snprintf(bad, blen, "sysctl.txt: line %u: %s has no number", lineno,
					 keys[k].key);
				return -2;
			}
			*(long *)((char *)n + keys[k].off) = v;
		}
	}
	return 0;
}

/* the releases of topology/kube-proxy-releases whose rows write form in mode (with
 * be_liberal set, a release that leaves the rule out for it writes none) */
static void era_from_table(const char *file, const char *mode, const char *form, long be_liberal,
			   char *out, size_t olen)
{
	FILE *f = file ? fopen(file, "re") : NULL;
	char line[1024];
	size_t used = 0;

	out[0] = '\0';
	if (!f) {
		snprintf(out, olen, "unknown, because %s cannot be read",
			 file ? file : "no release table");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *col[7] = {0}, *save = NULL, *p = line;
		int c = 0, from, to;
		const char *wrote;

		if (line[0] < '0' || line[0] > '9')
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (char *t = strtok_r(p, "\t", &save); t && c < 7;
		     t = strtok_r(NULL, "\t", &save))
			col[c++] = t;
		if (c < 5 || strcmp(col[2], mode))
			continue;
		from = atoi(col[0]);
		to = atoi(col[1]);
		/* what this release writes on this node's be_liberal */
		wrote = be_liberal == 1 && !strcmp(col[4], "yes") ? "none" : col[3];
		if (strcmp(wrote, form))
			continue;
		used += (size_t)snprintf(out + used, used < olen ? olen - used : 0, "%s1.%d%s%s",
					 used ? ", " : "", from,
					 to == from ? ""
					 : to >= 99 ? " and later"
						    : "-1.",
					 "");
		if (to != from && to < 99)
			used +=
			    (size_t)snprintf(out + used, used < olen ? olen - used : 0, "%d", to);
		if (be_liberal == 1 && !strcmp(col[4], "yes") && strcmp(col[3], "none"))
			used += (size_t)snprintf(out + used, used < olen ? olen - used : 0,
						 " (with be_liberal: %s left out)", col[3]);
	}
	fclose(f);
	if (!out[0])
		snprintf(out, olen, "no release of %s in the table writes %s", file, form);
}

static int family_bit(int family)
{
	return family == 6;
}

/* the kube-proxy mode of a family, its INVALID rule's form and the workaround parts */
static void judge_family(struct audit_node *n, const struct audit_options *opt, int family)
{
	struct audit_family *f = &n->fam[family_bit(family)];
	const struct rules_facts *r = &n->rules;
	int fi = family_bit(family), kube_forward = 0, nfacct = 0, nft_drop = 0;
	char src[64]; /* a copy: gcc's -Wrestrict cannot tell n->rules from n->fam */

	memcpy(src, r->kp_nft[fi][0] ? r->kp_nft[fi] : r->kp_iptables[fi], sizeof(src));
	src[sizeof(src) - 1] = '\0';
	if (r->kp_nft[fi][0]) {
		snprintf(f->mode, sizeof(f->mode), "nftables");
		snprintf(f->backend, sizeof(f->backend), "nft");
		snprintf(f->mode_from, sizeof(f->mode_from), "%s: table kube-proxy, chain services",
			 src);
	} else if (r->kp_iptables[fi][0] && (n->ipvs_services || n->kube_ipvs0)) {
		snprintf(f->mode, sizeof(f->mode), "ipvs");
		snprintf(f->backend, sizeof(f->backend), "ipvs");
		snprintf(f->mode_from, sizeof(f->mode_from), "%s",
			 n->ipvs_services ? "ipvsadm.txt: virtual servers"
					  : "ip-link.txt: kube-ipvs0");
	} else if (r->kp_iptables[fi][0]) {
		snprintf(f->mode, sizeof(f->mode), "iptables");
		snprintf(f->backend, sizeof(f->backend), "%s",
			 r->kp_iptables_legacy[fi] ? "iptables-legacy" : "iptables-nft");
		snprintf(f->mode_from, sizeof(f->mode_from),
			 "%s: nat KUBE-SERVICES from PREROUTING", src);
	}
	for (size_t i = 0; i < r->ndrops; i++) {
		const struct rules_drop *d = &r->drops[i];
		static const char *const names[DROP_KIND_COUNT] = {
		    [DROP_KUBE_FORWARD] = "kube-proxy-drop",
		    [DROP_CALICO] = "calico-invalid-drop",
		    [DROP_NFT_FORWARD] = "nft-invalid-drop",
		    [DROP_FORWARD] = "kube-proxy-drop",
		    [DROP_INPUT] = "input-drop"};

		if (d->family != family)
			continue;
		add_part(f, names[d->kind], "%s: %s", d->where, d->rule);
		if (d->kind == DROP_KUBE_FORWARD)
			kube_forward = 1, nfacct |= d->nfacct;
		if (d->kind == DROP_NFT_FORWARD && strstr(d->where, "nft-ruleset"))
			nft_drop = 1;
	}
	if (n->be_liberal == 1)
		add_part(f, "be-liberal",
			 "sysctl.txt: net.netfilter.nf_conntrack_tcp_be_liberal = 1");
	if (n->ignore_invalid_rst == 1)
		add_part(f, "ignore-invalid-rst",
			 "sysctl.txt: net.netfilter.nf_conntrack_tcp_ignore_invalid_rst = 1");
	if (opt->keepalive_s &&
	    (n->timeout_established < 0 || (long)opt->keepalive_s < n->timeout_established)) {
		add_part(f, "keepalive",
			 "--keepalive %u: the clients' TCP keepalive (every %u s) is shorter than "
			 "nf_conntrack_tcp_timeout_established",
			 opt->keepalive_s, opt->keepalive_s);
	}
	if (n->tcp_loose == 0)
		add_part(f, "tcp-loose-0", "sysctl.txt: net.netfilter.nf_conntrack_tcp_loose = 0");
	/* the name: the parts in the table's order */
	f->workaround[0] = '\0';
	for (size_t k = 0; k < NORDER; k++)
		for (size_t i = 0; i < f->nparts; i++)
			if (!strcmp(f->parts[i].name, part_order[k])) {
				size_t l = strlen(f->workaround);

				snprintf(f->workaround + l, sizeof(f->workaround) - l, "%s%s",
					 l ? "+" : "", part_order[k]);
			}
	if (!f->workaround[0])
		snprintf(f->workaround, sizeof(f->workaround), "none");
	if (!f->mode[0])
		return;
	if (!strcmp(f->mode, "iptables"))
		snprintf(f->form, sizeof(f->form), "%s",
			 kube_forward ? (nfacct ? "drop-nfacct" : "drop") : "none");
	else if (!strcmp(f->mode, "nftables"))
		snprintf(f->form, sizeof(f->form), "%s", nft_drop ? "nft-drop" : "none");
	else
		snprintf(f->form, sizeof(f->form), "none");
	era_from_table(opt->releases_file, f->mode, f->form, n->be_liberal, f->era, sizeof(f->era));
}

int audit_node_read(const struct dump *d, const struct audit_options *opt, struct audit_node *n,
		    char **err)
{
	static const struct {
		enum dump_file file;
		int family, legacy;
	} ipt[] = {{DUMP_IPT4, 4, 0},
		   {DUMP_IPT6, 6, 0},
		   {DUMP_IPT4_LEGACY, 4, 1},
		   {DUMP_IPT6_LEGACY, 6, 1}};
	char *perr = NULL;
	int skip_ipt[2] = {0, 0};

	(void)err;
	memset(n, 0, sizeof(*n));
	n->be_liberal = n->tcp_loose = n->ignore_invalid_rst = n->timeout_established = -1;
	for (size_t i = 0; i < sizeof(ipt) / sizeof(ipt[0]); i++) {
		const char *text = d->text[ipt[i].file];
		const char *name = dump_source(ipt[i].file)->file;

		if (!text) {
			assume(n, "%s: missing, taken as no rules", name);
			continue;
		}
		if (rules_read_iptables(text, name, ipt[i].family, ipt[i].legacy, &n->rules,
					&perr) < 0) {
			snprintf(n->unknown, sizeof(n->unknown), "%s", perr);
			free(perr);
			return 0;
		}
	}
	for (int fi = 0; fi < 2; fi++)
		skip_ipt[fi] = n->rules.ipt_nf_tables[fi];
	if (d->text[DUMP_NFT_JSON]) { /* preferred: nft's own format, not its display */
		struct rules_facts before = n->rules;
		int rc = rules_read_nft_json(d->text[DUMP_NFT_JSON], "nft-ruleset.json", skip_ipt,
					     &n->rules, &perr);

		if (rc == 0 && d->text[DUMP_NFT_TXT])
			assume(n, "nft-ruleset.json and nft-ruleset.txt both given: "
				  "nft-ruleset.json read, nft-ruleset.txt not");
		else if (rc == 0)
			assume(n, "nft-ruleset.json read");
		if (rc < 0) {
			n->rules = before;
			if (!d->text[DUMP_NFT_TXT]) {
				snprintf(n->unknown, sizeof(n->unknown), "%s%s", perr,
					 rc == -2 ? " (and no nft-ruleset.txt was given)" : "");
				free(perr);
				return 0;
			}
			assume(n,
			       "nft-ruleset.json not used (%.400s): nft-ruleset.txt read instead",
			       perr);
			free(perr);
			perr = NULL;
		} else {
			goto nft_done;
		}
	}
	if (d->text[DUMP_NFT_TXT]) {
		if (rules_read_nft(d->text[DUMP_NFT_TXT], "nft-ruleset.txt", skip_ipt, &n->rules,
				   &perr) < 0) {
			snprintf(n->unknown, sizeof(n->unknown), "%s", perr);
			free(perr);
			return 0;
		}
		if (!d->text[DUMP_NFT_JSON])
			assume(n, "nft-ruleset.txt read (no nft-ruleset.json)");
	} else if (!d->text[DUMP_NFT_JSON]) {
		assume(n, "nft-ruleset.json and nft-ruleset.txt: missing, taken as no nftables "
			  "rules");
	}
nft_done:
	if (d->text[DUMP_SYSCTL]) {
		char bad[200];

		if (read_sysctls(d->text[DUMP_SYSCTL], n, bad, sizeof(bad)) < 0) {
			snprintf(n->unknown, sizeof(n->unknown), "%s", bad);
			return 0;
		}
	} else {
		assume(n, "sysctl.txt: missing");
	}
	if (n->be_liberal < 0 || n->tcp_loose < 0 || n->ignore_invalid_rst < 0)
		assume(n, "%s",
		       "conntrack sysctls not in the dump taken at the kernel's defaults "
		       "(be_liberal 0, tcp_loose 1, ignore_invalid_rst 0)");
	if (d->text[DUMP_IPVS])
		for (const char *l = d->text[DUMP_IPVS]; l && *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (!strncmp(l, "-A ", 3))
				n->ipvs_services++;
	if (d->text[DUMP_LINK]) {
		const char *t = d->text[DUMP_LINK];

		n->kube_ipvs0 = strstr(t, ": kube-ipvs0:") != NULL;
		n->docker0 = strstr(t, ": docker0:") != NULL;
		n->calico_links =
		    strstr(t, ": cali") != NULL || strstr(t, ": vxlan.calico:") != NULL;
	}
	if (opt->kernel && opt->kernel[0]) {
		snprintf(n->kernel.release, sizeof(n->kernel.release), "%s", opt->kernel);
		snprintf(n->kernel.source, sizeof(n->kernel.source), "--kernel");
	} else if (d->text[DUMP_UNAME]) {
		const char *u = d->text[DUMP_UNAME];
		size_t l = strcspn(u, "\n");

		if (l && l < sizeof(n->kernel.release) && u[0] >= '0' && u[0] <= '9' &&
		    strspn(u,
			   "0123456789.-+_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ~") ==
			l) {
			snprintf(n->kernel.release, sizeof(n->kernel.release), "%.*s", (int)l, u);
			snprintf(n->kernel.source, sizeof(n->kernel.source), "uname.txt");
		} else {
			assume(
			    n, "%s",
			    "uname.txt is not a kernel release (uname -r): the kernel is unknown");
		}
	}
	if (opt->probed) {
		snprintf(n->kernel.behaviours, sizeof(n->kernel.behaviours), "%s",
			 opt->behaviours ? opt->behaviours : "");
		snprintf(n->kernel.probed, sizeof(n->kernel.probed), "%s", opt->probed);
	}
	if (n->kernel.probed[0])
		assume(n,
		       "the kernel's conntrack behaviours: --probe on the kernel ctreset-audit ran "
		       "on, in namespaces of its own: %s; what it did not measure is assumed from "
		       "the release %s",
		       n->kernel.probed, n->kernel.release[0] ? n->kernel.release : "(unknown)");
	else if (n->kernel.release[0])
		assume(n,
		       "the kernel's conntrack behaviours are assumed from its release %s "
		       "(bench/matrix.expect's kernel ranges), not probed",
		       n->kernel.release);
	else
		assume(n, "%s",
		       "no kernel release: only verdicts that hold on every kernel are given");
	assume(n, "%s",
	       "every node of the cluster has this node's rules and sysctls (kube-proxy is a "
	       "DaemonSet): the backend's node drops what this one would");
	if (!opt->keepalive_s)
		assume(n, "%s",
		       "the client pods use no TCP keepalive shorter than the established timeout "
		       "(--keepalive S says they do)");
	assume(n, "%s",
	       "rules before an INVALID DROP in its chain are taken not to accept INVALID packets; "
	       "rules' interface and address matches are not modelled");
	judge_family(n, opt, 4);
	judge_family(n, opt, 6);
	return 0;
}

/* --- the oracle ---------------------------------------------------------------------- */

/* whether the oracle names w in a row's workaround column (not only through '*') */
static int oracle_names(const struct oracle *o, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; i < o->n; i++) {
		const char *p = o->rows[i].col[1];

		for (;;) {
			size_t len = strcspn(p, "|");

			if (len == wl && !strncmp(p, w, wl))
				return 1;
			if (!p[len])
				break;
			p += len + 1;
		}
	}
	return 0;
}

/* the oracle's verdict for one cell; the kernel unknown: only a verdict every kernel
 * range agrees on. 0, 1 when no answer (why says so), -1 with *err */
static int ask(const struct oracle *o, const struct audit_node *n, const char *trigger,
	       const char *workaround, const char *path, const char *backend, int family,
	       char *verdict, size_t vlen, char *why, size_t wlen, char **err)
{
	char fam[4];
	struct oracle_cell c = {trigger, workaround, path, backend, fam};

	snprintf(fam, sizeof(fam), "%d", family);
	if (n->kernel.release[0]) {
		if (oracle_expect(o, &c, n->kernel.release,
				  n->kernel.behaviours[0] ? n->kernel.behaviours : NULL, verdict,
				  vlen, why, wlen, err) < 0)
			return -1;
	} else {
		char v2[32], w2[64];

		if (oracle_expect(o, &c, "0.0", NULL, verdict, vlen, why, wlen, err) < 0 ||
		    oracle_expect(o, &c, "999.0", NULL, v2, sizeof(v2), w2, sizeof(w2), err) < 0)
			return -1;
		if (strcmp(verdict, v2)) {
			snprintf(why, wlen,
				 "the verdict depends on the kernel (%s), whose release is unknown "
				 "(no uname.txt; --kernel X.Y)",
				 o->rows ? "the oracle's kernel ranges" : "");
			verdict[0] = '\0';
		}
	}
	return verdict[0] ? 0 : 1;
}

static const char *advise_rows[] = {"kube-proxy-drop",	  "be-liberal",
				    "ignore-invalid-rst", "keepalive",
				    "tcp-loose-0",	  "kube-proxy-drop+tcp-loose-0"};

/* bench/advise's rows for an exposed cell: which stop it, which break asymmetric routing */
static int advise(const struct oracle *o, const struct audit_node *n, const char *trigger,
		  const char *path, const char *backend, int family, char *out, size_t olen,
		  char **err)
{
	size_t used = 0;
	char v[32], why[4096], stop[300] = "", nostop[300] = "";

	for (size_t i = 0; i < sizeof(advise_rows) / sizeof(advise_rows[0]); i++) {
		char w[64];
		int rc;

		/* nftables mode has no KUBE-FORWARD: its drop is nft-invalid-drop */
		snprintf(w, sizeof(w), "%s", advise_rows[i]);
		if (!strcmp(backend, "nft") && !strncmp(w, "kube-proxy-drop", 15))
			snprintf(w, sizeof(w), "nft-invalid-drop%s", advise_rows[i] + 15);
		if (!strcmp(backend, "nft") && strchr(w, '+'))
			continue;
		rc = ask(o, n, trigger, w, path, backend, family, v, sizeof(v), why, sizeof(why),
			 err);
		if (rc < 0)
			return -1;
		if (rc == 0 && !strcmp(v, "clean")) {
			char bv[32], bwhy[4096];
			int brc = ask(o, n, "connect", w, "asymmetric", backend, family, bv,
				      sizeof(bv), bwhy, sizeof(bwhy), err);

			if (brc < 0)
				return -1;
			used = strlen(stop);
			snprintf(stop + used, sizeof(stop) - used, "%s%s%s", used ? ", " : "", w,
				 brc == 0 && !strcmp(bv, "broken") ? " (breaks asymmetric routing)"
								   : "");
		} else {
			used = strlen(nostop);
			snprintf(nostop + used, sizeof(nostop) - used, "%s%s", used ? ", " : "", w);
		}
	}
	snprintf(out, olen, "stopped by %s; not by %s",
		 stop[0] ? stop : "none of bench/advise's rows", nostop[0] ? nostop : "-");
	return 0;
}

static int judge_one(const struct audit_node *n, const struct oracle *o, struct audit_result *r,
		     char **err)
{
	const struct audit_family *f = &n->fam[family_bit(r->family)];
	char none_v[32], none_why[4096];
	int rc;

	snprintf(r->workaround, sizeof(r->workaround), "%s", f->workaround);
	if (n->unknown[0]) {
		snprintf(r->verdict, sizeof(r->verdict), "unknown");
		snprintf(r->why, sizeof(r->why), "unknown, because %s", n->unknown);
		return 0;
	}
	if (!f->mode[0]) {
		snprintf(r->verdict, sizeof(r->verdict), "unknown");
		snprintf(
		    r->why, sizeof(r->why),
		    "unknown, because no kube-proxy service rules for IPv%d were found (no nat "
		    "KUBE-SERVICES from PREROUTING, no nftables table kube-proxy with chain "
		    "services): nothing DNATs a Service here",
		    r->family);
		return 0;
	}
	if (f->nparts <= 1 || oracle_names(o, f->workaround)) {
		rc = ask(o, n, r->trigger, f->workaround, r->path, f->backend, r->family,
			 r->verdict, sizeof(r->verdict), r->why, sizeof(r->why), err);
	} else {
		/* a combination the oracle has no row for: each part asked alone; clean when one
		 * part stops it, else the parts' common verdict */
		char v[32], why[4096], first[32] = "";
		int same = 1;

		rc = 0;
		r->verdict[0] = '\0';
		for (size_t i = 0; i < f->nparts && rc == 0; i++) {
			rc = ask(o, n, r->trigger, f->parts[i].name, r->path, f->backend, r->family,
				 v, sizeof(v), why, sizeof(why), err);
			if (rc)
				break;
			if (!strcmp(v, "clean") && strcmp(r->verdict, "clean")) {
				snprintf(r->verdict, sizeof(r->verdict), "clean");
				snprintf(r->why, sizeof(r->why),
					 "%s stops it alone (%s has no row for the combination "
					 "%s): %.3000s",
					 f->parts[i].name, o->name, f->workaround, why);
			}
			if (!first[0]) {
				snprintf(first, sizeof(first), "%s", v);
				if (strcmp(r->verdict, "clean"))
					snprintf(r->why, sizeof(r->why), "%s", why);
			} else if (strcmp(first, v)) {
				same = 0;
			}
		}
		if (rc == 0 && strcmp(r->verdict, "clean")) {
			if (same)
				snprintf(r->verdict, sizeof(r->verdict), "%s", first);
			else
				snprintf(r->why, sizeof(r->why),
					 "the parts of %s disagree and %s has no row for the "
					 "combination",
					 f->workaround, o->name);
		}
	}
	if (rc < 0)
		return -1;
	if (rc > 0 || !r->verdict[0]) {
		char why[4096];

		snprintf(why, sizeof(why), "unknown, because %.4000s", r->why);
		snprintf(r->why, sizeof(r->why), "%s", why);
		snprintf(r->verdict, sizeof(r->verdict), "unknown");
		return 0;
	}
	/* what decides: the parts that change the verdict from the oracle's without one */
	rc = ask(o, n, r->trigger, "none", r->path, f->backend, r->family, none_v, sizeof(none_v),
		 none_why, sizeof(none_why), err);
	if (rc < 0)
		return -1;
	if (rc == 0 && !strcmp(none_v, r->verdict)) {
		int exposed = strcmp(r->verdict, "clean") && strcmp(r->verdict, "works");

		snprintf(r->decided_by, sizeof(r->decided_by), "%s",
			 !exposed    ? "the kernel, not a rule: the verdict without a workaround"
			 : f->nparts ? "no rule or sysctl of this node changes it (the verdict "
				       "without a workaround)"
				     : "nothing on this node stops it (no INVALID drop; the "
				       "conntrack sysctls at their defaults)");
	} else {
		size_t used = 0;

		for (size_t i = 0; i < f->nparts; i++)
			used += (size_t)snprintf(
			    r->decided_by + used,
			    used < sizeof(r->decided_by) ? sizeof(r->decided_by) - used : 0,
			    "%s%s (%s)", used ? "; " : "", f->parts[i].name, f->parts[i].evidence);
	}
	if (!strcmp(r->verdict, "reset") || !strcmp(r->verdict, "leak"))
		return advise(o, n, r->trigger, r->path, f->backend, r->family, r->advise,
			      sizeof(r->advise), err);
	return 0;
}

int audit_judge(const struct audit_node *n, const struct oracle *o, struct audit_result **out,
		size_t *count, char **err)
{
	size_t cap = AUDIT_NPATHS * (TRIGGER_COUNT + 1) * 2, k = 0;
	struct audit_result *r = calloc(cap, sizeof(*r));

	*out = NULL;
	*count = 0;
	if (!r)
		return err_set(err, "out of memory");
	for (size_t p = 0; p < AUDIT_NPATHS; p++) {
		int asym = !strcmp(paths[p], "asymmetric");

		/* the asymmetric path runs the legitimate connection (connect), the others
		 * every trigger that causes an event */
		for (int t = 0; t < TRIGGER_COUNT; t++) {
			if ((trigger_info((enum trigger)t)->kind == TRIGGER_LEGITIMATE) != asym)
				continue;
			for (int fam = 4; fam <= 6; fam += 2) {
				struct audit_result *x = &r[k++];

				x->path = paths[p];
				x->trigger = trigger_info((enum trigger)t)->name;
				x->family = fam;
				if (judge_one(n, o, x, err) < 0) {
					free(r);
					return -1;
				}
			}
		}
	}
	*out = r;
	*count = k;
	return 0;
}
