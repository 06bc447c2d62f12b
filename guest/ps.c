/*
 * `kestrel ps`: the container's processes for `hypr top`, as `ps -ef` shows them (docker top's
 * default columns), tab-separated with a header line:
 *
 *   UID  PID  PPID  C  STIME  TTY  TIME  CMD
 *
 * The host runs it as an exec session of /proc/1/exe (this binary, reachable from the container's
 * root although the initramfs is not), so no ps needs to be in the image. Kestrel itself (PID 1),
 * kernel threads and this process are left out.
 */
#include "kestrel.h"

#include <sys/sysmacros.h>

#define HZ 100 /* USER_HZ: the unit of /proc/PID/stat times on Linux */

/* The fields of /proc/PID/stat after the command name: "S ppid pgrp session tty_nr ..." */
struct proc_stat {
	long long ppid, tty, utime, stime, start;
};

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

static int read_stat(const char *pid, struct proc_stat *st, char *comm, size_t comm_len)
{
	char path[64], buf[1024], *open_paren, *close_paren, *field[20];
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if (read_text(path, buf, sizeof(buf)) < 0 || !(open_paren = strchr(buf, '(')) ||
	    !(close_paren = strrchr(buf, ')')))
		return -1;
	/* The name may hold spaces and parentheses: it ends at the last ')'. */
	snprintf(comm, comm_len, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
	for (char *s = close_paren + 2, *tok; n < 20 && (tok = strsep(&s, " ")); )
		field[n++] = tok;
	if (n < 20)
		return -1;
	/* field[0] is the state; ppid is field 4 of the man page, so field[1] here. */
	st->ppid = atoll(field[1]);
	st->tty = atoll(field[4]);
	st->utime = atoll(field[11]);
	st->stime = atoll(field[12]);
	st->start = atoll(field[19]);
	return 0;
}

/* The command line with its NULs as spaces, or "[comm]" for a process without one. */
static void read_cmdline(const char *pid, const char *comm, char *out, size_t size)
{
	char path[64];
	int n;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	n = read_text(path, out, size);
	if (n <= 0) {
		snprintf(out, size, "[%s]", comm);
		return;
	}
	for (int i = 0; i < n - 1; i++)
		if (out[i] == '\0')
			out[i] = ' ';
}

/* One process as a line of the table; 0 also for a process that is gone meanwhile. */
static int show(const char *pid, long long uptime_ticks, long long boot)
{
	static char cmd[4096], line[4400];
	char comm[64], path[64], user[64], tty[16];
	struct proc_stat st;
	struct stat owner;
	long long cpu, age, started;
	int n;

	snprintf(path, sizeof(path), "/proc/%s", pid);
	if (read_stat(pid, &st, comm, sizeof(comm)) < 0 || stat(path, &owner) < 0)
		return 0;
	if (st.ppid == 2 || strcmp(pid, "2") == 0 || strcmp(pid, "1") == 0 || atoi(pid) == getpid())
		return 0;
	read_cmdline(pid, comm, cmd, sizeof(cmd));
	if (user_name(owner.st_uid, user, sizeof(user)) < 0)
		snprintf(user, sizeof(user), "%u", (unsigned)owner.st_uid);
	if (st.tty && major(st.tty) >= 136 && major(st.tty) <= 143)
		snprintf(tty, sizeof(tty), "pts/%u", minor(st.tty) + (major(st.tty) - 136) * 256);
	else
		snprintf(tty, sizeof(tty), "?");
	cpu = (st.utime + st.stime) / HZ;
	age = (uptime_ticks - st.start) / HZ;
	started = boot + st.start / HZ; /* the guest runs on UTC */
	n = snprintf(line, sizeof(line), "%s\t%s\t%lld\t%lld\t%02lld:%02lld\t%s\t%02lld:%02lld:%02lld\t%s\n", user, pid,
		     st.ppid, age > 0 ? cpu * 100 / age : 0, started % 86400 / 3600, started % 3600 / 60, tty, cpu / 3600,
		     cpu / 60 % 60, cpu % 60, cmd);
	return write_all(1, line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

int ps_main(void)
{
	static const char header[] = "UID\tPID\tPPID\tC\tSTIME\tTTY\tTIME\tCMD\n";
	char buf[64], *dot;
	DIR *d = opendir("/proc");
	struct dirent *e;
	long long uptime_ticks;
	int rc;

	if (!d || read_text("/proc/uptime", buf, sizeof(buf)) < 0) {
		dprintf(2, "kestrel ps: /proc: %s\n", strerror(errno));
		return 1;
	}
	/* "SECONDS.CC ...": in ticks without floating point (strtod would double this file's size). */
	uptime_ticks = atoll(buf) * HZ;
	if ((dot = strchr(buf, '.')) && dot[1] >= '0' && dot[1] <= '9' && dot[2] >= '0' && dot[2] <= '9')
		uptime_ticks += (dot[1] - '0') * 10 + (dot[2] - '0');
	rc = write_all(1, header, sizeof(header) - 1);
	while (rc == 0 && (e = readdir(d)))
		if (is_number(e->d_name))
			rc = show(e->d_name, uptime_ticks, (long long)time(NULL) - uptime_ticks / HZ);
	closedir(d);
	return rc == 0 ? 0 : 1;
}
