/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the configuration loader: the input is loaded as a config file (from a
 * memfd, through its /proc/self/fd path, since cfg_load_file takes a path), then split at its
 * first '=' into a key and a value for cfg_set and for cfg_load_env. Every error must name its
 * source; every accepted setting must leave values within their documented ranges and come back
 * the same when written as a quoted `key = "value"` line and loaded from a file. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "utf8.h"

static int fuzz_fd = -1;
static char fuzz_path[64];
static const char *fuzz_env_value;

/* Replaces the memfd's contents with buf[0..len). */
static void put_file(const void *buf, size_t len)
{
    if (fuzz_fd < 0) {
        fuzz_fd = memfd_create("huddle.conf", 0);
        FUZZ_CHECK(fuzz_fd >= 0);
        snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
    }
    FUZZ_CHECK(ftruncate(fuzz_fd, 0) == 0);
    FUZZ_CHECK(len == 0 || pwrite(fuzz_fd, buf, len, 0) == (ssize_t)len);
}

static bool str_ok(const char *s)
{
    return s && utf8_valid(s, strlen(s));
}

/* The documented ranges (config.h) hold after any accepted input. */
static void check_config(const struct config *c)
{
    FUZZ_CHECK(str_ok(c->bind_address) && str_ok(c->document_root) && str_ok(c->greeting));
    FUZZ_CHECK(str_ok(c->ice_servers) && str_ok(c->turn_username) && str_ok(c->turn_credential));
    FUZZ_CHECK(str_ok(c->ssl_certificate) && str_ok(c->allowed_origins));
    FUZZ_CHECK(c->document_root[0] && c->greeting[0] && strlen(c->greeting) <= 256);
    FUZZ_CHECK(c->listening_port >= 0 && c->listening_port <= 65535);
    FUZZ_CHECK(c->ssl_port >= 0 && c->ssl_port <= 65535);
    FUZZ_CHECK(c->num_threads >= 4 && c->num_threads <= 10000);
    FUZZ_CHECK(c->max_message_bytes >= 125 && c->max_message_bytes <= 16777216);
    FUZZ_CHECK(c->log_level >= LOG_DEBUG && c->log_level <= LOG_ERROR);
    FUZZ_CHECK(c->max_room_members >= 1 && c->max_room_members <= 1000);
    FUZZ_CHECK(c->max_rooms >= 1 && c->max_rooms <= 100000);
    FUZZ_CHECK(c->max_connections >= 1 && c->max_connections <= 1000000);
    FUZZ_CHECK(c->send_queue_bytes >= 1024 && c->send_queue_bytes <= 1073741824);
    FUZZ_CHECK(c->send_queue_messages >= 1 && c->send_queue_messages <= 1000000);
    FUZZ_CHECK(c->rate_limit_per_sec >= 0 && c->rate_limit_per_sec <= 1000000);
    FUZZ_CHECK(c->rate_limit_burst >= 1 && c->rate_limit_burst <= 1000000);
    FUZZ_CHECK(c->ping_interval >= 0 && c->ping_interval <= 3600);
    FUZZ_CHECK(c->stall_timeout_ms >= 100 && c->stall_timeout_ms <= 600000);
}

