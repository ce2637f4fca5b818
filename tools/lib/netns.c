#include "netns.h"
#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
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
