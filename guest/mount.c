/*
 * Filesystems: the kernel's (/proc, /sys, /dev), the image's root under a writable overlay, the
 * job's volumes, the container's own /dev, and the switch into the new root.
 */
#include "kestrel.h"

#include <sys/sysmacros.h>

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

/* The kernel's filesystems under a prefix: /proc and /sys (the first two), then the VM's whole /dev. */
static const struct {
	char src[9], dir[8], type[9];
	unsigned flags;
	const char *data;
} kernel_fs[] = {
	{ "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "sysfs", "sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "devtmpfs", "dev", "devtmpfs", MS_NOSUID, "mode=0755" },
	{ "devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620" },
	{ "shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
};

static int mount_kernel_table(const char *prefix, int n)
{
	char p[256];

	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", prefix, kernel_fs[i].dir);
		if (mount_at(kernel_fs[i].src, p, kernel_fs[i].type, kernel_fs[i].flags, kernel_fs[i].data) < 0)
			return -1;
	}
	return 0;
}

/* /proc, /sys and the VM's whole /dev: for kestrel itself and for build steps. */
int mount_kernel_fs(const char *prefix)
{
	return mount_kernel_table(prefix, 5);
}

/* R is a 9p share, one disk, or one disk per image layer, bottom first ("/dev/vda,/dev/vdb"). Each
 * is mounted read-only at /mnt/lN, N counted from the top as overlayfs's lowerdir lists them, the
 * bottom one (or the only one) at /mnt/lower, where build.c stacks its steps; a disk is ext4 or
 * erofs (the job's T, else whichever mounts). */
static int mount_lower(char *lowerdir, size_t size)
{
	static const char types[2][6] = { "ext4", "erofs" };
	/* Cut in place at each ',': job.root is not read again but by the message of a failure. */
	char *devs = (char *)job.root, *dev, *dir, *comma;
	size_t len = 0;

	for (int i = 0;; i++) {
		int ok = -1;

		comma = strrchr(devs, ',');
		dev = comma ? comma + 1 : devs;
		/* Each directory is written in place in LOWERDIR, after a ':' from the second on. */
		dir = lowerdir + len + (i > 0);
		if (comma)
			len += snprintf(dir - (i > 0), size - len, &":/mnt/l%d"[i == 0], i);
		else
			len += snprintf(dir - (i > 0), size - len, &":/mnt/lower"[i == 0]);
		errno = E2BIG; /* too many layer disks for LOWERDIR */
		if (len >= size)
			ok = -1;
		else if (mkdir_p(dir, 0755) < 0)
			return fail("mkdir", dir);
		else if (strncmp(dev, "9p:", 3) == 0)
			ok = mount(dev + 3, dir, "9p", MS_RDONLY, "trans=virtio,version=9p2000.L,msize=262144,cache=loose");
		for (int t = 0; t < 2 && ok < 0 && *dev == '/' && len < size; t++)
			if (!job.rootfs_type || strcmp(job.rootfs_type, types[t]) == 0)
				ok = mount(dev, dir, types[t], MS_RDONLY, NULL);
		if (ok < 0)
			return fail("mount root filesystem", dev);
		if (!comma)
			return 0;
		*comma = '\0';
	}
}

/* After switch_root /mnt/rw is out of every path's reach; `kestrel tar-upper` (cp.c) reaches the
 * upper dir through /proc/1/fd/UPPER_FD. A tmpfs upper (a --rm container) has no disk the host
 * could read the layer from. O_PATH: the fd grants nothing but a name; CLOEXEC: the program and
 * exec sessions do not inherit it. */
