/* iptables-save and `nft list ruleset` text into rules_facts: a line-by-line reader for
 * each, checking the format as it goes (a dump that is not what its name says is an error
 * naming the line, never read as "no rules"), then which chains the forward and input
 * hooks reach, and which INVALID DROP rules sit in them. */
#include "rules.h"
#include "base/err.h"
#include "jsonin.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 128
#define NAME_LEN 128

const char *rules_drop_kind_name(enum rules_drop_kind k)
{
	static const char *const names[DROP_KIND_COUNT] = {
	    [DROP_KUBE_FORWARD] = "KUBE-FORWARD INVALID DROP",
	    [DROP_CALICO] = "Calico's INVALID DROP",
	    [DROP_NFT_FORWARD] = "nftables ct state invalid drop (forward hook)",
	    [DROP_FORWARD] = "an INVALID DROP on the FORWARD path",
	    [DROP_INPUT] = "an INVALID DROP on the INPUT path",
	};

	return (unsigned)k < DROP_KIND_COUNT ? names[k] : "?";
}

/* one chain of a table being read: its name, the hook a base chain has, the chains its
 * rules jump to, and its INVALID DROP rules (index into the table's list) */
struct chain {
	char name[NAME_LEN];
	char hook[16]; /* "forward", "input", "" (iptables: the builtin's own name) */
	char **jumps;
	size_t njumps;
	int *drops;
	size_t ndrops;
	int reached_fwd, reached_in;
};

struct pending_drop {
	int nfacct;
	unsigned line;
	char at[80]; /* where, when not a line ("rule handle 16 of chain forward") */
	char rule[256];
};

struct table {
	char name[NAME_LEN];
	int families; /* bit 0: IPv4, bit 1: IPv6 */
	struct chain *chains;
	size_t n, cap;
	struct pending_drop *drops;
	size_t ndrops;
};

static void table_clear(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t j = 0; j < t->chains[i].njumps; j++)
			free(t->chains[i].jumps[j]);
		free(t->chains[i].jumps);
		free(t->chains[i].drops);
	}
	free(t->chains);
	free(t->drops);
	memset(t, 0, sizeof(*t));
}

static struct chain *chain_find(struct table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->chains[i].name, name))
			return &t->chains[i];
	return NULL;
}

static struct chain *chain_add(struct table *t, const char *name, size_t len)
{
	struct chain *c;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct chain *n = realloc(t->chains, cap * sizeof(*n));

		if (!n)
			return NULL;
		t->chains = n;
		t->cap = cap;
	}
	c = &t->chains[t->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%.*s", (int)(len < NAME_LEN ? len : NAME_LEN - 1),
		 name);
	return c;
}

static int chain_jump(struct chain *c, const char *target)
{
	char **j = realloc(c->jumps, (c->njumps + 1) * sizeof(*j));

	if (!j)
		return -1;
	c->jumps = j;
	if (!(j[c->njumps] = strdup(target)))
		return -1;
	c->njumps++;
	return 0;
}

static int chain_drop(struct table *t, struct chain *c, int nfacct, unsigned line, const char *rule,
		      size_t len)
{
	struct pending_drop *d = realloc(t->drops, (t->ndrops + 1) * sizeof(*d));
	int *cd = realloc(c->drops, (c->ndrops + 1) * sizeof(*cd));

	if (d)
		t->drops = d;
	if (cd)
		c->drops = cd;
	if (!d || !cd)
		return -1;
	d = &t->drops[t->ndrops];
	d->nfacct = nfacct;
	d->line = line;
	d->at[0] = '\0';
	snprintf(d->rule, sizeof(d->rule), "%.*s", (int)(len < 255 ? len : 255), rule);
	c->drops[c->ndrops++] = (int)t->ndrops++;
	return 0;
}

/* marks every chain reachable from c (depth first, bounded by the number of chains) */
static void reach(struct table *t, struct chain *c, int fwd, size_t depth)
{
	int *flag = fwd ? &c->reached_fwd : &c->reached_in;

	if (*flag || depth > t->n)
		return;
	*flag = 1;
	for (size_t i = 0; i < c->njumps; i++) {
		struct chain *to = chain_find(t, c->jumps[i]);

		if (to)
			reach(t, to, fwd, depth + 1);
	}
}

