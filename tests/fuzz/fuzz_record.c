/* A bench run's files, as ctreset-review --record and --render read them (record.h,
 * render.h, advise.h): run.kv, a cell's meta.kv, inject.kv, server.kv and client.kv, the
 * oracle file meta.kv's oracle= names, and the cells' record.kv. A record is built from the
 * cell's files, then the run (its run.kv, the built record and the records given) is
 * rendered in every format.
 *
 * Input: a byte of flags (a verdict was decided, a connect cell, the verdict, the client's
 * RST, the backend's reset, the RST at the backend), a byte of leaked packets, then the
 * files separated by form feeds ('\f'): run.kv, meta.kv, inject.kv, server.kv, client.kv,
 * the oracle, then any number of record.kv. A missing file is empty. */
#include "target.h"
#include "base/kv.h"
#include "review/record.h"
#include "review/render.h"

#include <stdlib.h>
#include <string.h>

enum { F_RUN, F_META, F_INJECT, F_SERVER, F_CLIENT, F_ORACLE, F_RECORDS };
#define MAX_RECORDS 16

/* meta.kv's oracle= (the last, the one kv_get finds) made to name the oracle given */
static void point_oracle(struct kv *meta, const char *text, size_t len)
{
	char path[64];

	for (size_t i = meta->n; i-- > 0;) {
		if (strcmp(meta->pairs[i].key, "oracle"))
			continue;
		free(meta->pairs[i].value);
		meta->pairs[i].value = NULL;
		if (fuzz_file((const uint8_t *)text, len, path, sizeof(path)) == 0)
			meta->pairs[i].value = strdup(path);
		if (!meta->pairs[i].value) /* no file for it: a name that is no file */
			meta->pairs[i].value = strdup("/nonexistent/fuzz.expect");
		if (!meta->pairs[i].value)
			abort();
		return;
	}
}

static void build(const uint8_t *flags, struct kv *kv, const char *oracle, struct kv *rec)
{
	struct verdict_result res;
	struct connect_facts cf;
	struct record_input in = {
	    .dir = "/nonexistent/fuzz-cell",
	    .meta = &kv[F_META],
	    .inject = &kv[F_INJECT],
	    .server = &kv[F_SERVER],
	    .client = &kv[F_CLIENT],
	    .pcaps = {"client.pcap", "", NULL},
	};
	char expected[64], why[4096];

	memset(&res, 0, sizeof(res));
	memset(&cf, 0, sizeof(cf));
	point_oracle(&kv[F_META], oracle, strlen(oracle));
	if (record_expectation(&kv[F_META], expected, sizeof(expected), why, sizeof(why), NULL) ==
		0 &&
	    expected[0]) {
		in.expected = expected;
		in.expected_reason = why;
	}
	if (flags[0] & 1) {
		struct verdict_facts f = {
		    .injected = flags[0] & 2,
		    .client_end = client_end_parse(kv_get(&kv[F_CLIENT], "end")),
		    .backend_captured = flags[0] & 4,
		    .leaked_packets = flags[1],
		    .client_rst = flags[0] & 8,
		    .rst_at_backend = flags[0] & 16,
		};
		int v = verdict_parse(record_get(&kv[F_INJECT], "verdict", ""));

		f.backend_end = (enum backend_end)((flags[0] >> 5) % 3);
		verdict_judge(&f, &res);
		if (v >= 0)
			res.verdict = (enum verdict)v;
		in.res = &res;
		if (flags[0] & 0x80) {
			cf.client_record = true;
			cf.client_bytes =
			    strtoull(record_get(&kv[F_CLIENT], "bytes", "0"), NULL, 10);
			cf.synack_at_client = flags[1] & 3;
			cf.acks_at_node = flags[1] >> 2 & 3;
			cf.acks_at_backend = flags[1] >> 4 & 3;
			verdict_judge_connect(&cf, &res);
			in.connect = &cf;
		}
	}
	if (record_build(&in, rec, NULL) < 0)
		memset(rec, 0, sizeof(*rec));
}

FUZZ_TARGET(record)
{
	static const char *const formats[] = {"table",	     "json",   "tap",	  "junit",
					      "unexpected",  "failed", "summary", "advise",
					      "advise-json", "ktap"};
	struct kv kv[F_RECORDS + MAX_RECORDS] = {0};
	const char *files[F_RECORDS + MAX_RECORDS] = {0};
	char *text, *p;
	size_t nfiles = 0;
	FILE *out = fuzz_sink();

	if (size < 2 || !out)
		return 0;
	text = fuzz_str(data + 2, size - 2);
	if (!text)
		return 0;
	for (p = text; p && nfiles < F_RECORDS + MAX_RECORDS; nfiles++) {
		char *ff = strchr(p, '\f');

		files[nfiles] = p;
		if (ff)
			*ff = '\0';
		p = ff ? ff + 1 : NULL;
	}
	for (size_t i = 0; i < nfiles; i++)
		if (i != F_ORACLE && kv_parse(files[i], &kv[i], NULL) < 0)
			memset(&kv[i], 0, sizeof(kv[i]));
	{
		struct run run = {.info = kv[F_RUN]};
		struct kv rec[1 + MAX_RECORDS];
		int first = 1;

		build(data, kv, files[F_ORACLE] ? files[F_ORACLE] : "", &rec[0]);
		run.n = 1;
		for (size_t i = F_RECORDS; i < nfiles; i++)
			rec[run.n++] = kv[i];
		run.rec = rec;
		for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
			char *err = NULL;

			render(out, &run, formats[f], &err);
			free(err);
		}
		record_json_fields(out, &rec[0], &first);
		kv_free(&rec[0]);
	}
	for (size_t i = 0; i < nfiles; i++)
		if (i != F_ORACLE)
			kv_free(&kv[i]);
	free(text);
	return 0;
}
