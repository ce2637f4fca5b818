/* Exit codes shared by every C tool and bash script of ctreset (kselftest convention).
 * tools/lib/sh/exit.sh reads the CTR_EXIT_ lines of this file: keep one #define a line. */
#ifndef CTR_EXITCODES_H
#define CTR_EXITCODES_H

#define CTR_EXIT_PASS 0
#define CTR_EXIT_FAIL 1
#define CTR_EXIT_USAGE 2
#define CTR_EXIT_SKIP 4
/* ctreset-review's analysis: what it found (0 = nothing) */
#define CTR_EXIT_LEAK 5	 /* a segment reached the client with the backend's own address */
#define CTR_EXIT_RESET 6 /* ...and the client's RST answering it reset the backend's connection */

#endif