/* splits a line into tokens at blanks, a "quoted string" one token; the tokens point
 * into buf (a copy of the line), at most MAX_TOKENS */
static size_t tokenize(char *buf, char **tok)
{
	size_t n = 0;
	char *p = buf;

	while (*p && n < MAX_TOKENS) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (*p == '"') {
			tok[n++] = ++p;
			while (*p && *p != '"')
				p++;
		} else {
			tok[n++] = p;
			while (*p && *p != ' ' && *p != '\t')
				p++;
		}
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/* whether a comma/brace-separated state list holds "INVALID" (any case) */
static int has_invalid(const char *list)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *s = strtok_r(buf, ",{} ", &save); s; s = strtok_r(NULL, ",{} ", &save))
		if (!strcasecmp(s, "invalid"))
			return 1;
	return 0;
}

static int fam_index(int family)
{
	return family == 6;
}

static int add_drop(struct rules_facts *f, enum rules_drop_kind kind, int family,
		    const struct pending_drop *d, const char *name)
{
	struct rules_drop *r;

	if (f->ndrops == RULES_MAX_DROPS)
		return 0; /* enough to judge: the first ones, in dump order */
	r = &f->drops[f->ndrops++];
	r->kind = kind;
	r->family = family;
	r->nfacct = d->nfacct;
	if (d->at[0])
		snprintf(r->where, sizeof(r->where), "%s %s", name, d->at);
	else
		snprintf(r->where, sizeof(r->where), "%s line %u", name, d->line);
	snprintf(r->rule, sizeof(r->rule), "%s", d->rule);
	return 0;
}

/* the drops of a finished table: those the forward and input hooks reach */
static void table_finish(struct table *t, const char *name, int iptables, struct rules_facts *f)
{
	for (size_t i = 0; i < t->n; i++) {
		struct chain *c = &t->chains[i];

		if (!strcmp(c->hook, "forward"))
			reach(t, c, 1, 0);
		else if (!strcmp(c->hook, "input"))
			reach(t, c, 0, 0);
	}
	for (size_t i = 0; i < t->n; i++) {
		struct chain *c = &t->chains[i];

		for (size_t j = 0; j < c->ndrops; j++) {
			const struct pending_drop *d = &t->drops[c->drops[j]];

			for (int fam = 4; fam <= 6; fam += 2) {
				if (!(t->families & (1 << fam_index(fam))))
					continue;
				if (c->reached_fwd) {
					enum rules_drop_kind k = DROP_NFT_FORWARD;

					if (iptables)
						k = !strcmp(c->name, "KUBE-FORWARD")
							? DROP_KUBE_FORWARD
						    : !strncmp(c->name, "cali-", 5) ? DROP_CALICO
										    : DROP_FORWARD;
					add_drop(f, k, fam, d, name);
				}
				if (c->reached_in)
					add_drop(f, DROP_INPUT, fam, d, name);
			}
		}
	}
}

/* --- iptables-save -------------------------------------------------------------------- */

/* one "-A CHAIN ..." line of the table being read */
static int ipt_rule(struct table *t, const char *line, size_t len, unsigned lineno,
		    const char *name, int *kube_services, char **err)
{
	char buf[4096], *tok[MAX_TOKENS];
	size_t n;
	struct chain *c;
	int invalid = 0, drop = 0, nfacct = 0;

	snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) - 1 ? len : sizeof(buf) - 1),
		 line);
	n = tokenize(buf, tok);
	if (n < 2)
		return err_set(err, "%s: line %u: a rule without a chain", name, lineno);
	c = chain_find(t, tok[1]);
	if (!c)
		return err_set(err,
			       "%s: line %u: a rule of chain %s, which the table never declared",
			       name, lineno, tok[1]);
	for (size_t i = 2; i < n; i++) {
		int neg = i > 2 && !strcmp(tok[i - 1], "!");

		if ((!strcmp(tok[i], "--ctstate") || !strcmp(tok[i], "--state")) && i + 1 < n &&
		    !neg && has_invalid(tok[i + 1]))
			invalid = 1;
		else if (!strcmp(tok[i], "--nfacct-name"))
			nfacct = 1;
		else if ((!strcmp(tok[i], "-j") || !strcmp(tok[i], "-g")) && i + 1 < n) {
			if (!strcmp(tok[i + 1], "DROP"))
				drop = 1;
			else if (chain_jump(c, tok[i + 1]) < 0)
				return err_set(err, "out of memory");
			if (!strcmp(t->name, "nat") && !strcmp(tok[1], "PREROUTING") &&
			    !strcmp(tok[i + 1], "KUBE-SERVICES"))
				*kube_services = 1;
		}
	}
	if (invalid && drop && chain_drop(t, c, nfacct, lineno, line, len) < 0)
		return err_set(err, "out of memory");
	return 0;
}

