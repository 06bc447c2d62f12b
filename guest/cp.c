/*
 * `kestrel tar-create PATH` and `kestrel tar-extract DIR`: `hypr cp` into and out of a running
 * container. `kestrel tar-upper`: the container's writable layer as an OCI layer tar (whiteouts as
 * .wh.NAME, opaque directories with .wh..wh..opq), for `hypr commit|diff|export` of a container
 * whose layer is a tmpfs in the guest (--rm). The host runs them as exec sessions of /proc/1/exe (this binary), the tar on stdout or
 * stdin. Writing reuses build mode's tar writer (tar_write_tree); reading understands what the host's
 * tar libraries write: ustar with its prefix field, GNU long names (L, K) and pax path/linkpath.
 */
#include "kestrel.h"

#include <sys/sysmacros.h>

#define NAME_MAX_LEN 4096

static char data[65536];
static char long_name[NAME_MAX_LEN], long_link[NAME_MAX_LEN];

/* Reads exactly len bytes; 0 at a clean end of input, -1 on an error or a cut-off archive. */
static int read_exact(void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(0, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return got == 0 && n == 0 ? 0 : (errno = n == 0 ? EPIPE : errno, -1);
		got += n;
	}
	return 1;
}

static unsigned long long octal(const char *field, size_t width)
{
	unsigned long long v = 0;

	/* base-256 (GNU, for sizes of 8 GiB and more): the high bit of the first byte is set */
	if ((unsigned char)field[0] & 0x80) {
		for (size_t i = 1; i < width; i++)
			v = v << 8 | (unsigned char)field[i];
		return v;
	}
	for (size_t i = 0; i < width && field[i]; i++)
		if (field[i] >= '0' && field[i] <= '7')
			v = v * 8 + (field[i] - '0');
	return v;
}

/* Reads an entry's data into `out` (a long name, pax records) or, with out NULL, skips it. */
static int read_data(unsigned long long size, char *out, size_t out_size, int fd)
{
	unsigned long long left = size + (512 - size % 512) % 512;

	while (left > 0) {
		size_t n = left < sizeof(data) ? (size_t)left : sizeof(data);
		size_t useful = size < n ? (size_t)size : n;

		if (read_exact(data, n) <= 0)
			return -1;
		if (out && useful > 0) {
			size_t at = strlen(out), room = out_size - 1 - at;

			memcpy(out + at, data, useful < room ? useful : room);
			out[at + (useful < room ? useful : room)] = '\0';
		}
		if (fd >= 0 && useful > 0 && write_all(fd, data, useful) < 0)
			return -1;
		size -= useful;
		left -= n;
	}
	return 0;
}

/* pax records "LEN key=value\n": keep path and linkpath. */
static void read_pax(const char *records)
{
	for (const char *p = records; *p; ) {
		char *sp, *eq;
		long len = (long)parse_number(p, &sp, 10);

		if (len <= 0 || *sp != ' ' || !(eq = strchr(sp, '=')) || eq - p >= len)
			return;
		if (strncmp(sp + 1, "path=", 5) == 0)
			snprintf(long_name, sizeof(long_name), "%.*s", (int)(len - (eq + 1 - p) - 1), eq + 1);
		else if (strncmp(sp + 1, "linkpath=", 9) == 0)
			snprintf(long_link, sizeof(long_link), "%.*s", (int)(len - (eq + 1 - p) - 1), eq + 1);
		p += len;
	}
}

/* A name from the archive, made relative: leading slashes and ./ go; ".." is refused. */
static const char *clean_name(char *name)
{
	size_t len;

	while (name[0] == '/' || (name[0] == '.' && name[1] == '/'))
		name += name[0] == '/' ? 1 : 2;
	len = strlen(name);
	while (len > 0 && name[len - 1] == '/')
		name[--len] = '\0';
	for (const char *c = name; *c; c++)
		if (c[0] == '.' && c[1] == '.' && (c == name || c[-1] == '/') && (c[2] == '/' || !c[2]))
			return NULL;
	return *name ? name : ".";
}

static int make_parent(const char *name)
{
	char parent[NAME_MAX_LEN];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", name);
	slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return mkdir_p(parent, 0755) < 0 ? fail("mkdir", parent) : 0;
}

