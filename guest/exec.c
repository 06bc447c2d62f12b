/*
 * kestrel exec sessions: `hypr exec` runs more programs in a running container. All sessions share
 * one virtio-serial port, hypr.exec, carrying frames:
 *
 *   type (1 byte) | session (1 byte) | payload length (2 bytes, big-endian) | payload
 *
 * host → guest: 'O' open (payload: job-style records A= E= W= U=, and Y=ROWSxCOLS for a terminal),
 *               'I' stdin bytes, 'C' stdin closed, 'R' resize ("ROWSxCOLS"), 'S' signal (name or number)
 * guest → host: 'P' started (pid), 'o' stdout, 'e' stderr, 'E' error message, 'x' exit code (last frame)
 *
 * With a terminal the program gets a pseudo-terminal (stdout and stderr merged, as docker does);
 * without one, three pipes. Buffers are fixed: MAX_SESSIONS sessions at once.
 */
#include "kestrel.h"

#include <sys/ioctl.h>
#include <termios.h>

#define MAX_SESSIONS 16
#define FRAME_MAX 65535
#define IO_CHUNK 16384

struct session {
	int used;
	pid_t pid;
	int in_fd;   /* to the program's stdin: pipe or pty master; -1 once closed */
	int out_fd;  /* from stdout: pipe or pty master */
	int err_fd;  /* from stderr: pipe, or -1 with a terminal */
	int tty;
	int exited;
	int status;
	char records[FRAME_MAX + 1];
	struct command cmd;
};

static struct session sessions[MAX_SESSIONS];
static int port_fd = -1;
static unsigned char in_buf[FRAME_MAX + 4 + 1];
static size_t in_len;
static unsigned char out_buf[IO_CHUNK + 4];

static void frame(char type, int sid, const void *data, size_t len)
{
	unsigned char h[4] = { (unsigned char)type, (unsigned char)sid, (unsigned char)(len >> 8), (unsigned char)len };

	if (port_fd < 0)
		return;
	if (write_all(port_fd, h, 4) < 0 || (len && write_all(port_fd, data, len) < 0))
		say("write hypr.exec: %s", strerror(errno));
}