int rules_read_iptables(const char *text, const char *name, int family, int legacy,
			struct rules_facts *f, char **err)
{
	struct table t = {0};
	int in_table = 0, kube_services = 0, calico = 0, nftables = 0;
	unsigned lineno = 0;
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *l = line;
		int rc = 0;

		lineno++;
		while (len && (l[len - 1] == '\r' || l[len - 1] == ' '))
			len--;
		if (!len) {
		} else if (l[0] == '#') {
			if (len > 20 && memmem(l, len, "(nf_tables)", 11))
				nftables = 1;
		} else if (l[0] == '*') {
			if (in_table)
				rc = err_set(err,
					     "%s: line %u: table %.*s starts before %s's COMMIT",
					     name, lineno, (int)len - 1, l + 1, t.name);
			else if (len < 2 || len > 32 ||
				 strspn(l + 1, "abcdefghijklmnopqrstuvwxyz") < len - 1)
				rc = err_set(err, "%s: line %u: not a table name: %.40s", name,
					     lineno, l);
			else {
				table_clear(&t);
				snprintf(t.name, sizeof(t.name), "%.*s", (int)len - 1, l + 1);
				t.families = 1 << fam_index(family);
				in_table = 1;
			}
		} else if (l[0] == ':' && in_table) {
			size_t nl_ = strcspn(l + 1, " \n");
			struct chain *c;

			if (!nl_ || nl_ >= len)
				rc = err_set(err, "%s: line %u: a chain line without a policy",
					     name, lineno);
			else if (!(c = chain_add(&t, l + 1, nl_)))
				rc = err_set(err, "out of memory");
			else {
				if (!strcmp(t.name, "filter") &&
				    (!strcmp(c->name, "FORWARD") || !strcmp(c->name, "INPUT")))
					snprintf(c->hook, sizeof(c->hook), "%s",
						 c->name[0] == 'F' ? "forward" : "input");
				if (!strcmp(t.name, "filter") && !strncmp(c->name, "cali-", 5))
					calico = 1;
			}
		} else if ((!strncmp(l, "-A ", 3) || !strncmp(l, "-I ", 3)) && in_table) {
			rc = ipt_rule(&t, l, len, lineno, name, &kube_services, err);
		} else if (len == 6 && !strncmp(l, "COMMIT", 6) && in_table) {
			if (!strcmp(t.name, "filter"))
				table_finish(&t, name, 1, f);
			in_table = 0;
		} else {
			rc = err_set(err, "%s: line %u: not iptables-save output: \"%.60s\"", name,
				     lineno, l);
		}
		if (rc < 0) {
			table_clear(&t);
			return -1;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	if (in_table) {
		err_set(err, "%s: table %s has no COMMIT: the dump is truncated", name, t.name);
		table_clear(&t);
		return -1;
	}
	table_clear(&t);
	if (kube_services)
		snprintf(f->kp_iptables[fam_index(family)], sizeof(f->kp_iptables[0]), "%s%s", name,
			 legacy	    ? ""
			 : nftables ? " (nf_tables)"
				    : " (legacy)");
	if (kube_services)
		f->kp_iptables_legacy[fam_index(family)] = legacy || !nftables;
	if (calico)
		f->calico_chains[fam_index(family)] = 1;
	if (nftables && !legacy)
		f->ipt_nf_tables[fam_index(family)] = 1;
	return 0;
}

/* --- nft list ruleset ----------------------------------------------------------------- */

static int braces(const char *s, size_t len)
{
	int d = 0, q = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == '{')
			d++;
		else if (!q && s[i] == '}')
			d--;
	}
	return d;
}

