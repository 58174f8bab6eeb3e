/* fuzz.h - what every harness in fuzz/ shares.
 *
 * A harness is one file, fuzz/<name>.c, that defines
 * LLVMFuzzerTestOneInput. It is linked two ways (see fuzz/README.md):
 * with libFuzzer (clang -fsanitize=fuzzer) for `make fuzz`, and with
 * fuzz/lib/replay.c, a plain main() that feeds every file of a corpus
 * through it, for `make check` under gcc, plain and ASan.
 *
 * A harness must not print, must free what it allocates, and reports a
 * broken property with FUZZ_CHECK, which aborts: libFuzzer and the replay
 * program both turn that into a failure with the input saved.
 */
#ifndef SOCKIT_FUZZ_H
#define SOCKIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() with the failed property, file and line on fd 2 (not stderr:
 * fuzz_quiet() may have pointed that at /dev/null). */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			dprintf(2, "%s:%d: property failed: %s\n", __FILE__,   \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* Route the library's allocations through a counter (once; later calls
 * do nothing). A harness calls it first and checks fuzz_live_allocs() == 0
 * last, so a leak fails the plain build too, not only LeakSanitizer. */
void fuzz_track_allocs(void);
long fuzz_live_allocs(void);

/* Point stdout and stderr (the FILE streams, not fds 1 and 2) at
 * /dev/null, for harnesses of code that prints (the CLI). Sanitizer
 * reports and FUZZ_CHECK still reach fd 2. */
void fuzz_quiet(void);

/* A cursor over the input: harnesses take their knobs (flags, split
 * points, limits) from the front and the text from the rest. Taking past
 * the end gives zeros, so every input is a valid program. */
typedef struct fuzz_in {
	const uint8_t *p;
	size_t n;
} fuzz_in;

uint8_t fuzz_u8(fuzz_in *in);
uint16_t fuzz_u16(fuzz_in *in);
uint32_t fuzz_u32(fuzz_in *in);

/* The next len bytes (fewer at the end); *len is set to what was taken. */
const uint8_t *fuzz_bytes(fuzz_in *in, size_t *len);

/* A malloc'ed copy of n bytes with a NUL after them, exactly n + 1 bytes
 * long, so that ASan catches a parser reading past the NUL. Bytes that
 * are NUL inside the copy end the string early, as they would in argv. */
char *fuzz_strndup(const uint8_t *p, size_t n);

/* Split the rest of the input at NUL bytes into at most max strings
 * (each its own exact-size allocation, for the reason above). Returns the
 * count; free them with fuzz_strings_free. */
size_t fuzz_strings(fuzz_in *in, char **out, size_t max);
void fuzz_strings_free(char **s, size_t n);

#endif
