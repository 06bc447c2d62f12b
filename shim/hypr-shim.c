/*
 * hypr-shim DIR: supervises one container's VM (shim/PROTOCOL.md). It starts the helpers and the
 * hypervisor that DIR/shim.args names, keeps the container's log, serves clients on DIR/shim.sock
 * and writes DIR/exit.json when the VM ends. It needs nothing from hyprd once started, so a
 * container keeps running and logging while hyprd is down.
 */
#include <dirent.h>

#include "hypr-shim.h"

struct shim S;

static const char *const channel_names[CH_COUNT] = { "control", "stdout", "stderr", "exec", "stdin" };

static int push(char ***v, int *n, char *s)
{
	char **p = realloc(*v, sizeof(char *) * (size_t)(*n + 2));
	if (!p)
		return -1;
	p[(*n)++] = s;
	p[*n] = NULL;
	*v = p;
	return 0;
}

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return NULL;
	}
	char *data = malloc((size_t)st.st_size + 1);
	ssize_t n = data ? read(fd, data, (size_t)st.st_size) : -1;
	int e = errno;
	close(fd);
	if (n < 0) {
		free(data);
		return errno = e, NULL;
	}
	data[n] = 0;
	*len = (size_t)n;
	return data;
}

static int bad_args(char *err, size_t errlen, const char *path, const char *fmt, const char *what)
{
	int n = snprintf(err, errlen, "%s: ", path);
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, fmt, what);
	return -1;
}

static int parse_record(char *rec, const char *path, char *err, size_t errlen)
{
	char k = rec[0], *v = rec + 2;
	struct helper *h = S.nhelpers ? &S.helpers[S.nhelpers - 1] : NULL;
	switch (k) {
	case 'V':
		S.vmm = v;
		return push(&S.vmm_argv, &S.vmm_argc, v);
	case 'v':
		return push(&S.vmm_argv, &S.vmm_argc, v);
	case 'H':
		S.vmm_out = v;
		return 0;
	case 'K':
		S.console = v;
		return 0;
	case 'N':
		S.vmm_name = v;
		return 0;
	case 'F': {
		struct helper *all = realloc(S.helpers, sizeof(*all) * (size_t)(S.nhelpers + 1));
		if (!all)
			return -1;
		S.helpers = all;
		h = &S.helpers[S.nhelpers++];
		memset(h, 0, sizeof(*h));
		h->bin = v;
		return push(&h->argv, &h->argc, v);
	}
	case 'f':
	case 'w':
		if (!h)
			return bad_args(err, errlen, path, "%s= comes before any F= (the helper it belongs to)", k == 'f' ? "f" : "w");
		return k == 'f' ? push(&h->argv, &h->argc, v) : push((char ***)&h->waits, &h->nwaits, v);
	case 'c': {
		char *tab = strchr(v, '\t');
		if (tab)
			*tab = 0;
		for (int i = 0; i < CH_COUNT; i++)
			if (tab && strcmp(v, channel_names[i]) == 0) {
				S.ch[i].path = tab + 1;
				return 0;
			}
		if (!tab)
			return bad_args(err, errlen, path, "c=%s is not NAME<tab>PATH", v);
		return bad_args(err, errlen, path, "channel '%s' is not one of control stdout stderr exec stdin", v);
	}
	case 'G': {
		char *end;
		long ms = strtol(v, &end, 10);
		if (!*v || *end || ms < 0)
			return bad_args(err, errlen, path, "G=%s is not a number of milliseconds", v);
		S.grace_ms = ms < GRACE_MAX_MS ? ms : GRACE_MAX_MS;
		return 0;
	}
	case 'B':
		S.keep_early = strcmp(v, "1") == 0;
		return 0;
	default:
		return 0; /* a key from a newer hyprd */
	}
}

/* DIR/shim.args: NUL-terminated K=value records (PROTOCOL.md). The values stay in the file's buffer. */
static int parse_args(char *err, size_t errlen)
{
	char *path = path_in_dir("shim.args");
	size_t len = 0;
	char *data = path ? read_file(path, &len) : NULL;
	if (!data) {
		snprintf(err, errlen, "%s: %s", path ? path : S.dir, strerror(errno));
		return -1;
	}
	S.grace_ms = 10000;
	int index = 0;
	for (char *p = data, *next; p < data + len; p = next) {
		next = p + strlen(p) + 1; /* before parse_record, which may cut the value (c=) */
		if (!*p)
			continue;
		index++;
		if (p[1] != '=') {
			char what[80];
			snprintf(what, sizeof(what), "record %d (\"%.40s\")", index, p);
			return bad_args(err, errlen, path, "%s is not K=value", what);
		}
		if (parse_record(p, path, err, errlen) < 0) {
			if (!*err)
				snprintf(err, errlen, "%s: out of memory", path);
			return -1;
		}
	}
	if (!S.vmm)
		return bad_args(err, errlen, path, "%s", "no V= record (the hypervisor to run)");
	if (!S.vmm_name) {
		const char *slash = strrchr(S.vmm, '/');
		S.vmm_name = slash ? slash + 1 : S.vmm;
	}
	free(path);
	return 0;
}

