/* SPDX-License-Identifier: MIT */
/* Configuration loader: one static table of keys drives defaults, the file parser, HUDDLE_*
 * environment variables and command-line overrides, so every source validates values the same way
 * and every error names its source and key. */
#include "config.h"
#include "strlist.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"

#define CFG_ENV_PREFIX   "HUDDLE_"
#define CFG_ENV_NAME_MAX 64
#define CFG_ECHO_MAX     64  /* bytes of a bad value quoted back in an error */
#define CFG_GREETING_MAX 256 /* bytes */
#define CFG_STR_(x)      #x
#define CFG_STR(x)       CFG_STR_(x)

enum cfg_type { CFG_INT, CFG_LONG, CFG_BOOL, CFG_LEVEL, CFG_STR };

/* What a string value must look like. */
enum cfg_check {
    CHK_NONE = 0,    /* not a string key */
    CHK_TEXT,        /* UTF-8 without control characters, may be empty */
    CHK_SECRET,      /* like CHK_TEXT, never quoted back in errors */
    CHK_NONEMPTY,    /* like CHK_TEXT, at least one byte */
    CHK_GREETING,    /* like CHK_TEXT, 1..CFG_GREETING_MAX bytes */
    CHK_IPV4,        /* dotted IPv4 address (CivetWeb 1.15 on Debian has no IPv6) */
    CHK_ICE_LIST,    /* "" or comma list of stun:/turn:/turns: URLs */
    CHK_ORIGIN_LIST, /* "", "*" or comma list of http(s)://host[:port] */
    CHK_IPV4_LIST,   /* "" or comma list of IPv4 addresses */
};

struct cfg_key {
    const char *name;
    enum cfg_type type;
    size_t offset;
    long long min, max; /* for CFG_INT and CFG_LONG */
    enum cfg_check check;
    const char *def; /* default, parsed like any other value */
};

/* The single list of keys, in the order huddle.conf documents them:
 * X(type, name, min, max, string check, default). Defaults are parsed like any other value. */
#define CFG_KEY_LIST(X)                                                                            \
    X(STR, bind_address, 0, 0, CHK_IPV4, "0.0.0.0")                                                \
    X(INT, listening_port, 0, 65535, CHK_NONE, "3003")                                             \
    X(STR, document_root, 0, 0, CHK_NONEMPTY, "www")                                               \
    X(STR, greeting, 0, 0, CHK_GREETING, "hello!")                                                 \
    X(INT, num_threads, 4, 10000, CHK_NONE, "64")                                                  \
    X(LONG, max_message_bytes, 125, 16777216, CHK_NONE, "65536")                                   \
    X(LEVEL, log_level, 0, 0, CHK_NONE, "info")                                                    \
    X(INT, max_room_members, 1, 1000, CHK_NONE, "8")                                               \
    X(INT, max_rooms, 1, 100000, CHK_NONE, "1000")                                                 \
    X(INT, max_connections, 1, 1000000, CHK_NONE, "10000")                                         \
    X(LONG, send_queue_bytes, 1024, 1073741824, CHK_NONE, "1048576")                               \
    X(INT, send_queue_messages, 1, 1000000, CHK_NONE, "1024")                                      \
    X(INT, rate_limit_per_sec, 0, 1000000, CHK_NONE, "100")                                        \
    X(INT, rate_limit_burst, 1, 1000000, CHK_NONE, "500")                                          \
    X(INT, ping_interval, 0, 3600, CHK_NONE, "25")                                                 \
    X(INT, stall_timeout_ms, 100, 600000, CHK_NONE, "10000")                                       \
    X(INT, resume_window_s, 0, 3600, CHK_NONE, "30")                                               \
    X(STR, ice_servers, 0, 0, CHK_ICE_LIST, "stun:stun.l.google.com:19302")                        \
    X(STR, turn_username, 0, 0, CHK_TEXT, "")                                                      \
    X(STR, turn_credential, 0, 0, CHK_SECRET, "")                                                  \
    X(INT, ssl_port, 0, 65535, CHK_NONE, "0")                                                      \
    X(STR, ssl_certificate, 0, 0, CHK_TEXT, "")                                                    \
    X(BOOL, redirect_to_https, 0, 1, CHK_NONE, "no")                                               \
    X(STR, allowed_origins, 0, 0, CHK_ORIGIN_LIST, "")                                             \
    X(BOOL, access_log, 0, 1, CHK_NONE, "no")                                                      \
    X(INT, max_connections_per_ip, 0, 1000000, CHK_NONE, "20")                                     \
    X(INT, max_http_connections_per_ip, 0, 10000, CHK_NONE, "16")                                  \
    X(INT, request_header_timeout_ms, 100, 600000, CHK_NONE, "5000")                               \
    X(INT, flood_close_after, 0, 1000000, CHK_NONE, "50")                                          \
    X(STR, trusted_proxies, 0, 0, CHK_IPV4_LIST, "")

