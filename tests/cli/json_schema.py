"""json_schema.py - docs/json.md as data: every object each command's
--json writes, key by key, and a checker. Python's standard library only.

A schema is a dict of key -> spec; a key ending in "?" may be left out, and
no key beyond the schema's may appear. A spec is
  STR, INT, NUM, BOOL     a JSON string, integer, number, boolean;
  SECONDS                 a duration: a non-negative number;
  PORT                    an integer 1..65535;
  Enum("a", "b")          one of these strings;
  Null(spec)              spec or null;
  [spec]                  an array of spec;
  {key: spec}             a nested object (a schema);
  Map(spec)               an object of any keys, each value spec.
check(command, obj) returns the list of what is wrong, [] when nothing.
"""

STR, INT, NUM, BOOL, SECONDS, PORT = ("string", "integer", "number",
                                      "boolean", "seconds", "port")


class Enum:
    def __init__(self, *values):
        self.values = values


class Null:
    def __init__(self, spec):
        self.spec = spec


class Map:
    def __init__(self, spec):
        self.spec = spec


ERROR = {"code": STR, "message": STR, "what?": STR}
TRANSPORT = Enum("tcp", "udp", "unix")
FAMILY = Enum("ipv4", "ipv6")
STATE = Enum("open", "closed", "filtered", "open|filtered")

FAILURE = {"type": Enum("error"), "command": STR, "error": ERROR}

RESOLVE = {
    "address": {"type": Enum("address"), "name": STR, "address": STR,
                "family": FAMILY, "canonical": STR},
    "name": {"type": Enum("name"), "address": STR, "family": FAMILY,
             "name": STR},
}

SERVICE = {"service": {"type": Enum("service"), "service": STR, "port": INT,
                       "transport": Enum("tcp", "udp")}}

HOSTNAME = {"hostname": {"type": Enum("hostname"), "name": STR,
                         "fqdn": BOOL}}

# What a finished handshake agreed on (cli_tls_json_info); the
# certificate's keys only when the peer sent one.
TLS_INFO = {"tls_version": STR, "tls_cipher": STR, "alpn": Null(STR),
            "resumed": BOOL, "verified": BOOL, "pinned": BOOL,
            "subject?": STR, "issuer?": STR, "san?": STR, "not_after?": STR,
            "days_left?": INT, "fingerprint?": STR, "spki?": STR,
            "ktls_tx": BOOL, "ktls_rx": BOOL}

# check --tls: the handshake's error, and what it (or the second,
# unverified look at a refused certificate) showed.
CHECK_TLS = {"error": Null(ERROR), "warn_days?": INT, "expiring?": BOOL,
             **{k if k.endswith("?") else k + "?": v
                for k, v in TLS_INFO.items()}}

CHECK = {"port": {
    "type": Enum("port"), "host": STR, "address": STR, "port": PORT,
    "transport": Enum("tcp"), "service": Null(STR),
    "state": Enum("open", "closed", "filtered"), "reason": STR,
    "error": Null(ERROR), "rtt_s": SECONDS,
    "attempts": [{"address": STR, "port": PORT, "error": Null(ERROR),
                  "start_s": SECONDS, "end_s": SECONDS}],
    "tls?": Null(CHECK_TLS),
}}

