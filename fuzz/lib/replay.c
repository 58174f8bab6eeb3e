/* replay.c - main() for a harness built without libFuzzer: feed every file
 * named on the command line, or found in a directory named there, through
 * LLVMFuzzerTestOneInput, in name order. `make check` runs each harness
 * this way over its checked-in corpus, under the plain and the ASan build,
 * so a fixed crash stays fixed without clang or libFuzzer.
 *
 * Each input gets an allocation of exactly its size, as libFuzzer gives,
 * so that ASan sees a read one byte past the end. When an input crashes,
 * its path is printed: from a signal handler for a plain build, from the
 * sanitizer's death callback for an ASan build.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Weak: present only when a sanitizer runtime is linked in. */
void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static char current[4096];

static void say_current(void)
{
	static const char pre[] = "replay: failing input: ";
	if (write(2, pre, sizeof(pre) - 1) < 0 ||
	    write(2, current, strlen(current)) < 0 || write(2, "\n", 1) < 0)
		return; /* nothing better to do while dying */
}

static void on_fatal(int sig)
{
	say_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_fatal(void)
{
	static const int sigs[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal);
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(say_current);
}

/* Read a whole file into an exact-size buffer. Returns 0 or -1. */
static int slurp(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	size_t r;
	while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	if (buf == NULL)
		return -1;
	/* Shrink to the exact size (at least 1 byte for malloc's sake), so
	 * the byte after the input is a redzone. */
	uint8_t *exact = malloc(n > 0 ? n : 1);
	if (exact != NULL && n > 0)
		memcpy(exact, buf, n);
	free(buf);
	*out = exact;
	*len = n;
	return exact != NULL ? 0 : -1;
}

static int run_file(const char *path)
{
	uint8_t *data;
	size_t len;
	snprintf(current, sizeof(current), "%s", path);
	if (slurp(path, &data, &len) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order. Returns the count or -1. */
static long run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap)
			names = realloc(names, (cap = cap ? cap * 2 : 64) *
						       sizeof(*names));
		if (names == NULL)
			abort();
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	long done = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    run_file(path) == 0)
			done++;
		free(names[i]);
	}
	free(names);
	return done;
}

int main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/');
	name = name != NULL ? name + 1 : argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", name);
		return 2;
	}
	catch_fatal();
	long total = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
				strerror(errno));
			return 1;
		}
		long n = S_ISDIR(st.st_mode) ? run_dir(argv[i])
					     : run_file(argv[i]) == 0;
		if (n < 0)
			return 1;
		total += n;
	}
	/* fd 1, not stdout: a harness may have pointed that at /dev/null. */
	dprintf(1, "replay %s: %ld inputs ok\n", name, total);
	return 0;
}
