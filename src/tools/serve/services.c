/* services.c - the table of `sockit serve`'s services, in the order
 * `sockit serve --help` lists them. */
#include "tools/serve/services.h"

#include <string.h>

const skt_service *const svc_all[] = {
	&svc_echo, &svc_discard, &svc_chargen, &svc_qotd,  &svc_daytime,
	&svc_time, &svc_upper,   &svc_chat,    &svc_hello, &svc_http,
	&svc_exec, &svc_socks5,  NULL,
};

const skt_service *svc_find(const char *name)
{
	for (size_t i = 0; svc_all[i] != NULL; i++)
		if (strcmp(svc_all[i]->name, name) == 0)
			return svc_all[i];
	return NULL;
}