static void frame_text(char type, int sid, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	frame(type, sid, text, n < (int)sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

void exec_init(int fd)
{
	port_fd = fd;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void finish(int sid)
{
	struct session *s = &sessions[sid];

	frame_text('x', sid, "%d", s->status);
	if (s->tty)
		s->in_fd = -1; /* the same descriptor as out_fd */
	close_fd(&s->in_fd);
	close_fd(&s->out_fd);
	close_fd(&s->err_fd);
	s->used = 0;
}

static void fail_open(int sid, int code, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	frame_text('E', sid, "%s", msg);
	frame_text('x', sid, "%d", code);
	sessions[sid].used = 0;
}

static int parse_winsize(const char *s, struct winsize *ws)
{
	unsigned rows, cols;

	if (parse_pair(s, &rows, &cols) < 0)
		return -1;
	memset(ws, 0, sizeof(*ws));
	ws->ws_row = rows;
	ws->ws_col = cols;
	return 0;
}

/* Opens a pseudo-terminal pair; the master stays with kestrel, the slave becomes the program's. */
int open_pty(int *master, int *slave, const struct winsize *ws)
{
	char name[64];

	*master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return fail("posix_openpt", "/dev/ptmx");
	if (grantpt(*master) < 0 || unlockpt(*master) < 0 || ptsname_r(*master, name, sizeof(name)) != 0) {
		close(*master);
		return fail("unlockpt", "/dev/ptmx");
	}
	*slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		close(*master);
		return fail("open", name);
	}
	if (ws)
		ioctl(*master, TIOCSWINSZ, ws);
	return 0;
}

static void open_session(int sid, const unsigned char *payload, size_t len)
{
	struct session *s = &sessions[sid];
	const char *winsize = NULL;
	struct winsize ws;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, report_pipe[2], report[2], stdio[3];
	unsigned uid, gid;
	char home[256];
	pid_t pid;

	if (s->used) {
		frame_text('E', sid, "session %d is in use", sid);
		return;
	}
	memset(&s->cmd, 0, sizeof(s->cmd));
	memcpy(s->records, payload, len);
	s->records[len] = '\0';
	s->used = 1;
	s->tty = 0;
	s->exited = 0;
	s->in_fd = s->out_fd = s->err_fd = -1;
	for (char *p = s->records; p < s->records + len; p += strlen(p) + 1) {
		if (p[0] && p[1] == '=') {
			if (p[0] == 'Y')
				winsize = p + 2;
			else if (command_record(&s->cmd, p[0], p + 2) < 0)
				return fail_open(sid, EXIT_SETUP, "too many arguments");
		}
	}
	if (s->cmd.argc == 0)
		return fail_open(sid, EXIT_SETUP, "no command specified");
	if (resolve_user(s->cmd.user, &uid, &gid, home, sizeof(home)) < 0)
		return fail_open(sid, EXIT_SETUP, "unable to find user %s: no matching entries in passwd file", s->cmd.user);
	prepare_env(&s->cmd, home);
	if (winsize && parse_winsize(winsize, &ws) == 0) {
		int slave;

		if (open_pty(&s->out_fd, &slave, &ws) < 0)
			return fail_open(sid, EXIT_SETUP, "cannot allocate a terminal: %s", strerror(errno));
		s->tty = 1;
		s->in_fd = s->out_fd;
		stdio[0] = stdio[1] = stdio[2] = slave;
		in[0] = slave;
	} else {
		if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
			return fail_open(sid, EXIT_SETUP, "pipe2: %s", strerror(errno));
		s->in_fd = in[1];
		s->out_fd = out[0];
		s->err_fd = err[0];
		stdio[0] = in[0];
		stdio[1] = out[1];
		stdio[2] = err[1];
	}
	if (pipe2(report_pipe, O_CLOEXEC) < 0)
		return fail_open(sid, EXIT_SETUP, "pipe2: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return fail_open(sid, EXIT_SETUP, "fork: %s", strerror(errno));
	if (pid == 0)
		exec_child(&s->cmd, report_pipe[1], uid, gid, stdio, s->tty);
	close(report_pipe[1]);
	if (in[0] >= 0)
		close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (err[1] >= 0)
		close(err[1]);
	if (read(report_pipe[0], report, sizeof(report)) == (ssize_t)sizeof(report)) {
		close(report_pipe[0]);
		waitpid(pid, NULL, 0);
		close_fd(&s->out_fd);
		if (!s->tty)
			close_fd(&s->in_fd);
		s->in_fd = -1;
		close_fd(&s->err_fd);
		if (report[1] == 'x')
			return fail_open(sid, report[0] == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC, "exec %s: %s", s->cmd.argv[0],
					 report[0] == ENOENT ? "executable file not found in $PATH" : strerror(report[0]));
		return fail_open(sid, EXIT_SETUP, "%s: %s",
				 report[1] == 'w' ? "chdir to working directory" : report[1] == 'u' ? "switch user" : "start",
				 strerror(report[0]));
	}
	close(report_pipe[0]);
	fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
	if (s->err_fd >= 0)
		fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
	s->pid = pid;
	frame_text('P', sid, "%d", pid);
}

static void handle_frame(int type, int sid, const unsigned char *payload, size_t len)
{
	struct session *s = &sessions[sid];
	char text[64];

	if (sid >= MAX_SESSIONS) {
		frame_text('E', sid, "at most %d exec sessions at once", MAX_SESSIONS);
		frame_text('x', sid, "%d", EXIT_SETUP);
		return;
	}
	if (type == 'O') {
		open_session(sid, payload, len);
		return;
	}
	if (!s->used)
		return;
	snprintf(text, sizeof(text), "%.*s", (int)(len < sizeof(text) ? len : sizeof(text) - 1), (const char *)payload);
	switch (type) {
	case 'I':
		if (s->in_fd >= 0 && write_all(s->in_fd, payload, len) < 0)
			say("exec %d stdin: %s", sid, strerror(errno));
		break;
	case 'C':
		/* A terminal has no separate input to close: send EOF as the line discipline sees it. */
		if (s->tty && s->in_fd >= 0)
			(void)!write(s->in_fd, "\x04", 1);
		else
			close_fd(&s->in_fd);
		break;
	case 'R': {
		struct winsize ws;

		if (s->tty && parse_winsize(text, &ws) == 0)
			ioctl(s->out_fd, TIOCSWINSZ, &ws);
		break;
	}
	case 'S': {
		int sig = signal_by_name(text);

		if (sig && s->pid > 0)
			kill(s->pid, sig);
		break;
	}
	}
}

static void read_port(void)
{
	ssize_t n = read(port_fd, in_buf + in_len, sizeof(in_buf) - 1 - in_len);

	if (n <= 0)
		return;
	in_len += n;
	while (in_len >= 4) {
		size_t len = ((size_t)in_buf[2] << 8) | in_buf[3];

		if (in_len < 4 + len)
			break;
		handle_frame(in_buf[0], in_buf[1], in_buf + 4, len);
		memmove(in_buf, in_buf + 4 + len, in_len - 4 - len);
		in_len -= 4 + len;
	}
}

/* Copies what the program wrote; returns 0 at end of stream (a pty master gives EIO then). */
static int pump(int sid, int *fd, char type)
{
	for (;;) {
		ssize_t n = read(*fd, out_buf, IO_CHUNK);

		if (n > 0) {
			frame(type, sid, out_buf, n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 1;
		if (sessions[sid].tty)
			sessions[sid].in_fd = -1;
		close_fd(fd);
		return 0;
	}
}

static int session_done(const struct session *s)
{
	return s->exited && s->out_fd < 0 && s->err_fd < 0;
}

int exec_poll_fds(struct pollfd *fds, int max)
{
	int n = 0;

	if (port_fd < 0)
		return 0;
	fds[n++] = (struct pollfd){ port_fd, POLLIN, 0 };
	for (int i = 0; i < MAX_SESSIONS && n + 2 <= max; i++) {
		if (!sessions[i].used)
			continue;
		if (sessions[i].out_fd >= 0)
			fds[n++] = (struct pollfd){ sessions[i].out_fd, POLLIN, 0 };
		if (sessions[i].err_fd >= 0)
			fds[n++] = (struct pollfd){ sessions[i].err_fd, POLLIN, 0 };
	}
	return n;
}

void exec_handle(const struct pollfd *fds, int n)
{
	for (int k = 0; k < n; k++) {
		if (!fds[k].revents)
			continue;
		if (fds[k].fd == port_fd) {
			read_port();
			continue;
		}
		for (int i = 0; i < MAX_SESSIONS; i++) {
			struct session *s = &sessions[i];

			if (!s->used)
				continue;
			if (fds[k].fd == s->out_fd)
				pump(i, &s->out_fd, 'o');
			else if (fds[k].fd == s->err_fd)
				pump(i, &s->err_fd, 'e');
			if (session_done(s))
				finish(i);
		}
	}
}

/* Called for every reaped child; returns 1 when it was an exec session's program. */
int exec_reap(pid_t pid, int status)
{
	for (int i = 0; i < MAX_SESSIONS; i++) {
		struct session *s = &sessions[i];

		if (!s->used || s->pid != pid)
			continue;
		s->exited = 1;
		s->status = status;
		/* Whatever is still buffered is sent; a background process holding the output open does
		 * not keep the session alive, as with docker exec. */
		if (s->out_fd >= 0 && pump(i, &s->out_fd, 'o'))
			close_fd(&s->out_fd);
		if (s->err_fd >= 0 && pump(i, &s->err_fd, 'e'))
			close_fd(&s->err_fd);
		if (s->tty)
			s->in_fd = -1;
		finish(i);
		return 1;
	}
	return 0;
}
