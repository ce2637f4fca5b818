/* ctreset-workload: the pod workload. The server (backend pod) streams a paced payload to
 * the one connection it accepts; the client (client pod) connects to the service VIP and
 * reads. Each records how its connection ended in a key=value file, which is the bench's
 * evidence that a connection was reset, not just that packets flew. Everything is bounded
 * by --timeout. Two more modes measure rather than stream (bench/scale): "sink" accepts and
 * closes connections, "latency" times --count connects (SYN to SYN-ACK through the VIP, so
 * through every nat rule the node's first packet meets). */
#include "base/err.h"
#include "base/exitcodes.h"
#include "live/stream.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static struct stream_ctl ctl;

static void on_stop(int sig)
{
	(void)sig;
	stream_ctl_stop(&ctl);
}

/* --resume-signal: SIGUSR1 ends the stream's pause at once */
static void on_resume(int sig)
{
	(void)sig;
	stream_ctl_resume(&ctl);
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: ctreset-workload server --listen IP:PORT --result FILE [options]\n"
	       "       ctreset-workload client --connect IP:PORT --result FILE [options]\n"
	       "       ctreset-workload sink --listen IP:PORT --result FILE [options]\n"
	       "       ctreset-workload latency --connect IP:PORT --result FILE [--count N]\n"
	       "\n"
	       "The bench's pod workload. The server accepts one connection and streams a paced\n"
	       "payload until stopped (SIGTERM/SIGINT), reset, or the timeout; the client reads\n"
	       "until the same. Each writes how its connection ended to FILE (key=value):\n"
	       "end=reset|closed|stopped|timeout|refused|error, errno, bytes, local, peer.\n"
	       "\n"
	       "sink accepts connections and closes each at once until stopped or the timeout\n"
	       "(accepted=N). latency makes --count connections one after the other, each on a\n"
	       "new source port, and times each connect() (SYN to SYN-ACK): count, ok, failed,\n"
	       "min_us, p50_us, p90_us, p99_us, max_us; exit 1 if any failed.\n"
	       "\n"
	       "options:\n"
	       "  --timeout MS     hard bound on the whole run (default 3000, max 600000)\n"
	       "  --interval MS    server: pause between chunks (default 5)\n"
	       "  --chunk BYTES    server: bytes per chunk (default 1024)\n"
	       "  --count N        latency: connections to time (default 100, max 100000)\n"
	       "  --pause-after MS server: after streaming MS, send nothing for --pause MS, then\n"
	       "  --pause MS       stream again (an idle connection, as between requests)\n"
	       "  --resume-signal  server: SIGUSR1 ends the pause at once (--pause is then its\n"
	       "                   bound; a SIGUSR1 outside the pause is ignored): for a parent\n"
	       "                   that acts in the pause and lets the stream resume when done\n"
	       "  --keepalive SEC  client: TCP keepalive, first probe after SEC idle, then every\n"
	       "                   SEC (1..7200; the fix applications use against idle timeouts)\n"
	       "  --stop-grace MS  client: once stopped, send FIN and read until the server's FIN\n"
	       "                   for at most MS (default 200; 0..60000): closing with unread\n"
	       "                   data would send an RST of the bench's own. A server that is\n"
	       "                   gone (reset) never answers, so the bench keeps this short\n"
	       "  --daemon         server, sink: return once listening, keep serving in the\n"
	       "                   background\n"
	       "  --pidfile FILE   write the serving process's pid\n"
	       "  --ready-fd FD    server, sink: write a line to FD (inherited open) once\n"
	       "                   listening, then close it (for a parent that waits on it)\n"
	       "  -h, --help       this text\n"
	       "exit: 0 connection ended as expected (stopped/closed/timeout), 1 reset or error,\n"
	       "      2 usage\n");
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_stop};
	struct stream_opts o;
	char *err = NULL;

	if (stream_parse(argc, argv, &o, &err) < 0)
		die(CTR_EXIT_USAGE, err);
	if (o.help) {
		usage(stdout);
		return CTR_EXIT_PASS;
	}
	if (stream_ctl_init(&ctl, &err) < 0)
		die(CTR_EXIT_FAIL, err);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (o.resume_signal) {
		sa.sa_handler = on_resume;
		sigaction(SIGUSR1, &sa, NULL);
	}
	signal(SIGPIPE, SIG_IGN);
	return stream_run(&o, &ctl);
}