static bool same_str(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static bool same_config(const struct config *a, const struct config *b)
{
    return same_str(a->bind_address, b->bind_address) &&
           same_str(a->document_root, b->document_root) && same_str(a->greeting, b->greeting) &&
           same_str(a->ice_servers, b->ice_servers) &&
           same_str(a->turn_username, b->turn_username) &&
           same_str(a->turn_credential, b->turn_credential) &&
           same_str(a->ssl_certificate, b->ssl_certificate) &&
           same_str(a->allowed_origins, b->allowed_origins) &&
           a->listening_port == b->listening_port && a->num_threads == b->num_threads &&
           a->max_message_bytes == b->max_message_bytes && a->log_level == b->log_level &&
           a->max_room_members == b->max_room_members && a->max_rooms == b->max_rooms &&
           a->max_connections == b->max_connections && a->send_queue_bytes == b->send_queue_bytes &&
           a->send_queue_messages == b->send_queue_messages &&
           a->rate_limit_per_sec == b->rate_limit_per_sec &&
           a->rate_limit_burst == b->rate_limit_burst && a->ping_interval == b->ping_interval &&
           a->stall_timeout_ms == b->stall_timeout_ms && a->ssl_port == b->ssl_port &&
           a->redirect_to_https == b->redirect_to_https && a->access_log == b->access_log;
}

static char *env_all(const char *name)
{
    return strncmp(name, "HUDDLE_", 7) == 0 ? (char *)fuzz_env_value : NULL;
}

/* Checks err after a failure: non-empty, NUL-terminated within its buffer, prefixed by where. */
static void check_err(int rc, const char *err, const char *where)
{
    FUZZ_CHECK(rc == -EINVAL || rc == -ENOENT || rc == -EIO || rc == -ENOMEM);
    FUZZ_CHECK(memchr(err, '\0', CFG_ERR_MAX) != NULL && err[0] != '\0');
    FUZZ_CHECK(strncmp(err, where, strlen(where)) == 0);
}

/* key = value through cfg_set, then the same as a quoted file line. */
static void check_set(const char *key, const char *value)
{
    struct config a, b;
    char err[CFG_ERR_MAX] = "", *line, *o;
    int rc;

    FUZZ_CHECK(cfg_defaults(&a) == 0 && cfg_defaults(&b) == 0);
    rc = cfg_set(&a, key, value, "fuzz", err, sizeof(err));
    if (rc != 0) {
        check_err(rc, err, "fuzz: ");
        goto out;
    }
    check_config(&a);
    line = malloc(strlen(key) + 2 * strlen(value) + 8);
    FUZZ_CHECK(line != NULL);
    o = line + sprintf(line, "%s = \"", key);
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            *o++ = '\\';
        *o++ = *p;
    }
    strcpy(o, "\"\n");
    put_file(line, strlen(line));
    rc = cfg_load_file(&b, fuzz_path, true, err, sizeof(err));
    if (rc != 0 && strlen(line) <= CFG_LINE_MAX + 1)
        fprintf(stderr, "cfg_set took %s = '%s' but the file line fails: %s\n", key, value, err);
    FUZZ_CHECK(rc == 0 || strlen(line) > CFG_LINE_MAX + 1);
    if (rc == 0)
        FUZZ_CHECK(same_config(&a, &b));
    free(line);
out:
    cfg_free(&a);
    cfg_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config c;
    char err[CFG_ERR_MAX] = "";
    char *s;
    int rc;

    /* 1. the whole input as a config file */
    put_file(data, size);
    FUZZ_CHECK(cfg_defaults(&c) == 0);
    rc = cfg_load_file(&c, fuzz_path, true, err, sizeof(err));
    if (rc == 0) {
        check_config(&c);
        rc = cfg_validate(&c, err, sizeof(err));
        FUZZ_CHECK(rc == 0 || (rc == -EINVAL && err[0]));
    } else {
        check_err(rc, err, fuzz_path);
    }
    cfg_free(&c);
    cfg_free(&c);

    /* 2. key=value through cfg_set and the environment (strings cut at the first NUL) */
    s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    char *eq = strchr(s, '=');
    const char *value = eq ? eq + 1 : "";
    if (eq)
        *eq = '\0';
    check_set(s, value);

    FUZZ_CHECK(cfg_defaults(&c) == 0);
    fuzz_env_value = value;
    err[0] = '\0';
    rc = cfg_load_env(&c, env_all, err, sizeof(err));
    if (rc == 0)
        check_config(&c);
    else
        check_err(rc, err, "HUDDLE_");
    cfg_free(&c);
    free(s);
    return 0;
}
