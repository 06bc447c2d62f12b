/*
 * hypr-shim DIR: supervises one container's VM (shim/PROTOCOL.md). It starts the helpers and the
 * hypervisor that DIR/shim.args names, keeps the container's log, serves clients on DIR/shim.sock
 * and writes DIR/exit.json when the VM ends. It needs nothing from hyprd once started, so a
 * container keeps running and logging while hyprd is down.
 */
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
		S.grace_ms = ms;
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

static void unlink_sockets(void)
{
	char *sock = path_in_dir("shim.sock");
	if (sock && S.sock >= 0)
		unlink(sock);
	free(sock);
	for (int i = 0; i < CH_COUNT; i++)
		if (S.ch[i].path)
			unlink(S.ch[i].path);
}

/* {"exitCode":N,"guestError":…,"error":…,"finishedAt":…}, written once, atomically, then sent as X. */
static void write_exit(int code, const char *guest_error, const char *error)
{
	size_t cap = 160 + 6 * ((guest_error ? strlen(guest_error) : 0) + (error ? strlen(error) : 0));
	char *json = malloc(cap), t[40];
	if (!json) {
		note("out of memory for exit.json");
		return;
	}
	size_t n = (size_t)snprintf(json, cap, "{\"exitCode\":%d", code);
	if (guest_error) {
		n += (size_t)snprintf(json + n, cap - n, ",\"guestError\":\"");
		n += json_escape(json + n, guest_error, strlen(guest_error));
		json[n++] = '"';
	}
	if (error) {
		n += (size_t)snprintf(json + n, cap - n, ",\"error\":\"");
		n += json_escape(json + n, error, strlen(error));
		json[n++] = '"';
	}
	iso_time(t, sizeof(t), 0);
	n += (size_t)snprintf(json + n, cap - n, ",\"finishedAt\":\"%s\"}", t);
	char *path = path_in_dir("exit.json");
	if (!path || write_atomic(path, json, n, 1) < 0)
		note("write %s/exit.json: %s", S.dir, strerror(errno));
	free(path);
	note("exit: %.*s", (int)n, json);
	clients_finish(json, n);
	free(json);
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

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
}

/* The console line from "Kernel panic" to its end, when the console log has one. */
static int find_panic(char *line, size_t len)
{
	static const char mark[] = "Kernel panic";
	char *w = S.console ? malloc(READ_CHUNK) : NULL;
	int fd = w ? open(S.console, O_RDONLY | O_CLOEXEC) : -1, found = 0;
	size_t have = 0;
	while (fd >= 0) {
		ssize_t n = read(fd, w + have, READ_CHUNK - have);
		if (n > 0)
			have += (size_t)n;
		char *m = memmem(w, have, mark, sizeof(mark) - 1);
		if (m && m != w) {
			/* Move it to the front, so that the rest of its line fits. */
			have -= (size_t)(m - w);
			memmove(w, m, have);
			continue;
		}
		if (m && (n <= 0 || have >= len || memchr(w, '\n', have))) {
			size_t k = 0;
			while (k < have && k < len - 1 && w[k] != '\n')
				k++;
			memcpy(line, w, k);
			line[k] = 0;
			trim(line);
			found = 1;
			break;
		}
		if (n <= 0)
			break;
		if (!m && have >= sizeof(mark)) {
			memmove(w, w + have - (sizeof(mark) - 1), sizeof(mark) - 1);
			have = sizeof(mark) - 1;
		}
	}
	if (fd >= 0)
		close(fd);
	free(w);
	return found;
}

/* The last non-empty line the hypervisor wrote (H), or "no message". */
static void last_line(char *line, size_t len)
{
	char tail[4096];
	int fd = S.vmm_out ? open(S.vmm_out, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	ssize_t n = 0;
	snprintf(line, len, "no message");
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0) {
		off_t at = st.st_size > (off_t)sizeof(tail) ? st.st_size - (off_t)sizeof(tail) : 0;
		n = pread(fd, tail, sizeof(tail) - 1, at);
	}
	close(fd);
	if (n <= 0)
		return;
	tail[n] = 0;
	for (char *end = tail + n; end > tail;) {
		char *start = end;
		while (start > tail && start[-1] != '\n')
			start--;
		*end = 0;
		trim(start);
		if (start[0]) {
			size_t k = strlen(start) < len - 1 ? strlen(start) : len - 1;
			memcpy(line, start, k);
			line[k] = 0;
			return;
		}
		end = start > tail ? start - 1 : tail;
	}
}

/* The VM has ended and its output is read: the log's last lines, exit.json, X to every client. */
static void finish(void)
{
	char error[1200], line[512], how[32];
	log_flush();
	if (S.have_exit) {
		write_exit(S.exit_code, S.guest_error, NULL);
	} else if (S.killed_by_stop) {
		write_exit(137, S.guest_error, NULL);
	} else {
		if (find_panic(line, sizeof(line))) {
			snprintf(error, sizeof(error), "the guest kernel panicked: %s", line);
		} else if (!WIFEXITED(S.vm_status) || WEXITSTATUS(S.vm_status) != 0) {
			if (WIFSIGNALED(S.vm_status))
				snprintf(how, sizeof(how), "%s", signal_name(WTERMSIG(S.vm_status)));
			else
				snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(S.vm_status));
			last_line(line, sizeof(line));
			snprintf(error, sizeof(error), "%s failed (%s): %s", S.vmm_name, how, line);
		} else {
			snprintf(error, sizeof(error), "the VM ended without reporting an exit status%s%.1000s",
				 S.guest_error ? ": " : "", S.guest_error ? S.guest_error : "");
		}
		write_exit(255, NULL, error);
	}
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
	S.vm_pid = spawn(S.vmm_argv, S.vmm_name, out, err, sizeof(err));
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

int main(int argc, char **argv)
{
	char err[600] = "";
	struct stat st;
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
	if (parse_args(err, sizeof(err)) < 0)
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
		if ((S.helpers[i].pid = spawn(S.helpers[i].argv, S.helpers[i].bin, -1, err, sizeof(err))) < 0) {
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
