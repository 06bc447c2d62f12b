/* Unit test of channel.c's pure parts, built and run on the build machine (`make out/channel-test`,
 * run by packages/core/src/vmm/kestrel-channel.test.ts): the transport the kernel command line
 * chooses and each channel's vsock port, which the host side (channels.ts) must agree with. */
#include "../channel.c"

int ctl_fd = -1, out_fd = -1, err_fd = -1;
void say(const char *fmt, ...) { (void)fmt; }
int fail(const char *what, const char *path) { (void)what, (void)path; return -1; }

static int failures;
#define CHECK(cond) ((cond) ? 0 : (printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond), failures++))

int main(void)
{
	CHECK(cmdline_wants_vsock("console=ttyS0 hypr.transport=vsock quiet"));
	CHECK(cmdline_wants_vsock("hypr.transport=vsock"));
	CHECK(cmdline_wants_vsock("quiet hypr.transport=vsock\n"));
	CHECK(!cmdline_wants_vsock("console=ttyS0 reboot=t panic=-1 quiet"));
	CHECK(!cmdline_wants_vsock("hypr.transport=vsockx"));
	CHECK(!cmdline_wants_vsock("xhypr.transport=vsock"));
	CHECK(!cmdline_wants_vsock("hypr.transport=virtio-serial"));
	CHECK(!cmdline_wants_vsock(""));
	CHECK(channel_vsock_port("hypr.control") == 1024);
	CHECK(channel_vsock_port("hypr.stdout") == 1025);
	CHECK(channel_vsock_port("hypr.stderr") == 1026);
	CHECK(channel_vsock_port("hypr.exec") == 1027);
	CHECK(channel_vsock_port("hypr.stdin") == 1028);
	CHECK(channel_vsock_port("hypr.other") == -1);
	CHECK(channel_vsock_port("control") == -1);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "ok", failures);
	return failures != 0;
}
