/* Shared by the fuzz harnesses (see docs/fuzzing.md).
 *
 * Each harness fuzz_NAME.c defines LLVMFuzzerTestOneInput for one reader of hostile input and is
 * listed once in tests/fuzz/meson.build; its seed corpus is corpus/NAME/. With -Dfuzz=true
 * (clang) the harness links with libFuzzer; in every other build it links with replay.c, which
 * runs the seed corpus and the saved crashes (regressions/NAME/) once, as an ordinary test. */
#ifndef LLMCAP_FUZZ_H
#define LLMCAP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[256];

static inline void fuzz_remove_file(void)
{
	unlink(fuzz_path);
}

/* The input as a file, for readers that take a path: one file per process, rewritten for
 * every input, removed at exit. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	char *path = fuzz_path;
	static int fd = -1;
	if (fd < 0) {
		const char *dir = getenv("TMPDIR");
		snprintf(path, sizeof fuzz_path, "%s/llmcap-fuzz-XXXXXX", dir && *dir ? dir : "/tmp");
		fd = mkstemp(path);
		if (fd < 0) {
			perror("mkstemp");
			abort();
		}
		atexit(fuzz_remove_file);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
		perror(path);
		abort();
	}
	return path;
}

/* The input as a NUL-terminated string (inputs may hold NULs: the text ends at the first). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
