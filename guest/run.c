/*
 * The program: start it with the job's argv/env/workdir/user, then supervise it as PID 1 — reap
 * every orphan, serve the host's stop/signal/resize requests, relay its stdio (relay.c), serve
 * exec sessions — until it exits.
 */
#include "kestrel.h"

#include <sys/syscall.h>
#include <sys/sysmacros.h>

static int main_tty = -1; /* pty master of the program (run -t) */

/* Runs in the child between fork and exec. Reports a failure through err_pipe as an errno and a
 * one-byte step, so the parent can tell the host what went wrong. */
void exec_child(const struct command *c, int err_pipe, unsigned uid, unsigned gid, const int stdio[3], int ctty)
{
	int report[2], high[3];
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	/* Move the three descriptors out of 0..2 first, so that no dup2 clobbers another's source. */
	for (int i = 0; i < 3; i++) {
		int fd = stdio[i] >= 0 ? stdio[i] : open("/dev/null", O_RDWR | O_CLOEXEC);

		high[i] = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10);
		if (high[i] < 0) {
			report[0] = errno, report[1] = 'd';
			goto out;
		}
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(high[i], i) < 0) {
			report[0] = errno, report[1] = 'd';
			goto out;
		}
	}
	/* The program may open /dev/stdout again (/proc/self/fd/1, nginx's log): its pipes and its
	 * terminal must be its own, as runc makes them. A failure only costs that reopen. */
	for (int i = 0; i < 3 && uid != 0; i++) {
		struct stat st;

		if (fstat(i, &st) == 0 && (S_ISFIFO(st.st_mode) || (S_ISCHR(st.st_mode) && major(st.st_rdev) >= 136 &&
									  major(st.st_rdev) <= 143)))
			(void)!fchown(i, uid, gid);
	}
	if (ctty && ioctl(0, TIOCSCTTY, 0) < 0) {
		report[0] = errno, report[1] = 't';
		goto out;
	}
	if (c->workdir && *c->workdir) {
		if (mkdir_p(c->workdir, 0755) < 0 || chdir(c->workdir) < 0) {
			report[0] = errno, report[1] = 'w';
			goto out;
		}
	}
	/* Raw system calls: the child has one thread, so musl's all-threads set*id machinery
	 * (__synccall, ~0.7 KB of kestrel) has nothing to do. */
	if (syscall(SYS_setgroups, 1, &gid) < 0 || syscall(SYS_setgid, gid) < 0 || syscall(SYS_setuid, uid) < 0) {
		report[0] = errno, report[1] = 'u';
		goto out;
	}
	environ = (char **)c->env;
	execvp(c->argv[0], (char *const *)c->argv);
	report[0] = errno, report[1] = 'x';
out:
	(void)!write(err_pipe, report, sizeof(report));
	_exit(report[1] == 'x' ? (report[0] == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC) : EXIT_SETUP);
}

/* The child could not exec: tell the host which step failed and why, and end the VM. */
static void __attribute__((noreturn)) report_start_failure(const int report[2])
{
	const char *what = "start";

	if (report[1] == 'x')
		die(report[0] == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC, "exec %s: %s", job.cmd.argv[0],
		    report[0] == ENOENT ? "executable file not found in $PATH" : strerror(report[0]));
	switch (report[1]) {
	case 'w': what = "chdir to working directory"; break;
	case 'u': what = "switch to user"; break;
	case 'd': what = "connect output channels"; break;
	case 't': what = "set the controlling terminal"; break;
	}
	die(EXIT_SETUP, "%s %s: %s", what, report[1] == 'w' ? job.cmd.workdir : (job.cmd.user ? job.cmd.user : ""),
	    strerror(report[0]));
}

/* A pipe whose end `mine` kestrel keeps and whose other end goes to the program (`theirs`). */
static int stdio_pipe(int for_input, int *mine, int *theirs)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return fail("pipe2", "stdio");
	*mine = for_input ? p[1] : p[0];
	*theirs = for_input ? p[0] : p[1];
	return 0;
}

