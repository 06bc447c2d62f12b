/*
 * kestrel network set-up: the host hands each NIC's address and gateway in the job (no DHCP client
 * in the guest), kestrel brings up lo and the NICs, adds the default route, and writes the
 * container's /etc/hosts and /etc/resolv.conf before the program starts.
 */
#include "kestrel.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

static int set_flags_up(int sock, const char *ifname)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return fail("SIOCGIFFLAGS", ifname);
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return fail("SIOCSIFFLAGS", ifname);
	return 0;
}

static int parse_mac(const char *s, unsigned char mac[6])
{
	for (int i = 0; i < 6; i++) {
		char *end;
		unsigned long v = parse_number(s, &end, 16);

		if (end - s != 2 || v > 255 || (i < 5 && *end != ':') || (i == 5 && *end))
			return -1;
		mac[i] = (unsigned char)v;
		s = end + 1;
	}
	return 0;
}

/* virtio-net probes during boot, but give a slow (TCG) guest a moment before giving up. Interfaces
 * are found by index (SIOCGIFNAME): if_nameindex would bring a netlink client into kestrel. */
static int find_ifname_by_mac(int sock, const unsigned char mac[6], char ifname[IFNAMSIZ])
{
	for (int attempt = 0; attempt < 100; attempt++) {
		for (int index = 1; index < 64; index++) {
			struct ifreq ifr;

			memset(&ifr, 0, sizeof(ifr));
			ifr.ifr_ifindex = index;
			if (ioctl(sock, SIOCGIFNAME, &ifr) < 0)
				continue; /* ENODEV: no interface with this index */
			if (ioctl(sock, SIOCGIFHWADDR, &ifr) == 0 && memcmp(ifr.ifr_hwaddr.sa_data, mac, 6) == 0) {
				snprintf(ifname, IFNAMSIZ, "%s", ifr.ifr_name);
				return 0;
			}
		}
		usleep(10000);
	}
	return -1;
}

/* Dotted-quad IPv4 only: what the host writes (inet_pton would add IPv6 parsing kestrel never needs). */
static int parse_ipv4(const char *s, struct in_addr *a)
{
	unsigned long v = 0;

	for (int i = 0; i < 4; i++) {
		char *end;
		unsigned long b = parse_number(s, &end, 10);

		if (end == s || *s < '0' || *s > '9' || b > 255 || *end != (i < 3 ? '.' : '\0'))
			return -1;
		v = v << 8 | b;
		s = end + 1;
	}
	a->s_addr = htonl(v);
	return 0;
}

static int set_addr(int sock, const char *ifname, unsigned long req, struct in_addr a)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	sin->sin_family = AF_INET;
	sin->sin_addr = a;
	if (ioctl(sock, req, &ifr) < 0)
		return fail(req == SIOCSIFADDR ? "SIOCSIFADDR" : "SIOCSIFNETMASK", ifname);
	return 0;
}

static int add_default_route(int sock, const char *ifname, struct in_addr gw)
{
	struct rtentry rt;
	struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
	struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
	struct sockaddr_in *gate = (struct sockaddr_in *)&rt.rt_gateway;
	char dev[IFNAMSIZ];

	memset(&rt, 0, sizeof(rt));
	dst->sin_family = AF_INET;
	mask->sin_family = AF_INET;
	gate->sin_family = AF_INET;
	gate->sin_addr = gw;
	snprintf(dev, sizeof(dev), "%s", ifname);
	rt.rt_dev = dev;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	/* EEXIST: a second NIC with a gateway; the first default route wins, as in docker. */
	if (ioctl(sock, SIOCADDRT, &rt) < 0 && errno != EEXIST)
		return fail("add default route via", ifname);
	return 0;
}

/* One NIC: "mac\taddress/prefix\tgateway" (gateway may be empty). */
static int configure_nic(int sock, const char *record, int *have_route)
{
	char spec[256], ifname[IFNAMSIZ], *fields[3] = { 0 }, *s = spec, *slash;
	unsigned char mac[6];
	struct in_addr addr, mask, gw;
	int n = 0, prefix;

	snprintf(spec, sizeof(spec), "%s", record);
	for (char *tok; n < 3 && (tok = strsep(&s, "\t")); )
		fields[n++] = tok;
	if (n < 2 || parse_mac(fields[0], mac) < 0 || !(slash = strchr(fields[1], '/')))
		return say("bad network record '%.80s'", record), errno = EINVAL, -1;
	*slash = '\0';
	prefix = atoi(slash + 1);
	if (parse_ipv4(fields[1], &addr) < 0 || prefix < 0 || prefix > 32)
		return say("bad address in network record '%.80s'", record), errno = EINVAL, -1;
	mask.s_addr = prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
	if (find_ifname_by_mac(sock, mac, ifname) < 0)
		return say("no network interface with MAC %s", fields[0]), errno = ENODEV, -1;
	if (set_addr(sock, ifname, SIOCSIFADDR, addr) < 0 || set_addr(sock, ifname, SIOCSIFNETMASK, mask) < 0 ||
	    set_flags_up(sock, ifname) < 0)
		return -1;
	if (n == 3 && *fields[2] && !*have_route) {
		if (parse_ipv4(fields[2], &gw) < 0)
			return say("bad gateway in network record '%.80s'", record), errno = EINVAL, -1;
		if (add_default_route(sock, ifname, gw) < 0)
			return -1;
		*have_route = 1;
	}
	return 0;
}