static void unquote(char *dst, size_t n, const char *s)
{
	size_t l = strlen(s);

	if (l >= 2 && s[0] == '"' && s[l - 1] == '"')
		snprintf(dst, n, "%.*s", (int)(l - 2), s + 1);
	else
		snprintf(dst, n, "%s", s);
}

/* one statement of a chain: its hook, or a rule (jumps, an INVALID drop) */
static int nft_statement(struct table *t, struct chain *c, const char *stmt, size_t len,
			 unsigned lineno, char **err)
{
	char buf[8192], *tok[MAX_TOKENS];
	size_t n;
	int invalid = 0, drop = 0;

	snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) - 1 ? len : sizeof(buf) - 1),
		 stmt);
	for (char *p = buf; *p; p++)
		if (*p == ';')
			*p = ' ';
	n = tokenize(buf, tok);
	if (n >= 3 && !strcmp(tok[0], "type")) {
		for (size_t i = 1; i + 1 < n; i++)
			if (!strcmp(tok[i], "hook"))
				snprintf(c->hook, sizeof(c->hook), "%s", tok[i + 1]);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(tok[i], "ct") && i + 2 < n && !strcmp(tok[i + 1], "state")) {
			size_t v = i + 2;

			if (!strcmp(tok[v], "!="))
				continue;
			if (!strcmp(tok[v], "=="))
				v++;
			/* a set spans tokens: { invalid, established } */
			for (; v < n; v++) {
				if (has_invalid(tok[v]))
					invalid = 1;
				if (tok[v][0] != '{' && !strchr(tok[v], ',') && strcmp(tok[v], "{"))
					break;
			}
		} else if (!strcmp(tok[i], "drop"))
			drop = 1;
		else if ((!strcmp(tok[i], "jump") || !strcmp(tok[i], "goto")) && i + 1 < n) {
			char target[NAME_LEN];

			unquote(target, sizeof(target), tok[i + 1]);
			target[strcspn(target, ",}")] = '\0';
			if (chain_jump(c, target) < 0)
				return err_set(err, "out of memory");
		}
	}
	if (invalid && drop && chain_drop(t, c, 0, lineno, stmt, len) < 0)
		return err_set(err, "out of memory");
	return 0;
}