/* The program's fds 0..2 and their relays to the channels: three pipes (stdin only with run -i,
 * else /dev/null), or one pseudo-terminal for all three (run -t), also bound on /dev/console. */
static int program_stdio(int stdio[3])
{
	struct winsize ws = { 0 };
	unsigned rows = 24, cols = 80;
	int mine, slave;
	char path[32];

	stdio[0] = stdio[1] = stdio[2] = -1;
	if (!job.tty) {
		if (stdin_fd >= 0 && (stdio_pipe(1, &mine, &stdio[0]) < 0 || relay_add(stdin_fd, mine, 1) < 0))
			return -1;
		if (stdio_pipe(0, &mine, &stdio[1]) < 0 || relay_add(mine, out_fd, 0) < 0)
			return -1;
		return stdio_pipe(0, &mine, &stdio[2]) < 0 ? -1 : relay_add(mine, err_fd, 0);
	}
	parse_pair(job.tty, &rows, &cols);
	ws.ws_row = rows;
	ws.ws_col = cols;
	if (open_pty(&main_tty, &slave, &ws) < 0)
		return -1;
	stdio[0] = stdio[1] = stdio[2] = slave;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", slave);
	if (mount(path, "/dev/console", NULL, MS_BIND, NULL) < 0)
		say("bind the terminal on /dev/console: %s", strerror(errno));
	if (relay_add(main_tty, out_fd, 0) < 0)
		return -1;
	return stdin_fd >= 0 ? relay_add(stdin_fd, main_tty, 0) : 0;
}

pid_t start_program(void)
{
	unsigned uid, gid;
	char home[256];
	int pipefd[2], report[2], stdio[3];
	pid_t pid;

	if (job.cmd.argc == 0)
		die(EXIT_SETUP, "no command specified: the image has no Entrypoint or Cmd and none was given");
	if (resolve_user(job.cmd.user, &uid, &gid, home, sizeof(home)) < 0)
		die(EXIT_SETUP, "unable to find user %s", job.cmd.user);
	prepare_env(&job.cmd, home);
	if (program_stdio(stdio) < 0)
		die(EXIT_SETUP, "cannot connect the program's stdio: %s", strerror(errno));
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die(EXIT_SETUP, "pipe2: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die(EXIT_SETUP, "fork: %s", strerror(errno));
	if (pid == 0)
		exec_child(&job.cmd, pipefd[1], uid, gid, stdio, job.tty != NULL);
	close(pipefd[1]);
	/* The program's ends are the program's: kept here, its output would never reach its end. */
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0 && (i == 0 || stdio[i] != stdio[i - 1]))
			close(stdio[i]);
	/* The pipe closes on exec (O_CLOEXEC): nothing to read means the program runs. */
	if (read(pipefd[0], report, sizeof(report)) == (ssize_t)sizeof(report)) {
		waitpid(pid, NULL, 0);
		report_start_failure(report);
	}
	close(pipefd[0]);
	return pid;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Host → guest requests, one per line: "STOP <signal> <grace-ms>", "SIGNAL <signal>", "RESIZE <rows> <cols>". */
static void handle_command(char *line, pid_t main_pid, long long *kill_deadline)
{
	char verb[16], sig[16];
	int grace = job.grace_ms;

	{
		/* "VERB ARG [NUMBER]" */
		char *sp = strchr(line, ' '), *sp2;

		if (!sp || sp - line >= (long)sizeof(verb))
			return;
		snprintf(verb, sizeof(verb), "%.*s", (int)(sp - line), line);
		sp2 = strchr(sp + 1, ' ');
		snprintf(sig, sizeof(sig), "%.*s", sp2 ? (int)(sp2 - sp - 1) : (int)strlen(sp + 1), sp + 1);
		if (sp2)
			grace = atoi(sp2 + 1);
	}
	if (strcmp(verb, "STOP") == 0) {
		int s = signal_by_name(sig);

		kill(-main_pid, s ? s : SIGTERM);
		kill(main_pid, s ? s : SIGTERM);
		*kill_deadline = now_ms() + grace;
	} else if (strcmp(verb, "RESIZE") == 0) {
		struct winsize ws = { 0 };
		unsigned rows, cols;

		if (main_tty >= 0 && relay_reads(main_tty) && parse_pair(line + 7, &rows, &cols) == 0) {
			ws.ws_row = rows;
			ws.ws_col = cols;
			ioctl(main_tty, TIOCSWINSZ, &ws);
		}
	} else if (strcmp(verb, "SIGNAL") == 0) {
		int s = signal_by_name(sig);

		if (s)
			kill(main_pid, s);
	}
}

/* Host requests arrive as lines; a line longer than the buffer is dropped, never half-run. */
static void read_commands(pid_t main_pid, long long *kill_deadline)
{
	static char cmd[256];
	static size_t cmd_len;
	ssize_t n = read(ctl_fd, cmd + cmd_len, sizeof(cmd) - 1 - cmd_len);
	char *nl;

	if (n <= 0)
		return;
	cmd_len += n;
	cmd[cmd_len] = '\0';
	while ((nl = strchr(cmd, '\n'))) {
		*nl = '\0';
		handle_command(cmd, main_pid, kill_deadline);
		cmd_len -= (nl + 1 - cmd);
		memmove(cmd, nl + 1, cmd_len + 1);
	}
	if (cmd_len == sizeof(cmd) - 1)
		cmd_len = 0;
}

/* Reaps every child that has ended; returns the program's status once it is among them, else -1. */
static int reap(pid_t main_pid)
{
	int status = -1, st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

		if (pid == main_pid)
			status = code;
		else
			exec_reap(pid, code);
	}
	return status;
}