#define CFG_ENTRY(t, k, lo, hi, chk, d) {#k, CFG_##t, offsetof(struct config, k), lo, hi, chk, d},
#define CFG_NAME(t, k, lo, hi, chk, d)  #k,

static const struct cfg_key cfg_table[] = {CFG_KEY_LIST(CFG_ENTRY)};
static const char *const cfg_names[] = {CFG_KEY_LIST(CFG_NAME) NULL};

#define CFG_NKEYS (sizeof(cfg_table) / sizeof(cfg_table[0]))

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const struct cfg_key *find_key(const char *name)
{
    for (size_t i = 0; i < CFG_NKEYS; i++)
        if (strcmp(cfg_table[i].name, name) == 0)
            return &cfg_table[i];
    return NULL;
}

/* True when s has no ASCII control characters (bytes < 0x20 and 0x7f). */
static bool no_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static bool is_text(const char *s)
{
    return no_controls(s) && utf8_valid(s, strlen(s));
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Checks each entry of a comma list with ok(entry, len): entries are trimmed of the spaces around
 * them (people write "a, b"), and none may be empty or contain a space. The walk is strlist's. */
static bool check_list(const char *s, bool (*ok)(const char *entry, size_t len))
{
    const char *cur = s, *item;
    size_t len, items = 0, commas = 0;

    for (const char *p = s; *p; p++)
        commas += *p == ',';
    while (strlist_next(&cur, &item, &len)) {
        items++;
        if (!ok(item, len))
            return false;
        for (size_t i = 0; i < len; i++)
            if (isspace((unsigned char)item[i]))
                return false;
    }
    return items == 0 ? commas == 0 : items == commas + 1;
}

static bool ipv4_entry_ok(const char *e, size_t len)
{
    char buf[INET_ADDRSTRLEN];
    struct in_addr addr;

    if (len >= sizeof(buf))
        return false;
    memcpy(buf, e, len);
    buf[len] = '\0';
    return inet_pton(AF_INET, buf, &addr) == 1;
}

static bool ice_entry_ok(const char *e, size_t len)
{
    static const char *const schemes[] = {"stun:", "turn:", "turns:"};

    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i]);

        if (len > n && strncmp(e, schemes[i], n) == 0)
            return true;
    }
    return false;
}

/* An Origin as browsers send it: scheme://host[:port], no path, not even a trailing slash. */
static bool origin_entry_ok(const char *e, size_t len)
{
    size_t n;

    if (len > 8 && strncmp(e, "https://", 8) == 0)
        n = 8;
    else if (len > 7 && strncmp(e, "http://", 7) == 0)
        n = 7;
    else
        return false;
    return memchr(e + n, '/', len - n) == NULL;
}

static bool check_string(enum cfg_check check, const char *v)
{
    struct in_addr addr;

    if (!is_text(v))
        return false;
    switch (check) {
    case CHK_TEXT:
    case CHK_SECRET:
        return true;
    case CHK_NONEMPTY:
        return *v != '\0';
    case CHK_GREETING:
        return *v != '\0' && strlen(v) <= CFG_GREETING_MAX;
    case CHK_IPV4:
        return inet_pton(AF_INET, v, &addr) == 1;
    case CHK_ICE_LIST:
        return check_list(v, ice_entry_ok);
    case CHK_ORIGIN_LIST:
        return strcmp(v, "*") == 0 || check_list(v, origin_entry_ok);
    case CHK_IPV4_LIST:
        return check_list(v, ipv4_entry_ok);
    case CHK_NONE:
        break;
    }
    return false;
}

