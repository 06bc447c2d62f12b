/*
 * kestrel build mode: run one build step's command files and hand the step's layer to the host.
 *
 * The host shares the command files (tag given by the job's C key, mounted at /hypr/commands) and
 * a results directory (S key, /hypr/shared). The stage's root filesystem is already mounted at
 * NEWROOT with an overlay whose upper dir, /mnt/rw/upper, collects the step's changes. Kestrel
 * stays outside that tree so the upper dir and the results stay in reach; each command runs in a
 * child chrooted into NEWROOT. Command files run in lexical order; each yields a marker on the
 * control channel:
 *
 *   [HYPR-RESULT] <file> ok 0          [HYPR-RESULT] <file> failed <exit code>
 *
 * The first failure stops the step. FINALIZE writes /hypr/shared/layer.tar: the upper dir as an
 * uncompressed tar with overlayfs whiteouts turned into OCI ones (.wh.NAME, .wh..wh..opq). LAYER
 * writes the upper dir to /hypr/shared/NNN.tar (NNN: its own file name) and starts a fresh upper dir
 * stacked on the previous ones, so one VM runs several RUN steps and each still yields its own layer.
 *
 * A RUN with name records (D, d, h) sees /etc/resolv.conf and /etc/hosts made from them, bind-mounted
 * for the command only, so they never land in a layer (as BuildKit does); N=none runs it in a fresh
 * network namespace with only a loopback interface.
 */
#include "kestrel.h"

#include <sched.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define CMD_MAX (256 * 1024)
#define COMMANDS_DIR "/hypr/commands"
#define SHARED_DIR "/hypr/shared"
#define NAMES_DIR "/tmp/hypr-names"
#define MAX_LINKS 2048
#define MAX_UPPERS 128

static char cmd_buf[CMD_MAX + 1];
static struct command cmd;
/* The command's network (N=none) and name records: nameservers, search domains, "address\tname". */
static int no_network;
static char *dns[8], *search[8], *hosts[64];
static int ndns, nsearch, nhosts;

/* The overlay's upper dir: /mnt/rw/upper, then /mnt/rw/upper1 … after each LAYER. */
static char upper_dir[32] = "/mnt/rw/upper";
static int uppers;

/* Hard links inside the layer: the first path of each inode is kept, later ones become links. */
static struct {
	dev_t dev;
	ino_t ino;
	char path[256];
} links[MAX_LINKS];
static int nlinks;

static int tar_fd = -1;
static const char *tar_path = "";
static const char *tar_base = "/mnt/rw/upper"; /* the tree tar_tree reads */
static unsigned long long tar_bytes;
static char block[512];
static char io_buf[65536];

static void octal(char *field, size_t width, unsigned long long value)
{
	/* width includes the terminating NUL */
	snprintf(field, width, "%0*llo", (int)width - 1, value);
}

static int tar_header(const char *name, const char *linkname, char type, const struct stat *st, unsigned long long size);

/* GNU long name/link records for paths that do not fit ustar's 100 bytes. */
static int tar_long(char type, const char *value)
{
	struct stat st = { 0 };
	size_t len = strlen(value) + 1;

	st.st_mode = 0644;
	if (tar_header("././@LongLink", "", type, &st, len) < 0)
		return -1;
	for (size_t off = 0; off < len; off += 512) {
		size_t n = len - off < 512 ? len - off : 512;

		memset(block, 0, sizeof(block));
		memcpy(block, value + off, n);
		if (write_all(tar_fd, block, 512) < 0)
			return -1;
		tar_bytes += 512;
	}
	return 0;
}

static int tar_header(const char *name, const char *linkname, char type, const struct stat *st, unsigned long long size)
{
	char h[512];
	unsigned sum = 0;

	if (type != 'L' && type != 'K') {
		if (strlen(name) > 99 && tar_long('L', name) < 0)
			return -1;
		if (strlen(linkname) > 99 && tar_long('K', linkname) < 0)
			return -1;
	}
	memset(h, 0, sizeof(h));
	snprintf(h, 100, "%s", name);
	octal(h + 100, 8, st->st_mode & 07777);
	octal(h + 108, 8, st->st_uid);
	octal(h + 116, 8, st->st_gid);
	octal(h + 124, 12, size);
	octal(h + 136, 12, (unsigned long long)(st->st_mtime > 0 ? st->st_mtime : 0));
	memset(h + 148, ' ', 8);
	h[156] = type;
	snprintf(h + 157, 100, "%s", linkname);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (type == '3' || type == '4') {
		octal(h + 329, 8, major(st->st_rdev));
		octal(h + 337, 8, minor(st->st_rdev));
	}
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	h[155] = ' ';
	if (write_all(tar_fd, h, 512) < 0)
		return -1;
	tar_bytes += 512;
	return 0;
}

