/* ctreset-audit: is this node exposed to the conntrack reset (kubernetes 74839), to which
 * trigger, on which path, because of which rule or sysctl - judged by the bench's own
 * oracle (bench/matrix.expect) from the node's rules and sysctls.
 *
 *   ctreset-audit [--netns NAME|PATH] [--dump DIR]   a live namespace (default: our own)
 *   ctreset-audit --from DIR                          a dump (a support bundle's files)
 *   ctreset-audit --agree RUN_DIR [--name NAME]       a bench/matrix --audit run: does
 *                                                     every cell's audit say what the cell
 *                                                     measured?
 * The library: tools/lib/audit (dump.c the files, rules.c the rule dumps, audit.c the
 * judgement). */
#include "audit/audit.h"
#include "audit/dump.h"
#include "audit/probe.h"
#include "base/err.h"
#include "base/exitcodes.h"
#include "base/json.h"
#include "base/kv.h"
#include "base/opt.h"
#include "review/oracle.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs("usage: ctreset-audit [--netns NAME|PATH] [--dump DIR] [options]\n"
	      "       ctreset-audit --from DIR [options]\n"
	      "       ctreset-audit --agree RUN_DIR [--name NAME]\n"
	      "\n"
	      "For every trigger of the bench (ctreset-inject --list-triggers; connect on the\n"
	      "asymmetric path), every path a client takes (cross-node, same-node, host-network,\n"
	      "asymmetric: the bench's topologies) and each family: the verdict the bench would\n"
	      "give on this node (reset, leak, clean; works or broken for connect; unknown with\n"
	      "the reason), the rule or sysctl that decides, the oracle's reason, and what\n"
	      "bench/advise's rows say stops it. The node's INVALID drops and conntrack sysctls\n"
	      "are named as the bench's workarounds and bench/matrix.expect is asked about them.\n"
	      "\n"
	      "  --netns NAME|PATH  audit this network namespace (/run/netns/NAME, or a path such\n"
	      "                     as /proc/PID/ns/net); default: the one it runs in. Root. Only\n"
	      "                     listing commands run there (iptables-save, nft list ruleset,\n"
	      "                     sysctl -a, ipvsadm -Sn, ip -d link): nothing is changed\n"
	      "  --dump DIR         also keep what was read, as the files --from takes\n"
	      "  --from DIR         judge a dump instead: iptables-save, ip6tables-save,\n"
	      "                     iptables-legacy-save, ip6tables-legacy-save (each that\n"
	      "                     command's output), nft-ruleset.json (nft -j list ruleset;\n"
	      "                     read first: an xt expression or a bad file, and\n"
	      "                     nft-ruleset.txt, nft list ruleset, is read instead,\n"
	      "                     said so), sysctl.txt (sysctl -a),\n"
	      "                     uname.txt (uname -r), ipvsadm.txt (ipvsadm -Sn), ip-link.txt\n"
	      "                     (ip -d link); any may be missing (said so)\n"
	      "  --kernel X.Y       the kernel whose behaviours to assume (default: uname.txt)\n"
	      "  --probe            measure them instead, on the kernel it runs on, with the\n"
	      "                     bench's probe cells (bench/behaviours.sh) on a topology of\n"
	      "                     their own in throwaway namespaces: never the node's rules or\n"
	      "                     sysctls. Root; not with --from or --kernel\n"
	      "  --keepalive S      the client pods send TCP keepalives every S s (default: none)\n"
	      "  --json FILE        the report as JSON (per result: path, trigger, family,\n"
	      "                     verdict, why, decided_by, workaround, advise)\n"
	      "  --kv FILE          verdict.PATH.ipvF.TRIGGER=VERDICT lines (what --agree reads)\n"
	      "  --oracle FILE      default $CTR_TOP/bench/matrix.expect\n"
	      "  --releases FILE    default $CTR_TOP/topology/kube-proxy-releases\n"
	      "  --timeout S        bound on each listing command (default 30)\n"
	      "  --agree RUN_DIR    compare each measured cell of a bench/matrix or bench/repro\n"
	      "                     --audit run with the audit of its node A (CELL/node.NAME.kv,\n"
	      "                     else GROUP/WORKAROUND.NAME.kv; NAME default audit): one line\n"
	      "                     per disagreement, then a summary\n"
	      "\n"
	      "It assumes (and prints): the kernel's conntrack behaviours from its release (not\n"
	      "probed), that every node has this node's configuration (kube-proxy is a\n"
	      "DaemonSet), that the clients use no TCP keepalive unless --keepalive.\n"
	      "Exit: 0 judged (whatever the verdicts), 1 a verdict is unknown (the reason is\n"
	      "printed) or a runtime error, 2 usage; --agree: 0 every measured cell agrees, 1 one\n"
	      "does not, 4 no cell was measured.\n",
	      f);
}

