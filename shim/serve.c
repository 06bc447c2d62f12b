/*
 * The channels to the guest (Kestrel's side: guest/PROTOCOL.md) and the clients on shim.sock:
 * control lines, output to the log and to attached clients, exec frames routed between a client's
 * session ids and the guest's 16, and flow control (shim/PROTOCOL.md, "Flow control").
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

static int clients_full(void)
{
	for (int i = 0; i < S.nclients; i++)
		if (!S.clients[i]->dead && buf_size(&S.clients[i]->out) >= HIGH_WATER)
			return 1;
	return 0;
}

static int guest_full(void)
{
	return buf_size(&S.ch[CH_CONTROL].out) >= HIGH_WATER || buf_size(&S.ch[CH_EXEC].out) >= HIGH_WATER ||
	       buf_size(&S.ch[CH_STDIN].out) >= HIGH_WATER;
}

/* Bytes for the guest are kept until the hypervisor connects, dropped once the channel ended. */
static struct buf *to_guest(int ch)
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

static void send_client(struct client *c, char type, uint8_t id, const void *d, size_t n)
{
	if (!c->dead && buf_frame(&c->out, type, id, d, n) < 0)
		note("out of memory for a client's output");
}

/* The program's output: to attached clients, and kept for the first attach when B=1. */
static void broadcast(char type, const char *d, size_t n)
{
	if (S.early_on && !S.early_dropped) {
		if (buf_size(&S.early) + n + 4 * (n / FRAME_MAX + 1) <= EARLY_MAX)
			buf_frame(&S.early, type, 0, d, n);
		else {
			S.early_dropped = 1;
			note("over 1 MiB of output before the first attach: the rest is only in container.log");
		}
	}
	for (int i = 0; i < S.nclients; i++)
		if (S.clients[i]->attached)
			send_client(S.clients[i], type, 0, d, n);
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

/* Calls fn for each whole frame in b, leaving a partial one for the next read. */
static void frames(struct buf *b, void (*fn)(void *, uint8_t, uint8_t, const char *, size_t), void *ctx)
{
	while (buf_size(b) >= 4) {
		const unsigned char *h = (const unsigned char *)b->p + b->off;
		size_t n = (size_t)h[2] << 8 | h[3];
		if (buf_size(b) < 4 + n)
			return;
		fn(ctx, h[0], h[1], (const char *)h + 4, n);
		buf_drop(b, 4 + n);
	}
}

static void exec_from_guest(void *ctx, uint8_t type, uint8_t g, const char *p, size_t n)
{
	(void)ctx;
	if (g >= GUEST_SESSIONS || !S.sessions[g].used)
		return;
	struct session *s = &S.sessions[g];
	if (s->client)
		send_client(s->client, (char)type, s->cid, p, n);
	if (type == 'x') {
		if (s->client)
			s->client->guest_of[s->cid] = -1;
		memset(s, 0, sizeof(*s));
	}
}

static void exec_refuse(struct client *c, uint8_t cid, const char *msg)
{
	send_client(c, 'E', cid, msg, strlen(msg));
	send_client(c, 'x', cid, "126", 3);
}

static void exec_open(struct client *c, uint8_t cid, const char *p, size_t n)
{
	struct buf *out = to_guest(CH_EXEC);
	char msg[64];
	if (!out)
		return exec_refuse(c, cid, S.ch[CH_EXEC].path ? "the container has ended" : "the container has no exec channel");
	if (c->guest_of[cid] >= 0) {
		snprintf(msg, sizeof(msg), "exec session %u is already open", cid);
		return exec_refuse(c, cid, msg);
	}
	for (int g = 0; g < GUEST_SESSIONS; g++) {
		if (S.sessions[g].used)
			continue;
		S.sessions[g] = (struct session){ .used = 1, .client = c, .cid = cid };
		c->guest_of[cid] = (int16_t)g;
		buf_frame(out, 'O', (uint8_t)g, p, n);
		return;
	}
	exec_refuse(c, cid, "at most 16 exec sessions can run at once");
}

/* "SIGNAL GRACE_MS" from a client; the signal is a name or number, never anything that ends a line. */
static void stop_from_client(const char *p, size_t n)
{
	char sig[32];
	size_t k = 0;
	while (k < n && k < sizeof(sig) - 1 && p[k] != ' ') {
		char c = p[k];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			note("a client asked to stop with a bad signal: ignored");
			return;
		}
		sig[k++] = c;
	}
	sig[k] = 0;
	long grace = S.grace_ms;
	if (k < n && p[k] == ' ') {
		char num[24];
		size_t m = n - k - 1 < sizeof(num) - 1 ? n - k - 1 : sizeof(num) - 1;
		memcpy(num, p + k + 1, m);
		num[m] = 0;
		char *end;
		long v = strtol(num, &end, 10);
		if (end != num && v >= 0)
			grace = v;
	}
	request_stop(k ? sig : "TERM", grace);
}