/* Creates one entry; the file's data is read from the archive here. */
static int extract(const char *h, const char *name, const char *target, unsigned long long size)
{
	mode_t mode = octal(h + 100, 8) & 07777;
	char type = h[156];
	struct timespec times[2] = { { octal(h + 136, 12), 0 }, { octal(h + 136, 12), 0 } };
	int fd;

	if (strcmp(name, ".") != 0 && make_parent(name) < 0)
		return -1;
	if (type == '5') {
		if (mkdir_p(name, mode) < 0)
			return fail("mkdir", name);
	} else {
		/* Replace what is there (not a directory: that would lose its contents). */
		if (unlink(name) < 0 && errno != ENOENT && errno != EISDIR)
			return fail("unlink", name);
		if (type == '2' ? symlink(target, name) < 0 : type == '1' ? link(target, name) < 0 : 0)
			return fail(type == '2' ? "symlink" : "link", name);
		if ((type == '3' || type == '4' || type == '6') &&
		    mknod(name, (type == '3' ? S_IFCHR : type == '4' ? S_IFBLK : S_IFIFO) | mode,
			  makedev(octal(h + 329, 8), octal(h + 337, 8))) < 0)
			return fail("mknod", name);
		if (type == '0' || type == '\0' || type == '7') {
			fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0)
				return fail("open", name);
			if (read_data(size, NULL, 0, fd) < 0) {
				close(fd);
				return fail("write", name);
			}
			close(fd);
			size = 0;
		}
	}
	if (size > 0 && read_data(size, NULL, 0, -1) < 0)
		return fail("read", "the archive");
	if (type == '1')
		return 0;
	/* As docker cp: the archive's owners (the host decides them, -a or not), modes and times.
	 * EPERM: not run as root, the files stay the user's. */
	if (lchown(name, octal(h + 108, 8), octal(h + 116, 8)) < 0 && errno != EPERM)
		return fail("chown", name);
	if (type != '2' && chmod(name, mode) < 0)
		return fail("chmod", name);
	if (utimensat(AT_FDCWD, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		say("utimensat %s: %s (times not kept)", name, strerror(errno));
	return 0;
}

static int tar_extract(const char *dir)
{
	static char h[512], name[NAME_MAX_LEN + 160], target[NAME_MAX_LEN], pax[NAME_MAX_LEN * 2];
	int rc;

	if (chdir(dir) < 0)
		return fail("chdir", dir);
	while ((rc = read_exact(h, 512)) > 0 && h[0]) {
		unsigned long long size = octal(h + 124, 12);
		const char *clean;

		if (h[156] == 'L' || h[156] == 'K') {
			char *out = h[156] == 'L' ? long_name : long_link;

			out[0] = '\0';
			if (read_data(size, out, NAME_MAX_LEN, -1) < 0)
				return fail("read", "the archive");
			continue;
		}
		if (h[156] == 'x' || h[156] == 'g') {
			pax[0] = '\0';
			if (read_data(size, pax, sizeof(pax), -1) < 0)
				return fail("read", "the archive");
			if (h[156] == 'x')
				read_pax(pax);
			continue;
		}
		if (long_name[0])
			snprintf(name, sizeof(name), "%s", long_name);
		else if (memcmp(h + 257, "ustar", 5) == 0 && h[345])
			snprintf(name, sizeof(name), "%.155s/%.100s", h + 345, h);
		else
			snprintf(name, sizeof(name), "%.100s", h);
		if (long_link[0])
			snprintf(target, sizeof(target), "%s", long_link);
		else
			snprintf(target, sizeof(target), "%.100s", h + 157);
		long_name[0] = long_link[0] = '\0';
		clean = clean_name(name);
		if (!clean || (h[156] == '1' && !clean_name(target)))
			return say("%s: a name with .. in the archive", name), errno = EINVAL, -1;
		if (extract(h, clean, h[156] == '1' ? clean_name(target) : target, size) < 0)
			return -1;
	}
	return rc < 0 ? fail("read", "the archive") : 0;
}

/* PATH as base and name: "/etc/passwd" → "/etc" and "passwd", as docker cp names the archive. */
static int tar_create(char *path)
{
	char *slash;
	struct stat st;
	size_t len = strlen(path);

	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	if (path[0] != '/' || lstat(path, &st) < 0)
		return fail("stat", path);
	slash = strrchr(path, '/');
	if (slash == path)
		return tar_write_tree("/", path[1] ? path + 1 : "", 1);
	*slash = '\0';
	return tar_write_tree(path, slash + 1, 1);
}

int cp_main(const char *verb, char *path)
{
	/* say() writes to the console: here that is the exec session's stderr. */
	console_fd = 2;
	if (strcmp(verb, "tar-create") == 0)
		return tar_create(path) < 0 ? 1 : 0;
	/* The magic link leads out of the container's root to the upper dir PID 1 holds (mount.c). */
	if (strcmp(verb, "tar-upper") == 0)
		return tar_write_tree("/proc/1/fd/" UPPER_FD_TEXT, "", 1) < 0 ? 1 : 0;
	return tar_extract(path) < 0 ? 1 : 0;
}
