/* Who the program runs as: docker's user[:group] resolved in the image's passwd and group files. */
#include "kestrel.h"

struct passwd_entry {
	unsigned id, gid;
	char home[256];
	char name[64];
};

struct query {
	const char *name; /* the entry with this name, or with NAME NULL ... */
	unsigned id;      /* ... the entry with this id */
	struct passwd_entry *found;
};

/* One line of an /etc/passwd- or /etc/group-shaped file; 1 when it is the entry asked for. The
 * group file has no gid and home fields: they stay as they were. */
static int match_line(char *line, struct query *q)
{
	char *fields[7] = { 0 };
	int n = 0;

	for (char *s = line, *tok; n < 7 && (tok = strsep(&s, ":")); )
		fields[n++] = tok;
	if (n < 3 || !is_number(fields[2]))
		return 0;
	if (q->name ? strcmp(fields[0], q->name) != 0 : (unsigned)parse_number(fields[2], NULL, 10) != q->id)
		return 0;
	q->found->id = (unsigned)parse_number(fields[2], NULL, 10);
	snprintf(q->found->name, sizeof(q->found->name), "%s", fields[0]);
	if (n >= 4)
		q->found->gid = (unsigned)parse_number(fields[3], NULL, 10);
	if (n >= 6)
		snprintf(q->found->home, sizeof(q->found->home), "%s", fields[5]);
	return 1;
}

/* Looks an entry up line by line (read(2), not stdio: kestrel stays small); 0 when found. */
static int lookup(const char *file, const char *name, unsigned id, struct passwd_entry *e)
{
	static char buf[4096];
	struct query q = { name, id, e };
	size_t len = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC), found = 0, eof = 0;

	if (fd < 0)
		return -1;
	while (!found && (!eof || len > 0)) {
		char *end;
		size_t used;

		if (!eof && len < sizeof(buf) - 1) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

			if (n <= 0)
				eof = 1; /* a read error ends the file too: the entry is not found */
			else
				len += n;
		}
		end = memchr(buf, '\n', len);
		if (!end && !eof && len < sizeof(buf) - 1)
			continue;
		/* A last line without a newline, or one longer than the buffer, is taken as it is. */
		if (!end)
			end = buf + len;
		used = end - buf + (end < buf + len);
		*end = '\0';
		found = match_line(buf, &q);
		len -= used;
		memmove(buf, buf + used, len);
	}
	close(fd);
	return found ? 0 : -1;
}

/* Resolves "user[:group]" (names or ids) as docker does; an unknown name is an error. */
int resolve_user(const char *user, unsigned *uid, unsigned *gid, char *home, size_t home_len)
{
	struct passwd_entry e = { 0, 0, "/root", "" };
	char spec[256], *group;

	if (user && *user) {
		snprintf(spec, sizeof(spec), "%s", user);
		group = strchr(spec, ':');
		if (group)
			*group++ = '\0';
		if (is_number(spec)) {
			/* A numeric uid need not exist in /etc/passwd; use its entry when there is one. */
			e.id = (unsigned)parse_number(spec, NULL, 10);
			lookup("/etc/passwd", NULL, e.id, &e);
		} else if (lookup("/etc/passwd", spec, 0, &e) < 0) {
			return say("unable to find user %s: no matching entries in passwd file", spec), -1;
		}
		if (group && *group) {
			struct passwd_entry g = e;

			if (is_number(group))
				e.gid = (unsigned)parse_number(group, NULL, 10);
			else if (lookup("/etc/group", group, 0, &g) < 0)
				return say("unable to find group %s: no matching entries in group file", group), -1;
			else
				e.gid = g.id;
		}
	}
	*uid = e.id;
	*gid = e.gid;
	snprintf(home, home_len, "%s", e.home);
	return 0;
}

/* The name of UID in the container's /etc/passwd (for `kestrel ps`). */
int user_name(unsigned uid, char *name, size_t size)
{
	struct passwd_entry e = { 0, 0, "", "" };

	if (lookup("/etc/passwd", NULL, uid, &e) < 0)
		return -1;
	snprintf(name, size, "%s", e.name);
	return 0;
}

static const char *getenv_cmd(const struct command *c, const char *key)
{
	size_t len = strlen(key);

	for (int i = 0; i < c->envc; i++)
		if (strncmp(c->env[i], key, len) == 0 && c->env[i][len] == '=')
			return c->env[i] + len + 1;
	return NULL;
}

/* Docker's defaults for what the job does not set: PATH, HOME and, in a container (not a build
 * step), HOSTNAME. */
void prepare_env(struct command *c, const char *home)
{
	static char home_env[300], hostname_env[80];

	if (!getenv_cmd(c, "PATH"))
		c->env[c->envc++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	if (!getenv_cmd(c, "HOME")) {
		snprintf(home_env, sizeof(home_env), "HOME=%s", home);
		c->env[c->envc++] = home_env;
	}
	if (job.hostname && *job.hostname && (!job.mode || strcmp(job.mode, "run") == 0) && !getenv_cmd(c, "HOSTNAME")) {
		snprintf(hostname_env, sizeof(hostname_env), "HOSTNAME=%s", job.hostname);
		c->env[c->envc++] = hostname_env;
	}
	c->env[c->envc] = NULL;
}
