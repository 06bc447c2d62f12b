/*
 * kestrel: PID 1 of every HYPR microVM.
 *
 * Runtime mode, in order: mount the kernel filesystems, find the host channels (virtio-serial
 * ports named hypr.stdout, hypr.stderr, hypr.control), read the job the host wrote into the
 * initramfs (/hypr/job), mount the root filesystem (disk or 9p share) under a writable overlay
 * and switch into it, run the program with the job's argv/env/workdir/user, reap zombies, forward
 * stop requests, report the exit code on the control channel and power the VM off.
 *
 * The job is never taken from the kernel command line: every host user can read that with ps.
 * The exit code travels on its own channel, so nothing the program prints can forge it.
 * The protocol is documented in guest/PROTOCOL.md.
 */
#include "kestrel.h"

struct job {
	struct command cmd;
	const char *root;     /* "/dev/vda", "9p:TAG", or NULL */
	const char *rootfs_type; /* "ext4", "erofs", or NULL to try both */
	const char *hostname;
	int grace_ms;
	const char *upper_dev; /* persistent writable layer (ext4 disk), or NULL for a tmpfs */
	char *mounts[64];       /* "source\ttarget\ttype\toptions" */
	int nmounts;
	const char *mode;       /* "run" (default) or "build" */
	char *nics[16];         /* "mac\taddress/prefix\tgateway" */
	int nnics;
	char *dns[8], *search[8], *hosts[128]; /* nameservers, search domains, "address\tname" */
	int ndns, nsearch, nhosts;
	int exec_port;          /* X=1: the hypr.exec port is there */
	int open_stdin;         /* I=1: the program reads hypr.stdin */
	const char *tty;        /* Y=ROWSxCOLS: the program gets a terminal */
	const char *commands;   /* build mode: 9p tag of the command files */
	const char *shared;     /* build mode: 9p tag of the results directory */
};

static struct job job;
static char job_buf[JOB_MAX + 1];
int ctl_fd = -1;
int out_fd = -1;
int err_fd = -1;
int console_fd = -1;
static int stdin_fd = -1;   /* hypr.stdin: the program's input (run -i) */
static int main_tty = -1;   /* pty master of the program (run -t) */
static int rw_fd = -1; /* the writable layer's filesystem, kept to sync it after the switch */

/* Diagnostics go to the kernel console (the host keeps it as the VM's console log) and, when the
 * stderr channel is open, to the user as well. */
void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (console_fd >= 0 && write(console_fd, "kestrel: ", 9) >= 0)
		(void)!write(console_fd, buf, n);
}

