/* Growable buffers, JSON escaping, container.log as docker's json-file driver, atomic files, times. */
#include <stdarg.h>

#include "hypr-shim.h"

size_t buf_size(const struct buf *b)
{
	return b->len - b->off;
}

/* Buffers grow on demand and are given back once drained: an idle shim holds none. */
int buf_put(struct buf *b, const void *d, size_t n)
{
	if (n == 0)
		return 0;
	if (b->len + n > b->cap && b->off > 0) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void buf_drop(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		buf_free(b);
}

/* Frames as Kestrel's exec channel: type, id, 16-bit big-endian length, payload; long data is split. */
int buf_frame(struct buf *b, char type, uint8_t id, const void *d, size_t n)
{
	const char *s = d;
	do {
		size_t part = n > FRAME_MAX ? FRAME_MAX : n;
		unsigned char h[4] = { (unsigned char)type, id, (unsigned char)(part >> 8), (unsigned char)part };
		if (buf_put(b, h, 4) < 0 || buf_put(b, s, part) < 0)
			return -1;
		s += part;
		n -= part;
	} while (n > 0);
	return 0;
}

/* Calls fn for each whole frame in b, leaving a partial one for the next read. */
void buf_frames(struct buf *b, void (*fn)(void *, uint8_t, uint8_t, const char *, size_t), void *ctx)
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

/* The length of the valid UTF-8 sequence at s, 0 when it is not one (overlong, surrogate, cut). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

/*
 * A JSON string body: `"` `\` and control characters escaped, each byte that is not valid UTF-8
 * replaced by U+FFFD (as Go's encoder, hence docker, does). dst needs 6 bytes per input byte.
 */
size_t json_escape(char *dst, const char *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	char *o = dst;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		if (c >= 0x80) {
			size_t len = utf8_len(s + i, n - i);
			if (len == 0) {
				memcpy(o, "\xef\xbf\xbd", 3);
				o += 3;
				i++;
			} else {
				memcpy(o, s + i, len);
				o += len;
				i += len;
			}
			continue;
		}
		i++;
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c >= 0x20) {
			*o++ = (char)c;
		} else {
			const char *short_form = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
			if (short_form) {
				memcpy(o, short_form, 2);
				o += 2;
			} else {
				memcpy(o, "\\u00", 4);
				o[4] = hex[c >> 4];
				o[5] = hex[c & 15];
				o += 6;
			}
		}
	}
	return (size_t)(o - dst);
}

long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* UTC, as JavaScript's toISOString (milliseconds) or docker's log time (nanoseconds). */
void iso_time(char *dst, size_t len, int nanos)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(dst, len, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= len)
		return;
	if (nanos)
		snprintf(dst + n, len - (size_t)n, "%09ldZ", ts.tv_nsec);
	else
		snprintf(dst + n, len - (size_t)n, "%03ldZ", ts.tv_nsec / 1000000);
}

/* One log entry, built whole so that it is one write(2) on the O_APPEND descriptor. */
static char entry[LOG_LINE_MAX * 6 + 128];

static void log_entry(int stream, const char *s, size_t n)
{
	static const char head[] = "{\"log\":\"";
	char t[40];
	size_t k = sizeof(head) - 1;
	memcpy(entry, head, k);
	k += json_escape(entry + k, s, n);
	iso_time(t, sizeof(t), 1);
	k += (size_t)snprintf(entry + k, sizeof(entry) - k, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
			      stream == CH_STDOUT ? "stdout" : "stderr", t);
	static int failed; /* said once: a full disk would otherwise fill shim.log too */
	if (S.log_fd >= 0 && write(S.log_fd, entry, k) != (ssize_t)k && !failed++)
		note("write %s/container.log: %s (further failures are not noted)", S.dir, strerror(errno));
}

/* The partial line of each stream (stdout, stderr), waiting for its end. */
static struct {
	char p[LOG_LINE_MAX];
	size_t n;
} pending[2];

/* Where to cut a full line so that no UTF-8 character is split between two entries. */
static size_t utf8_cut(const char *p, size_t n)
{
	for (size_t k = 1; k <= 3 && k <= n; k++) {
		unsigned char c = (unsigned char)p[n - k];
		if ((c & 0xc0) == 0x80)
			continue;
		size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return want > k ? n - k : n;
	}
	return n;
}

/* Splits output into lines as docker's json-file driver: a line past 16 KiB is written as it is. */
void log_output(int stream, const char *d, size_t n)
{
	__typeof__(pending[0]) *ls = &pending[stream == CH_STDOUT ? 0 : 1];
	while (n > 0) {
		size_t take = LOG_LINE_MAX - ls->n;
		if (take > n)
			take = n;
		const char *nl = memchr(d, '\n', take);
		if (nl)
			take = (size_t)(nl - d) + 1;
		memcpy(ls->p + ls->n, d, take);
		ls->n += take;
		d += take;
		n -= take;
		if (nl) {
			log_entry(stream, ls->p, ls->n);
			ls->n = 0;
		} else if (ls->n == LOG_LINE_MAX) {
			size_t cut = utf8_cut(ls->p, ls->n);
			if (cut == 0)
				cut = ls->n;
			log_entry(stream, ls->p, cut);
			memmove(ls->p, ls->p + cut, ls->n - cut);
			ls->n -= cut;
		}
	}
}

/* The last partial line of each stream, at the end of the VM. */
void log_flush(void)
{
	for (int i = 0; i < 2; i++) {
		if (pending[i].n)
			log_entry(i == 0 ? CH_STDOUT : CH_STDERR, pending[i].p, pending[i].n);
		pending[i].n = 0;
	}
}

/* PATH.tmp, (fsync), rename: a reader sees the old file or the new one, never half of one. */
int write_atomic(const char *path, const char *data, size_t len, int sync)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return errno = ENAMETOOLONG, -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			return errno = e, -1;
		}
		done += (size_t)w;
	}
	if ((sync && fsync(fd) < 0) || close(fd) < 0)
		return -1;
	return rename(tmp, path);
}

char *path_in_dir(const char *name)
{
	size_t n = strlen(S.dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", S.dir, name);
	return p;
}

/* Diagnostics on stdout (DIR/shim.log), one timestamped line each. */
void note(const char *fmt, ...)
{
	char t[40], line[1024];
	va_list ap;
	iso_time(t, sizeof(t), 0);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dprintf(STDOUT_FILENO, "%s hypr-shim: %s\n", t, line);
}