static int iptables_table(const char *name)
{
	static const char *const names[] = {"filter", "nat", "mangle", "raw", "security"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return 1;
	return 0;
}

int rules_read_nft(const char *text, const char *name, const int skip_ipt[2], struct rules_facts *f,
		   char **err)
{
	struct table t = {0};
	struct chain *c = NULL;
	int depth = 0, skip_depth = 0, skip_table = 0, services = 0;
	unsigned lineno = 0, stmt_line = 0;
	const char *line = text;
	char *stmt = NULL; /* a statement spanning lines: braces not closed yet */
	size_t slen = 0;
	int rc = 0;

	for (; *line && rc == 0;
	     line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != '\0')) {
		size_t len = strcspn(line, "\n");
		const char *l = line;
		int d;

		lineno++;
		while (len && (*l == ' ' || *l == '\t'))
			l++, len--;
		while (len && (l[len - 1] == ' ' || l[len - 1] == '\r'))
			len--;
		if (!len || *l == '#')
			continue;
		d = braces(l, len);
		if (stmt) { /* the rest of a statement */
			char *s = realloc(stmt, slen + len + 2);

			if (!s) {
				rc = err_set(err, "out of memory");
				break;
			}
			stmt = s;
			stmt[slen++] = ' ';
			memcpy(stmt + slen, l, len);
			slen += len;
			stmt[slen] = '\0';
			if (braces(stmt, slen) <= 0) {
				if (!skip_table)
					rc = nft_statement(&t, c, stmt, slen, stmt_line, err);
				free(stmt);
				stmt = NULL;
			}
			continue;
		}
		if (skip_depth) { /* inside a set, map or other object of a table */
			skip_depth += d;
			if (skip_depth < 0)
				rc = err_set(err, "%s: line %u: unbalanced braces", name, lineno);
			continue;
		}
		if (depth == 0) {
			char buf[512], *tok[MAX_TOKENS];
			size_t n;

			snprintf(buf, sizeof(buf), "%.*s", (int)(len < 511 ? len : 511), l);
			n = tokenize(buf, tok);
			if (n != 4 || strcmp(tok[0], "table") || strcmp(tok[3], "{")) {
				rc = err_set(err,
					     "%s: line %u: not nft list ruleset output: \"%.60s\"",
					     name, lineno, l);
				break;
			}
			table_clear(&t);
			unquote(t.name, sizeof(t.name), tok[2]);
			t.families = !strcmp(tok[1], "ip")     ? 1
				     : !strcmp(tok[1], "ip6")  ? 2
				     : !strcmp(tok[1], "inet") ? 3
							       : 0;
			skip_table = !t.families || (t.families != 3 && iptables_table(t.name) &&
						     skip_ipt[t.families - 1]);
			if (t.families && skip_table)
				f->nft_tables_skipped++;
			services = 0;
			depth = 1;
		} else if (depth == 1) {
			if (len == 1 && *l == '}') {
				if (!skip_table) {
					table_finish(&t, name, 0, f);
					for (int i = 0; i < 2; i++)
						if (services && (t.families & (1 << i)) &&
						    !strcmp(t.name, "kube-proxy"))
							snprintf(f->kp_nft[i], sizeof(f->kp_nft[i]),
								 "%s", name);
				}
				depth = 0;
			} else if (len > 7 && !strncmp(l, "chain ", 6) && d == 1) {
				char buf[512], *tok[MAX_TOKENS];

				snprintf(buf, sizeof(buf), "%.*s", (int)(len < 511 ? len : 511), l);
				if (tokenize(buf, tok) != 3 || strcmp(tok[2], "{")) {
					rc = err_set(err, "%s: line %u: a chain without a name",
						     name, lineno);
					break;
				}
				unquote(buf, sizeof(buf), tok[1]);
				if (!(c = chain_add(&t, buf, strlen(buf))))
					rc = err_set(err, "out of memory");
				else if (!strcmp(c->name, "services"))
					services = 1;
				depth = 2;
			} else if (d > 0) {
				skip_depth = d; /* set, map, flowtable, counter, ... */
			} else if (d < 0) {
				rc = err_set(err, "%s: line %u: unbalanced braces", name, lineno);
			}
		} else { /* depth 2: a chain's statements */
			if (len == 1 && *l == '}') {
				depth = 1;
				c = NULL;
			} else if (d > 0) {
				if (!(stmt = malloc(len + 1))) {
					rc = err_set(err, "out of memory");
					break;
				}
				memcpy(stmt, l, len);
				stmt[slen = len] = '\0';
				stmt_line = lineno;
			} else if (d < 0) {
				rc = err_set(err, "%s: line %u: unbalanced braces", name, lineno);
			} else if (!skip_table) {
				rc = nft_statement(&t, c, l, len, lineno, err);
			}
		}
	}
	if (!rc && (depth || skip_depth || stmt))
		rc = err_set(err, "%s: ends inside %s: the dump is truncated", name,
			     stmt    ? "a rule"
			     : depth ? "a table"
				     : "a block");
	free(stmt);
	table_clear(&t);
	return rc;
}

/* --- nft -j list ruleset --------------------------------------------------------------- */

/* a table of the JSON ruleset: the same reading as the text's, tables looked up by
 * family and name (the JSON lists tables, then sets, chains and rules naming theirs) */
struct jtable {
	struct table t;
	char family[16];
	int skip, services;
};

static struct jtable *jtable_find(struct jtable *ts, size_t n, const char *family, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ts[i].family, family) && !strcmp(ts[i].t.name, name))
			return &ts[i];
	return NULL;
}

/* the jump and goto targets anywhere under node i (a verdict, or a vmap's), and whether
 * an xt expression (iptables-nft's match or target nft cannot show) is there */
static int json_walk(const struct jin_doc *doc, size_t i, struct chain *c, int *xt, unsigned depth)
{
	if (depth > JIN_MAX_DEPTH)
		return 0;
	for (size_t k = doc->n[i].child; k != JIN_NONE; k = doc->n[k].next) {
		const char *key = doc->n[k].key;

		if (key && !strcmp(key, "xt"))
			*xt = 1;
		if (key && (!strcmp(key, "jump") || !strcmp(key, "goto"))) {
			const char *target = jin_get_str(doc, k, "target");

			if (target && chain_jump(c, target) < 0)
				return -1;
		}
		if (doc->n[k].type == JIN_OBJ || doc->n[k].type == JIN_ARR)
			if (json_walk(doc, k, c, xt, depth + 1) < 0)
				return -1;
	}
	return 0;
}

