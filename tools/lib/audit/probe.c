/* fork, exec bash with the probe script, read its two lines */
#include "probe.h"
#include "base/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char script[] = "set -u\n"
			     "unset CTR_BEHAVIOURS CTR_BEHAVIOURS_SOURCE CTR_BEHAVIOURS_PROBE\n"
			     "d=$(mktemp -d /tmp/ctreset-audit-probe-XXXXXX) || exit 1\n"
			     "trap 'rm -rf \"$d\"' EXIT\n"
			     ". \"$1\" || exit 1\n"
			     "ctr_behaviours \"$d\"\n"
			     "printf '%s\\n%s\\n' \"$CTR_BEHAVIOURS\" \"$CTR_BEHAVIOURS_SOURCE\"\n";

int audit_probe(const char *lib_sh, char *behaviours, size_t blen, char *source, size_t slen,
		char **err)
{
	int fd[2], st;
	pid_t pid;
	FILE *f;
	char line[1024];
	int got = 0;

	behaviours[0] = source[0] = '\0';
	if (access(lib_sh, R_OK) < 0)
		return err_errno(err, errno, "--probe needs the bench's %s", lib_sh);
	if (pipe(fd) < 0)
		return err_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return err_errno(err, errno, "fork");
	}
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execlp("bash", "bash", "-c", script, "ctreset-audit-probe", lib_sh, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	f = fdopen(fd[0], "r");
	if (!f) {
		close(fd[0]);
		waitpid(pid, &st, 0);
		return err_errno(err, errno, "fdopen");
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (got == 0)
			snprintf(behaviours, blen, "%s", line);
		else if (got == 1)
			snprintf(source, slen, "%s", line);
		got++;
	}
	fclose(f);
	waitpid(pid, &st, 0);
	if (got < 2 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return err_set(err, "the probe (bash, %s's ctr_behaviours) %s", lib_sh,
			       WIFEXITED(st) && WEXITSTATUS(st) == 127 ? "could not run"
			       : got < 2			       ? "printed nothing"
								       : "failed");
	return 0;
}