static int tar_file_body(const char *path, unsigned long long size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	unsigned long long left = size;

	if (fd < 0)
		return fail("open", path);
	while (left > 0) {
		ssize_t n = read(fd, io_buf, left < sizeof(io_buf) ? left : sizeof(io_buf));

		if (n <= 0) {
			close(fd);
			errno = n < 0 ? errno : EIO;
			return fail("read", path);
		}
		if (write_all(tar_fd, io_buf, n) < 0) {
			close(fd);
			return fail("write", tar_path);
		}
		left -= n;
	}
	close(fd);
	tar_bytes += size;
	if (size % 512) {
		memset(block, 0, sizeof(block));
		if (write_all(tar_fd, block, 512 - size % 512) < 0)
			return -1;
		tar_bytes += 512 - size % 512;
	}
	return 0;
}

static int is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static int is_opaque(const char *path)
{
	char v[4];
	ssize_t n = lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v));

	return n == 1 && v[0] == 'y';
}

/* Adds the entry at upper-relative path REL (no leading slash) and, for a directory, its children. */
static int tar_tree(const char *rel)
{
	char path[4096], name[4096], target[4096];
	struct stat st;
	struct dirent **entries;
	int n;

	snprintf(path, sizeof(path), "%s/%s", tar_base, rel);
	if (lstat(path, &st) < 0)
		return fail("lstat", path);
	if (*rel) {
		if (is_whiteout(&st)) {
			/* overlayfs marks a deleted file with a 0/0 character device; OCI with .wh.NAME */
			const char *base = strrchr(rel, '/');
			struct stat wh = { 0 };

			wh.st_mode = 0644;
			wh.st_mtime = st.st_mtime;
			if (base)
				snprintf(name, sizeof(name), "%.*s/.wh.%s", (int)(base - rel), rel, base + 1);
			else
				snprintf(name, sizeof(name), ".wh.%s", rel);
			return tar_header(name, "", '0', &wh, 0);
		}
		if (S_ISDIR(st.st_mode)) {
			snprintf(name, sizeof(name), "%s/", rel);
			if (tar_header(name, "", '5', &st, 0) < 0)
				return -1;
			if (is_opaque(path)) {
				struct stat wh = { 0 };

				wh.st_mode = 0644;
				wh.st_mtime = st.st_mtime;
				snprintf(name, sizeof(name), "%s/.wh..wh..opq", rel);
				if (tar_header(name, "", '0', &wh, 0) < 0)
					return -1;
			}
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t len = readlink(path, target, sizeof(target) - 1);

			if (len < 0)
				return fail("readlink", path);
			target[len] = '\0';
			return tar_header(rel, target, '2', &st, 0);
		} else if (S_ISREG(st.st_mode)) {
			if (st.st_nlink > 1) {
				for (int i = 0; i < nlinks; i++)
					if (links[i].dev == st.st_dev && links[i].ino == st.st_ino)
						return tar_header(rel, links[i].path, '1', &st, 0);
				if (nlinks < MAX_LINKS && strlen(rel) < sizeof(links[0].path)) {
					links[nlinks].dev = st.st_dev;
					links[nlinks].ino = st.st_ino;
					snprintf(links[nlinks].path, sizeof(links[0].path), "%s", rel);
					nlinks++;
				}
			}
			if (tar_header(rel, "", '0', &st, st.st_size) < 0)
				return -1;
			return tar_file_body(path, st.st_size);
		} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
			return tar_header(rel, "", S_ISCHR(st.st_mode) ? '3' : S_ISBLK(st.st_mode) ? '4' : '6', &st, 0);
		} else {
			return 0; /* sockets do not belong in a layer */
		}
	}
	/* Sorted, so the same tree always gives the same tar. */
	n = scandir(path, &entries, NULL, alphasort);
	if (n < 0)
		return fail("scandir", path);
	for (int i = 0; i < n; i++) {
		int rc = 0;

		const char *d = entries[i]->d_name;
		/* The kernel filesystems mounted for the step are not part of its layer. */
		int skip = !*rel && (strcmp(d, "proc") == 0 || strcmp(d, "sys") == 0 || strcmp(d, "dev") == 0);

		if (!skip && strcmp(d, ".") != 0 && strcmp(d, "..") != 0) {
			if (*rel)
				snprintf(name, sizeof(name), "%s/%s", rel, entries[i]->d_name);
			else
				snprintf(name, sizeof(name), "%s", entries[i]->d_name);
			rc = tar_tree(name);
		}
		free(entries[i]);
		if (rc < 0) {
			while (++i < n)
				free(entries[i]);
			free(entries);
			return -1;
		}
	}
	free(entries);
	return 0;
}

