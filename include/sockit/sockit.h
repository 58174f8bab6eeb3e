/* sockit/sockit.h - the whole public API of libsockit. */
#ifndef SOCKIT_SOCKIT_H
#define SOCKIT_SOCKIT_H

#include "sockit/addr.h"
#include "sockit/conn.h"
#include "sockit/core.h"
#include "sockit/err.h"
#include "sockit/frame.h"
#include "sockit/http.h"
#include "sockit/loop.h"
#include "sockit/relay.h"
#include "sockit/scan.h"
#include "sockit/server.h"
#include "sockit/sock.h"
#include "sockit/stream.h"
#include "sockit/tls.h"

#endif
