/*
 * The host channels (guest/PROTOCOL.md, "Transports"): virtio-serial ports named hypr.<channel>
 * (QEMU), or AF_VSOCK streams that kestrel opens to the host (CID 2) on one fixed port per channel
 * (cloud-hypervisor, Firecracker and vfkit, which have no virtio-serial). The kernel command line
 * chooses: `hypr.transport=vsock`; absent, virtio-serial. Both wait a while for their device,
 * whose probe can finish after /init starts.
 */
#include "kestrel.h"
#include <sys/socket.h>

/* <linux/vm_sockets.h>, which musl does not ship. */
struct sockaddr_vm {
	sa_family_t svm_family;
	unsigned short svm_reserved1;
	unsigned int svm_port;
	unsigned int svm_cid;
	unsigned char svm_zero[4];
};
#define VMADDR_CID_HOST 2

int use_vsock;

/* The vsock port of channel NAME ("hypr.control" …), or -1: 1024 + its place in this list. */
int channel_vsock_port(const char *name)
{
	static const char names[][8] = { "control", "stdout", "stderr", "exec", "stdin" };

	if (strncmp(name, "hypr.", 5) == 0)
		for (int i = 0; i < 5; i++)
			if (strcmp(name + 5, names[i]) == 0)
				return 1024 + i;
	return -1;
}

/* 1 when the kernel command line CMDLINE holds the word hypr.transport=vsock. */
int cmdline_wants_vsock(const char *cmdline)
{
	static const char word[] = "hypr.transport=vsock";

	for (const char *p = cmdline; *p; p++)
		if ((p == cmdline || p[-1] == ' ') && strncmp(p, word, sizeof(word) - 1) == 0 &&
		    (p[sizeof(word) - 1] == '\0' || p[sizeof(word) - 1] == ' ' || p[sizeof(word) - 1] == '\n'))
			return 1;
	return 0;
}

void choose_transport(void)
{
	char buf[1024];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC), n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	use_vsock = cmdline_wants_vsock(buf);
}

/* virtio-serial ports show up as /dev/vportNpM; their names are in sysfs. */
static int find_port(const char *name, int flags)
{
	char path[320], got[64];
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	int fd = -1;

	while (d && (e = readdir(d))) {
		int n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, got, sizeof(got) - 1);
		close(fd);
		fd = -1;
		if (n <= 0)
			continue;
		got[n - (got[n - 1] == '\n')] = '\0';
		if (strcmp(got, name) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		fd = open(path, flags | O_CLOEXEC);
		if (fd < 0)
			fd = fail("open", path) - 1; /* -2: there, but cannot be opened */
		break;
	}
	if (d)
		closedir(d);
	return fd;
}

/* A stream to the host's vsock port PORT; -1 while the host side or the device is not there yet. */
static int connect_vsock(int port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_HOST };
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

int open_channel(const char *name, int flags)
{
	for (int attempt = 0; attempt < 300; attempt++) {
		int fd = use_vsock ? connect_vsock(channel_vsock_port(name)) : find_port(name, flags);

		if (fd >= 0)
			return fd;
		if (fd < -1)
			return -1;
		usleep(10000);
	}
	say("%s channel %s not found", use_vsock ? "vsock" : "virtio-serial", name);
	return -1;
}

/* vsock: the host has every byte before the VM ends. Half-close each channel, then wait (1 s at
 * most) for the host to close its side, which it does once it has read everything. */
void flush_channels(void)
{
	int fds[] = { ctl_fd, out_fd, err_fd };

	if (!use_vsock)
		return;
	for (int i = 0; i < 3; i++)
		shutdown(fds[i], SHUT_WR);
	for (int i = 0, left = 100; i < 3 && left > 0; left--) {
		char b[64];
		struct pollfd p = { fds[i], POLLIN, 0 };

		if (fds[i] < 0 || (poll(&p, 1, 10) > 0 && read(fds[i], b, sizeof(b)) <= 0))
			i++;
	}
}
