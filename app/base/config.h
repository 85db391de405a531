/* SPDX-License-Identifier: MIT */
/* Server configuration: defaults < config file < HUDDLE_* environment < command-line flags,
 * validated once at start-up. Every error names where it came from (file:line, variable or flag).
 */
#ifndef HUDDLE_CONFIG_H
#define HUDDLE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CFG_DEFAULT_FILE  "huddle.conf"
#define CFG_ERR_MAX       512
#define CFG_LINE_MAX      4096 /* longest accepted config file line, without its newline */
#define CFG_HTTP_RESERVED 4 /* worker threads never held by TLS WebSockets, kept for plain HTTP */

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* All strings are heap-allocated and owned by the struct (freed by cfg_free). */
struct config {
    char *bind_address;       /* bind_address (0.0.0.0): address to listen on */
    int listening_port;       /* listening_port (3003): 0..65535, 0 picks a free port */
    char *document_root;      /* document_root (www) */
    char *greeting;           /* greeting (hello!) */
    int num_threads;          /* num_threads (64): CivetWeb worker threads (HTTP, TLS WebSockets) */
    long max_message_bytes;   /* max_message_bytes (65536): 125..16777216 */
    enum log_level log_level; /* log_level (info): debug|info|warn|error */
    int max_room_members;     /* max_room_members (8): 1..1000 */
    int max_rooms;            /* max_rooms (1000): 1..100000 */
    int max_connections;      /* max_connections (10000): open WebSockets, 1..1000000 */
    long send_queue_bytes;    /* send_queue_bytes (1048576): per-session outgoing bytes */
    int send_queue_messages;  /* send_queue_messages (1024): per-session outgoing messages */
    int rate_limit_per_sec;   /* rate_limit_per_sec (100): messages/s per session, 0 = off */
    int rate_limit_burst;     /* rate_limit_burst (500): messages allowed in one burst */
    int ping_interval;        /* ping_interval (25): seconds of silence before a ping, 0 = off */
    int stall_timeout_ms;     /* stall_timeout_ms (10000): a started frame must end within it */
    int resume_window_s;      /* resume_window_s (30): a dropped session's seat is kept, 0 = off */
    char *ice_servers;        /* ice_servers (stun:stun.l.google.com:19302): comma list */
    char *turn_username;      /* turn_username ("") */
    char *turn_credential;    /* turn_credential ("") */
    int ssl_port;             /* ssl_port (0 = off) */
    char *ssl_certificate;    /* ssl_certificate ("") PEM with key and certificate */
    bool redirect_to_https;   /* redirect_to_https (no) */
    char *allowed_origins;    /* allowed_origins (""): comma list, "" = same host, "*" = any */
    bool access_log;          /* access_log (no) */
    int max_connections_per_ip;      /* (20): WebSocket sessions per client address, 0 = off */
    int max_http_connections_per_ip; /* (16): open HTTP connections per address, 0 = off */
    int request_header_timeout_ms;   /* (5000): a request's headers must arrive within it */
    int flood_close_after;           /* (50): rate-limited messages before close 1008, 0 = never */
    char *trusted_proxies;           /* (""): reverse proxies whose X-Forwarded-For is believed */
};

/* Fills cfg with the defaults above. Returns 0 or -ENOMEM. */
int cfg_defaults(struct config *cfg);

/* Frees the strings inside cfg (not cfg itself). Safe on a zeroed struct. */
void cfg_free(struct config *cfg);

/* Applies one key = value pair. `where` names the source for error messages (e.g. "huddle.conf:7",
 * "HUDDLE_LISTENING_PORT", "--port"). On error writes "<where>: ..." into err and returns -EINVAL.
 */
int cfg_set(struct config *cfg, const char *key, const char *value, const char *where, char *err,
            size_t errlen);

/* Reads `key = value` lines (# comments, blank lines) from path. When `required` is false a
 * missing file is not an error. Returns 0, or -EINVAL/-ENOENT/-EIO with err set to e.g.
 * "huddle.conf:7: unknown key 'listen_port'". */
int cfg_load_file(struct config *cfg, const char *path, bool required, char *err, size_t errlen);

/* Applies HUDDLE_<KEY> variables (upper-case key names) read through getenv_fn (getenv in
 * production). Returns 0 or -EINVAL with err naming the variable. */
int cfg_load_env(struct config *cfg, char *(*getenv_fn)(const char *), char *err, size_t errlen);

/* Cross-key checks after all sources are applied (e.g. send_queue_bytes >= 2 * max_message_bytes).
 * Returns 0 or -EINVAL with err set. */
int cfg_validate(const struct config *cfg, char *err, size_t errlen);

/* Name of a log level ("info"), for logs. */
const char *cfg_log_level_name(enum log_level level);

/* Table access for the README/--help: NULL-terminated list of key names. */
const char *const *cfg_keys(void);

#endif
