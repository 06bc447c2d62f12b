/* The job file (/hypr/job in the initramfs) and the small parsers its values need. */
#include "kestrel.h"

struct job job;
static char job_buf[JOB_MAX + 1];

/* The job is a sequence of NUL-terminated "K=value" records: A argv (repeated), E env (repeated),
 * W workdir, U user, R root, T root type, H hostname, G stop grace in ms; guest/PROTOCOL.md has
 * them all. Values point into job_buf, which lives as long as kestrel. */
/* Appends V to one of the job's repeated lists; too many is an error, never a silent cut. */
static int add_to_list(char key, char **list, int *count, int max, char *v)
{
	if (*count >= max)
		return say("%s: too many '%c' records", JOB_PATH, key), -1;
	list[(*count)++] = v;
	return 0;
}

static void set_clock(const char *v)
{
	/* microvm has no RTC: the host passes its clock (ms since the epoch). */
	long long ms = atoll(v);
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	if (ms > 0 && clock_settime(CLOCK_REALTIME, &ts) < 0)
		say("clock_settime: %s", strerror(errno));
}

static int job_record(char key, char *v)
{
	switch (key) {
	case 'A':
	case 'E':
	case 'W':
	case 'U':
		if (command_record(&job.cmd, key, v) < 0)
			return say("%s: too many arguments or environment entries", JOB_PATH), -1;
		return 0;
	case 'R': job.root = v; return 0;
	case 'T': job.rootfs_type = v; return 0;
	case 'H': job.hostname = v; return 0;
	case 'G': job.grace_ms = atoi(v); return 0;
	case 'P': job.upper_dev = v; return 0;
	case 'e': job.ephemeral_upper = v[0] == '1'; return 0;
	case 'M': job.mode = v; return 0;
	case 'C': job.commands = v; return 0;
	case 'S': job.shared = v; return 0;
	case 'X': job.exec_port = 1; return 0;
	case 'I': job.open_stdin = 1; return 0;
	case 'Y': job.tty = v; return 0;
	case 't': set_clock(v); return 0;
	case 's': job.shm_bytes = parse_number(v, NULL, 10); return 0;
	case 'V': job.privileged = v[0] == '1'; return 0;
	case 'v': return add_to_list(key, job.devices, &job.ndevices, 16, v);
	case 'n': return add_to_list(key, job.nics, &job.nnics, 16, v);
	case 'D': return add_to_list(key, job.dns, &job.ndns, 8, v);
	case 'd': return add_to_list(key, job.search, &job.nsearch, 8, v);
	case 'h': return add_to_list(key, job.hosts, &job.nhosts, 128, v);
	case 'm': return add_to_list(key, job.mounts, &job.nmounts, 64, v);
	default:
		/* Unknown keys come from a newer host; ignoring them keeps old guests bootable. */
		return 0;
	}
}

int read_job(void)
{
	int fd = open(JOB_PATH, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return fail("open", JOB_PATH);
	while ((n = read(fd, job_buf + total, JOB_MAX - total)) > 0)
		total += n;
	close(fd);
	if (n < 0)
		return fail("read", JOB_PATH);
	if (total == JOB_MAX)
		return say("%s is larger than %d bytes", JOB_PATH, JOB_MAX), -1;
	job_buf[total] = '\0';
	job.grace_ms = 10000;
	for (char *p = job_buf; p < job_buf + total; p += strlen(p) + 1) {
		if (p[0] == '\0')
			continue;
		if (p[1] != '=')
			return say("%s: bad record '%.40s'", JOB_PATH, p), -1;
		if (job_record(p[0], p + 2) < 0)
			return -1;
	}
	return 0;
}

/* strtoul for what kestrel parses: digits only, no sign, no spaces. musl's strtoul would bring its
 * 1.5 KB number scanner into kestrel. */
unsigned long long parse_number(const char *s, char **end, int base)
{
	unsigned long long v = 0;

	for (;; s++) {
		int c = *s | 32, d = *s >= '0' && *s <= '9' ? *s - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;

		if (d >= base)
			break;
		v = v * base + d;
	}
	if (end)
		*end = (char *)s;
	return v;
}

/* Parses two unsigned numbers separated by one character ("30x100", "30 100"). */
int parse_pair(const char *s, unsigned *a, unsigned *b)
{
	char *end;

	*a = (unsigned)parse_number(s, &end, 10);
	if (end == s || !*end)
		return -1;
	s = end + 1;
	*b = (unsigned)parse_number(s, &end, 10);
	return end == s ? -1 : 0;
}

int command_record(struct command *c, char key, char *value)
{
	switch (key) {
	case 'A':
		if (c->argc >= MAX_ARGS)
			return -1;
		c->argv[c->argc++] = value;
		c->argv[c->argc] = NULL;
		break;
	case 'E':
		if (c->envc >= MAX_ENV)
			return -1;
		c->env[c->envc++] = value;
		c->env[c->envc] = NULL;
		break;
	case 'W': c->workdir = value; break;
	case 'U': c->user = value; break;
	}
	return 0;
}

int is_number(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

int signal_by_name(const char *s)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "STOP", SIGSTOP },
		{ "CONT", SIGCONT }, { "WINCH", SIGWINCH },
	};

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	if (is_number(s))
		return atoi(s);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].sig;
	return 0;
}
