/*
 * What kestrel tells the host. Diagnostics go to the kernel console (the host keeps it as the VM's
 * console log); protocol lines go to the control channel; a fatal error goes to both, to the user's
 * stderr, and ends the VM. Every line is formatted once, by format_line, and written in one write,
 * so a line is never interleaved with another writer's.
 */
#include "kestrel.h"

int ctl_fd = -1;
int out_fd = -1;
int err_fd = -1;
int console_fd = -1;

/* PREFIX, the formatted text (cut to fit) and a newline into buf; returns the length. */
static size_t format_line(char *buf, size_t size, const char *prefix, const char *fmt, va_list ap)
{
	size_t len = strlen(prefix);
	int n;

	memcpy(buf, prefix, len);
	n = vsnprintf(buf + len, size - len - 1, fmt, ap);
	if (n < 0)
		n = 0;
	len += (size_t)n < size - len - 1 ? (size_t)n : size - len - 2;
	buf[len++] = '\n';
	return len;
}

void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	size_t n;

	if (console_fd < 0)
		return;
	va_start(ap, fmt);
	n = format_line(buf, sizeof(buf), "kestrel: ", fmt, ap);
	va_end(ap);
	(void)!write(console_fd, buf, n);
}

void control(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	size_t n;

	if (ctl_fd < 0)
		return;
	va_start(ap, fmt);
	n = format_line(buf, sizeof(buf), "", fmt, ap);
	va_end(ap);
	(void)!write(ctl_fd, buf, n);
}

void power_off(void)
{
	flush_channels();
	sync_at_end();
	/* Without ACPI the kernel cannot power off; the host runs QEMU with -no-reboot and the
	 * kernel with reboot=t, so a reboot ends the VM. */
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

/* A setup failure: tell the host what failed and why, then end the VM. Never returns. */
void die(int code, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = format_line(msg, sizeof(msg), "hypr: ", fmt, ap);
	va_end(ap);
	if (err_fd >= 0)
		(void)!write(err_fd, msg, n);
	msg[n - 1] = '\0';
	say("%s", msg + 6);
	control("[HYPR-ERROR] %s", msg + 6);
	control("[HYPR-EXIT] %d", code);
	power_off();
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int fail(const char *what, const char *path)
{
	say("%s %s: %s", what, path, strerror(errno));
	return -1;
}