void control(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (ctl_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!write(ctl_fd, buf, n);
}

void power_off(void)
{
	sync();
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

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say("%s", msg);
	if (err_fd >= 0) {
		(void)!write(err_fd, "hypr: ", 6);
		(void)!write(err_fd, msg, strlen(msg));
		(void)!write(err_fd, "\n", 1);
	}
	control("[HYPR-ERROR] %s", msg);
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

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[512];
	size_t len = strlen(path);

	if (len >= sizeof(tmp))
		return errno = ENAMETOOLONG, -1;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int mount_at(const char *src, const char *target, const char *type, unsigned long flags, const char *data)
{
	if (mkdir_p(target, 0755) < 0)
		return fail("mkdir", target);
	if (mount(src, target, type, flags, data) < 0) {
		/* With CONFIG_DEVTMPFS_MOUNT the kernel may have mounted /dev already. */
		if (errno == EBUSY)
			return 0;
		return fail("mount", target);
	}
	return 0;
}

int mount_kernel_fs(const char *prefix)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/proc", prefix);
	if (mount_at("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/sys", prefix);
	if (mount_at("sysfs", p, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/dev", prefix);
	if (mount_at("devtmpfs", p, "devtmpfs", MS_NOSUID, "mode=0755") < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/dev/pts", prefix);
	if (mount_at("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/dev/shm", prefix);
	if (mount_at("shm", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		return -1;
	return 0;
}

/* virtio-serial ports show up as /dev/vportNpM; their names are in sysfs. The ports are added
 * after the device handshake, which can finish after /init starts, so wait for them a while. */
static int open_port(const char *name, int flags)
{
	char path[320], got[64];

	for (int attempt = 0; attempt < 300; attempt++) {
		DIR *d = opendir("/sys/class/virtio-ports");
		struct dirent *e;

		while (d && (e = readdir(d))) {
			int fd, n;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			n = read(fd, got, sizeof(got) - 1);
			close(fd);
			if (n <= 0)
				continue;
			got[n] = '\0';
			if (got[n - 1] == '\n')
				got[n - 1] = '\0';
			if (strcmp(got, name) != 0)
				continue;
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			closedir(d);
			fd = open(path, flags | O_CLOEXEC);
			if (fd < 0)
				return fail("open", path);
			return fd;
		}
		if (d)
			closedir(d);
		usleep(10000);
	}
	say("virtio-serial port %s not found", name);
	return -1;
}

/* The job is a sequence of NUL-terminated "K=value" records: A argv (repeated), E env (repeated),
 * W workdir, U user, R root, T root type, H hostname, G stop grace in ms. */
static int read_job(void)
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
		char *v = p + 2;

		if (p[0] == '\0')
			continue;
		if (p[1] != '=')
			return say("%s: bad record '%.40s'", JOB_PATH, p), -1;
		switch (p[0]) {
		case 'A':
		case 'E':
		case 'W':
		case 'U':
			if (command_record(&job.cmd, p[0], v) < 0)
				return say("%s: too many arguments or environment entries", JOB_PATH), -1;
			break;
		case 'R': job.root = v; break;
		case 'T': job.rootfs_type = v; break;
		case 'H': job.hostname = v; break;
		case 'G': job.grace_ms = atoi(v); break;
		case 'P': job.upper_dev = v; break;
		case 'M': job.mode = v; break;
		case 'C': job.commands = v; break;
		case 'X': job.exec_port = 1; break;
		case 'I': job.open_stdin = 1; break;
		case 'Y': job.tty = v; break;
		case 'n':
		case 'D':
		case 'd':
		case 'h': {
			char **list = p[0] == 'n' ? job.nics : p[0] == 'D' ? job.dns : p[0] == 'd' ? job.search : job.hosts;
			int *count = p[0] == 'n' ? &job.nnics : p[0] == 'D' ? &job.ndns : p[0] == 'd' ? &job.nsearch : &job.nhosts;
			int max = p[0] == 'n' ? 16 : p[0] == 'h' ? 128 : 8;

			if (*count >= max)
				return say("%s: too many '%c' records", JOB_PATH, p[0]), -1;
			list[(*count)++] = v;
			break;
		}
		case 't': {
			/* microvm has no RTC: the host passes its clock (ms since the epoch). */
			long long ms = atoll(v);
			struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

			if (ms > 0 && clock_settime(CLOCK_REALTIME, &ts) < 0)
				say("clock_settime: %s", strerror(errno));
			break;
		}
		case 'S': job.shared = v; break;
		case 'm':
			if (job.nmounts >= (int)(sizeof(job.mounts) / sizeof(job.mounts[0])))
				return say("%s: too many mounts", JOB_PATH), -1;
			job.mounts[job.nmounts++] = v;
			break;
		default:
			/* Unknown keys come from a newer host; ignoring them keeps old guests bootable. */
			break;
		}
	}
	return 0;
}

/* Parses two unsigned numbers separated by one character ("30x100", "30 100"). */
int parse_pair(const char *s, unsigned *a, unsigned *b)
{
	char *end;

	*a = (unsigned)strtoul(s, &end, 10);
	if (end == s || !*end)
		return -1;
	s = end + 1;
	*b = (unsigned)strtoul(s, &end, 10);
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

static const char *getenv_cmd(const struct command *c, const char *key)
{
	size_t len = strlen(key);

	for (int i = 0; i < c->envc; i++)
		if (strncmp(c->env[i], key, len) == 0 && c->env[i][len] == '=')
			return c->env[i] + len + 1;
	return NULL;
}

static int mount_root(void)
{
	const char *lower = "/mnt/lower";

	if (!job.root || !*job.root) {
		errno = EINVAL;
		return fail("mount", "root (the job names no root filesystem)");
	}
	if (strncmp(job.root, "9p:", 3) == 0) {
		if (mount_at(job.root + 3, lower, "9p", MS_RDONLY,
			     "trans=virtio,version=9p2000.L,msize=262144,cache=loose") < 0)
			return -1;
	} else {
		const char *types[2] = { "ext4", "erofs" };
		int ok = -1;

		if (mkdir_p(lower, 0755) < 0)
			return fail("mkdir", lower);
		for (int i = 0; i < 2 && ok < 0; i++) {
			if (job.rootfs_type && strcmp(job.rootfs_type, types[i]) != 0)
				continue;
			ok = mount(job.root, lower, types[i], MS_RDONLY, NULL);
		}
		if (ok < 0)
			return fail("mount root filesystem", job.root);
	}
	/* The image stays read-only; the container's writes land in the upper layer: a disk that
	 * persists across stop/start when the host gives one, else a tmpfs. */
	if (job.upper_dev && *job.upper_dev) {
		if (mount_at(job.upper_dev, "/mnt/rw", "ext4", 0, NULL) < 0)
			return -1;
	} else if (mount_at("tmpfs", "/mnt/rw", "tmpfs", 0, "mode=0755") < 0) {
		return -1;
	}
	rw_fd = open("/mnt/rw", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mkdir_p("/mnt/rw/upper", 0755) < 0 || mkdir_p("/mnt/rw/work", 0755) < 0)
		return fail("mkdir", "/mnt/rw/upper");
	if (mount_at("overlay", NEWROOT, "overlay", 0,
		     "lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work") < 0)
		return -1;
	return 0;
}

/* Job mounts ("source\ttarget\ttype\toptions"), made inside the new root before the program
 * starts: volumes, tmpfs, build context. Sources are "9p:TAG", "virtiofs:TAG", a device, or
 * anything for tmpfs. Options: ro/rw/nosuid/nodev/noexec become flags, the rest is fs data. */
static int mount_job_volumes(void)
{
	for (int i = 0; i < job.nmounts; i++) {
		char spec[1024], target[600], data[512] = "";
		char *fields[4] = { 0 }, *s = spec, *opt;
		unsigned long flags = 0;
		const char *source, *type;
		int n = 0;

		snprintf(spec, sizeof(spec), "%s", job.mounts[i]);
		for (char *tok; n < 4 && (tok = strsep(&s, "\t")); )
			fields[n++] = tok;
		if (n < 3 || fields[1][0] != '/')
			return say("bad mount record '%.80s'", job.mounts[i]), errno = EINVAL, -1;
		source = fields[0];
		type = fields[2];
		for (char *o = fields[3]; o && (opt = strsep(&o, ",")); ) {
			if (!*opt)
				continue;
			if (strcmp(opt, "ro") == 0)
				flags |= MS_RDONLY;
			else if (strcmp(opt, "rw") == 0)
				continue;
			else if (strcmp(opt, "nosuid") == 0)
				flags |= MS_NOSUID;
			else if (strcmp(opt, "nodev") == 0)
				flags |= MS_NODEV;
			else if (strcmp(opt, "noexec") == 0)
				flags |= MS_NOEXEC;
			else
				snprintf(data + strlen(data), sizeof(data) - strlen(data), "%s%s", *data ? "," : "", opt);
		}
		if (strcmp(type, "9p") == 0) {
			if (strncmp(source, "9p:", 3) == 0)
				source += 3;
			snprintf(data + strlen(data), sizeof(data) - strlen(data), "%strans=virtio,version=9p2000.L,msize=262144%s",
				 *data ? "," : "", (flags & MS_RDONLY) ? ",cache=loose" : ",cache=mmap");
		} else if (strcmp(type, "virtiofs") == 0 && strncmp(source, "virtiofs:", 9) == 0) {
			source += 9;
		}
		snprintf(target, sizeof(target), "%s%s", NEWROOT, fields[1]);
		if (mount_at(source, target, type, flags, *data ? data : NULL) < 0)
			return -1;
	}
	return 0;
}

static int switch_root(void)
{
	if (mount_kernel_fs(NEWROOT) < 0)
		return -1;
	if (chdir(NEWROOT) < 0)
		return fail("chdir", NEWROOT);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return fail("move mount", NEWROOT);
	if (chroot(".") < 0)
		return fail("chroot", NEWROOT);
	if (chdir("/") < 0)
		return fail("chdir", "/");
	return 0;
}

/* Looks NAME up in an /etc/passwd- or /etc/group-shaped file; returns the id field and, for
 * passwd, the primary group and home. */
static int lookup_id(const char *file, const char *name, unsigned *id, unsigned *gid, char *home, size_t home_len)
{
	static char line[1024];
	FILE *f = fopen(file, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *fields[7] = { 0 };
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		for (char *s = line, *tok; n < 7 && (tok = strsep(&s, ":")); )
			fields[n++] = tok;
		if (n < 3 || strcmp(fields[0], name) != 0)
			continue;
		*id = (unsigned)strtoul(fields[2], NULL, 10);
		if (gid && n >= 4)
			*gid = (unsigned)strtoul(fields[3], NULL, 10);
		if (home && n >= 6)
			snprintf(home, home_len, "%s", fields[5]);
		fclose(f);
		return 0;
	}
	fclose(f);
	return -1;
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

/* Resolves "user[:group]" (names or ids) as docker does; an unknown name is an error. */
int resolve_user(const char *user, unsigned *uid, unsigned *gid, char *home, size_t home_len)
{
	char spec[256], *group;

	*uid = 0;
	*gid = 0;
	snprintf(home, home_len, "/root");
	if (!user || !*user)
		return 0;
	snprintf(spec, sizeof(spec), "%s", user);
	group = strchr(spec, ':');
	if (group)
		*group++ = '\0';
	if (is_number(spec)) {
		*uid = (unsigned)strtoul(spec, NULL, 10);
		/* A numeric uid need not exist in /etc/passwd; use its entry when there is one. */
		{
			static char line[1024];
			FILE *f = fopen("/etc/passwd", "re");

			while (f && fgets(line, sizeof(line), f)) {
				char *fields[7] = { 0 };
				int n = 0;

				line[strcspn(line, "\n")] = '\0';
				for (char *s = line, *tok; n < 7 && (tok = strsep(&s, ":")); )
					fields[n++] = tok;
				if (n >= 6 && (unsigned)strtoul(fields[2], NULL, 10) == *uid && is_number(fields[2])) {
					*gid = (unsigned)strtoul(fields[3], NULL, 10);
					snprintf(home, home_len, "%s", fields[5]);
					break;
				}
			}
			if (f)
				fclose(f);
		}
	} else if (lookup_id("/etc/passwd", spec, uid, gid, home, home_len) < 0) {
		return say("unable to find user %s: no matching entries in passwd file", spec), -1;
	}
	if (group && *group) {
		if (is_number(group))
			*gid = (unsigned)strtoul(group, NULL, 10);
		else if (lookup_id("/etc/group", group, gid, NULL, NULL, 0) < 0)
			return say("unable to find group %s: no matching entries in group file", group), -1;
	}
	return 0;
}

void prepare_env(struct command *c, const char *home)
{
	static char home_env[300];

	if (!getenv_cmd(c, "PATH"))
		c->env[c->envc++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	if (!getenv_cmd(c, "HOME")) {
		snprintf(home_env, sizeof(home_env), "HOME=%s", home);
		c->env[c->envc++] = home_env;
	}
	c->env[c->envc] = NULL;
}

/* Runs in the child between fork and exec. Reports a failure through err_pipe as an errno and a
 * one-byte step, so the parent can tell the host what went wrong. */
void exec_child(const struct command *c, int err_pipe, unsigned uid, unsigned gid, const int stdio[3], int ctty)
{
	int report[2], high[3];
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	/* Move the three descriptors out of 0..2 first, so that no dup2 clobbers another's source. */
	for (int i = 0; i < 3; i++) {
		int fd = stdio[i] >= 0 ? stdio[i] : open("/dev/null", O_RDWR | O_CLOEXEC);

		high[i] = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10);
		if (high[i] < 0) {
			report[0] = errno, report[1] = 'd';
			goto out;
		}
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(high[i], i) < 0) {
			report[0] = errno, report[1] = 'd';
			goto out;
		}
	}
	if (ctty && ioctl(0, TIOCSCTTY, 0) < 0) {
		report[0] = errno, report[1] = 't';
		goto out;
	}
	if (c->workdir && *c->workdir) {
		if (mkdir_p(c->workdir, 0755) < 0 || chdir(c->workdir) < 0) {
			report[0] = errno, report[1] = 'w';
			goto out;
		}
	}
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		report[0] = errno, report[1] = 'u';
		goto out;
	}
	environ = (char **)c->env;
	execvp(c->argv[0], (char *const *)c->argv);
	report[0] = errno, report[1] = 'x';
out:
	(void)!write(err_pipe, report, sizeof(report));
	_exit(report[1] == 'x' ? (report[0] == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC) : EXIT_SETUP);
}

static pid_t start_program(void)
{
	unsigned uid, gid;
	char home[256];
	int pipefd[2], report[2], stdio[3], slave = -1;
	pid_t pid;
	ssize_t n;

	if (job.cmd.argc == 0)
		die(EXIT_SETUP, "no command specified: the image has no Entrypoint or Cmd and none was given");
	if (resolve_user(job.cmd.user, &uid, &gid, home, sizeof(home)) < 0)
		die(EXIT_SETUP, "unable to find user %s", job.cmd.user);
	prepare_env(&job.cmd, home);
	if (job.tty) {
		struct winsize ws = { 0 };
		unsigned rows = 24, cols = 80;

		parse_pair(job.tty, &rows, &cols);
		ws.ws_row = rows;
		ws.ws_col = cols;
		if (open_pty(&main_tty, &slave, &ws) < 0)
			die(EXIT_SETUP, "cannot allocate a terminal: %s", strerror(errno));
		stdio[0] = stdio[1] = stdio[2] = slave;
	} else {
		stdio[0] = stdin_fd;
		stdio[1] = out_fd;
		stdio[2] = err_fd;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die(EXIT_SETUP, "pipe2: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die(EXIT_SETUP, "fork: %s", strerror(errno));
	if (pid == 0)
		exec_child(&job.cmd, pipefd[1], uid, gid, stdio, job.tty != NULL);
	close(pipefd[1]);
	if (slave >= 0)
		close(slave);
	if (main_tty >= 0)
		fcntl(main_tty, F_SETFL, O_NONBLOCK);
	n = read(pipefd[0], report, sizeof(report));
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(report)) {
		int code = EXIT_SETUP;
		const char *what = "start";

		waitpid(pid, NULL, 0);
		switch (report[1]) {
		case 'x':
			what = "exec";
			code = report[0] == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
			die(code, "exec %s: %s", job.cmd.argv[0],
			    report[0] == ENOENT ? "executable file not found in $PATH" : strerror(report[0]));
			break;
		case 'w': what = "chdir to working directory"; break;
		case 'u': what = "switch to user"; break;
		case 'd': what = "connect output channels"; break;
		case 't': what = "set the controlling terminal"; break;
		}
		die(code, "%s %s: %s", what, report[1] == 'w' ? job.cmd.workdir : (job.cmd.user ? job.cmd.user : ""),
		    strerror(report[0]));
	}
	return pid;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* Host → guest commands, one per line: "STOP <signal> <grace-ms>" and "SIGNAL <signal>". */
static void handle_command(char *line, pid_t main_pid, long long *kill_deadline)
{
	char verb[16], sig[16];
	int grace = job.grace_ms;

	{
		/* "VERB ARG [NUMBER]" */
		char *sp = strchr(line, ' '), *sp2;

		if (!sp || sp - line >= (long)sizeof(verb))
			return;
		snprintf(verb, sizeof(verb), "%.*s", (int)(sp - line), line);
		sp2 = strchr(sp + 1, ' ');
		snprintf(sig, sizeof(sig), "%.*s", sp2 ? (int)(sp2 - sp - 1) : (int)strlen(sp + 1), sp + 1);
		if (sp2)
			grace = atoi(sp2 + 1);
	}
	if (strcmp(verb, "STOP") == 0) {
		int s = signal_by_name(sig);

		kill(-main_pid, s ? s : SIGTERM);
		kill(main_pid, s ? s : SIGTERM);
		*kill_deadline = now_ms() + grace;
	} else if (strcmp(verb, "RESIZE") == 0) {
		struct winsize ws = { 0 };
		unsigned rows, cols;

		if (main_tty >= 0 && parse_pair(line + 7, &rows, &cols) == 0) {
			ws.ws_row = rows;
			ws.ws_col = cols;
			ioctl(main_tty, TIOCSWINSZ, &ws);
		}
	} else if (strcmp(verb, "SIGNAL") == 0) {
		int s = signal_by_name(sig);

		if (s)
			kill(main_pid, s);
	}
}

/* Waits for the program, reaping every orphan that reparents to PID 1 meanwhile, and serving
 * the control channel. Returns the program's exit status as the shell reports it. */
static char tty_buf[16384];

/* Copies the program's terminal output to the stdout channel; returns 0 once the terminal closed. */
static int pump_tty(void)
{
	for (;;) {
		ssize_t n = read(main_tty, tty_buf, sizeof(tty_buf));

		if (n > 0) {
			(void)!write(out_fd, tty_buf, n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 1;
		close(main_tty);
		main_tty = -1;
		return 0;
	}
}

static void forward_stdin(void)
{
	ssize_t n = read(stdin_fd, tty_buf, sizeof(tty_buf));

	if (n > 0) {
		(void)!write(main_tty, tty_buf, n);
		return;
	}
	/* The host closed the program's input. */
	close(stdin_fd);
	stdin_fd = -1;
}

/* Waits for the program, reaping every orphan that reparents to PID 1 meanwhile, and serving
 * the control channel, the program's terminal and exec sessions. Returns the program's exit
 * status as the shell reports it. */
static int supervise(pid_t main_pid)
{
	sigset_t mask;
	int sfd, status = -1;
	long long kill_deadline = -1;
	char cmd[256];
	size_t cmd_len = 0;
	static struct pollfd fds[48];

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die(EXIT_SETUP, "signalfd: %s", strerror(errno));
	for (;;) {
		int timeout = -1, nfds = 0, tty_at = -1, stdin_at = -1, exec_at;
		pid_t pid;
		int st;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

			if (pid == main_pid)
				status = code;
			else
				exec_reap(pid, code);
		}
		if (status >= 0) {
			if (main_tty >= 0)
				pump_tty();
			break;
		}
		if (kill_deadline >= 0) {
			long long left = kill_deadline - now_ms();

			if (left <= 0) {
				kill(-main_pid, SIGKILL);
				kill(main_pid, SIGKILL);
				kill_deadline = -1;
				continue;
			}
			timeout = (int)left;
		}
		fds[nfds++] = (struct pollfd){ sfd, POLLIN, 0 };
		fds[nfds++] = (struct pollfd){ ctl_fd, POLLIN, 0 };
		if (main_tty >= 0) {
			tty_at = nfds;
			fds[nfds++] = (struct pollfd){ main_tty, POLLIN, 0 };
			if (stdin_fd >= 0) {
				stdin_at = nfds;
				fds[nfds++] = (struct pollfd){ stdin_fd, POLLIN, 0 };
			}
		}
		exec_at = nfds;
		nfds += exec_poll_fds(fds + nfds, (int)(sizeof(fds) / sizeof(fds[0])) - nfds);
		if (poll(fds, nfds, timeout) < 0 && errno != EINTR)
			die(EXIT_SETUP, "poll: %s", strerror(errno));
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
		}
		if (tty_at >= 0 && fds[tty_at].revents)
			pump_tty();
		if (stdin_at >= 0 && fds[stdin_at].revents && main_tty >= 0)
			forward_stdin();
		exec_handle(fds + exec_at, nfds - exec_at);
		if (fds[1].revents & POLLIN) {
			ssize_t n = read(ctl_fd, cmd + cmd_len, sizeof(cmd) - 1 - cmd_len);

			if (n > 0) {
				char *nl;

				cmd_len += n;
				cmd[cmd_len] = '\0';
				while ((nl = strchr(cmd, '\n'))) {
					*nl = '\0';
					handle_command(cmd, main_pid, &kill_deadline);
					cmd_len -= (nl + 1 - cmd);
					memmove(cmd, nl + 1, cmd_len + 1);
				}
				if (cmd_len == sizeof(cmd) - 1)
					cmd_len = 0;
			}
		}
	}
	close(sfd);
	return status;
}

/* Once the program is gone, the rest of the VM's processes go with it, as in a container. */
void end_everything(void)
{
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
	sync();
	/* What the program wrote to its writable layer must be on the host's disk when stop returns. */
	if (rw_fd >= 0 && syncfs(rw_fd) < 0)
		say("syncfs /mnt/rw: %s", strerror(errno));
}

int main(void)
{
	sigset_t mask;
	pid_t pid;
	int status;

	if (getpid() != 1) {
		fprintf(stderr, "kestrel %s: the HYPR guest agent runs as PID 1 inside a HYPR microVM\n", KESTREL_VERSION);
		return 2;
	}
	/* SIGCHLD is read through a signalfd; TERM/INT to PID 1 come only from the kernel. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	if (mount_kernel_fs("") < 0)
		power_off();
	/* The kernel found no /dev/console in our initramfs, so 0..2 are closed: fill them, so that no
	 * channel lands on a standard descriptor by accident. */
	for (int fd = open("/dev/null", O_RDWR); fd >= 0 && fd < 2; fd = open("/dev/null", O_RDWR))
		;
	console_fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (mount_at("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		power_off();
	ctl_fd = open_port("hypr.control", O_RDWR);
	out_fd = open_port("hypr.stdout", O_WRONLY);
	err_fd = open_port("hypr.stderr", O_WRONLY);
	if (ctl_fd < 0 || out_fd < 0 || err_fd < 0)
		die(EXIT_SETUP, "host channels missing (virtio-serial ports hypr.control/stdout/stderr)");
	control("[HYPR-READY] kestrel %s", KESTREL_VERSION);
	if (read_job() < 0)
		die(EXIT_SETUP, "cannot read the job %s", JOB_PATH);
	if (job.exec_port) {
		int fd = open_port("hypr.exec", O_RDWR);

		if (fd < 0)
			die(EXIT_SETUP, "exec channel (virtio-serial port hypr.exec) missing");
		exec_init(fd);
	}
	if (job.open_stdin && (stdin_fd = open_port("hypr.stdin", O_RDONLY)) < 0)
		die(EXIT_SETUP, "stdin channel (virtio-serial port hypr.stdin) missing");
	if (mount_root() < 0)
		die(EXIT_SETUP, "cannot mount the root filesystem %s: %s", job.root ? job.root : "(none)", strerror(errno));
	if (mount_job_volumes() < 0)
		die(EXIT_SETUP, "cannot mount a volume: %s", strerror(errno));
	if (configure_network(job.nics, job.nnics) < 0)
		die(EXIT_SETUP, "cannot configure the network: %s", strerror(errno));
	if (job.mode && strcmp(job.mode, "build") == 0) {
		status = build_main(job.commands, job.shared);
		end_everything();
		control("[HYPR-EXIT] %d", status);
		power_off();
	}
	if (job.mode && strcmp(job.mode, "run") != 0)
		die(EXIT_SETUP, "kestrel %s has no mode '%s'", KESTREL_VERSION, job.mode);
	{
		char first[64] = "";

		if (job.nnics > 0) {
			const char *tab = strchr(job.nics[0], '\t');
			const char *slash = tab ? strchr(tab + 1, '/') : NULL;

			if (tab && slash && slash - tab - 1 < (long)sizeof(first))
				snprintf(first, sizeof(first), "%.*s", (int)(slash - tab - 1), tab + 1);
		}
		if (write_name_files(NEWROOT, job.hostname, *first ? first : NULL, job.hosts, job.nhosts, job.dns, job.ndns,
				     job.search, job.nsearch) < 0)
			die(EXIT_SETUP, "cannot write /etc/hosts or /etc/resolv.conf: %s", strerror(errno));
	}
	if (switch_root() < 0)
		die(EXIT_SETUP, "cannot switch to the root filesystem: %s", strerror(errno));
	if (job.hostname && sethostname(job.hostname, strlen(job.hostname)) < 0)
		say("sethostname %s: %s", job.hostname, strerror(errno));
	pid = start_program();
	control("[HYPR-STARTED] %d", pid);
	status = supervise(pid);
	end_everything();
	control("[HYPR-EXIT] %d", status);
	power_off();
	return 0;
}