/* $CTR_TOP/REL, else REL beside the binary's build directory (build/ctreset-audit) */
static void top_path(const char *rel, char *out, size_t n)
{
	const char *top = getenv("CTR_TOP");
	char exe[PATH_MAX];
	ssize_t l;

	if (top && top[0]) {
		snprintf(out, n, "%s/%s", top, rel);
		return;
	}
	l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l > 0) {
		char *slash;

		exe[l] = '\0';
		for (int up = 0; up < 2 && (slash = strrchr(exe, '/')); up++)
			*slash = '\0';
		if (snprintf(out, n, "%s/%s", exe, rel) < (int)n && access(out, R_OK) == 0)
			return;
		/* build/san/ctreset-audit: one more level */
		if ((slash = strrchr(exe, '/'))) {
			*slash = '\0';
			if (snprintf(out, n, "%s/%s", exe, rel) < (int)n && access(out, R_OK) == 0)
				return;
		}
	}
	snprintf(out, n, "%s", rel);
}

static const char *sysctl_str(long v, char *buf, size_t n)
{
	if (v < 0)
		snprintf(buf, n, "unknown");
	else
		snprintf(buf, n, "%ld", v);
	return buf;
}

static void print_text(FILE *f, const char *label, const struct audit_node *n,
		       const struct audit_result *r, size_t nr)
{
	char a[24], b[24], c[24], d[24];

	fprintf(f, "node: %s\n", label);
	fprintf(f, "kernel: %s%s%s%s\n", n->kernel.release[0] ? n->kernel.release : "unknown",
		n->kernel.source[0] ? " (" : "", n->kernel.source,
		!n->kernel.source[0] ? ""
		: n->kernel.probed[0]
		    ? "): its conntrack behaviours probed (--probe), the rest from this release"
		    : "): its conntrack behaviours assumed from this release, not probed");
	if (n->kernel.probed[0])
		fprintf(f, "probe: %s\n", n->kernel.probed);
	if (n->unknown[0])
		fprintf(f, "UNKNOWN: %s\n", n->unknown);
	for (int i = 0; i < 2; i++) {
		const struct audit_family *fam = &n->fam[i];

		if (!fam->mode[0]) {
			fprintf(f, "IPv%d: no kube-proxy service rules\n", i ? 6 : 4);
			continue;
		}
		fprintf(f, "IPv%d: kube-proxy %s mode (%s), backend %s\n", i ? 6 : 4, fam->mode,
			fam->mode_from, fam->backend);
		fprintf(f, "      INVALID rule: %s; written by kube-proxy %s\n", fam->form,
			fam->era);
		fprintf(f, "      judged as the bench's workaround: %s\n", fam->workaround);
		for (size_t p = 0; p < fam->nparts; p++)
			fprintf(f, "        %s: %s\n", fam->parts[p].name, fam->parts[p].evidence);
	}
	fprintf(f,
		"sysctls: nf_conntrack_tcp_be_liberal=%s nf_conntrack_tcp_loose=%s "
		"nf_conntrack_tcp_ignore_invalid_rst=%s nf_conntrack_tcp_timeout_established=%s\n",
		sysctl_str(n->be_liberal, a, sizeof(a)), sysctl_str(n->tcp_loose, b, sizeof(b)),
		sysctl_str(n->ignore_invalid_rst, c, sizeof(c)),
		sysctl_str(n->timeout_established, d, sizeof(d)));
	if (n->rules.calico_chains[0] || n->rules.calico_chains[1] || n->calico_links)
		fprintf(f, "Calico: %s\n",
			n->rules.calico_chains[0] || n->rules.calico_chains[1]
			    ? "cali- chains in the filter table"
			    : "cali links, no cali- chains");
	if (n->docker0)
		fprintf(f, "Docker: docker0 present\n");
	fputs("assumed:\n", f);
	for (const char *s = n->assumed; *s;) {
		size_t l = strcspn(s, "\n");

		fprintf(f, "  - %.*s\n", (int)l, s);
		s += l + (s[l] != 0);
	}
	fputs("\nPATH          TRIGGER             FAMILY VERDICT\n", f);
	for (size_t i = 0; i < nr; i++) {
		if (!n->unknown[0] && !n->fam[r[i].family == 6].mode[0])
			continue; /* said once above */
		fprintf(f, "%-13s %-19s ipv%d   %s\n", r[i].path, r[i].trigger, r[i].family,
			r[i].verdict);
		if (r[i].decided_by[0])
			fprintf(f, "    decided by: %s\n", r[i].decided_by);
		fprintf(f, "    why: %s\n", r[i].why);
		if (r[i].advise[0])
			fprintf(f, "    bench/advise: %s\n", r[i].advise);
	}
}