void request_stop(const char *signal, long grace_ms)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "STOP %s %ld\n", signal, grace_ms);
	struct buf *out = to_guest(CH_CONTROL);
	if (out)
		buf_put(out, line, (size_t)n);
	long long at = now_ms() + grace_ms + STOP_KILL_EXTRA_MS;
	if (!S.stop_deadline || at < S.stop_deadline)
		S.stop_deadline = at;
}

static void client_frame(void *ctx, uint8_t type, uint8_t id, const char *p, size_t n)
{
	struct client *c = ctx;
	struct buf *out;
	switch (type) {
	case 'a':
		c->attached = 1;
		if (S.early_on) {
			buf_put(&c->out, S.early.p + S.early.off, buf_size(&S.early));
			buf_free(&S.early);
			S.early_on = 0;
		}
		break;
	case 'i':
		if ((out = to_guest(CH_STDIN)))
			buf_put(out, p, n);
		break;
	case 'c':
		if (to_guest(CH_STDIN))
			S.ch[CH_STDIN].shut_pending = 1;
		break;
	case 'k':
		if ((out = to_guest(CH_CONTROL)))
			buf_put(out, p, n);
		break;
	case 't':
		stop_from_client(p, n);
		break;
	case 'O':
		exec_open(c, id, p, n);
		break;
	case 'I':
	case 'C':
	case 'R':
	case 'S':
		if (c->guest_of[id] >= 0 && (out = to_guest(CH_EXEC)))
			buf_frame(out, (char)type, (uint8_t)c->guest_of[id], p, n);
		break;
	default:
		note("a client sent a frame of unknown type 0x%02x: ignored", type);
	}
}

/* A client that went away leaves nobody to read its exec sessions: they are killed. */
static void client_drop(struct client *c)
{
	struct buf *out = to_guest(CH_EXEC);
	for (int g = 0; g < GUEST_SESSIONS; g++) {
		if (!S.sessions[g].used || S.sessions[g].client != c)
			continue;
		S.sessions[g].client = NULL;
		if (out)
			buf_frame(out, 'S', (uint8_t)g, "KILL", 4);
	}
	close(c->fd);
	c->fd = -1;
	c->dead = 1;
	buf_free(&c->in);
	buf_free(&c->out);
}

static void client_accept(void)
{
	int fd = accept4(S.sock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct client *c = calloc(1, sizeof(*c));
	struct client **all = realloc(S.clients, sizeof(*all) * (size_t)(S.nclients + 1));
	if (!c || !all) {
		note("out of memory for a client");
		free(c);
		if (all)
			S.clients = all;
		close(fd);
		return;
	}
	S.clients = all;
	c->fd = fd;
	memset(c->guest_of, 0xff, sizeof(c->guest_of));
	S.clients[S.nclients++] = c;
	if (S.guest_pid) {
		char num[24];
		int n = snprintf(num, sizeof(num), "%lld", S.guest_pid);
		send_client(c, 'U', 0, num, (size_t)n);
	}
}

static void client_read(struct client *c, short revents)
{
	ssize_t n = read(c->fd, rbuf, sizeof(rbuf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0 || (n == 0 && (revents & POLLHUP)))
		return client_drop(c);
	if (n == 0) {
		/* Half-closed: it sends no more but still gets its output and the exit. */
		c->rdeof = 1;
		return;
	}
	if (buf_put(&c->in, rbuf, (size_t)n) < 0)
		return client_drop(c);
	frames(&c->in, client_frame, c);
}

static void client_write(struct client *c)
{
	if (!buf_size(&c->out))
		return;
	ssize_t w = send(c->fd, c->out.p + c->out.off, buf_size(&c->out), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (w < 0)
		return client_drop(c);
	buf_drop(&c->out, (size_t)w);
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
		frames(&c->in, exec_from_guest, NULL);
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

/* X with exit.json to every client, then what each still has to read (1 s at most), then close. */
void clients_finish(const char *exit_json, size_t len)
{
	for (int i = 0; i < S.nclients; i++)
		send_client(S.clients[i], 'X', 0, exit_json, len);
	long long until = now_ms() + FLUSH_MS;
	for (;;) {
		int n = 0;
		for (int i = 0; i < S.nclients; i++)
			if (!S.clients[i]->dead && buf_size(&S.clients[i]->out))
				add(S.clients[i]->fd, POLLOUT, K_CLIENT, i, &n);
		long long left = until - now_ms();
		if (n == 0 || left <= 0)
			break;
		if (poll(pfd, (nfds_t)n, (int)left) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < n; k++)
			if (pfd[k].revents & (POLLOUT | POLLHUP | POLLERR)) {
				struct client *c = S.clients[pwho[k].index];
				if (pfd[k].revents & POLLOUT)
					client_write(c);
				else
					client_drop(c);
			}
	}
	for (int i = 0; i < S.nclients; i++) {
		if (!S.clients[i]->dead)
			close(S.clients[i]->fd);
		buf_free(&S.clients[i]->in);
		buf_free(&S.clients[i]->out);
		free(S.clients[i]);
	}
	S.nclients = 0;
}