/* HYPR_VMM_THP from hyprd's environment (it passes HYPR_* on): on (the default) or off. */
static int parse_env(char *err, size_t errlen)
{
	const char *thp = getenv("HYPR_VMM_THP");
	if (!thp || !*thp || strcmp(thp, "on") == 0)
		return 0;
	if (strcmp(thp, "off") == 0) {
		S.vmm_thp_off = 1;
		return 0;
	}
	snprintf(err, errlen, "HYPR_VMM_THP=%.40s in hyprd's environment is neither on nor off", thp);
	return -1;
}

/* A start that failed: exit.json says why, what was started ends, the shim exits 1. */
static void fail_start(const char *error)
{
	note("start failed: %s", error);
	if (S.vm_pid > 0 && !S.vm_exited) {
		kill(S.vm_pid, SIGKILL);
		waitpid(S.vm_pid, NULL, 0);
	}
	write_exit(255, NULL, error);
	unlink_sockets();
	end_helpers();
	exit(1);
}

/* The VM has ended and its output is read: the log's last lines, exit.json, X, then nothing left. */
static void finish(void)
{
	log_flush();
	write_vm_exit();
	unlink_sockets();
	end_helpers();
	exit(0);
}

static void start_vm(void)
{
	char err[512];
	int out = -1;
	if (S.vmm_out && (out = open(S.vmm_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, sizeof(err), "open %s: %s", S.vmm_out, strerror(errno));
		fail_start(err);
	}
	S.vm_pid = spawn(S.vmm_argv, S.vmm_name, out, tune_hypervisor, err, sizeof(err));
	if (out >= 0)
		close(out);
	if (S.vm_pid < 0) {
		S.vm_pid = 0;
		fail_start(err);
	}
	write_state();
	S.phase = P_RUNNING;
}

/* Helpers (virtiofsd) serve once their `w` paths exist; the hypervisor starts only then. */
static void helpers_check(void)
{
	char err[600];
	if (S.stop_deadline)
		fail_start("stopped before the hypervisor started");
	for (int i = 0; i < S.nhelpers; i++) {
		struct helper *h = &S.helpers[i];
		for (int j = 0; j < h->nwaits; j++) {
			if (access(h->waits[j], F_OK) == 0)
				continue;
			if (h->exited) {
				snprintf(err, sizeof(err), "%s exited (%s %d) before it created %s", h->bin,
					 WIFSIGNALED(h->status) ? "signal" : "exit",
					 WIFSIGNALED(h->status) ? WTERMSIG(h->status) : WEXITSTATUS(h->status), h->waits[j]);
				fail_start(err);
			}
			if (now_ms() - S.helpers_since >= HELPER_WAIT_MS) {
				snprintf(err, sizeof(err), "%s did not create %s within %d s", h->bin, h->waits[j],
					 HELPER_WAIT_MS / 1000);
				fail_start(err);
			}
			return;
		}
	}
	start_vm();
}

static void tick(void)
{
	if (S.phase == P_HELPERS)
		helpers_check();
	if (S.phase == P_RUNNING) {
		if (S.vm_exited) {
			S.phase = P_DRAIN;
			S.drain_deadline = now_ms() + DRAIN_MS;
			/* A hypervisor that connected, wrote and ended at once may still wait in a backlog. */
			for (int i = 0; i < CH_COUNT; i++)
				channel_accept(&S.ch[i]);
		} else if (S.stop_deadline && now_ms() >= S.stop_deadline) {
			note("the stop's grace + %d s passed: SIGKILL to the hypervisor", STOP_KILL_EXTRA_MS / 1000);
			kill(S.vm_pid, SIGKILL);
			S.killed_by_stop = 1;
			S.stop_deadline = 0;
		}
	}
	if (S.phase == P_DRAIN && (outputs_ended() || now_ms() >= S.drain_deadline))
		finish();
}

static int poll_timeout(void)
{
	long long left;
	if (S.phase == P_HELPERS)
		return 10;
	if (S.phase == P_DRAIN)
		left = S.drain_deadline - now_ms();
	else if (S.stop_deadline)
		left = S.stop_deadline - now_ms();
	else
		return -1;
	return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/*
 * Descriptors the shim was started with, other than 0–2 and the ready pipe, are closed: the
 * hypervisor and helpers would inherit them and hold them for the container's life.
 */
static void close_inherited(int keep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fds[256], n = 0;
	if (!d)
		return;
	while ((e = readdir(d)) && n < (int)(sizeof(fds) / sizeof(fds[0]))) {
		int fd = atoi(e->d_name);
		if (fd > 2 && fd != keep && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* fds 0–2: /dev/null and DIR/shim.log, whatever the shim was started with. */
static void own_stdio(void)
{
	int nul = open("/dev/null", O_RDWR);
	if (nul >= 0 && nul != 0) {
		dup2(nul, 0);
		close(nul);
	}
	char *log = path_in_dir("shim.log");
	int fd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
	free(log);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/*
 * `hypr-shim -`: a shim made ahead of time. hyprd is a large process, and forking it costs
 * milliseconds (tens on a loaded host) that a start should not wait for; a spare, forked while
 * nothing waits, is given its DIR on fd 3 as one line and becomes `hypr-shim DIR` (an exec: same
 * pid, the ready pipe kept, the command line naming DIR as findShimProcesses expects). The end of
 * fd 3 before a line (hyprd gone, or it no longer needs a spare) ends it.
 */
static int await_dir(void)
{
	char dir[PATH_MAX], self[PATH_MAX];
	size_t n = 0;
	/* What hyprd had open when it forked (a lock, a TAP) must not be held for as long as it waits. */
	close_inherited(3);
	while (n < sizeof(dir) - 1) {
		ssize_t r = read(3, dir + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		if (dir[n] == '\n')
			break;
		n++;
	}
	dir[n] = 0;
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n == 0 || len <= 0)
		return 1;
	self[len] = 0;
	char *const args[] = { self, dir, NULL };
	execv(self, args);
	return 127;
}

int main(int argc, char **argv)
{
	char err[600] = "";
	struct stat st;
	if (argc == 2 && strcmp(argv[1], "-") == 0)
		return await_dir();
	if (argc != 2) {
		fprintf(stderr, "usage: hypr-shim DIR (see shim/PROTOCOL.md)\n");
		return 2;
	}
	/*
	 * fd 3, when it is a pipe (Node gives a socket pair), is hyprd waiting for "ready": take it
	 * before any open can reuse the number.
	 */
	int ready = fstat(3, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) ? 3 : -1;
	if (ready >= 0)
		fcntl(ready, F_SETFD, FD_CLOEXEC);
	close_inherited(ready);
	S.dir = argv[1];
	S.sock = S.log_fd = -1;
	S.sigpipe[0] = S.sigpipe[1] = -1;
	for (int i = 0; i < CH_COUNT; i++) {
		S.ch[i].name = channel_names[i];
		S.ch[i].lfd = S.ch[i].fd = -1;
	}
	if (stat(S.dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "hypr-shim: %s is not a directory\n", S.dir);
		return 1;
	}
	own_stdio();
	if (signals_init() < 0) {
		snprintf(err, sizeof(err), "signals: %s", strerror(errno));
		fail_start(err);
	}
	S.start_ticks = start_ticks(getpid());
	write_state();
	if (parse_args(err, sizeof(err)) < 0 || parse_env(err, sizeof(err)) < 0)
		fail_start(err);
	S.early_on = S.keep_early;
	char *log = path_in_dir("container.log");
	S.log_fd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
	if (S.log_fd < 0) {
		snprintf(err, sizeof(err), "open %s: %s", log ? log : "container.log", strerror(errno));
		fail_start(err);
	}
	free(log);
	char *sock = path_in_dir("shim.sock");
	if (!sock || (S.sock = listen_unix(sock, 64, err, sizeof(err))) < 0)
		fail_start(err);
	free(sock);
	for (int i = 0; i < CH_COUNT; i++)
		if (S.ch[i].path && (S.ch[i].lfd = listen_unix(S.ch[i].path, 1, err, sizeof(err))) < 0)
			fail_start(err);
	if (ready >= 0) {
		if (write(ready, "ready\n", 6) != 6)
			note("write ready on fd 3: %s", strerror(errno));
		close(ready);
	}
	S.phase = P_HELPERS;
	S.helpers_since = now_ms();
	for (int i = 0; i < S.nhelpers; i++)
		if ((S.helpers[i].pid = spawn(S.helpers[i].argv, S.helpers[i].bin, -1, NULL, err, sizeof(err))) < 0) {
			S.helpers[i].pid = 0;
			fail_start(err);
		}
	helpers_check();
	for (;;) {
		int nfds;
		struct pollfd *fds = serve_poll(&nfds, S.phase == P_DRAIN);
		int r = poll(fds, (nfds_t)nfds, poll_timeout());
		if (r < 0 && errno != EINTR)
			note("poll: %s", strerror(errno));
		if (r > 0)
			serve_events(fds, nfds);
		tick();
	}
}
