#include "netns.h"
#include "base/err.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int netns_open(const char *name, char **err)
{
	char path[PATH_MAX];
	int fd;

	if (!name || !*name)
		return err_set(err, "empty namespace name");
	if (name[0] == '/')
		snprintf(path, sizeof(path), "%s", name);
	else if (strchr(name, '/'))
		return err_set(err, "bad namespace name '%s'", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "namespace %s", path);
	return fd;
}

int netns_set(int fd, const char *label, char **err)
{
	if (setns(fd, CLONE_NEWNET) < 0)
		return err_errno(err, errno, "entering namespace %s", label);
	return 0;
}

int netns_enter(const char *name, char **err)
{
	int fd = netns_open(name, err);
	int rc;

	if (fd < 0)
		return -1;
	rc = netns_set(fd, name, err);
	close(fd);
	return rc;
}

/* "ctr-XXXXXX-ROLE": the run prefix (hex) of a ctreset namespace name into prefix */
static bool run_prefix(const char *name, char prefix[11])
{
	if (strncmp(name, "ctr-", 4))
		return false;
	for (int i = 4; i < 10; i++)
		if (!isxdigit((unsigned char)name[i]))
			return false;
	if (name[10] != '-' || !name[11])
		return false;
	memcpy(prefix, name, 10);
	prefix[10] = 0;
	return true;
}

/* whether NAME (ctr-XXXXXX-ROLE, under /run/netns) is of a run with an owner */
static bool run_owned(const char *name)
{
	const char *state = getenv("CTR_STATE");
	char path[PATH_MAX], prefix[11];

	if (!run_prefix(name, prefix))
		return false;
	if (!state || !*state)
		state = "/run/ctreset";
	snprintf(path, sizeof(path), "%s/%s/owner", state, prefix);
	return access(path, F_OK) == 0;
}

/* whether st is the namespace of /run/netns/ctr-XXXXXX-ROLE for a run with an owner */
static bool made_by_a_run(const struct stat *st)
{
	char path[PATH_MAX], prefix[11];
	struct dirent *d;
	struct stat ns;
	bool found = false;
	DIR *dir = opendir("/run/netns");

	if (!dir)
		return false;
	while (!found && (d = readdir(dir))) {
		if (!run_prefix(d->d_name, prefix))
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", d->d_name);
		if (stat(path, &ns) < 0 || ns.st_dev != st->st_dev || ns.st_ino != st->st_ino)
			continue;
		found = run_owned(d->d_name);
	}
	closedir(dir);
	return found;
}

/* the initial network namespace's inode number, fixed (PROC_NET_INIT_INO): dynamic ones
 * start at 0xF0000000, so no other namespace can have it */
#define NETNS_INIT_INO 0xEFFFFFF9U

/* whether st is the host's namespace: PID 1's (when /proc/1 may be read: a sandbox may
 * forbid it), the initial one, or the one this process runs in (a run never changes
 * that one: its nodes and pods are namespaces of their own) */
static const char *host_namespace(const struct stat *st)
{
	struct stat ns;

	if (stat("/proc/1/ns/net", &ns) == 0 && ns.st_dev == st->st_dev && ns.st_ino == st->st_ino)
		return "PID 1's";
	if (st->st_ino == NETNS_INIT_INO)
		return "the initial namespace";
	if (stat("/proc/self/ns/net", &ns) == 0 && ns.st_dev == st->st_dev &&
	    ns.st_ino == st->st_ino)
		return "the one this tool runs in";
	return NULL;
}

int netns_check_owned(const char *name, const char *action, unsigned allow, char **err)
{
	struct stat st;
	const char *host;
	int fd = netns_open(name, err);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return err_errno(err, errno, "namespace %s", name);
	}
	close(fd);
	host = host_namespace(&st);
	if (host) {
		if (allow & NETNS_ALLOW_HOST)
			return 0;
		return err_set(err,
			       "refusing to %s %s: it is the host's network namespace (%s); "
			       "--allow-host-netns overrides",
			       action, name, host);
	}
	if (allow & NETNS_ALLOW_FOREIGN)
		return 0;
	/* by its name, /run/netns/ctr-XXXXXX-ROLE (what was just opened): the run's owner
	 * record, one access(); a path names no run, so every run namespace's is compared
	 * (a stat each: a cell checks ~10 namespaces, among ~100 of 20 groups at once) */
	if (strchr(name, '/') ? made_by_a_run(&st) : run_owned(name))
		return 0;
	return err_set(err,
		       "refusing to %s %s: no ctreset run created it (it is none of the "
		       "/run/netns/ctr-XXXXXX-* of a run with an owner recorded); "
		       "--allow-foreign-netns overrides",
		       action, name);
}