static int keep_upper_fd(void)
{
	int fd = open("/mnt/rw/upper", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return fail("open", "/mnt/rw/upper");
	if (fd != UPPER_FD && (dup3(fd, UPPER_FD, O_CLOEXEC) < 0 || close(fd) < 0))
		return fail("dup3", "/mnt/rw/upper");
	return 0;
}

int mount_root(void)
{
	char data[600] = "lowerdir=";

	if (!job.root || !*job.root) {
		errno = EINVAL;
		return fail("mount", "root (the job names no root filesystem)");
	}
	if (mount_lower(data + 9, 512) < 0)
		return -1;
	/* The image stays read-only; the container's writes land in the upper layer: a disk that
	 * persists across stop/start when the host gives one, else a tmpfs. */
	if (job.upper_dev && *job.upper_dev) {
		if (mount_at(job.upper_dev, "/mnt/rw", "ext4", 0, NULL) < 0)
			return -1;
	} else if (mount_at("tmpfs", "/mnt/rw", "tmpfs", 0, "mode=0755") < 0) {
		return -1;
	}
	if (mkdir_p("/mnt/rw/upper", 0755) < 0 || mkdir_p("/mnt/rw/work", 0755) < 0)
		return fail("mkdir", "/mnt/rw/upper");
	strcat(data, ",upperdir=/mnt/rw/upper,workdir=/mnt/rw/work");
	if (mount_at("overlay", NEWROOT, "overlay", 0, data) < 0)
		return -1;
	return keep_upper_fd();
}

/* Mount options: ro/nosuid/nodev/noexec become flags, the rest is filesystem data (appended to data). */
static unsigned long mount_flags(char *options, char *data, size_t size)
{
	static const struct { char name[7]; unsigned flag; } known[] = {
		{ "ro", MS_RDONLY }, { "rw", 0 }, { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV }, { "noexec", MS_NOEXEC },
	};
	unsigned long flags = 0;
	char *opt;

	for (char *o = options; o && (opt = strsep(&o, ",")); ) {
		size_t i = 0;

		while (i < sizeof(known) / sizeof(known[0]) && strcmp(opt, known[i].name) != 0)
			i++;
		if (i < sizeof(known) / sizeof(known[0]))
			flags |= known[i].flag;
		else if (*opt)
			snprintf(data + strlen(data), size - strlen(data), "%s%s", *data ? "," : "", opt);
	}
	return flags;
}

/* With an ephemeral writable layer, the writable volumes kestrel flushes at the end (sync_at_end):
 * an fd on each, opened at its mount, as the program may cover or unmount the path; and its job
 * record ("source\ttarget\t…"), for messages. */
static struct {
	int fd;
	const char *record;
} volumes[64];
static int nvolumes, sync_everything;

static void keep_for_sync(const char *target, const char *record)
{
	int fd = open(target, O_RDONLY | O_CLOEXEC);

	/* Without an fd this volume could not be flushed alone: flush everything, as without e=1. */
	if (fd < 0) {
		say("open %s: %s (syncing every filesystem at the end)", target, strerror(errno));
		sync_everything = 1;
		return;
	}
	volumes[nvolumes].fd = fd;
	volumes[nvolumes++].record = record;
}

/* What the program wrote must be in the host's files when the VM ends: sync() writes and flushes
 * every filesystem — the writable layer's disk and the volumes. An ephemeral layer (e=1: a --rm
 * container, whose disk the host deletes unread) is left out: only the volumes are flushed, each
 * by syncfs(), which is what sync() does to them. Once is enough: power_off calls it again after
 * end_everything, with nothing running in between. */
void sync_at_end(void)
{
	static int done;

	if (!job.ephemeral_upper || sync_everything) {
		sync();
		return;
	}
	if (done)
		return;
	done = 1;
	for (int i = 0; i < nvolumes; i++) {
		const char *target = strchr(volumes[i].record, '\t') + 1; /* mount_volume checked the record */

		if (syncfs(volumes[i].fd) < 0)
			say("syncfs %.*s: %s", (int)strcspn(target, "\t"), target, strerror(errno));
	}
}

static int mount_volume(const char *record)
{
	char spec[1024], target[600], data[512] = "";
	char *fields[4] = { 0 }, *s = spec;
	unsigned long flags;
	const char *source, *type;
	int n = 0;

	snprintf(spec, sizeof(spec), "%s", record);
	for (char *tok; n < 4 && (tok = strsep(&s, "\t")); )
		fields[n++] = tok;
	if (n < 3 || fields[1][0] != '/')
		return say("bad mount record '%.80s'", record), errno = EINVAL, -1;
	source = fields[0];
	type = fields[2];
	flags = mount_flags(fields[3], data, sizeof(data));
	if (strcmp(type, "9p") == 0) {
		if (strncmp(source, "9p:", 3) == 0)
			source += 3;
		snprintf(data + strlen(data), sizeof(data) - strlen(data), "%s%s%s",
			 *data ? "," : "", OPTS_9P, (flags & MS_RDONLY) ? ",cache=loose" : ",cache=mmap");
	} else if (strcmp(type, "virtiofs") == 0 && strncmp(source, "virtiofs:", 9) == 0) {
		source += 9;
	}
	snprintf(target, sizeof(target), "%s%s", NEWROOT, fields[1]);
	if (mount_at(source, target, type, flags, *data ? data : NULL) < 0)
		return -1;
	/* A read-only volume has nothing to flush; a tmpfs, nowhere to flush it. */
	if (job.ephemeral_upper && !(flags & MS_RDONLY) && strcmp(type, "tmpfs") != 0)
		keep_for_sync(target, record);
	return 0;
}

/* Job mounts ("source\ttarget\ttype\toptions"), made inside the new root before the program
 * starts: volumes, tmpfs, build context. Sources are "9p:TAG", "virtiofs:TAG", a device, or
 * anything for tmpfs. Options: ro/rw/nosuid/nodev/noexec become flags, the rest is fs data. */
int mount_job_volumes(void)
{
	for (int i = 0; i < job.nmounts; i++)
		if (mount_volume(job.mounts[i]) < 0)
			return -1;
	return 0;
}

/* Docker's /dev/pts, /dev/shm (64 MiB unless the job says) and /dev/mqueue under DEV. */
static int mount_dev_filesystems(const char *dev)
{
	char p[320], data[64];

	snprintf(p, sizeof(p), "%s/pts", dev);
	if (mount_at("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/shm", dev);
	snprintf(data, sizeof(data), "mode=1777,size=%llu", job.shm_bytes ? job.shm_bytes : 64ULL << 20);
	if (mount_at("shm", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, data) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/mqueue", dev);
	return mount_at("mqueue", p, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

/* No "..", no empty component: the name stays inside /dev. */
static int is_plain_path(const char *p)
{
	for (const char *c = p; *c; c++)
		if (c[0] == '.' && c[1] == '.' && (c == p || c[-1] == '/'))
			return 0;
	return *p && p[strlen(p) - 1] != '/';
}

/* A device the job passes through (--device): the VM's node, recreated in the container's /dev. */
static int copy_device(const char *dev, const char *path)
{
	char p[320];
	struct stat st;

	if (strncmp(path, "/dev/", 5) != 0 || !is_plain_path(path + 5) || stat(path, &st) < 0)
		return say("device %s: not a device of this VM", path), errno = ENODEV, -1;
	snprintf(p, sizeof(p), "%s/%s", dev, path + 5);
	*strrchr(p, '/') = '\0';
	if (mkdir_p(p, 0755) < 0)
		return fail("mkdir", p);
	p[strlen(p)] = '/';
	if (mknod(p, st.st_mode, st.st_rdev) < 0 || chmod(p, st.st_mode & 07777) < 0)
		return fail("mknod", p);
	return 0;
}

/*
 * The container's /dev as docker gives it: a fresh tmpfs with the standard nodes and links, its own
 * devpts, shm and mqueue, and none of the VM's own devices (root and layer disks, host channels)
 * unless the job passes them through (v) or asks for all of them (V, --privileged).
 */
static int mount_container_dev(const char *root)
{
	static const struct { const char *name; unsigned major, minor; } nodes[] = {
		{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 },
		{ "urandom", 1, 9 }, { "tty", 5, 0 }, { "console", 5, 1 },
	};
	static const char *const links[][2] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
		{ "stderr", "/proc/self/fd/2" }, { "core", "/proc/kcore" }, { "ptmx", "pts/ptmx" },
	};
	char dev[256], p[320];

	snprintf(dev, sizeof(dev), "%s/dev", root);
	if (job.privileged)
		return mount_at("devtmpfs", dev, "devtmpfs", MS_NOSUID, "mode=0755") < 0 ? -1 : mount_dev_filesystems(dev);
	if (mount_at("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=0755,size=65536k") < 0)
		return -1;
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dev, nodes[i].name);
		/* chmod: kestrel's umask would take 0666 down to 0644. */
		if (mknod(p, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0 || chmod(p, 0666) < 0)
			return fail("mknod", p);
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dev, links[i][0]);
		if (symlink(links[i][1], p) < 0)
			return fail("symlink", p);
	}
	for (int i = 0; i < job.ndevices; i++)
		if (copy_device(dev, job.devices[i]) < 0)
			return -1;
	return mount_dev_filesystems(dev);
}

int switch_root(void)
{
	if (mount_kernel_table(NEWROOT, 2) < 0 || mount_container_dev(NEWROOT) < 0)
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
