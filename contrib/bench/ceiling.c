/*
 * ceiling.c -- the FastCGI ceiling for make bench: the least a libfcgi
 * responder can do per request. It reads the POST body (about 200 bytes in
 * the benchmark) and answers 100 bytes of JSON with the headers the
 * service sends. Started like mfa.fcgi (the listening socket on FD 0), it
 * pre-forks $BENCH_PROCS processes (default 4) on that socket, so it runs
 * behind the web server with the service's process count. Like the
 * service, it closes each connection without libfcgi's lingering poll
 * once the request's stdin is read to its end.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

static const char ceiling_reply[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n"
    "Pragma: no-cache\r\n"
    "\r\n"
    "{\"challenge_type\":\"oob\",\"binding_method\":\"prompt\","
    "\"oob_code\":\"0123456789abcdefghijklmnopqrstuvwxyzABCDEFG\"}";

static volatile sig_atomic_t ceiling_stop;

static void
ceiling_on_term(int sig)
{
	(void)sig;
	ceiling_stop = 1;
}

static void
ceiling_serve(void)
{
	FCGX_Request r;
	char body[4096];
	int n;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		_exit(1);
	while (FCGX_Accept_r(&r) == 0) {
		while ((n = FCGX_GetStr(body, sizeof(body), r.in)) > 0)
			;
		FCGX_PutStr(ceiling_reply, (int)sizeof(ceiling_reply) - 1,
		    r.out);
		/* stdin is read to its end: close without libfcgi's
		 * lingering poll, as mfa.fcgi does (worker_finish) */
		if (n == 0 && FCGX_HasSeenEOF(r.in))
			(void)FCGX_Detach(&r);
		FCGX_Finish_r(&r);
	}
	_exit(0);
}

int
main(void)
{
	struct sigaction sa;
	const char *e = getenv("BENCH_PROCS");
	int procs = e != NULL ? atoi(e) : 4, i;
	pid_t *kids;

	if (procs < 1 || procs > 256)
		procs = 4;
	if ((kids = calloc((size_t)procs, sizeof(*kids))) == NULL)
		return 1;
	for (i = 0; i < procs; i++)
		if ((kids[i] = fork()) == 0)
			ceiling_serve();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ceiling_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!ceiling_stop)
		pause();
	for (i = 0; i < procs; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	for (i = 0; i < procs; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, 0);
	return 0;
}