SCAN = {
    "scan": {"type": Enum("scan"), "fingerprint": STR, "seed": INT,
             "randomized": BOOL, "shard": INT, "shards": INT, "targets": INT,
             "ports": INT, "probes": INT, "transport": Enum("tcp", "udp"),
             "start": INT, "exponents": INT},
    "port": {"type": Enum("port"), "host": STR, "address": STR, "port": PORT,
             "transport": Enum("tcp", "udp"), "service": Null(STR),
             "state": STATE, "reason": STR, "error": Null(ERROR),
             "tries": INT, "rtt_s": SECONDS, "banner?": Null(STR),
             "banner_probed?": BOOL, "tls_subject?": Null(STR)},
    "summary": {"type": Enum("summary"), "host": Null(STR),
                "address": Null(STR), "other_addresses": [STR],
                "transport": Enum("tcp", "udp"), "targets": INT,
                "ports": INT, "open": INT, "closed": INT, "filtered": INT,
                "open_filtered": INT, "self_connects": INT, "retries": INT,
                "resent": INT, "resent_answered": INT, "backoffs": INT,
                "rate_end": INT, "parallel": INT, "parallel_end": INT,
                "fingerprint": STR, "shard": INT, "shards": INT,
                "stopped": BOOL, "resume": INT, "elapsed_s": SECONDS},
}

_EVENT = {"time": SECONDS, "server": STR}
_PEER = {"peer_address": STR, "peer_port": Null(PORT)}  # null: unix:
_COUNTERS = {"open": INT, "accepted": INT, "refused": INT, "timeouts": INT,
             "cutoffs": INT, "shed": INT, "errors": INT, "handshakes": INT,
             "handshakes_failed": INT, "bytes_in": INT,
             "bytes_out": INT, "datagrams_in": INT, "datagrams_out": INT,
             "datagrams_dropped": INT, "uptime_s": SECONDS}


def _event(name, **keys):
    return {"type": Enum(name), **_EVENT, **keys}


SERVE = {
    "listening": _event("listening", address=STR, port=Null(PORT),
                        transport=Enum("tcp", "udp", "unix")),
    "open": _event("open", **_PEER, id=INT, tls=Null({
        "sni": STR, "tls_version": STR, "tls_cipher": STR,
        "alpn": Null(STR), "resumed": BOOL, "verified": BOOL,
        "pinned": BOOL, "subject?": STR, "issuer?": STR, "san?": STR,
        "not_after?": STR, "days_left?": INT, "fingerprint?": STR,
        "spki?": STR, "ktls_tx": BOOL, "ktls_rx": BOOL})),
    "close": _event("close", **_PEER, id=INT, **{
        "nick?": STR,
        "reason": Enum("closed", "error", "idle-timeout", "cutoff",
                       "too-big", "deadline", "header-timeout", "shed"),
        "error": Null(ERROR), "limit_bytes?": INT, "bytes_in": INT,
        "bytes_out": INT, "duration_s": SECONDS}),
    "refused": _event("refused", **_PEER,
                      reason=Enum("denied", "max-conns", "max-per-ip",
                                  "stopping"), limit=INT),
    "datagram": _event("datagram", **_PEER, transport=Enum("udp"),
                       bytes_in=INT, bytes_out=Null(INT),
                       **{"dropped?": Enum("udp-rate", "too-big")}),
    "error": _event("error", what=STR, error=ERROR, suppressed=INT),
    "stats": _event("stats", **_COUNTERS),
    "stopping": _event("stopping", signal=STR, **_COUNTERS),
    "stopped": _event("stopped", **_COUNTERS, deadline_resets=INT),
    "repeated": _event("repeated", of=Enum("refused", "close", "datagram"),
                       reason=STR, limit=INT, count=INT, window_s=SECONDS),
    # serve http's access log, on standard output
    "request": _event("request", **_PEER, method=STR, path=STR,
                      version=Enum("HTTP/1.0", "HTTP/1.1"), status=INT,
                      bytes=Null(INT), duration_s=SECONDS),
}

_RELAY_COUNTERS = {"open": INT, "accepted": INT, "refused": INT,
                   "errors": INT, "bytes_up": INT, "bytes_down": INT,
                   "uptime_s": SECONDS}