/* Writes the upper dir as a tar at OUT, through OUT.tmp: the host takes a layer only once it is whole. */
static int write_layer(const char *out)
{
	char tmp[128];

	sync();
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	tar_path = tmp;
	tar_base = upper_dir;
	tar_fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (tar_fd < 0)
		return fail("open", tmp);
	nlinks = 0;
	tar_bytes = 0;
	if (tar_tree("") < 0) {
		close(tar_fd);
		return -1;
	}
	memset(io_buf, 0, 1024);
	if (write_all(tar_fd, io_buf, 1024) < 0 || fsync(tar_fd) < 0) {
		close(tar_fd);
		return fail("write", tmp);
	}
	close(tar_fd);
	if (rename(tmp, out) < 0)
		return fail("rename", tmp);
	return 0;
}

/* Writes BASE/REL and what is under it to FD as an uncompressed tar, names relative to BASE, as a
 * layer is written (for `hypr cp` out of a container). */
int tar_write_tree(const char *base, const char *rel, int fd)
{
	tar_base = base;
	tar_fd = fd;
	tar_path = "the output";
	nlinks = 0;
	tar_bytes = 0;
	if (tar_tree(rel) < 0)
		return -1;
	memset(io_buf, 0, 1024);
	return write_all(fd, io_buf, 1024);
}

