/*
 * The clients on shim.sock: their frames (shim/PROTOCOL.md), the program's output to attached
 * ones, exec sessions mapped between each client's own ids and the guest's 16, stop requests, and
 * the exit as the last frame.
 */
#include "hypr-shim.h"

static char rbuf[READ_CHUNK];

int clients_full(void)
{
	for (int i = 0; i < S.nclients; i++)
		if (!S.clients[i]->dead && buf_size(&S.clients[i]->out) >= HIGH_WATER)
			return 1;
	return 0;
}

void send_client(struct client *c, char type, uint8_t id, const void *d, size_t n)
{
	if (!c->dead && buf_frame(&c->out, type, id, d, n) < 0)
		note("out of memory for a client's output");
}

/* The program's output: to attached clients, and kept for the first attach when B=1. */
void broadcast(char type, const char *d, size_t n)
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

void exec_from_guest(void *ctx, uint8_t type, uint8_t g, const char *p, size_t n)
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
			grace = v < GRACE_MAX_MS ? v : GRACE_MAX_MS;
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
void client_drop(struct client *c)
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

void client_accept(void)
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

void client_read(struct client *c, short revents)
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
	buf_frames(&c->in, client_frame, c);
}

void client_write(struct client *c)
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

/* X with exit.json to every client, then what each still has to read (1 s at most), then close. */
void clients_finish(const char *exit_json, size_t len)
{
	struct pollfd *fds = calloc((size_t)S.nclients + 1, sizeof(*fds));
	struct client **who = calloc((size_t)S.nclients + 1, sizeof(*who));
	for (int i = 0; i < S.nclients; i++)
		send_client(S.clients[i], 'X', 0, exit_json, len);
	for (long long until = now_ms() + FLUSH_MS; fds && who;) {
		int n = 0;
		for (int i = 0; i < S.nclients; i++) {
			struct client *c = S.clients[i];
			if (c->dead || !buf_size(&c->out))
				continue;
			fds[n] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
			who[n++] = c;
		}
		long long left = until - now_ms();
		if (n == 0 || left <= 0)
			break;
		if (poll(fds, (nfds_t)n, (int)left) < 0 && errno != EINTR)
			break;
		for (int k = 0; k < n; k++) {
			if (fds[k].revents & POLLOUT)
				client_write(who[k]);
			else if (fds[k].revents & (POLLHUP | POLLERR))
				client_drop(who[k]);
		}
	}
	free(fds);
	free(who);
	for (int i = 0; i < S.nclients; i++) {
		if (!S.clients[i]->dead)
			close(S.clients[i]->fd);
		buf_free(&S.clients[i]->in);
		buf_free(&S.clients[i]->out);
		free(S.clients[i]);
	}
	S.nclients = 0;
}