/* whether a match's right side holds "invalid": a string, an array or {"set": [...]} */
static int json_invalid(const struct jin_doc *doc, size_t r)
{
	if (r == JIN_NONE)
		return 0;
	if (doc->n[r].type == JIN_STR)
		return has_invalid(doc->n[r].str);
	if (doc->n[r].type == JIN_OBJ)
		return json_invalid(doc, jin_get(doc, r, "set"));
	if (doc->n[r].type == JIN_ARR)
		for (size_t k = doc->n[r].child; k != JIN_NONE; k = doc->n[k].next)
			if (doc->n[k].type == JIN_STR && has_invalid(doc->n[k].str))
				return 1;
	return 0;
}

/* one rule object: its chain's jumps, and an INVALID drop; 1 when it holds xt */
static int json_rule(const struct jin_doc *doc, size_t r, struct table *t, struct chain *c,
		     char **err)
{
	size_t expr = jin_get(doc, r, "expr"), h = jin_get(doc, r, "handle");
	int invalid = 0, drop = 0, xt = 0;

	if (expr == JIN_NONE || doc->n[expr].type != JIN_ARR)
		return 0; /* a rule without statements decides nothing */
	if (json_walk(doc, expr, c, &xt, 0) < 0)
		return err_set(err, "out of memory");
	for (size_t k = doc->n[expr].child; k != JIN_NONE; k = doc->n[k].next) {
		size_t m = jin_get(doc, k, "match");

		if (jin_get(doc, k, "drop") != JIN_NONE)
			drop = 1;
		if (m != JIN_NONE) {
			const char *op = jin_get_str(doc, m, "op");
			size_t ct = jin_get(doc, jin_get(doc, m, "left"), "ct");
			const char *key = jin_get_str(doc, ct, "key");

			if (key && !strcmp(key, "state") && !(op && !strcmp(op, "!=")) &&
			    json_invalid(doc, jin_get(doc, m, "right")))
				invalid = 1;
		}
	}
	if (invalid && drop) {
		struct pending_drop *d;

		if (chain_drop(t, c, 0, 0, "ct state invalid drop", 21) < 0)
			return err_set(err, "out of memory");
		d = &t->drops[t->ndrops - 1];
		if (h != JIN_NONE && doc->n[h].type == JIN_NUM)
			snprintf(d->at, sizeof(d->at), "rule handle %.0f of chain %.40s",
				 doc->n[h].num, c->name);
		else
			snprintf(d->at, sizeof(d->at), "a rule of chain %.60s", c->name);
	}
	return xt;
}

/* the string members family, table (or name) of an object, or an error naming item i */
static int json_names(const struct jin_doc *doc, size_t o, const char *kind, size_t item,
		      const char *name, const char **family, const char **table, char **err)
{
	*family = jin_get_str(doc, o, "family");
	*table = jin_get_str(doc, o, !strcmp(kind, "table") ? "name" : "table");
	if (!*family || !*table)
		return err_set(err, "%s: item %zu: a %s without its family or table name", name,
			       item, kind);
	return 0;
}

int rules_read_nft_json(const char *text, const char *name, const int skip_ipt[2],
			struct rules_facts *f, char **err)
{
	struct jin_doc doc;
	struct jtable *ts = NULL;
	size_t nt = 0, arr, item;
	int rc = 0;

