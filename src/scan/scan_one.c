/* scan_one.c - skt_scan and skt_scan_collect: the scanner of scan.c on
 * the space of one address, in port order. */
#include "internal.h"
#include "scan_int.h"
#include "sockit/scan.h"

#include <stdlib.h>

/* ---- One target ---- */

typedef struct one {
	skt_scan_cb cb;
	void *arg;
} one;

/* skt_scan's results carry the port as their index. */
static void one_result(const skt_scan_result *r, void *arg)
{
	const one *w = arg;
	skt_scan_result copy = *r;
	copy.index = r->port;
	w->cb(&copy, w->arg);
}

int skt_scan(const skt_addr *target, const skt_portset *ports,
	     const skt_scan_opts *opts, skt_scan_cb cb, void *arg)
{
	static const skt_scan_opts defaults = SKT_SCAN_OPTS_INIT;
	const skt_scan_opts *o = opts != NULL ? opts : &defaults;
	int f = target != NULL ? skt_addr_family(target) : AF_UNSPEC;
	if ((f != AF_INET && f != AF_INET6) || ports == NULL || cb == NULL ||
	    !skt__scan_opts_ok(o) || skt_portset_count(ports) == 0)
		return SKT_EINVAL;
	/* The space of one address, in port order: the engine is the
	 * one skt_scan_run drives. */
	skt_targets *t = skt_targets_new(1);
	if (t == NULL)
		return SKT_ENOMEM;
	int rc = skt_targets_add_addr(t, target);
	if (rc == 0)
		rc = skt_targets_finish(t);
	skt_scan_space *sp = rc == 0 ? skt_malloc(sizeof(*sp)) : NULL;
	if (rc == 0 && sp == NULL)
		rc = SKT_ENOMEM;
	skt_scan_order order;
	skt_scan_iter it;
	if (rc == 0 && (rc = skt_scan_space_init(sp, t, ports)) == 0 &&
	    (rc = skt_scan_order_init(&order, sp->size, 0, false)) == 0 &&
	    (rc = skt_scan_iter_init(&it, &order, 0, 1, 0)) == 0) {
		one w = {cb, arg};
		skt_scan_stats st;
		skt_scan_opts oo = *o;
		oo.stats = &st;
		oo.stop = NULL;
		rc = skt__scan_space(sp, &it, target, &oo, one_result, &w);
		if (o->stats != NULL)
			*o->stats = st;
		if (rc == 0)
			rc = (int)st.ports;
	}
	skt_free(sp);
	skt_targets_free(t);
	return rc;
}

/* ---- Collecting ---- */

typedef struct collector {
	skt_scan_result *v;
	size_t n;
} collector;

static void collect_one(const skt_scan_result *r, void *arg)
{
	collector *c = arg;
	c->v[c->n] = *r;
	/* The banner lives as long as the callback: not kept. */
	c->v[c->n].banner = NULL;
	c->v[c->n].banner_len = 0;
	c->n++;
}

static int by_port(const void *a, const void *b)
{
	const skt_scan_result *x = a, *y = b;
	return (int)x->port - (int)y->port;
}

int skt_scan_collect(const skt_addr *target, const skt_portset *ports,
		     const skt_scan_opts *opts, skt_scan_result **out)
{
	*out = NULL;
	size_t count = ports != NULL ? skt_portset_count(ports) : 0;
	collector c = {skt_calloc(count ? count : 1, sizeof(*c.v)), 0};
	if (c.v == NULL)
		return SKT_ENOMEM;
	int rc = skt_scan(target, ports, opts, collect_one, &c);
	if (rc < 0) {
		skt_free(c.v);
		return rc;
	}
	qsort(c.v, c.n, sizeof(*c.v), by_port);
	*out = c.v;
	return (int)c.n;
}
