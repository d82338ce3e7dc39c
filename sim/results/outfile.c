/* Result files written whole or not at all, one job per path. See include/llmcap/output.h
 * (struct llmcap_outfile) and docs/hdf5-layout.md ("Crash consistency"). */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */
#include "llmcap/output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_MARK ".llmcap-tmp."
#define LOCK_MARK ".llmcap-lock"

/* The folder of a path ("." when it has none) and where its last part starts. */
static void split(const char *path, char *dir, size_t n, const char **name)
{
	const char *slash = strrchr(path, '/');
	*name = slash ? slash + 1 : path;
	if (!slash)
		snprintf(dir, n, ".");
	else if (slash == path)
		snprintf(dir, n, "/");
	else
		snprintf(dir, n, "%.*s", (int)(slash - path), path);
}

static void host_name(char *h, size_t n)
{
	if (gethostname(h, n) != 0 || !h[0])
		snprintf(h, n, "localhost");
	h[n - 1] = 0;
	for (char *c = h; *c; c++)
		if (*c == '/')
			*c = '_';
}

/* An exclusive flock on PATH, created if needed; -1 and errno when held by another process.
 * The lock file is removed at release, so a job that opened it just before that would lock a
 * file no longer at the path: the inode under the lock must be the path's, or it starts over. */
static int lock_path(const char *path)
{
	for (int tries = 0; tries < 100; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		struct stat a, b;
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

/* Removes, in DIR, the temporaries of llmcap processes on this host that are gone (killed
 * before they could remove them), and lock files nobody holds. A temporary is named
 * .NAME.llmcap-tmp.HOST.PID; a PID alive (or not ours to signal) keeps it. */
static void clean_stale(const char *dir, const char *host)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	const int dfd = dirfd(d);
	const size_t hl = strlen(host);
	for (struct dirent *e; (e = readdir(d));) {
		const char *n = e->d_name;
		if (n[0] != '.')
			continue;
		const char *t = strstr(n, TMP_MARK);
		if (t) {
			const char *h = t + strlen(TMP_MARK);
			if (strncmp(h, host, hl) != 0 || h[hl] != '.')
				continue;
			char *end;
			long pid = strtol(h + hl + 1, &end, 10);
			if (*end || pid <= 0 || pid == (long)getpid())
				continue;
			if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
				(void)unlinkat(dfd, n, 0);
			continue;
		}
		size_t len = strlen(n), ll = strlen(LOCK_MARK);
		if (len > ll + 1 && strcmp(n + len - ll, LOCK_MARK) == 0) {
			int fd = openat(dfd, n, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0)
				continue;
			/* held by nobody: unlink while holding it (a job that opened it meanwhile
			 * sees another inode at the path and starts over) */
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				(void)unlinkat(dfd, n, 0);
			close(fd);
		}
	}
	closedir(d);
}

int llmcap_outfile_check(const char *target, bool force, struct llmcap_error *err)
{
	struct stat st;
	if (stat(target, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot write there: %s", target, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return llmcap_errorf(err, LLMCAP_EUSAGE, "%s: not a regular file (a %s); results are only "
				     "written to regular files, even with --force", target,
				     S_ISDIR(st.st_mode) ? "folder" : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)
				     ? "device" : S_ISFIFO(st.st_mode) ? "pipe" : "special file");
	if (!force)
		return llmcap_errorf(err, LLMCAP_EIO,
				     "%s: exists; not overwritten (use --force, or another path)", target);
	return 0;
}

int llmcap_outfile_begin(struct llmcap_outfile *o, const char *target, bool force,
			 struct llmcap_error *err)
{
	memset(o, 0, sizeof *o);
	o->lock_fd = o->dir_fd = -1;
	o->force = force;
	const char *name;
	if (!target[0] || strlen(target) >= sizeof o->target)
		return llmcap_errorf(err, LLMCAP_EINVAL, "%s: output path %s", target,
				     target[0] ? "too long" : "empty");
	snprintf(o->target, sizeof o->target, "%s", target);
	char dir[sizeof o->target];
	split(target, dir, sizeof dir, &name);
	if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return llmcap_errorf(err, LLMCAP_EUSAGE, "%s: names a folder, not a file", target);
	int rc = llmcap_outfile_check(target, force, err);
	if (rc)
		return rc;
	char host[64];
	host_name(host, sizeof host);
	int dl = name - target;
	snprintf(o->lock, sizeof o->lock, "%.*s.%s" LOCK_MARK, dl, target, name);
	snprintf(o->tmp, sizeof o->tmp, "%.*s.%s" TMP_MARK "%s.%ld", dl, target, name, host,
		 (long)getpid());
	o->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dir_fd < 0)
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot create the output file: %s (its folder "
				     "%s)", target, strerror(errno), dir);
	o->lock_fd = lock_path(o->lock);
	if (o->lock_fd < 0) {
		int e = errno;
		close(o->dir_fd);
		o->dir_fd = -1;
		if (e == EWOULDBLOCK)
			return llmcap_errorf(err, LLMCAP_EIO, "%s: another llmcap job is writing this file "
					     "(it holds %s); not started", target, o->lock);
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot create the lock %s: %s", target, o->lock,
				     strerror(e));
	}
	char who[96];
	int wl = snprintf(who, sizeof who, "%ld %s\n", (long)getpid(), host);
	if (ftruncate(o->lock_fd, 0) == 0 && wl > 0)
		(void)!pwrite(o->lock_fd, who, (size_t)wl, 0);
	clean_stale(dir, host);
	(void)unlink(o->tmp); /* ours by name: a dead process with our pid left it */
	return 0;
}