RELAY = {
    "listening": _event("listening", address=STR, port=Null(PORT)),
    "close": _event("close", **_PEER, id=INT, target=Null(STR),
                    reason=Enum("closed", "client-reset", "target-reset",
                                "no-target", "idle-timeout", "max-time",
                                "stopped", "toxic-reset", "toxic-close",
                                "error"),
                    toxic=Null(STR),
                    error=Null(ERROR), bytes_up=INT, bytes_down=INT,
                    duration_s=SECONDS),
    "refused": _event("refused", **_PEER,
                      reason=Enum("denied", "max-conns", "max-per-ip",
                                  "stopping"), limit=INT),
    "error": _event("error", what=STR, error=ERROR),
    "stats": _event("stats", **_RELAY_COUNTERS),
    "stopping": _event("stopping", signal=STR, **_RELAY_COUNTERS),
    "stopped": _event("stopped", **_RELAY_COUNTERS, deadline_resets=INT),
    "repeated": _event("repeated", of=Enum("refused"), reason=STR,
                       count=INT),
}

# `sockit relay udp:LISTEN udp:TARGET`: sessions, not connections.
_UDP = {"transport": Enum("udp")}
RELAY_UDP = {
    "listening": _event("listening", **_UDP, address=STR, port=PORT),
    "open": _event("open", **_UDP, **_PEER, id=INT),
    "close": _event("close", **_UDP, **_PEER, id=INT,
                    reason=Enum("idle", "stopped", "error"),
                    dgrams_up=INT, dgrams_down=INT, bytes_up=INT,
                    bytes_down=INT, dropped=INT, duration_s=SECONDS),
    "refused": _event("refused", **_UDP, reason=Enum("max-sessions"),
                      limit=INT, count=INT),
    "error": _event("error", **_UDP, what=STR, error=ERROR),
    "stopping": _event("stopping", **_UDP, signal=STR),
    "stopped": _event("stopped", **_UDP, sessions=INT, refused=INT,
                      uptime_s=SECONDS),
}

_LATENCY = {k: Null(SECONDS) for k in
            ("min", "mean", "p50", "p90", "p99", "p999", "max")}

BENCH = {"report": {
    "type": Enum("report"), "mode": Enum("echo", "connect", "http"),
    "transport": TRANSPORT, "address": STR, "port": Null(PORT),
    "host": Null(STR),
    "other_addresses": [{"address": STR, "error": Null(ERROR)}],
    "connections": INT, "threads": INT, "pipeline": INT, "size_bytes": INT,
    "rate_per_s": NUM, "model": Enum("open", "closed"),
    "interrupted": BOOL, "duration_s": SECONDS, "requests": INT, "errors": INT,
    "requests_per_s": NUM, "bytes_in_per_s": NUM, "bytes_out_per_s": NUM,
    "bytes_in": INT, "bytes_out": INT, "connects": INT,
    "connections_used": INT, "setup_s": SECONDS, "retried": INT,
    "resets_after_connect": INT, "statuses?": Map(INT),
    "latency_s": _LATENCY, "errors_by_kind": Map(INT),
    "tls": Null({"tls_version?": STR, "tls_cipher?": STR,
                 "alpn?": Null(STR), "verified?": BOOL, "pinned?": BOOL,
                 "resumption": BOOL, "handshakes": INT, "resumed": INT,
                 "full": INT, "handshake_latency_s": _LATENCY}),
    "cpu": {"user_s": SECONDS, "sys_s": SECONDS, "share": NUM},
}}

HTTP = {"response": {
    "type": Enum("response"), "url": STR, "method": STR,
    "status": Null(INT), "http_version": Null(Enum("1.0", "1.1")),
    "reason": Null(STR), "headers": Map([STR]),
    "framing": Null(Enum("none", "length", "chunked", "close")),
    "content_length": Null(INT), "header_bytes": INT, "body_bytes": INT,
    "sent_bytes": INT, "address": Null(STR), "port": Null(PORT),
    "reused": BOOL, "redirects": INT, "tls": Null(TLS_INFO),
    "times": {"resolve_s": SECONDS, "connect_s": SECONDS, "tls_s": SECONDS,
              "first_byte_s": SECONDS, "redirect_s": SECONDS,
              "total_s": SECONDS},
    "error": Null(ERROR),
}}

