/* scan_int.h - what the files of src/scan/ share; not installed. */
#ifndef SOCKIT_SCAN_INT_H
#define SOCKIT_SCAN_INT_H

#include "sockit/scan.h"

/* Feed the merged targets and exclusions of a finished set to feed(h,
 * bytes, n), for skt_scan_fingerprint. */
void skt__targets_hash(const skt_targets *t,
		       void (*feed)(void *h, const void *p, size_t n), void *h);

/* True once skt_targets_finish succeeded. */
bool skt__targets_finished(const skt_targets *t);

#endif