static int commit(struct llmcap_outfile *o, struct llmcap_error *err);

static int sync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

static void *watch_signals(void *arg)
{
	struct llmcap_outfile *o = arg;
	int sig;
	while (sigwait(&o->watched, &sig) != 0)
		;
	/* from here on, the process ends: finish the clean-up even if end() cancels us */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&o->mu);
	if (o->tmp[0])
		(void)unlink(o->tmp);
	if (o->lock_fd >= 0)
		(void)unlink(o->lock);
	/* die of the signal, as an unguarded process would (the shell sees 128 + sig) */
	signal(sig, SIG_DFL);
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	raise(sig);
	_exit(128 + sig); /* not reached */
}

int llmcap_outfile_guard_signals(struct llmcap_outfile *o)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	sigemptyset(&o->watched);
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
		struct sigaction sa;
		/* a signal the parent ignores (a background job's SIGINT) stays ignored */
		if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
			sigaddset(&o->watched, sigs[i]);
	}
	if (pthread_mutex_init(&o->mu, NULL) != 0)
		return -1;
	pthread_sigmask(SIG_BLOCK, &o->watched, &o->old_mask);
	if (pthread_create(&o->watcher, NULL, watch_signals, o) != 0) {
		pthread_sigmask(SIG_SETMASK, &o->old_mask, NULL);
		pthread_mutex_destroy(&o->mu);
		return -1;
	}
	o->guarded = true;
	return 0;
}

int llmcap_outfile_commit(struct llmcap_outfile *o, struct llmcap_error *err)
{
	if (o->guarded)
		pthread_mutex_lock(&o->mu);
	int rc = commit(o, err);
	if (o->guarded)
		pthread_mutex_unlock(&o->mu);
	return rc;
}

static int commit(struct llmcap_outfile *o, struct llmcap_error *err)
{
	/* the data first, then the temporary's name, then the rename, then the new name */
	if (sync_path(o->tmp) != 0 || fsync(o->dir_fd) != 0)
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot write it to disk (fsync): %s", o->target,
				     strerror(errno));
	/* the target may have appeared or changed while the job ran */
	struct stat st;
	if (stat(o->target, &st) == 0 && !S_ISREG(st.st_mode))
		return llmcap_outfile_check(o->target, o->force, err);
	int rc;
	if (o->force) {
		rc = rename(o->tmp, o->target);
	} else {
		rc = renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->target, RENAME_NOREPLACE);
		if (rc != 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
			/* a file system without RENAME_NOREPLACE: link() never replaces either */
			rc = link(o->tmp, o->target);
			if (rc == 0)
				(void)unlink(o->tmp);
		}
	}
	if (rc != 0) {
		int e = errno;
		if (e == EEXIST)
			return llmcap_errorf(err, LLMCAP_EIO, "%s: was created by something else while this "
					     "job ran; not overwritten (use --force, or another path)",
					     o->target);
		return llmcap_errorf(err, LLMCAP_EIO, "%s: cannot move the finished file onto it: %s",
				     o->target, strerror(e));
	}
	o->tmp[0] = 0; /* committed: nothing to remove */
	if (fsync(o->dir_fd) != 0)
		return llmcap_errorf(err, LLMCAP_EIO, "%s: written, but its folder cannot be synced: %s",
				     o->target, strerror(errno));
	return 0;
}

void llmcap_outfile_end(struct llmcap_outfile *o)
{
	if (o->guarded) {
		pthread_mutex_lock(&o->mu);
		/* a signal taken now ends the process before the mutex is ours again: none is lost */
		pthread_cancel(o->watcher);
		pthread_mutex_unlock(&o->mu);
		pthread_join(o->watcher, NULL);
		pthread_mutex_destroy(&o->mu);
	}
	if (o->tmp[0])
		(void)unlink(o->tmp);
	o->tmp[0] = 0;
	if (o->lock_fd >= 0) {
		/* unlinked while held: see lock_path */
		(void)unlink(o->lock);
		close(o->lock_fd);
	}
	if (o->dir_fd >= 0)
		close(o->dir_fd);
	o->lock_fd = o->dir_fd = -1;
	if (o->guarded) {
		/* a signal that came after the watcher stopped is delivered now, as usual */
		o->guarded = false;
		pthread_sigmask(SIG_SETMASK, &o->old_mask, NULL);
	}
}