static int write_json(const char *path, const char *label, const char *source,
		      const struct audit_node *n, const struct audit_result *r, size_t nr,
		      char **err)
{
	FILE *f = fopen(path, "we");
	int first = 1;
	char num[32];

	if (!f)
		return err_errno(err, errno, "cannot write %s", path);
	fputc('{', f);
	json_kv_str(f, &first, "node", label);
	json_kv_str(f, &first, "source", source);
	fputs(", \"kernel\": {", f);
	{
		int kf = 1;

		json_kv_str(f, &kf, "release", n->kernel.release[0] ? n->kernel.release : NULL);
		json_kv_str(f, &kf, "from", n->kernel.source[0] ? n->kernel.source : NULL);
		if (n->kernel.probed[0]) {
			json_kv_str(f, &kf, "behaviours", n->kernel.behaviours);
			json_kv_str(f, &kf, "probed", n->kernel.probed);
		} else {
			json_kv_str(
			    f, &kf, "behaviours",
			    "assumed from the release (bench/matrix.expect's kernel ranges), "
			    "not probed");
		}
	}
	fputs("}, \"families\": [", f);
	for (int i = 0; i < 2; i++) {
		const struct audit_family *fam = &n->fam[i];
		int ff = 1;

		fputs(i ? ", {" : "{", f);
		json_kv_raw(f, &ff, "family", i ? "6" : "4");
		json_kv_str(f, &ff, "mode", fam->mode[0] ? fam->mode : NULL);
		json_kv_str(f, &ff, "backend", fam->backend[0] ? fam->backend : NULL);
		json_kv_str(f, &ff, "mode_from", fam->mode_from[0] ? fam->mode_from : NULL);
		json_kv_str(f, &ff, "invalid_rule", fam->form[0] ? fam->form : NULL);
		json_kv_str(f, &ff, "releases", fam->era[0] ? fam->era : NULL);
		json_kv_str(f, &ff, "workaround", fam->workaround);
		fputs(", \"parts\": [", f);
		for (size_t p = 0; p < fam->nparts; p++) {
			int pf = 1;

			fputs(p ? ", {" : "{", f);
			json_kv_str(f, &pf, "name", fam->parts[p].name);
			json_kv_str(f, &pf, "evidence", fam->parts[p].evidence);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("], \"sysctls\": {", f);
	{
		int sf = 1;
		const long v[4] = {n->be_liberal, n->tcp_loose, n->ignore_invalid_rst,
				   n->timeout_established};
		const char *k[4] = {"nf_conntrack_tcp_be_liberal", "nf_conntrack_tcp_loose",
				    "nf_conntrack_tcp_ignore_invalid_rst",
				    "nf_conntrack_tcp_timeout_established"};

		for (int i = 0; i < 4; i++) {
			snprintf(num, sizeof(num), "%ld", v[i]);
			json_kv_raw(f, &sf, k[i], v[i] < 0 ? "null" : num);
		}
	}
	fputs("}, ", f);
	first = 1;
	json_kv_str(f, &first, "unknown", n->unknown[0] ? n->unknown : NULL);
	fputs(", \"assumed\": [", f);
	for (const char *s = n->assumed, *sep = ""; *s; sep = ", ") {
		size_t l = strcspn(s, "\n");
		char line[600];

		snprintf(line, sizeof(line), "%.*s", (int)l, s);
		fputs(sep, f);
		json_str(f, line);
		s += l + (s[l] != 0);
	}
	fputs("], \"results\": [", f);
	for (size_t i = 0; i < nr; i++) {
		int rf = 1;

		snprintf(num, sizeof(num), "%d", r[i].family);
		fputs(i ? ", {" : "{", f);
		json_kv_str(f, &rf, "path", r[i].path);
		json_kv_str(f, &rf, "trigger", r[i].trigger);
		json_kv_raw(f, &rf, "family", num);
		json_kv_str(f, &rf, "verdict", r[i].verdict);
		json_kv_str(f, &rf, "why", r[i].why);
		json_kv_str(f, &rf, "decided_by", r[i].decided_by[0] ? r[i].decided_by : NULL);
		json_kv_str(f, &rf, "workaround", r[i].workaround);
		json_kv_str(f, &rf, "advise", r[i].advise[0] ? r[i].advise : NULL);
		fputc('}', f);
	}
	fputs("]}\n", f);
	if (fclose(f) != 0)
		return err_errno(err, errno, "cannot write %s", path);
	return 0;
}

static int write_kv(const char *path, const struct audit_node *n, const struct audit_result *r,
		    size_t nr, char **err)
{
	FILE *f = fopen(path, "we");
	char key[128];

	if (!f)
		return err_errno(err, errno, "cannot write %s", path);
	kv_write(f, "kernel", n->kernel.release);
	kv_write(f, "workaround.ipv4", n->fam[0].workaround);
	kv_write(f, "workaround.ipv6", n->fam[1].workaround);
	for (size_t i = 0; i < nr; i++) {
		snprintf(key, sizeof(key), "verdict.%s.ipv%d.%s", r[i].path, r[i].family,
			 r[i].trigger);
		kv_write(f, key, r[i].verdict);
	}
	if (fclose(f) != 0)
		return err_errno(err, errno, "cannot write %s", path);
	return 0;
}

/* --agree: every cell= of RUN_DIR/run.kv against GROUP/WORKAROUND.NAME.kv */
static int run_agree(const char *run_dir, const char *name)
{
	char path[PATH_MAX];
	struct kv run;
	char *err = NULL;
	unsigned judged = 0, agree = 0, not_measured = 0, no_audit = 0;

	snprintf(path, sizeof(path), "%s/run.kv", run_dir);
	if (kv_load(path, &run, &err) < 0)
		die(CTR_EXIT_USAGE, err);
	for (size_t i = 0; i < run.n; i++) {
		struct kv rec, aud;
		const char *cell = run.pairs[i].value, *slash, *w, *fam, *obs;
		char key[160], group[PATH_MAX];
		const char *pred;

		if (strcmp(run.pairs[i].key, "cell"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/record.kv", run_dir, cell);
		if (kv_load(path, &rec, &err) < 0) {
			printf("DISAGREE %s: no record (%s)\n", cell, err);
			free(err);
			err = NULL;
			judged++;
			continue;
		}
		obs = kv_get(&rec, "observed");
		if (!kv_get(&rec, "decided") || strcmp(kv_get(&rec, "decided"), "1") || !obs ||
		    !strcmp(obs, "skip") || !strcmp(obs, "inconclusive")) {
			not_measured++;
			kv_free(&rec);
			continue;
		}
		w = kv_get(&rec, "workaround");
		fam = kv_get(&rec, "family");
		slash = strrchr(cell, '/');
		snprintf(group, sizeof(group), "%.*s", slash ? (int)(slash - cell) : 0, cell);
		judged++;
		/* the cell's own audit (bench/repro: CELL/node.NAME.kv), else its group's */
		if (snprintf(path, sizeof(path), "%s/%s/node.%s.kv", run_dir, cell, name) >=
			(int)sizeof(path) ||
		    access(path, R_OK) != 0)
			if (snprintf(path, sizeof(path), "%s/%s/%s.%s.kv", run_dir, group,
				     w ? w : "?", name) >= (int)sizeof(path))
				path[0] = '\0';
		if (kv_load(path, &aud, &err) < 0) {
			printf("DISAGREE %s: measured %s, no audit (%s)\n", cell, obs, err);
			free(err);
			err = NULL;
			no_audit++;
			kv_free(&rec);
			continue;
		}
		if (fam && !strncmp(fam, "ipv", 3))
			fam += 3;
		snprintf(key, sizeof(key), "verdict.%s.ipv%s.%s", kv_get(&rec, "topology") ?: "?",
			 fam ? fam : "?", kv_get(&rec, "trigger") ?: "?");
		pred = kv_get(&aud, key);
		if (pred && !strcmp(pred, obs))
			agree++;
		else
			printf("DISAGREE %s: measured %s, audit (%s) says %s\n", cell, obs, path,
			       pred ? pred : "nothing");
		kv_free(&aud);
		kv_free(&rec);
	}
	kv_free(&run);
	printf("audit %s: %u cells measured, %u agree, %u disagree (%u without an audit); %u not "
	       "measured (skipped or inconclusive)\n",
	       name, judged, agree, judged - agree, no_audit, not_measured);
	if (!judged)
		return CTR_EXIT_SKIP;
	return agree == judged ? CTR_EXIT_PASS : CTR_EXIT_FAIL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"netns", required_argument, NULL, 'n'},
					     {"from", required_argument, NULL, 'f'},
					     {"dump", required_argument, NULL, 'd'},
					     {"kernel", required_argument, NULL, 'k'},
					     {"keepalive", required_argument, NULL, 'K'},
					     {"json", required_argument, NULL, 'j'},
					     {"kv", required_argument, NULL, 'v'},
					     {"oracle", required_argument, NULL, 'o'},
					     {"releases", required_argument, NULL, 'r'},
					     {"timeout", required_argument, NULL, 't'},
					     {"agree", required_argument, NULL, 'a'},
					     {"name", required_argument, NULL, 'N'},
					     {"probe", no_argument, NULL, 'P'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *netns = NULL, *from = NULL, *dump_dir = NULL, *json = NULL, *kvf = NULL;
	const char *agree = NULL, *name = "audit";
	char oracle_file[PATH_MAX] = "", releases[PATH_MAX] = "",
	     tmp[] = "/tmp/ctreset-audit-XXXXXX";
	struct audit_options opt = {0};
	unsigned timeout_s = 30;
	int probe = 0;
	char behaviours[128], probed[512];
	struct dump d;
	struct audit_node node;
	struct oracle o;
	struct audit_result *res = NULL;
	size_t nres = 0;
	char *err = NULL, *notes = NULL, label[PATH_MAX + 32];
	int c, rc = CTR_EXIT_PASS;
	const char *dir;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case 'n':
			netns = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 'd':
			dump_dir = optarg;
			break;
		case 'k':
			opt.kernel = optarg;
			break;
		case 'j':
			json = optarg;
			break;
		case 'v':
			kvf = optarg;
			break;
		case 'o':
			snprintf(oracle_file, sizeof(oracle_file), "%s", optarg);
			break;
		case 'r':
			snprintf(releases, sizeof(releases), "%s", optarg);
			break;
		case 'a':
			agree = optarg;
			break;
		case 'N':
			name = optarg;
			break;
		case 'K':
		case 't':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || v < 1 || v > 86400)
				return opt_bad(optarg, "takes a number of seconds, 1 to 86400");
			if (c == 'K')
				opt.keepalive_s = (unsigned)v;
			else
				timeout_s = (unsigned)v;
			break;
		case 'P':
			probe = 1;
			break;
		case 'h':
			usage(stdout);
			return CTR_EXIT_PASS;
		default:
			return opt_bad(opt_refused(argc, argv),
				       "unknown option or missing value (see --help)");
		}
	}
	if (optind < argc)
		return opt_bad(argv[optind], "no operand expected (see --help)");
	if (agree) {
		if (netns || from || dump_dir || json || kvf)
			return opt_bad(agree, "--agree RUN_DIR takes only --name");
		return run_agree(agree, name);
	}
	if (from && (netns || dump_dir))
		return opt_bad(from,
			       "--from reads a dump: --netns and --dump are for a live namespace");
	if (probe && (from || opt.kernel))
		return opt_bad(from ? from : opt.kernel,
			       "--probe measures the kernel ctreset-audit runs on: not with --from "
			       "or --kernel");
	if (probe) {
		char lib[PATH_MAX];

		top_path("bench/lib.sh", lib, sizeof(lib));
		if (audit_probe(lib, behaviours, sizeof(behaviours), probed, sizeof(probed), &err) <
		    0)
			die(CTR_EXIT_FAIL, err);
		opt.behaviours = behaviours;
		opt.probed = probed;
	}
	if (opt.kernel && (opt.kernel[0] < '0' || opt.kernel[0] > '9' || !strchr(opt.kernel, '.')))
		return opt_bad(opt.kernel, "--kernel takes a release X.Y[...]");
	if (!oracle_file[0])
		top_path("bench/matrix.expect", oracle_file, sizeof(oracle_file));
	if (!releases[0])
		top_path("topology/kube-proxy-releases", releases, sizeof(releases));
	opt.releases_file = releases;
	if (oracle_load(oracle_file, &o, &err) < 0)
		die(CTR_EXIT_FAIL, err);

	if (from) {
		dir = from;
		snprintf(label, sizeof(label), "dump %s", from);
	} else {
		if (!netns)
			netns = "/proc/self/ns/net";
		if (geteuid() != 0)
			fprintf(stderr,
				"ctreset-audit: not root: the rule listings will likely fail\n");
		if (dump_dir) {
			dir = dump_dir;
		} else {
			if (!mkdtemp(tmp))
				die(CTR_EXIT_FAIL, strdup("cannot create a temporary directory"));
			dir = tmp;
		}
		if (dump_write_live(netns, dir, timeout_s, &notes, &err) < 0) {
			if (!dump_dir)
				rmdir(tmp);
			oracle_free(&o);
			die(CTR_EXIT_FAIL, err);
		}
		snprintf(label, sizeof(label), "namespace %s (live)", netns);
	}
	if (dump_read(dir, &d, &err) < 0) {
		oracle_free(&o);
		die(CTR_EXIT_FAIL, err);
	}
	if (!from && !dump_dir) {
		for (int i = 0; i < DUMP_COUNT; i++) {
			char p[PATH_MAX];

			snprintf(p, sizeof(p), "%s/%s", tmp, dump_source(i)->file);
			unlink(p);
		}
		rmdir(tmp);
	}
	if (audit_node_read(&d, &opt, &node, &err) < 0 ||
	    audit_judge(&node, &o, &res, &nres, &err) < 0) {
		dump_free(&d);
		oracle_free(&o);
		die(CTR_EXIT_FAIL, err);
	}
	/* the commands that gave nothing: said, not hidden */
	if (notes) {
		for (const char *s = notes; *s;) {
			size_t l = strcspn(s, "\n");
			char line[400];

			snprintf(line, sizeof(line), "live: %.*s (no file)", (int)l, s);
			strncat(node.assumed, line,
				sizeof(node.assumed) - strlen(node.assumed) - 2);
			strcat(node.assumed, "\n");
			s += l + (s[l] != 0);
		}
		free(notes);
	}
	print_text(stdout, label, &node, res, nres);
	if ((json && write_json(json, label, from ? "dump" : "live", &node, res, nres, &err) < 0) ||
	    (kvf && write_kv(kvf, &node, res, nres, &err) < 0)) {
		free(res);
		dump_free(&d);
		oracle_free(&o);
		die(CTR_EXIT_FAIL, err);
	}
	for (size_t i = 0; i < nres; i++)
		if (!strcmp(res[i].verdict, "unknown") &&
		    (node.unknown[0] || node.fam[res[i].family == 6].mode[0]))
			rc = CTR_EXIT_FAIL;
	free(res);
	dump_free(&d);
	oracle_free(&o);
	return rc;
}
