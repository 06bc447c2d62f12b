/*
 * hypr-shim: the per-container supervisor (shim/PROTOCOL.md is its contract). Read in this order:
 *   hypr-shim.c  main: shim.args, the start-up steps, the poll loop
 *   exit.c       exit.json: the status Kestrel reported, or why the VM gave none
 *   serve.c      the poll set: the channels to the guest, the listening sockets, flow control
 *   clients.c    the clients on shim.sock: frames, attached output, exec routing, stop, the exit
 *   io.c         growable buffers, JSON escaping, container.log, atomic files, times
 *   spawn.c      starting the helpers and the hypervisor, signals, reaping, /proc start times
 */
#ifndef HYPR_SHIM_H
#define HYPR_SHIM_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Output held for one client (or waiting for one channel) before the other side is no longer read. */
#define HIGH_WATER (256 * 1024)
/* Output kept for the first attach (B=1). */
#define EARLY_MAX (1024 * 1024)
#define READ_CHUNK 65536
/* docker's json-file driver writes a line without its end once it is this long. */
#define LOG_LINE_MAX 16384
#define CONTROL_LINE_MAX 4096
#define FRAME_MAX 65535
#define GUEST_SESSIONS 16
#define HELPER_WAIT_MS 10000
#define STOP_KILL_EXTRA_MS 5000
#define GRACE_MAX_MS 2147483647L /* ~24 days: a longer grace is that one, and no deadline overflows */
#define DRAIN_MS 1000
#define FLUSH_MS 1000
#define HELPER_TERM_MS 1000

struct buf {
	char *p;
	size_t off, len, cap; /* the bytes are p[off..len) */
};

enum { CH_CONTROL, CH_STDOUT, CH_STDERR, CH_EXEC, CH_STDIN, CH_COUNT };

struct channel {
	const char *name;
	const char *path; /* NULL: shim.args has no such channel */
	int lfd, fd;      /* listening socket until the hypervisor connects, then its connection */
	int eof;          /* the guest side has ended (or will never connect) */
	int shut_pending; /* stdin: half-close once `out` is written */
	int wclosed;      /* stdin: half-closed, takes nothing more */
	struct buf out;   /* to the guest */
	struct buf in;    /* a control line or exec frame being assembled */
};

struct helper {
	const char *bin;
	char **argv; /* argv[0] = bin, NULL-terminated */
	int argc;
	const char **waits;
	int nwaits;
	pid_t pid;
	int exited, status;
};

struct client {
	int fd;
	int attached;
	int rdeof; /* half-closed: sends nothing more, still gets output and the exit */
	int dead;
	struct buf in, out;
	int16_t guest_of[256]; /* the client's session id → guest session id, or -1 */
};

struct session {
	int used;
	struct client *client; /* NULL once its client went away: output is dropped */
	uint8_t cid;           /* the client's own id for it */
};

enum phase { P_HELPERS, P_RUNNING, P_DRAIN, P_DONE };

struct shim {
	const char *dir;
	/* shim.args */
	const char *vmm, *vmm_name, *vmm_out, *console;
	char **vmm_argv;
	int vmm_argc;
	struct helper *helpers;
	int nhelpers;
	long grace_ms;
	int keep_early;
	int vmm_thp_off; /* HYPR_VMM_THP=off */
	/* running state */
	enum phase phase;
	int sock, log_fd, sigpipe[2];
	pid_t vm_pid;
	int vm_exited, vm_status;
	long long helpers_since, stop_deadline, drain_deadline;
	int killed_by_stop;
	long long guest_pid; /* from [HYPR-STARTED]; 0 before */
	int have_exit;
	int exit_code;
	char *guest_error;
	struct channel ch[CH_COUNT];
	struct client **clients;
	int nclients;
	struct session sessions[GUEST_SESSIONS];
	struct buf early;
	int early_on, early_dropped;
	long long started_ms;
	unsigned long long start_ticks;
};

extern struct shim S;

/* exit.c */
void unlink_sockets(void);
void write_exit(int code, const char *guest_error, const char *error);
void write_vm_exit(void);

/* io.c */
int buf_put(struct buf *b, const void *d, size_t n);
void buf_drop(struct buf *b, size_t n);
void buf_free(struct buf *b);
size_t buf_size(const struct buf *b);
int buf_frame(struct buf *b, char type, uint8_t id, const void *d, size_t n);
void buf_frames(struct buf *b, void (*fn)(void *, uint8_t, uint8_t, const char *, size_t), void *ctx);
size_t json_escape(char *dst, const char *src, size_t n);
void log_output(int stream, const char *d, size_t n);
void log_flush(void);
long long now_ms(void);
void iso_time(char *dst, size_t len, int nanos);
int write_atomic(const char *path, const char *data, size_t len, int sync);
char *path_in_dir(const char *name);
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* spawn.c */
int signals_init(void);
pid_t spawn(char **argv, const char *name, int out_fd, void (*in_child)(void), char *err, size_t errlen);
void tune_hypervisor(void);
void reap(void);
unsigned long long start_ticks(pid_t pid);
int write_state(void);
void end_helpers(void);
const char *signal_name(int sig);

/* serve.c */
int listen_unix(const char *path, int backlog, char *err, size_t errlen);
struct buf *to_guest(int ch);
struct pollfd *serve_poll(int *nfds, int drain);
void serve_events(struct pollfd *fds, int nfds);
void channel_accept(struct channel *c);
int outputs_ended(void);

/* clients.c */
int clients_full(void);
void send_client(struct client *c, char type, uint8_t id, const void *d, size_t n);
void broadcast(char type, const char *d, size_t n);
void exec_from_guest(void *ctx, uint8_t type, uint8_t g, const char *p, size_t n);
void request_stop(const char *signal, long grace_ms);
void client_accept(void);
void client_read(struct client *c, short revents);
void client_write(struct client *c);
void client_drop(struct client *c);
void clients_finish(const char *exit_json, size_t len);

#endif