int configure_network(char *const *nics, int nnics)
{
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int have_route = 0;

	if (sock < 0)
		return fail("socket", "AF_INET");
	if (set_flags_up(sock, "lo") < 0) {
		close(sock);
		return -1;
	}
	for (int i = 0; i < nnics; i++) {
		if (configure_nic(sock, nics[i], &have_route) < 0) {
			close(sock);
			return -1;
		}
	}
	close(sock);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	int fd;

	/* An image's file may be a symlink (resolv.conf, systemd-resolved style): replace it, never
	 * write through it. ENOENT: there was none. */
	if (unlink(path) < 0 && errno != ENOENT)
		return fail("unlink", path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return fail("open", path);
	if (write(fd, text, strlen(text)) < 0) {
		close(fd);
		return fail("write", path);
	}
	close(fd);
	return 0;
}

/* Is NAME one of the names of a hosts line ("address\tname name…")? */
static int has_name(const char *line, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strchr(line, '\t'); p; p = strchr(p + 1, ' '))
		if (strncmp(p + 1, name, n) == 0 && (p[1 + n] == '\0' || p[1 + n] == ' '))
			return 1;
	return 0;
}

/* Does the job's hosts record ("address\tname") give ADDRESS? */
static int is_address(const char *record, const char *address)
{
	size_t n = strlen(address);

	return strncmp(record, address, n) == 0 && record[n] == '\t';
}

/*
 * /etc/hosts as docker writes it: localhost, the IPv6 names, then one line for the container — its
 * address, its hostname and the other names the job gives that address, each once — then the job's
 * other hosts.
 */
static int write_hosts(const char *path, const char *hostname, const char *first_addr, char *const *hosts, int nhosts)
{
	static char text[16384];
	const char *self = hostname && *hostname ? (first_addr ? first_addr : "127.0.1.1") : NULL;
	size_t len;

	len = snprintf(text, sizeof(text),
		       "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
		       "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
	if (self) {
		size_t at = len;

		len += snprintf(text + len, sizeof(text) - len, "%s\t%s", self, hostname);
		for (int i = 0; i < nhosts && len < sizeof(text); i++)
			if (is_address(hosts[i], self) && !has_name(text + at, strchr(hosts[i], '\t') + 1))
				len += snprintf(text + len, sizeof(text) - len, " %s", strchr(hosts[i], '\t') + 1);
		len += snprintf(text + len, sizeof(text) - len, "\n");
	}
	for (int i = 0; i < nhosts && len < sizeof(text); i++) {
		const char *tab = strchr(hosts[i], '\t');

		if (tab && !(self && is_address(hosts[i], self)))
			len += snprintf(text + len, sizeof(text) - len, "%.*s\t%s\n", (int)(tab - hosts[i]), hosts[i], tab + 1);
	}
	return write_file(path, text);
}

/* Written into the container's root (its writable layer), as docker provides them: /etc/hosts,
 * /etc/hostname (with a hostname) and /etc/resolv.conf (with a nameserver). */
int write_name_files(const char *root, const char *hostname, const char *first_addr, char *const *hosts, int nhosts,
		     char *const *dns, int ndns, char *const *search, int nsearch)
{
	static char text[16384];
	char path[512];
	size_t len;

	snprintf(path, sizeof(path), "%s/etc", root);
	if (mkdir_p(path, 0755) < 0)
		return fail("mkdir", path);
	snprintf(path, sizeof(path), "%s/etc/hosts", root);
	if (write_hosts(path, hostname, first_addr, hosts, nhosts) < 0)
		return -1;
	if (hostname && *hostname) {
		snprintf(path, sizeof(path), "%s/etc/hostname", root);
		snprintf(text, sizeof(text), "%s\n", hostname);
		if (write_file(path, text) < 0)
			return -1;
	}
	if (ndns == 0)
		return 0;
	len = 0;
	text[0] = '\0';
	if (nsearch > 0) {
		len += snprintf(text + len, sizeof(text) - len, "search");
		for (int i = 0; i < nsearch && len < sizeof(text); i++)
			len += snprintf(text + len, sizeof(text) - len, " %s", search[i]);
		len += snprintf(text + len, sizeof(text) - len, "\n");
	}
	for (int i = 0; i < ndns && len < sizeof(text); i++)
		len += snprintf(text + len, sizeof(text) - len, "nameserver %s\n", dns[i]);
	snprintf(path, sizeof(path), "%s/etc/resolv.conf", root);
	return write_file(path, text);
}