/* Milliseconds until the stop grace ends (-1: no stop pending); at the end, SIGKILL. */
static int stop_timeout(pid_t main_pid, long long *kill_deadline)
{
	long long left;

	if (*kill_deadline < 0)
		return -1;
	left = *kill_deadline - now_ms();
	if (left > 0)
		return (int)left;
	kill(-main_pid, SIGKILL);
	kill(main_pid, SIGKILL);
	*kill_deadline = -1;
	return 0;
}

/* Waits for the program, reaping every orphan that reparents to PID 1 meanwhile, and serving
 * the control channel, the program's terminal and exec sessions. Returns the program's exit
 * status as the shell reports it. */
int supervise(pid_t main_pid)
{
	static struct pollfd fds[48];
	struct signalfd_siginfo si;
	sigset_t mask;
	int sfd, status;
	long long kill_deadline = -1;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die(EXIT_SETUP, "signalfd: %s", strerror(errno));
	while ((status = reap(main_pid)) < 0) {
		int timeout = stop_timeout(main_pid, &kill_deadline), nfds = 0, relay_at, exec_at;

		fds[nfds++] = (struct pollfd){ sfd, POLLIN, 0 };
		fds[nfds++] = (struct pollfd){ ctl_fd, POLLIN, 0 };
		relay_at = nfds;
		nfds += relay_poll_fds(fds + nfds, (int)(sizeof(fds) / sizeof(fds[0])) - nfds);
		exec_at = nfds;
		nfds += exec_poll_fds(fds + nfds, (int)(sizeof(fds) / sizeof(fds[0])) - nfds);
		if (poll(fds, nfds, timeout) < 0 && errno != EINTR)
			die(EXIT_SETUP, "poll: %s", strerror(errno));
		while (read(sfd, &si, sizeof(si)) == sizeof(si))
			;
		relay_handle(fds + relay_at, exec_at - relay_at);
		exec_handle(fds + exec_at, nfds - exec_at);
		if (fds[1].revents & POLLIN)
			read_commands(main_pid, &kill_deadline);
	}
	relay_drain(0);
	close(sfd);
	return status;
}

/* Once the program is gone, the rest of the VM's processes go with it, as in a container. */
void end_everything(void)
{
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	relay_drain(1);
	/* What the program wrote must be in the host's files when stop returns: sync() returns once
	 * every filesystem (the writable layer's disk, volumes) has written and flushed its data, so
	 * a syncfs() of the layer after it would only flush a clean disk again. An ephemeral layer
	 * is left out (sync_at_end). */
	sync_at_end();
}