/* Mounts a fresh overlay on NEWROOT: a new upper dir over the previous ones and the stage's root. */
static int next_upper(void)
{
	static char data[4096];
	char work[32];
	size_t len;

	if (uppers + 1 >= MAX_UPPERS)
		return say("more than %d layers in one build VM", MAX_UPPERS - 1), -1;
	/* Nothing of the step may still hold the old overlay: its upper dir becomes a lower one. */
	for (;;) {
		if (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
			continue;
		break;
	}
	if (umount2(NEWROOT, MNT_DETACH) < 0)
		return fail("umount", NEWROOT);
	len = snprintf(data, sizeof(data), "lowerdir=");
	for (int i = uppers; i >= 0 && len < sizeof(data); i--)
		len += snprintf(data + len, sizeof(data) - len, i ? "/mnt/rw/upper%d:" : "/mnt/rw/upper:", i);
	uppers++;
	snprintf(upper_dir, sizeof(upper_dir), "/mnt/rw/upper%d", uppers);
	snprintf(work, sizeof(work), "/mnt/rw/work%d", uppers);
	if (len < sizeof(data))
		len += snprintf(data + len, sizeof(data) - len, "/mnt/lower,upperdir=%s,workdir=%s", upper_dir, work);
	if (len >= sizeof(data))
		return say("overlay options too long"), -1;
	if (mkdir_p(upper_dir, 0755) < 0 || mkdir_p(work, 0755) < 0)
		return fail("mkdir", upper_dir);
	if (mount_at("overlay", NEWROOT, "overlay", 0, data) < 0 || mount_kernel_fs(NEWROOT) < 0)
		return -1;
	return 0;
}

/* LAYER: the changes since the previous LAYER become NNN.tar; the next command starts a new layer. */
static int layer(const char *name)
{
	char out[128];

	snprintf(out, sizeof(out), "%s/%.*s.tar", SHARED_DIR, (int)(strlen(name) - 4), name);
	if (write_layer(out) < 0)
		return -1;
	return next_upper();
}

/* Keeps a name record (D, d, h) of the command; the rest goes to command_record. */
static int name_record(char key, char *value)
{
	char **list = key == 'D' ? dns : key == 'd' ? search : hosts;
	int *count = key == 'D' ? &ndns : key == 'd' ? &nsearch : &nhosts;
	int max = key == 'h' ? 64 : 8;

	if (*count >= max)
		return -1;
	list[(*count)++] = value;
	return 0;
}

static int read_command(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	memset(&cmd, 0, sizeof(cmd));
	no_network = ndns = nsearch = nhosts = 0;
	if (fd < 0)
		return fail("open", path);
	while ((n = read(fd, cmd_buf + total, CMD_MAX - total)) > 0)
		total += n;
	close(fd);
	if (n < 0 || total == CMD_MAX)
		return say("%s: unreadable or larger than %d bytes", path, CMD_MAX), -1;
	cmd_buf[total] = '\0';
	for (char *p = cmd_buf; p < cmd_buf + total; p += strlen(p) + 1) {
		int rc = 0;

		if (!p[0] || p[1] != '=' || p[0] == 'K')
			continue;
		if (p[0] == 'N')
			no_network = strcmp(p + 2, "none") == 0;
		else if (p[0] == 'D' || p[0] == 'd' || p[0] == 'h')
			rc = name_record(p[0], p + 2);
		else
			rc = command_record(&cmd, p[0], p + 2);
		if (rc < 0)
			return say("%s: too many arguments, environment entries or names", path), -1;
	}
	return 0;
}

/* Name files bind-mounted over the root's /etc for one command; stubs made for them are removed after. */
static struct {
	const char *name;
	int mounted, stub, etc_copied;
} etc_files[2] = { { "hosts", 0, 0, 0 }, { "resolv.conf", 0, 0, 0 } };

static void mount_name_files(void)
{
	char src[128], dst[128], upper_etc[64];
	struct stat st;

	if (ndns + nsearch + nhosts == 0 || no_network)
		return;
	if (write_name_files(NAMES_DIR, NULL, NULL, hosts, nhosts, dns, ndns, search, nsearch) < 0)
		return;
	/* Only into a real /etc: an image's symlinked /etc or resolv.conf would lead the mount outside its root. */
	if (lstat(NEWROOT "/etc", &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	snprintf(upper_etc, sizeof(upper_etc), "%s/etc", upper_dir);
	for (int i = 0; i < 2; i++) {
		snprintf(src, sizeof(src), "%s/etc/%s", NAMES_DIR, etc_files[i].name);
		snprintf(dst, sizeof(dst), "%s/etc/%s", NEWROOT, etc_files[i].name);
		etc_files[i].stub = etc_files[i].etc_copied = 0;
		if (access(src, F_OK) < 0)
			continue;
		if (lstat(dst, &st) < 0) {
			int fd;

			etc_files[i].etc_copied = lstat(upper_etc, &st) < 0;
			fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (fd < 0)
				continue;
			close(fd);
			etc_files[i].stub = 1;
		} else if (!S_ISREG(st.st_mode)) {
			continue;
		}
		etc_files[i].mounted = mount(src, dst, NULL, MS_BIND, NULL) == 0;
	}
}

/* Undoes mount_name_files; an /etc that only the stubs copied up leaves the upper dir again. */
static void unmount_name_files(void)
{
	char path[128];
	int etc_copied = 0;

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/etc/%s", NEWROOT, etc_files[i].name);
		if (etc_files[i].mounted && umount2(path, MNT_DETACH) < 0)
			say("umount %s: %s", path, strerror(errno));
		if (etc_files[i].stub && unlink(path) < 0 && errno != ENOENT)
			say("unlink %s: %s", path, strerror(errno));
		etc_copied |= etc_files[i].stub && etc_files[i].etc_copied;
		etc_files[i].mounted = etc_files[i].stub = 0;
	}
	/* ENOTEMPTY: the command wrote to /etc itself, so /etc belongs in its layer. */
	snprintf(path, sizeof(path), "%s/etc", upper_dir);
	if (etc_copied && rmdir(path) < 0 && errno != ENOTEMPTY)
		say("rmdir %s: %s", path, strerror(errno));
}

static const char *command_kind(void)
{
	for (char *p = cmd_buf; *p; p += strlen(p) + 1)
		if (p[0] == 'K' && p[1] == '=')
			return p + 2;
	return "";
}

/* Runs one RUN command chrooted into the stage's tree; returns its exit status. */
static int run_command(void)
{
	pid_t pid, w;
	int st, status = EXIT_SETUP;

	if (cmd.argc == 0)
		return say("RUN without a command"), EXIT_SETUP;
	mount_name_files();
	pid = fork();
	if (pid < 0)
		return unmount_name_files(), say("fork: %s", strerror(errno)), EXIT_SETUP;
	if (pid == 0) {
		unsigned uid, gid;
		char home[256];
		int report[2], pipefd[2];

		/* RUN --network=none in a VM with a NIC: a network namespace of its own, loopback only. */
		if (no_network && (unshare(CLONE_NEWNET) < 0 || configure_network(NULL, 0) < 0)) {
			dprintf(err_fd, "hypr: unshare network: %s\n", strerror(errno));
			_exit(EXIT_SETUP);
		}
		if (chroot(NEWROOT) < 0 || chdir("/") < 0) {
			dprintf(err_fd, "hypr: chroot %s: %s\n", NEWROOT, strerror(errno));
			_exit(EXIT_SETUP);
		}
		if (resolve_user(cmd.user, &uid, &gid, home, sizeof(home)) < 0) {
			dprintf(err_fd, "hypr: unable to find user %s\n", cmd.user);
			_exit(EXIT_SETUP);
		}
		prepare_env(&cmd, home);
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			_exit(EXIT_SETUP);
		pid = fork();
		if (pid == 0) {
			int stdio[3] = { -1, out_fd, err_fd };

			exec_child(&cmd, pipefd[1], uid, gid, stdio, 0);
		}
		close(pipefd[1]);
		if (read(pipefd[0], report, sizeof(report)) == (ssize_t)sizeof(report)) {
			dprintf(err_fd, "hypr: %s %s: %s\n", report[1] == 'x' ? "exec" : "start", cmd.argv[0],
				report[0] == ENOENT && report[1] == 'x' ? "executable file not found in $PATH" : strerror(report[0]));
		}
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	while ((w = waitpid(-1, &st, 0)) >= 0 || errno == EINTR) {
		if (w == pid) {
			status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
	}
	/* A step ends with its command: background processes it left do not outlive it. */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	unmount_name_files();
	return status;
}

static int is_cmd_file(const struct dirent *e)
{
	size_t len = strlen(e->d_name);

	return len > 4 && strcmp(e->d_name + len - 4, ".cmd") == 0;
}

int build_main(const char *commands_tag, const char *shared_tag)
{
	struct dirent **files;
	int n, status = 0;
	char path[512];

	if (!commands_tag || !shared_tag)
		die(EXIT_SETUP, "build mode needs the commands and shared directories (job keys C and S)");
	if (mount_at(commands_tag, COMMANDS_DIR, "9p", MS_RDONLY, OPTS_9P) < 0 ||
	    mount_at(shared_tag, SHARED_DIR, "9p", 0, OPTS_9P) < 0)
		die(EXIT_SETUP, "cannot mount the build directories: %s", strerror(errno));
	if (mount_kernel_fs(NEWROOT) < 0)
		die(EXIT_SETUP, "cannot mount /proc, /sys, /dev in the build root: %s", strerror(errno));
	n = scandir(COMMANDS_DIR, &files, is_cmd_file, alphasort);
	if (n < 0)
		die(EXIT_SETUP, "scandir %s: %s", COMMANDS_DIR, strerror(errno));
	for (int i = 0; i < n && status == 0; i++) {
		const char *name = files[i]->d_name;
		const char *kind;

		snprintf(path, sizeof(path), "%s/%s", COMMANDS_DIR, name);
		if (read_command(path) < 0) {
			control("[HYPR-RESULT] %s failed %d", name, EXIT_SETUP);
			status = EXIT_SETUP;
			break;
		}
		kind = command_kind();
		if (strcmp(kind, "RUN") == 0) {
			status = run_command();
		} else if (strcmp(kind, "LAYER") == 0) {
			status = layer(name) < 0 ? EXIT_SETUP : 0;
		} else if (strcmp(kind, "FINALIZE") == 0) {
			status = write_layer(SHARED_DIR "/layer.tar") < 0 ? EXIT_SETUP : 0;
		} else {
			say("%s: unknown command kind '%s'", name, kind);
			status = EXIT_SETUP;
		}
		control("[HYPR-RESULT] %s %s %d", name, status == 0 ? "ok" : "failed", status);
	}
	for (int i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return status;
}
