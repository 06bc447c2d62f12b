/*
 * kestrel: PID 1 of every HYPR microVM.
 *
 * Runtime mode, in order: mount the kernel filesystems, open the host channels (hypr.control,
 * hypr.stdout, hypr.stderr: virtio-serial ports or vsock streams, channel.c), read the job the host wrote into the
 * initramfs (/hypr/job), mount the root filesystem (disk or 9p share) under a writable overlay
 * and switch into it, run the program with the job's argv/env/workdir/user, reap zombies, forward
 * stop requests, report the exit code on the control channel and power the VM off.
 *
 * The job is never taken from the kernel command line: every host user can read that with ps.
 * The exit code travels on its own channel, so nothing the program prints can forge it.
 * The protocol is documented in guest/PROTOCOL.md.
 */
#include "kestrel.h"

int stdin_fd = -1;

/* /etc/hosts and /etc/resolv.conf in the container's root, as docker writes them. */
static void write_names(void)
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

/* Before the job is read: the kernel filesystems, standard descriptors, the console and the host
 * channels. A failure before the channels are open can only power off. */
static void start_up(void)
{
	sigset_t mask;

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
	choose_transport();
	ctl_fd = open_channel("hypr.control", O_RDWR);
	out_fd = open_channel("hypr.stdout", O_WRONLY);
	err_fd = open_channel("hypr.stderr", O_WRONLY);
	if (ctl_fd < 0 || out_fd < 0 || err_fd < 0)
		die(EXIT_SETUP, "host channels hypr.control/stdout/stderr missing");
	control("[HYPR-READY] kestrel %s", KESTREL_VERSION);
}

/* The optional channels the job asks for: exec sessions (X) and the program's stdin (I). */
static void open_job_ports(void)
{
	if (job.exec_port) {
		int fd = open_channel("hypr.exec", O_RDWR);

		if (fd < 0)
			die(EXIT_SETUP, "exec channel hypr.exec missing");
		exec_init(fd);
	}
	if (job.open_stdin && (stdin_fd = open_channel("hypr.stdin", O_RDONLY)) < 0)
		die(EXIT_SETUP, "stdin channel hypr.stdin missing");
}

int main(int argc, char **argv)
{
	pid_t pid;
	int status;

	/* Not PID 1: a tool run in the container through /proc/1/exe (an exec session). */
	if (getpid() != 1) {
		if (argc == 2 && strcmp(argv[1], "ps") == 0)
			return ps_main();
		if (argc == 3 && (strcmp(argv[1], "tar-create") == 0 || strcmp(argv[1], "tar-extract") == 0))
			return cp_main(argv[1], argv[2]);
		if (argc == 2 && strcmp(argv[1], "tar-upper") == 0)
			return cp_main(argv[1], NULL);
		dprintf(2, "kestrel %s: the HYPR guest agent runs as PID 1 inside a HYPR microVM\n", KESTREL_VERSION);
		return 2;
	}
	start_up();
	if (read_job() < 0)
		die(EXIT_SETUP, "cannot read the job %s", JOB_PATH);
	open_job_ports();
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
	write_names();
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
