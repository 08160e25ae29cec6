/*
 * test-self.c -- the cached pid is the caller's, in the parent and in a
 * child forked after the cache was filled.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "self.h"
#include "test.h"

/* In the child: exit 0 when the cache was refreshed by the fork. */
static void
test_self_child(pid_t parent)
{

	_exit(self_pid() == getpid() && self_pid() != parent ? 0 : 1);
}

void
test_self(void)
{
	pid_t parent, child;
	int status = -1;

	parent = self_pid();
	T_EQ_INT(parent, getpid());
	T_EQ_INT(self_pid(), parent); /* cached: the same on the next call */
	child = fork();
	if (child == 0)
		test_self_child(parent);
	T_TRUE(child > 0);
	if (child > 0) {
		T_EQ_INT(waitpid(child, &status, 0), child);
		T_TRUE(WIFEXITED(status));
		T_EQ_INT(WEXITSTATUS(status), 0);
	}
	T_EQ_INT(self_pid(), getpid()); /* the parent keeps its own */
}