/* Strict decimal integer: optional '-', digits, nothing else; false on overflow. */
static bool parse_integer(const char *v, long long *out)
{
    char *end;
    long long n;

    if (!(isdigit((unsigned char)v[0]) || (v[0] == '-' && isdigit((unsigned char)v[1]))))
        return false;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return false;
    *out = n;
    return true;
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool parse_level(const char *v, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(v, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

/* What each string check accepts, for "bad value" errors. */
static const char *const check_expected[] = {
    [CHK_TEXT] = "UTF-8 text without control characters",
    [CHK_SECRET] = "UTF-8 text without control characters",
    [CHK_NONEMPTY] = "a non-empty UTF-8 string without control characters",
    [CHK_GREETING] =
        "1.." CFG_STR(CFG_GREETING_MAX) " bytes of UTF-8 text without control characters",
    [CHK_IPV4] = "an IPv4 address such as 0.0.0.0 or 127.0.0.1",
    [CHK_ICE_LIST] = "a comma list of stun:, turn: or turns: URLs",
    [CHK_ORIGIN_LIST] = "empty, '*' or a comma list of http(s)://host[:port]",
    [CHK_IPV4_LIST] = "empty or a comma list of IPv4 addresses",
};

/* Describes what key k accepts, for "bad value" errors. */
static void describe_expected(const struct cfg_key *k, char *buf, size_t len)
{
    if (k->type == CFG_INT || k->type == CFG_LONG)
        snprintf(buf, len, "an integer %lld..%lld", k->min, k->max);
    else if (k->type == CFG_BOOL)
        snprintf(buf, len, "yes/no, true/false, on/off or 1/0");
    else if (k->type == CFG_LEVEL)
        snprintf(buf, len, "debug, info, warn or error");
    else
        snprintf(buf, len, "%s", check_expected[k->check]);
}

/* Copies at most CFG_ECHO_MAX bytes of v into buf with control characters as '?'. */
static void echo_value(const char *v, char *buf, size_t len)
{
    size_t n = 0;
    size_t vlen = strlen(v);

    for (; n < vlen && n < CFG_ECHO_MAX && n + 1 < len; n++) {
        unsigned char c = (unsigned char)v[n];

        buf[n] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    buf[n] = '\0';
    if (n < vlen && n + 4 <= len)
        strcpy(buf + n, "...");
}

static int bad_value(const struct cfg_key *k, const char *value, const char *where, char *err,
                     size_t errlen)
{
    char expected[96];
    char shown[CFG_ECHO_MAX + 4];

    describe_expected(k, expected, sizeof(expected));
    if (k->check == CHK_SECRET) {
        set_err(err, errlen, "%s: bad value for '%s' (expected %s)", where, k->name, expected);
    } else {
        echo_value(value, shown, sizeof(shown));
        set_err(err, errlen, "%s: bad value for '%s': '%s' (expected %s)", where, k->name, shown,
                expected);
    }
    return -EINVAL;
}

/* Parses value for k and stores it in cfg; cfg is unchanged on error. */
static int apply(struct config *cfg, const struct cfg_key *k, const char *value, const char *where,
                 char *err, size_t errlen)
{
    char *field = (char *)cfg + k->offset;
    long long n;
    bool b;
    enum log_level level;
    char *copy;

    switch (k->type) {
    case CFG_INT:
    case CFG_LONG:
        if (!parse_integer(value, &n) || n < k->min || n > k->max)
            return bad_value(k, value, where, err, errlen);
        if (k->type == CFG_INT)
            *(int *)field = (int)n;
        else
            *(long *)field = (long)n;
        return 0;
    case CFG_BOOL:
        if (!parse_bool(value, &b))
            return bad_value(k, value, where, err, errlen);
        *(bool *)field = b;
        return 0;
    case CFG_LEVEL:
        if (!parse_level(value, &level))
            return bad_value(k, value, where, err, errlen);
        *(enum log_level *)field = level;
        return 0;
    case CFG_STR:
        if (!check_string(k->check, value))
            return bad_value(k, value, where, err, errlen);
        copy = strdup(value);
        if (!copy) {
            set_err(err, errlen, "%s: out of memory", where);
            return -ENOMEM;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    return -EINVAL;
}

int cfg_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < CFG_NKEYS; i++) {
        int rc = apply(cfg, &cfg_table[i], cfg_table[i].def, "default", NULL, 0);

        if (rc != 0) {
            cfg_free(cfg);
            return rc == -ENOMEM ? -ENOMEM : -EINVAL;
        }
    }
    return 0;
}

void cfg_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < CFG_NKEYS; i++) {
        if (cfg_table[i].type == CFG_STR) {
            char **field = (char **)((char *)cfg + cfg_table[i].offset);

            free(*field);
            *field = NULL;
        }
    }
}

int cfg_set(struct config *cfg, const char *key, const char *value, const char *where, char *err,
            size_t errlen)
{
    const struct cfg_key *k = find_key(key);

    if (!where)
        where = "config";
    if (!k) {
        set_err(err, errlen, "%s: unknown key '%s'", where, key);
        return -EINVAL;
    }
    return apply(cfg, k, value, where, err, errlen);
}

/* Reads one line (without its newline, a trailing CR dropped) into buf of CFG_LINE_MAX + 1 bytes.
 * Returns 1 for a line, 0 at end of file, -E2BIG for a longer line, -EILSEQ for a NUL byte,
 * -errno on a read error. */
static int read_line(FILE *f, char *buf)
{
    size_t n = 0;
    int c;

    while ((c = getc(f)) != EOF && c != '\n') {
        if (c == '\0')
            return -EILSEQ;
        if (n == CFG_LINE_MAX) {
            if (c != '\r')
                return -E2BIG;
            c = getc(f);
            if (c != '\n' && c != EOF)
                return -E2BIG;
            break;
        }
        buf[n++] = (char)c;
    }
    if (c == EOF) {
        if (ferror(f))
            return errno ? -errno : -EIO;
        if (n == 0)
            return 0;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    return 1;
}

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *end = '\0';
    return s;
}

/* Turns the text after '=' into the value in place: a double-quoted string (with \" and \\) or
 * bare text up to a '#' that follows whitespace. Returns the value, or NULL with *why set. */
static char *parse_value(char *s, const char **why)
{
    char *out, *in, *v;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '"') {
        for (char *p = s; *p; p++) {
            if (*p == '#' && (p == s || p[-1] == ' ' || p[-1] == '\t')) {
                *p = '\0';
                break;
            }
        }
        return trim(s);
    }
    v = out = s + 1;
    for (in = s + 1; *in && *in != '"'; in++) {
        if (*in == '\\' && (in[1] == '"' || in[1] == '\\'))
            in++;
        *out++ = *in;
    }
    if (*in != '"') {
        *why = "unterminated quoted value";
        return NULL;
    }
    in++;
    while (*in == ' ' || *in == '\t')
        in++;
    if (*in != '\0' && *in != '#') {
        *why = "unexpected text after the closing quote";
        return NULL;
    }
    *out = '\0';
    return v;
}

int cfg_load_file(struct config *cfg, const char *path, bool required, char *err, size_t errlen)
{
    bool seen[CFG_NKEYS] = {false};
    char where[CFG_ERR_MAX / 2];
    char *buf;
    FILE *f;
    unsigned line = 0;
    int rc = 0;

    f = fopen(path, "r");
    if (!f) {
        int e = errno;

        if (e == ENOENT && !required)
            return 0;
        set_err(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return e == ENOENT ? -ENOENT : -EIO;
    }
    buf = malloc(CFG_LINE_MAX + 1);
    if (!buf) {
        set_err(err, errlen, "%s: out of memory", path);
        rc = -ENOMEM;
        goto out_close;
    }
    for (;;) {
        const struct cfg_key *k;
        const char *why = NULL;
        char *s, *eq, *key, *value;

        rc = read_line(f, buf);
        line++;
        snprintf(where, sizeof(where), "%s:%u", path, line);
        if (rc == 0)
            break;
        if (rc == -E2BIG) {
            set_err(err, errlen, "%s: line longer than %d bytes", where, CFG_LINE_MAX);
            rc = -EINVAL;
            goto out_free;
        }
        if (rc == -EILSEQ) {
            set_err(err, errlen, "%s: NUL byte in line", where);
            rc = -EINVAL;
            goto out_free;
        }
        if (rc < 0) {
            set_err(err, errlen, "%s: read error: %s", where, strerror(-rc));
            rc = -EIO;
            goto out_free;
        }
        rc = 0;
        s = buf;
        if (line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3; /* UTF-8 byte order mark from some editors */
        s = trim(s);
        if (*s == '\0' || *s == '#')
            continue;
        eq = strchr(s, '=');
        if (!eq) {
            set_err(err, errlen, "%s: expected 'key = value'", where);
            rc = -EINVAL;
            goto out_free;
        }
        *eq = '\0';
        key = trim(s);
        if (*key == '\0') {
            set_err(err, errlen, "%s: expected 'key = value'", where);
            rc = -EINVAL;
            goto out_free;
        }
        k = find_key(key);
        if (!k) {
            set_err(err, errlen, "%s: unknown key '%s'", where, key);
            rc = -EINVAL;
            goto out_free;
        }
        if (seen[k - cfg_table]) {
            set_err(err, errlen, "%s: duplicate key '%s'", where, key);
            rc = -EINVAL;
            goto out_free;
        }
        seen[k - cfg_table] = true;
        value = parse_value(eq + 1, &why);
        if (!value) {
            set_err(err, errlen, "%s: %s for '%s'", where, why, key);
            rc = -EINVAL;
            goto out_free;
        }
        rc = apply(cfg, k, value, where, err, errlen);
        if (rc != 0)
            goto out_free;
    }
out_free:
    free(buf);
out_close:
    fclose(f);
    return rc;
}

int cfg_load_env(struct config *cfg, char *(*getenv_fn)(const char *), char *err, size_t errlen)
{
    char name[CFG_ENV_NAME_MAX];

    for (size_t i = 0; i < CFG_NKEYS; i++) {
        const char *value;
        size_t n = strlen(CFG_ENV_PREFIX);
        int rc;

        memcpy(name, CFG_ENV_PREFIX, n);
        for (const char *p = cfg_table[i].name; *p && n + 1 < sizeof(name); p++)
            name[n++] = (char)toupper((unsigned char)*p);
        name[n] = '\0';
        value = getenv_fn(name);
        if (!value)
            continue;
        rc = apply(cfg, &cfg_table[i], value, name, err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static bool has_turn_url(const char *list)
{
    const char *cur = list, *url;
    size_t len;
    while (strlist_next(&cur, &url, &len))
        if (has_prefix(url, "turn:") || has_prefix(url, "turns:"))
            return true;
    return false;
}

int cfg_validate(const struct config *cfg, char *err, size_t errlen)
{
    if (cfg->send_queue_bytes < 2 * cfg->max_message_bytes) {
        set_err(err, errlen,
                "send_queue_bytes (%ld) must be at least twice max_message_bytes (%ld) so a "
                "session's queue holds the largest messages",
                cfg->send_queue_bytes, cfg->max_message_bytes);
        return -EINVAL;
    }
    if (cfg->ssl_port != 0 && (!cfg->ssl_certificate || cfg->ssl_certificate[0] == '\0')) {
        set_err(err, errlen, "ssl_port is %d but ssl_certificate is not set", cfg->ssl_port);
        return -EINVAL;
    }
    if (cfg->ssl_port != 0 && cfg->ssl_port == cfg->listening_port) {
        set_err(err, errlen, "ssl_port and listening_port are both %d", cfg->ssl_port);
        return -EINVAL;
    }
    if (cfg->redirect_to_https && cfg->ssl_port == 0) {
        set_err(err, errlen, "redirect_to_https is on but ssl_port is 0 (HTTPS is off)");
        return -EINVAL;
    }
    if ((cfg->turn_username && cfg->turn_username[0]) !=
        (cfg->turn_credential && cfg->turn_credential[0])) {
        set_err(err, errlen, "turn_username and turn_credential must be set together");
        return -EINVAL;
    }
    if (cfg->turn_username && cfg->turn_username[0] &&
        !(cfg->ice_servers && has_turn_url(cfg->ice_servers))) {
        set_err(err, errlen, "turn_username is set but ice_servers has no turn: or turns: URL");
        return -EINVAL;
    }
    return 0;
}

const char *cfg_log_level_name(enum log_level level)
{
    if ((unsigned)level < sizeof(level_names) / sizeof(level_names[0]))
        return level_names[level];
    return "unknown";
}

const char *const *cfg_keys(void)
{
    return cfg_names;
}
