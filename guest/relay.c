/*
 * The program's stdio, relayed. Its fds 0..2 are pipes (or one terminal) that kestrel copies to and
 * from the host channels, never the channels themselves: a virtio port can be open only once
 * (virtio_console answers a second open with EBUSY), and images open /dev/stdout again — nginx's
 * access log is a link to it — which is /proc/self/fd/1, which must be something that reopens.
 * The channels are non-blocking: a blocking write to a virtio port spins until the host has taken
 * the data, and kestrel must keep serving stop requests while the host is slow to read.
 */
#include "kestrel.h"

#define MAX_RELAYS 3
#define ROUNDS 16 /* copies per wake-up, so one busy stream cannot starve the others */

struct relay {
	int from, to;
	int close_to; /* the end of input closes `to` as well: it is the program's stdin */
	size_t len, off;
	char buf[16384];
};

static struct relay relays[MAX_RELAYS];
static int nrelays;

int relay_add(int from, int to, int close_to)
{
	struct relay *r;

	if (nrelays == MAX_RELAYS)
		return errno = EMFILE, -1;
	if (fcntl(from, F_SETFL, fcntl(from, F_GETFL) | O_NONBLOCK) < 0 ||
	    fcntl(to, F_SETFL, fcntl(to, F_GETFL) | O_NONBLOCK) < 0)
		return fail("fcntl O_NONBLOCK", "relay");
	r = &relays[nrelays++];
	r->from = from;
	r->to = to;
	r->close_to = close_to;
	r->len = r->off = 0;
	return 0;
}

/* The end of a relay's input: a descriptor another relay writes to (the terminal) is forgotten
 * there too, so a later open cannot reuse its number under that relay. */
static void relay_close(struct relay *r)
{
	for (int i = 0; i < nrelays; i++)
		if (relays[i].to == r->from)
			relays[i].to = -1;
	close(r->from);
	r->from = -1;
	if (r->close_to && r->to >= 0) {
		close(r->to);
		r->to = -1;
	}
}

/* Copies what can be copied now; returns at EAGAIN on either side. */
static void relay_pump(struct relay *r)
{
	for (int round = 0; round < ROUNDS; round++) {
		ssize_t n;

		if (r->off < r->len) {
			n = r->to >= 0 ? write(r->to, r->buf + r->off, r->len - r->off) : (ssize_t)(r->len - r->off);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			/* A reader that is gone (EPIPE: the program closed its stdin) drops the bytes. */
			r->off = n < 0 ? r->len : r->off + n;
			continue;
		}
		if (r->from < 0)
			return;
		n = read(r->from, r->buf, sizeof(r->buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* End of input; EIO is how a terminal says its last slave closed. */
			relay_close(r);
			return;
		}
		r->len = n;
		r->off = 0;
	}
}

/* 1 while some relay still reads FD (the terminal stays open). */
int relay_reads(int fd)
{
	for (int i = 0; i < nrelays; i++)
		if (relays[i].from == fd)
			return 1;
	return 0;
}

int relay_poll_fds(struct pollfd *fds, int max)
{
	int n = 0;

	for (int i = 0; i < nrelays && n < max; i++) {
		struct relay *r = &relays[i];

		if (r->off < r->len && r->to >= 0)
			fds[n++] = (struct pollfd){ r->to, POLLOUT, 0 };
		else if (r->off >= r->len && r->from >= 0)
			fds[n++] = (struct pollfd){ r->from, POLLIN, 0 };
		else
			fds[n++] = (struct pollfd){ -1, 0, 0 };
	}
	return n;
}

void relay_handle(const struct pollfd *fds, int n)
{
	for (int i = 0; i < n && i < nrelays; i++)
		if (fds[i].revents)
			relay_pump(&relays[i]);
}

/*
 * At the end: copies what the program left in its output pipes. With writers still alive (its
 * orphans, before they are killed) only what is there now; once every process is gone, to the end.
 * A host that takes nothing for a second loses the rest, so a VM always ends.
 */
void relay_drain(int to_end)
{
	for (int i = 0; i < nrelays; i++) {
		struct relay *r = &relays[i];

		while (!r->close_to) {
			struct pollfd p;

			relay_pump(r);
			if (r->off < r->len)
				p = (struct pollfd){ r->to, POLLOUT, 0 };
			else if (to_end && r->from >= 0)
				p = (struct pollfd){ r->from, POLLIN, 0 };
			else
				break;
			if (p.fd < 0 || poll(&p, 1, 1000) <= 0)
				break;
		}
	}
}