# send and recv: the summary of one transfer (an error object when it
# failed, with what moved before).
_TRANSFER = {"transfer": {
    "type": Enum("transfer"), "command": Enum("send", "recv"),
    "peer_address?": STR, "peer_port?": PORT, "files": INT, "bytes": INT,
    "moved_bytes": INT, "resumed_bytes": INT, "skipped": INT,
    "elapsed_s": SECONDS, "bytes_per_s": NUM,
    "hash": Enum("none", "xxh3", "sha256"), "root_hash": Null(STR),
    "verified": BOOL, "tls": BOOL, "authenticated": BOOL,
    "error": Null(ERROR)}}
SEND = _TRANSFER
RECV = _TRANSFER

COMMANDS = {"resolve": RESOLVE, "service": SERVICE, "hostname": HOSTNAME,
            "check": CHECK, "scan": SCAN, "serve": SERVE, "relay": RELAY,
            "relay-udp": RELAY_UDP, "bench": BENCH,
            "http": HTTP, "send": SEND, "recv": RECV}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check(spec, v, where, out):
    if isinstance(spec, Null):
        if v is not None:
            _check(spec.spec, v, where, out)
        return
    if isinstance(spec, dict):
        if not isinstance(v, dict):
            out.append("%s: want an object, got %r" % (where, v))
            return
        _check_object(spec, v, where, out)
        return
    if isinstance(spec, Map):
        if not isinstance(v, dict):
            out.append("%s: want an object, got %r" % (where, v))
            return
        for k, x in v.items():
            _check(spec.spec, x, "%s.%s" % (where, k), out)
        return
    if isinstance(spec, list):
        if not isinstance(v, list):
            out.append("%s: want an array, got %r" % (where, v))
            return
        for i, x in enumerate(v):
            _check(spec[0], x, "%s[%d]" % (where, i), out)
        return
    if isinstance(spec, Enum):
        if v not in spec.values:
            out.append("%s: want one of %s, got %r" % (where, spec.values, v))
        return
    ok = {STR: lambda: isinstance(v, str),
          INT: lambda: _is_int(v),
          NUM: lambda: _is_num(v),
          BOOL: lambda: isinstance(v, bool),
          SECONDS: lambda: _is_num(v) and v >= 0,
          PORT: lambda: _is_int(v) and 1 <= v <= 65535}[spec]()
    if not ok:
        out.append("%s: want %s, got %r" % (where, spec, v))


def _check_object(schema, obj, where, out):
    keys = {k.rstrip("?"): (spec, k.endswith("?")) for k, spec in schema.items()}
    for k, (spec, optional) in keys.items():
        if k in obj:
            _check(spec, obj[k], "%s.%s" % (where, k), out)
        elif not optional:
            out.append("%s: no %r" % (where, k))
    for k in obj:
        if k not in keys:
            out.append("%s: %r is not in the schema" % (where, k))


def check(command, obj):
    """What is wrong with obj as a line of command's --json output."""
    if not isinstance(obj, dict) or not obj:
        return ["not an object: %r" % (obj,)]
    if next(iter(obj)) != "type":
        return ["the first key is %r, not 'type'" % next(iter(obj))]
    if obj["type"] == "error":
        schemas = {"error": FAILURE}
    else:
        schemas = COMMANDS[command]
    schema = schemas.get(obj["type"])
    if schema is None:
        return ["type %r is not one of %s" % (obj["type"], sorted(schemas))]
    out = []
    _check_object(schema, obj, obj["type"], out)
    if obj["type"] == "error" and obj["command"] != command:
        out.append("error.command: %r, not %r" % (obj["command"], command))
    return out


def top_keys(command):
    """Every top-level key the command's objects may have (for matching
    against docs/json.md)."""
    return {k.rstrip("?") for s in COMMANDS[command].values() for k in s}
