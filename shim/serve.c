/*
 * The poll loop's sockets: the channels to the guest (Kestrel's side: guest/PROTOCOL.md) — control
 * lines, output to the log and to attached clients, exec frames — the listening sockets, the
 * clients (clients.c), and flow control between them (shim/PROTOCOL.md, "Flow control").
 */
#include "hypr-shim.h"

static char rbuf[READ_CHUNK];

enum kind { K_SIGNAL, K_SOCK, K_LISTEN, K_CHANNEL, K_CLIENT };
static struct pollfd *pfd;
static struct {
	enum kind kind;
	int index;
} *pwho;
static int pmax;

int listen_unix(const char *path, int backlog, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: the path is too long for a Unix socket (%zu bytes, at most %zu)", path,
			 strlen(path), sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket for %s: %s", path, strerror(errno));
		return -1;
	}
	/* 0600 from the first moment: a chmod after bind would leave a window. */
	mode_t old = umask(077);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, backlog) < 0) {
		snprintf(err, errlen, "listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int guest_full(void)
{
	return buf_size(&S.ch[CH_CONTROL].out) >= HIGH_WATER || buf_size(&S.ch[CH_EXEC].out) >= HIGH_WATER ||
	       buf_size(&S.ch[CH_STDIN].out) >= HIGH_WATER;
}

/* Bytes for the guest are kept until the hypervisor connects, dropped once the channel ended. */
struct buf *to_guest(int ch)
{
	struct channel *c = &S.ch[ch];
	return c->path && !c->eof && !c->shut_pending && !c->wclosed ? &c->out : NULL;
}

static void channel_close(struct channel *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->eof = 1;
	c->shut_pending = 0;
	buf_free(&c->in);
	buf_free(&c->out);
}

static int has_prefix(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);
	return n >= k && memcmp(s, p, k) == 0;
}

static void control_line(const char *s, size_t n)
{
	char num[32];
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (has_prefix(s, n, "[HYPR-STARTED] ")) {
		size_t k = n - 15 < sizeof(num) - 1 ? n - 15 : sizeof(num) - 1;
		memcpy(num, s + 15, k);
		num[k] = 0;
		S.guest_pid = atoll(num);
		k = (size_t)snprintf(num, sizeof(num), "%lld", S.guest_pid);
		for (int i = 0; i < S.nclients; i++)
			send_client(S.clients[i], 'U', 0, num, k);
	} else if (has_prefix(s, n, "[HYPR-EXIT] ")) {
		size_t k = n - 12 < sizeof(num) - 1 ? n - 12 : sizeof(num) - 1;
		memcpy(num, s + 12, k);
		num[k] = 0;
		S.have_exit = 1;
		S.exit_code = atoi(num);
	} else if (has_prefix(s, n, "[HYPR-ERROR] ")) {
		free(S.guest_error);
		S.guest_error = strndup(s + 13, n - 13);
	}
}

static void control_lines(struct buf *b, int at_end)
{
	for (;;) {
		char *s = b->p + b->off;
		size_t n = buf_size(b);
		char *nl = n ? memchr(s, '\n', n) : NULL;
		if (nl) {
			control_line(s, (size_t)(nl - s));
			buf_drop(b, (size_t)(nl - s) + 1);
		} else {
			if (n > CONTROL_LINE_MAX || (at_end && n > 0)) {
				control_line(s, n < CONTROL_LINE_MAX ? n : CONTROL_LINE_MAX);
				buf_drop(b, n);
			}
			return;
		}
	}
}

static void channel_read(int i)
{
	struct channel *c = &S.ch[i];
	ssize_t n = read(c->fd, rbuf, sizeof(rbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0)
			note("read %s: %s", c->path, strerror(errno));
		if (i == CH_CONTROL)
			control_lines(&c->in, 1);
		channel_close(c);
		return;
	}
	switch (i) {
	case CH_CONTROL:
		buf_put(&c->in, rbuf, (size_t)n);
		control_lines(&c->in, 0);
		break;
	case CH_STDOUT:
	case CH_STDERR:
		log_output(i, rbuf, (size_t)n);
		broadcast(i == CH_STDOUT ? '1' : '2', rbuf, (size_t)n);
		break;
	case CH_EXEC:
		buf_put(&c->in, rbuf, (size_t)n);
		buf_frames(&c->in, exec_from_guest, NULL);
		break;
	default:
		break; /* stdin: the guest only reads it */
	}
}

static void channel_write(struct channel *c)
{
	if (buf_size(&c->out)) {
		ssize_t w = send(c->fd, c->out.p + c->out.off, buf_size(&c->out), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (w < 0) {
			/* The guest reads no more: what it would have got is dropped; its output is still read. */
			note("write %s: %s", c->path, strerror(errno));
			buf_free(&c->out);
			c->shut_pending = 0;
			return;
		}
		buf_drop(&c->out, (size_t)w);
	}
	if (!buf_size(&c->out) && c->shut_pending) {
		shutdown(c->fd, SHUT_WR);
		c->shut_pending = 0;
		c->wclosed = 1;
	}
}

/* The hypervisor connects once to each channel. */
void channel_accept(struct channel *c)
{
	int fd = c->lfd >= 0 ? accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) : -1;
	if (fd < 0)
		return;
	close(c->lfd);
	c->lfd = -1;
	c->fd = fd;
}

static void add(int fd, short events, enum kind kind, int index, int *n)
{
	if (*n >= pmax) {
		int max = pmax ? pmax * 2 : 16;
		struct pollfd *p = realloc(pfd, sizeof(*p) * (size_t)max);
		if (p)
			pfd = p;
		__typeof__(pwho) w = realloc(pwho, sizeof(*w) * (size_t)max);
		if (w)
			pwho = w;
		if (!p || !w)
			return;
		pmax = max;
	}
	pfd[*n] = (struct pollfd){ .fd = fd, .events = events };
	pwho[*n].kind = kind;
	pwho[*n].index = index;
	(*n)++;
}

/*
 * What to wait for. Flow control: while a client holds HIGH_WATER, the guest's output is not read
 * (unless the VM has ended: then what is left is read out); while a channel to the guest holds
 * HIGH_WATER, no client is read.
 */
struct pollfd *serve_poll(int *nfds, int drain)
{
	int n = 0, read_guest = drain || !clients_full(), read_clients = !guest_full();
	add(S.sigpipe[0], POLLIN, K_SIGNAL, 0, &n);
	if (S.phase < P_DRAIN)
		add(S.sock, POLLIN, K_SOCK, 0, &n);
	for (int i = 0; i < CH_COUNT; i++) {
		struct channel *c = &S.ch[i];
		if (!c->path || c->eof)
			continue;
		if (c->lfd >= 0 && S.phase < P_DRAIN)
			add(c->lfd, POLLIN, K_LISTEN, i, &n);
		if (c->fd < 0)
			continue;
		short ev = (buf_size(&c->out) || c->shut_pending) ? POLLOUT : 0;
		if (i == CH_CONTROL || i == CH_STDIN || read_guest)
			ev |= POLLIN;
		if (ev)
			add(c->fd, ev, K_CHANNEL, i, &n);
	}
	for (int i = 0; i < S.nclients; i++) {
		struct client *c = S.clients[i];
		add(c->fd, (short)((read_clients && !c->rdeof ? POLLIN : 0) | (buf_size(&c->out) ? POLLOUT : 0)),
		    K_CLIENT, i, &n);
	}
	*nfds = n;
	return pfd;
}

static void drain_signals(void)
{
	char sigs[64];
	ssize_t n;
	while ((n = read(S.sigpipe[0], sigs, sizeof(sigs))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (sigs[i] == SIGCHLD)
				reap();
			else if (sigs[i] == SIGTERM)
				request_stop("TERM", S.grace_ms);
		}
}

void serve_events(struct pollfd *fds, int nfds)
{
	for (int k = 0; k < nfds; k++) {
		short re = fds[k].revents;
		if (!re)
			continue;
		int i = pwho[k].index;
		switch (pwho[k].kind) {
		case K_SIGNAL:
			drain_signals();
			break;
		case K_SOCK:
			client_accept();
			break;
		case K_LISTEN:
			channel_accept(&S.ch[i]);
			break;
		case K_CHANNEL: {
			struct channel *c = &S.ch[i];
			if (re & POLLOUT)
				channel_write(c);
			/* A hang-up is read out even when the channel is held back: it reads end-of-file. */
			if (c->fd >= 0 && (re & (POLLIN | POLLHUP | POLLERR)))
				channel_read(i);
			break;
		}
		case K_CLIENT: {
			struct client *c = S.clients[i];
			if (!c->dead && (re & POLLOUT))
				client_write(c);
			if (!c->dead && (re & (POLLIN | POLLHUP | POLLERR))) {
				if (c->rdeof)
					client_drop(c);
				else
					client_read(c, re);
			}
			break;
		}
		}
	}
	int kept = 0;
	for (int i = 0; i < S.nclients; i++) {
		if (S.clients[i]->dead)
			free(S.clients[i]);
		else
			S.clients[kept++] = S.clients[i];
	}
	S.nclients = kept;
}

/* The VM has ended when the hypervisor has, and its output channels are read to the end (or never came). */
int outputs_ended(void)
{
	for (int i = CH_CONTROL; i <= CH_STDERR; i++)
		if (S.ch[i].path && !S.ch[i].eof && S.ch[i].fd >= 0)
			return 0;
	return 1;
}
