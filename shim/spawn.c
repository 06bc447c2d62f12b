/* Starting the helpers and the hypervisor, signals through a self-pipe, reaping, state.json. */
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "hypr-shim.h"

static void on_signal(int sig)
{
	int e = errno;
	char c = (char)sig;
	/* A full pipe already holds a wake-up: dropping this one loses nothing (reap loops). */
	if (write(S.sigpipe[1], &c, 1) < 0) {
	}
	errno = e;
}

/* SIGCHLD and SIGTERM wake the poll loop through a pipe; SIGINT, SIGHUP and SIGPIPE are ignored. */
int signals_init(void)
{
	struct sigaction sa;
	if (pipe2(S.sigpipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
		return -1;
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/*
 * Run in the hypervisor's process before exec (docs/vm.md, "Host memory per container"). glibc
 * gives QEMU's vCPU thread an arena of its own and glib 2.74 keeps per-thread slice magazines: with
 * one arena and plain malloc an idle QEMU holds 1 MiB less, at no measured cost in CPU. Set only
 * where the shim's own environment does not. HYPR_VMM_THP=off turns transparent huge pages off
 * (inherited across exec): 10 MiB less per idle container, but 4 KiB faults instead of 2 MiB ones
 * cost a TCG boot here about 40 % more CPU, hence opt-in.
 */
void tune_hypervisor(void)
{
	setenv("MALLOC_ARENA_MAX", "1", 0);
	setenv("G_SLICE", "always-malloc", 0);
#ifdef __linux__
	if (S.vmm_thp_off && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
		fprintf(stderr, "hypr-shim: prctl PR_SET_THP_DISABLE: %s (huge pages stay on)\n", strerror(errno));
#endif
}

/*
 * fork + exec with stdin /dev/null and stdout+stderr on out_fd (-1: the shim's own, shim.log);
 * in_child (or NULL) runs just before the exec. The child dies with the shim (PR_SET_PDEATHSIG),
 * so a kill -9 of the shim leaves no hypervisor. An exec failure comes back through a
 * close-on-exec pipe as "NAME: not found" and the like.
 */
pid_t spawn(char **argv, const char *name, int out_fd, void (*in_child)(void), char *err, size_t errlen)
{
	int ep[2];
	pid_t parent = getpid();
	if (pipe2(ep, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "%s: pipe: %s", name, strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "%s: fork: %s", name, strerror(errno));
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (pid == 0) {
		int e;
#ifdef __linux__
		prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
		/* The shim may have died between fork and prctl: then nobody would kill us. */
		if (getppid() != parent)
			_exit(127);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0 && nul != 0) {
			dup2(nul, 0);
			close(nul);
		}
		if (out_fd >= 0) {
			dup2(out_fd, 1);
			dup2(out_fd, 2);
		}
		if (in_child)
			in_child();
		execvp(argv[0], argv);
		e = errno;
		if (write(ep[1], &e, sizeof(e)) < 0) {
		}
		_exit(127);
	}
	close(ep[1]);
	int e = 0;
	ssize_t r;
	while ((r = read(ep[0], &e, sizeof(e))) < 0 && errno == EINTR) {
	}
	close(ep[0]);
	if (r == (ssize_t)sizeof(e)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
		}
		if (e == ENOENT)
			snprintf(err, errlen, "%s: not found", name);
		else
			snprintf(err, errlen, "%s: %s", name, strerror(e));
		return -1;
	}
	return pid;
}

/* Collects every ended child: the hypervisor's status decides the exit, a helper's is noted. */
void reap(void)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == S.vm_pid) {
			S.vm_exited = 1;
			S.vm_status = status;
			continue;
		}
		for (int i = 0; i < S.nhelpers; i++) {
			struct helper *h = &S.helpers[i];
			if (h->pid != pid)
				continue;
			h->exited = 1;
			h->status = status;
			if (S.phase == P_RUNNING)
				note("helper %s (pid %d) ended: %s %d", h->bin, pid,
				     WIFSIGNALED(status) ? "signal" : "exit",
				     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		}
	}
}

/* Field 22 of /proc/PID/stat: clock ticks since boot, which tells a process from a later one with its pid. */
unsigned long long start_ticks(pid_t pid)
{
	char path[64], st[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, st, sizeof(st) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	st[n] = 0;
	/* The command name (field 2) may hold spaces and parentheses: count from the last ')'. */
	char *p = strrchr(st, ')');
	if (!p)
		return 0;
	/* p is at the ')' ending field 2: each space found starts the next field. */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

int write_state(void)
{
	static char started[40];
	char json[256];
	int n;
	if (!started[0])
		iso_time(started, sizeof(started), 0);
	if (S.vm_pid > 0)
		n = snprintf(json, sizeof(json),
			     "{\"pid\":%d,\"pidStartTicks\":%llu,\"startedAt\":\"%s\",\"vmPid\":%d,\"vmStartTicks\":%llu}",
			     getpid(), S.start_ticks, started, S.vm_pid, start_ticks(S.vm_pid));
	else
		n = snprintf(json, sizeof(json), "{\"pid\":%d,\"pidStartTicks\":%llu,\"startedAt\":\"%s\"}", getpid(),
			     S.start_ticks, started);
	char *path = path_in_dir("state.json");
	int r = path ? write_atomic(path, json, (size_t)n, 0) : -1;
	if (r < 0)
		note("write %s/state.json: %s", S.dir, strerror(errno));
	free(path);
	return r;
}

/* The helpers go last (the hypervisor needed them): SIGTERM, SIGKILL a second later. */
void end_helpers(void)
{
	int live = 0;
	reap();
	for (int i = 0; i < S.nhelpers; i++)
		if (S.helpers[i].pid > 0 && !S.helpers[i].exited && kill(S.helpers[i].pid, SIGTERM) == 0)
			live++;
	long long until = now_ms() + HELPER_TERM_MS;
	while (live > 0 && now_ms() < until) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		reap();
		live = 0;
		for (int i = 0; i < S.nhelpers; i++)
			live += S.helpers[i].pid > 0 && !S.helpers[i].exited;
	}
	for (int i = 0; i < S.nhelpers; i++) {
		struct helper *h = &S.helpers[i];
		if (h->pid > 0 && !h->exited) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
			h->exited = 1;
		}
	}
}

const char *signal_name(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = { { SIGHUP, "SIGHUP" },   { SIGINT, "SIGINT" },   { SIGQUIT, "SIGQUIT" }, { SIGILL, "SIGILL" },
		      { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" }, { SIGBUS, "SIGBUS" },   { SIGFPE, "SIGFPE" },
		      { SIGKILL, "SIGKILL" }, { SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
		      { SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" }, { SIGXCPU, "SIGXCPU" },
		      { SIGSYS, "SIGSYS" } };
	static char other[24];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	snprintf(other, sizeof(other), "signal %d", sig);
	return other;
}