	if (!text[strspn(text, " \t\r\n")])
		return err_set(err,
			       "%s: empty: not the output of nft -j list ruleset, which always "
			       "holds its metainfo",
			       name);
	if (jin_parse(text, name, &doc, err) < 0)
		return -1;
	arr = jin_get(&doc, 0, "nftables");
	if (arr == JIN_NONE || doc.n[arr].type != JIN_ARR) {
		jin_free(&doc);
		return err_set(err,
			       "%s: not the output of nft -j list ruleset: no top-level "
			       "\"nftables\" array",
			       name);
	}
	/* three passes: tables, chains, rules (each names its table and chain) */
	for (int pass = 0; pass < 3 && rc == 0; pass++) {
		static const char *const kinds[] = {"table", "chain", "rule"};

		item = 0;
		for (size_t k = doc.n[arr].child; k != JIN_NONE && rc == 0;
		     k = doc.n[k].next, item++) {
			size_t o = jin_get(&doc, k, kinds[pass]);
			const char *fam, *tname, *cname;
			struct jtable *jt;
			struct chain *c;

			if (doc.n[k].type != JIN_OBJ) {
				rc = err_set(err, "%s: item %zu: not an object", name, item);
				break;
			}
			if (o == JIN_NONE)
				continue; /* metainfo, set, map, element, flowtable, ... */
			if (json_names(&doc, o, kinds[pass], item, name, &fam, &tname, err) < 0) {
				rc = -1;
				break;
			}
			jt = jtable_find(ts, nt, fam, tname);
			if (pass == 0) {
				struct jtable *n;
				int fams;

				if (jt)
					continue;
				if (!(n = realloc(ts, (nt + 1) * sizeof(*n)))) {
					rc = err_set(err, "out of memory");
					break;
				}
				ts = n;
				jt = &ts[nt++];
				memset(jt, 0, sizeof(*jt));
				snprintf(jt->family, sizeof(jt->family), "%s", fam);
				snprintf(jt->t.name, sizeof(jt->t.name), "%s", tname);
				fams = !strcmp(fam, "ip")     ? 1
				       : !strcmp(fam, "ip6")  ? 2
				       : !strcmp(fam, "inet") ? 3
							      : 0;
				jt->t.families = fams;
				jt->skip = !fams || (fams != 3 && iptables_table(jt->t.name) &&
						     skip_ipt[fams - 1]);
				if (fams && jt->skip)
					f->nft_tables_skipped++;
				continue;
			}
			if (!jt) {
				rc = err_set(err,
					     "%s: item %zu: a %s of table %s %s, which the ruleset "
					     "never declared",
					     name, item, kinds[pass], fam, tname);
				break;
			}
			if (jt->skip)
				continue;
			if (pass == 1) {
				const char *hook = jin_get_str(&doc, o, "hook");

				if (!(cname = jin_get_str(&doc, o, "name"))) {
					rc = err_set(err, "%s: item %zu: a chain without a name",
						     name, item);
					break;
				}
				if (chain_find(&jt->t, cname))
					continue;
				if (!(c = chain_add(&jt->t, cname, strlen(cname)))) {
					rc = err_set(err, "out of memory");
					break;
				}
				if (hook)
					snprintf(c->hook, sizeof(c->hook), "%s", hook);
				if (!strcmp(c->name, "services"))
					jt->services = 1;
				continue;
			}
			if (!(cname = jin_get_str(&doc, o, "chain")) ||
			    !(c = chain_find(&jt->t, cname))) {
				rc = err_set(err,
					     "%s: item %zu: a rule of chain %s, which table %s %s "
					     "never declared",
					     name, item, cname ? cname : "(none)", fam, tname);
				break;
			}
			rc = json_rule(&doc, o, &jt->t, c, err);
			if (rc == 1) {
				size_t h = jin_get(&doc, o, "handle");

				rc = err_set(
				    err,
				    "%s: item %zu: rule handle %.0f of chain %s (table %s "
				    "%s) holds an xt expression: an iptables-nft match or "
				    "target nft's JSON does not spell out, so whether it "
				    "drops INVALID packets cannot be told from the JSON "
				    "(iptables-save, which reads iptables-nft's tables, was not "
				    "given or does not say nf_tables)",
				    name, item,
				    h != JIN_NONE && doc.n[h].type == JIN_NUM ? doc.n[h].num : -1.0,
				    cname, fam, tname);
				rc = -2;
			}
		}
	}
	for (size_t i = 0; i < nt; i++) {
		if (rc == 0 && !ts[i].skip) {
			table_finish(&ts[i].t, name, 0, f);
			for (int fi = 0; fi < 2; fi++)
				if (ts[i].services && (ts[i].t.families & (1 << fi)) &&
				    !strcmp(ts[i].t.name, "kube-proxy"))
					snprintf(f->kp_nft[fi], sizeof(f->kp_nft[fi]), "%s", name);
		}
		table_clear(&ts[i].t);
	}
	free(ts);
	jin_free(&doc);
	return rc;
}
