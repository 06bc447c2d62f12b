/* Shared between kestrel's parts: kestrel.c (start-up and runtime mode) and build.c (build mode). */
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

/* Exit codes as the shell and docker use them. */
#define EXIT_SETUP 125
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

struct command {
	char *argv[MAX_ARGS + 1];
	int argc;
	char *env[MAX_ENV + 3];
	int envc;
	const char *workdir;
	const char *user;
};

extern int ctl_fd, out_fd, err_fd, console_fd;

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void control(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void power_off(void) __attribute__((noreturn));
int fail(const char *what, const char *path);
int write_all(int fd, const void *buf, size_t len);
int mkdir_p(const char *path, mode_t mode);
int mount_at(const char *src, const char *target, const char *type, unsigned long flags, const char *data);
int mount_kernel_fs(const char *prefix);
int is_number(const char *s);
int signal_by_name(const char *s);
int command_record(struct command *c, char key, char *value);
int parse_pair(const char *s, unsigned *a, unsigned *b);
int resolve_user(const char *user, unsigned *uid, unsigned *gid, char *home, size_t home_len);
void prepare_env(struct command *c, const char *home);
void exec_child(const struct command *c, int err_pipe, unsigned uid, unsigned gid, const int stdio[3], int ctty)
	__attribute__((noreturn));
void end_everything(void);

/* net.c */
int configure_network(char *const *nics, int nnics);
int write_name_files(const char *root, const char *hostname, const char *first_addr, char *const *hosts, int nhosts,
		     char *const *dns, int ndns, char *const *search, int nsearch);

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

#endif
