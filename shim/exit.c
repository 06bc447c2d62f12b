/*
 * The end of a container: exit.json, written once and atomically, then sent to every client as X
 * (shim/PROTOCOL.md, "The exit status"); the console log and the hypervisor's output say why a VM
 * gave no exit status.
 */
#include "hypr-shim.h"

void unlink_sockets(void)
{
	char *sock = path_in_dir("shim.sock");
	if (sock && S.sock >= 0)
		unlink(sock);
	free(sock);
	for (int i = 0; i < CH_COUNT; i++)
		if (S.ch[i].path)
			unlink(S.ch[i].path);
}

/* {"exitCode":N,"guestError":…,"error":…,"finishedAt":…}, written once, atomically, then sent as X. */
void write_exit(int code, const char *guest_error, const char *error)
{
	size_t cap = 160 + 6 * ((guest_error ? strlen(guest_error) : 0) + (error ? strlen(error) : 0));
	char *json = malloc(cap), t[40];
	if (!json) {
		note("out of memory for exit.json");
		return;
	}
	size_t n = (size_t)snprintf(json, cap, "{\"exitCode\":%d", code);
	if (guest_error) {
		n += (size_t)snprintf(json + n, cap - n, ",\"guestError\":\"");
		n += json_escape(json + n, guest_error, strlen(guest_error));
		json[n++] = '"';
	}
	if (error) {
		n += (size_t)snprintf(json + n, cap - n, ",\"error\":\"");
		n += json_escape(json + n, error, strlen(error));
		json[n++] = '"';
	}
	iso_time(t, sizeof(t), 0);
	n += (size_t)snprintf(json + n, cap - n, ",\"finishedAt\":\"%s\"}", t);
	char *path = path_in_dir("exit.json");
	if (!path || write_atomic(path, json, n, 1) < 0)
		note("write %s/exit.json: %s", S.dir, strerror(errno));
	free(path);
	note("exit: %.*s", (int)n, json);
	clients_finish(json, n);
	free(json);
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
}

/* The console line from "Kernel panic" to its end, when the console log has one. */
static int find_panic(char *line, size_t len)
{
	static const char mark[] = "Kernel panic";
	char *w = S.console ? malloc(READ_CHUNK) : NULL;
	int fd = w ? open(S.console, O_RDONLY | O_CLOEXEC) : -1, found = 0;
	size_t have = 0;
	while (fd >= 0) {
		ssize_t n = read(fd, w + have, READ_CHUNK - have);
		if (n > 0)
			have += (size_t)n;
		char *m = memmem(w, have, mark, sizeof(mark) - 1);
		if (m && m != w) {
			/* Move it to the front, so that the rest of its line fits. */
			have -= (size_t)(m - w);
			memmove(w, m, have);
			continue;
		}
		if (m && (n <= 0 || have >= len || memchr(w, '\n', have))) {
			size_t k = 0;
			while (k < have && k < len - 1 && w[k] != '\n')
				k++;
			memcpy(line, w, k);
			line[k] = 0;
			trim(line);
			found = 1;
			break;
		}
		if (n <= 0)
			break;
		if (!m && have >= sizeof(mark)) {
			memmove(w, w + have - (sizeof(mark) - 1), sizeof(mark) - 1);
			have = sizeof(mark) - 1;
		}
	}
	if (fd >= 0)
		close(fd);
	free(w);
	return found;
}

/* The last non-empty line the hypervisor wrote (H), or "no message". */
static void last_line(char *line, size_t len)
{
	char tail[4096];
	int fd = S.vmm_out ? open(S.vmm_out, O_RDONLY | O_CLOEXEC) : -1;
	struct stat st;
	ssize_t n = 0;
	snprintf(line, len, "no message");
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0) {
		off_t at = st.st_size > (off_t)sizeof(tail) ? st.st_size - (off_t)sizeof(tail) : 0;
		n = pread(fd, tail, sizeof(tail) - 1, at);
	}
	close(fd);
	if (n <= 0)
		return;
	tail[n] = 0;
	for (char *end = tail + n; end > tail;) {
		char *start = end;
		while (start > tail && start[-1] != '\n')
			start--;
		*end = 0;
		trim(start);
		if (start[0]) {
			size_t k = strlen(start) < len - 1 ? strlen(start) : len - 1;
			memcpy(line, start, k);
			line[k] = 0;
			return;
		}
		end = start > tail ? start - 1 : tail;
	}
}

/* exit.json (and X to every client) for a VM that ended: what Kestrel reported, or why it did not. */
void write_vm_exit(void)
{
	char error[1200], line[512], how[32];
	if (S.have_exit) {
		write_exit(S.exit_code, S.guest_error, NULL);
	} else if (S.killed_by_stop) {
		write_exit(137, S.guest_error, NULL);
	} else {
		if (find_panic(line, sizeof(line))) {
			snprintf(error, sizeof(error), "the guest kernel panicked: %s", line);
		} else if (!WIFEXITED(S.vm_status) || WEXITSTATUS(S.vm_status) != 0) {
			if (WIFSIGNALED(S.vm_status))
				snprintf(how, sizeof(how), "%s", signal_name(WTERMSIG(S.vm_status)));
			else
				snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(S.vm_status));
			last_line(line, sizeof(line));
			snprintf(error, sizeof(error), "%s failed (%s): %s", S.vmm_name, how, line);
		} else {
			snprintf(error, sizeof(error), "the VM ended without reporting an exit status%s%.1000s",
				 S.guest_error ? ": " : "", S.guest_error ? S.guest_error : "");
		}
		write_exit(255, NULL, error);
	}
}
