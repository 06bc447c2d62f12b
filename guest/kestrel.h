/*
 * The shared face of kestrel's parts, read in this order:
 *   kestrel.c  start-up: the steps of main
 *   channel.c  the host channels: virtio-serial ports or vsock streams
 *   report.c   what kestrel tells the host: console diagnostics, control lines, fatal errors
 *   job.c      the job file and the small parsers it needs
 *   mount.c    the root filesystem, volumes, the kernel filesystems, the container's /dev
 *   user.c     user lookup in the image's passwd/group, the program's environment
 *   run.c      starting the program and supervising it (reaping, stop requests)
 *   relay.c    the program's stdio: pipes or its terminal, copied to and from the host channels
 *   exec.c     exec sessions          net.c  network and name files          build.c  build mode
 *   ps.c       `kestrel ps`: the container's processes, for `hypr top`
 *   cp.c       `kestrel tar-create|tar-extract`: `hypr cp` out of and into the container;
 *              `kestrel tar-upper`: the writable layer, for `hypr commit|diff|export`
 */
#ifndef KESTREL_H
#define KESTREL_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KESTREL_VERSION "0.1.0"
#define JOB_PATH "/hypr/job"
#define JOB_MAX (256 * 1024)
#define MAX_ARGS 4096
#define MAX_ENV 4096
#define NEWROOT "/mnt/root"
/* PID 1's fd on the overlay's upper dir (mount.c), read by `kestrel tar-upper` as /proc/1/fd/99.
 * Far above what PID 1 has open when it is taken (0-2, the console, a handful of channels). */
#define UPPER_FD 99
#define UPPER_FD_TEXT "99"
#define OPTS_9P "trans=virtio,version=9p2000.L,msize=262144" /* one string, shared */

/* Exit codes as the shell and docker use them. */
#define EXIT_SETUP 125
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

struct command {
	char *argv[MAX_ARGS + 1];
	int argc;
	char *env[MAX_ENV + 4]; /* + PATH, HOME, HOSTNAME and the NULL */
	int envc;
	const char *workdir;
	const char *user;
};

/* The job the host wrote into the initramfs (guest/PROTOCOL.md lists the keys). */
struct job {
	struct command cmd;
	const char *root;        /* "/dev/vda", "9p:TAG", or NULL */
	const char *rootfs_type; /* "ext4", "erofs", or NULL to try both */
	const char *hostname;
	int grace_ms;
	const char *upper_dev;   /* persistent writable layer (ext4 disk), or NULL for a tmpfs */
	int ephemeral_upper;     /* e=1: nobody reads upper_dev after the VM (--rm): it is never flushed */
	char *mounts[64];        /* "source\ttarget\ttype\toptions" */
	int nmounts;
	const char *mode;        /* "run" (default) or "build" */
	char *nics[16];          /* "mac\taddress/prefix\tgateway" */
	int nnics;
	char *dns[8], *search[8], *hosts[128]; /* nameservers, search domains, "address\tname" */
	int ndns, nsearch, nhosts;
	int exec_port;           /* X=1: the hypr.exec port is there */
	int open_stdin;          /* I=1: the program reads hypr.stdin */
	const char *tty;         /* Y=ROWSxCOLS: the program gets a terminal */
	unsigned long long shm_bytes; /* s: size of /dev/shm (0: docker's 64 MiB) */
	int privileged;          /* V=1: the container sees the VM's whole /dev */
	char *devices[16];       /* v: VM device nodes passed through to the container's /dev */
	int ndevices;
	const char *commands;    /* build mode: 9p tag of the command files */
	const char *shared;      /* build mode: 9p tag of the results directory */
};

extern struct job job;
extern int ctl_fd, out_fd, err_fd, console_fd;
extern int stdin_fd; /* hypr.stdin: the program's input (run -i), or -1 */

/* report.c */

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void control(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void power_off(void) __attribute__((noreturn));
int fail(const char *what, const char *path);
int write_all(int fd, const void *buf, size_t len);

/* channel.c */
extern int use_vsock; /* the channels are vsock streams (hypr.transport=vsock), not virtio-serial ports */
void choose_transport(void);
int cmdline_wants_vsock(const char *cmdline);
int channel_vsock_port(const char *name);
int open_channel(const char *name, int flags);
void flush_channels(void);

/* job.c */
int read_job(void);
int is_number(const char *s);
int signal_by_name(const char *s);
int command_record(struct command *c, char key, char *value);
int parse_pair(const char *s, unsigned *a, unsigned *b);
unsigned long long parse_number(const char *s, char **end, int base);

/* mount.c */
int mkdir_p(const char *path, mode_t mode);
int mount_at(const char *src, const char *target, const char *type, unsigned long flags, const char *data);
int mount_kernel_fs(const char *prefix);
int mount_root(void);
int mount_job_volumes(void);
void sync_at_end(void);
int switch_root(void);

/* user.c */
int resolve_user(const char *user, unsigned *uid, unsigned *gid, char *home, size_t home_len);
int user_name(unsigned uid, char *name, size_t size);

/* ps.c */
int ps_main(void);
void prepare_env(struct command *c, const char *home);

/* run.c */
void exec_child(const struct command *c, int err_pipe, unsigned uid, unsigned gid, const int stdio[3], int ctty)
	__attribute__((noreturn));
pid_t start_program(void);
int supervise(pid_t main_pid);
void end_everything(void);

/* net.c */
int configure_network(char *const *nics, int nnics);
int write_name_files(const char *root, const char *hostname, const char *first_addr, char *const *hosts, int nhosts,
		     char *const *dns, int ndns, char *const *search, int nsearch);

/* relay.c */
int relay_add(int from, int to, int close_to);
int relay_reads(int fd);
int relay_poll_fds(struct pollfd *fds, int max);
void relay_handle(const struct pollfd *fds, int n);
void relay_drain(int to_end);

/* exec.c */
struct pollfd;
struct winsize;
void exec_init(int port_fd);
int exec_poll_fds(struct pollfd *fds, int max);
void exec_handle(const struct pollfd *fds, int n);
int exec_reap(pid_t pid, int status);
int open_pty(int *master, int *slave, const struct winsize *ws);

/* build.c */
int build_main(const char *commands_tag, const char *shared_tag);
int tar_write_tree(const char *base, const char *rel, int fd);

/* cp.c */
int cp_main(const char *verb, char *path); /* path: NULL for tar-upper */

#endif
