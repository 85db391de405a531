/* SPDX-License-Identifier: MIT */
/* Unit tests for the configuration loader: defaults, every key from every source, every error
 * message (source, line and key), precedence and the cross-key checks. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char tmp_dir[64];
static char conf_path[128];

/* Writes len bytes of text to the test's huddle.conf and returns its path. */
static const char *write_conf_len(const char *text, size_t len)
{
    FILE *f = fopen(conf_path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return conf_path;
}

static const char *write_conf(const char *text)
{
    return write_conf_len(text, strlen(text));
}

/* Loads text as a config file on top of the defaults; returns cfg_load_file's result. */
static int load_text(struct config *cfg, const char *text, char *err)
{
    assert_int_equal(cfg_defaults(cfg), 0);
    err[0] = '\0';
    return cfg_load_file(cfg, write_conf(text), true, err, CFG_ERR_MAX);
}

/* Asserts that err is "<conf_path><rest>". */
static void assert_err_at(const char *err, const char *rest)
{
    char want[CFG_ERR_MAX];

    snprintf(want, sizeof(want), "%s%s", conf_path, rest);
    assert_string_equal(err, want);
}

static int group_setup(void **state)
{
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/huddle-test-config-XXXXXX");
    if (!mkdtemp(tmp_dir))
        return -1;
    snprintf(conf_path, sizeof(conf_path), "%s/huddle.conf", tmp_dir);
    return 0;
}

static int group_teardown(void **state)
{
    unlink(conf_path);
    rmdir(tmp_dir);
    return 0;
}

static void test_defaults(void **state)
{
    struct config cfg;

    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_string_equal(cfg.bind_address, "0.0.0.0");
    assert_int_equal(cfg.listening_port, 3003);
    assert_string_equal(cfg.document_root, "www");
    assert_string_equal(cfg.greeting, "hello!");
    assert_int_equal(cfg.num_threads, 64);
    assert_int_equal(cfg.max_message_bytes, 65536);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.max_room_members, 8);
    assert_int_equal(cfg.max_rooms, 1000);
    assert_int_equal(cfg.max_connections, 10000);
    assert_int_equal(cfg.send_queue_bytes, 1048576);
    assert_int_equal(cfg.send_queue_messages, 1024);
    assert_int_equal(cfg.rate_limit_per_sec, 100);
    assert_int_equal(cfg.rate_limit_burst, 500);
    assert_int_equal(cfg.ping_interval, 25);
    assert_int_equal(cfg.stall_timeout_ms, 10000);
    assert_int_equal(cfg.resume_window_s, 30);
    assert_string_equal(cfg.ice_servers, "stun:stun.l.google.com:19302");
    assert_string_equal(cfg.turn_username, "");
    assert_string_equal(cfg.turn_credential, "");
    assert_int_equal(cfg.ssl_port, 0);
    assert_string_equal(cfg.ssl_certificate, "");
    assert_false(cfg.redirect_to_https);
    assert_string_equal(cfg.allowed_origins, "");
    assert_false(cfg.access_log);
    cfg_free(&cfg);
}

static void test_defaults_are_valid(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX] = "";

    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_int_equal(cfg_validate(&cfg, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    cfg_free(&cfg);
}

static void test_free_is_safe(void **state)
{
    struct config cfg;

    memset(&cfg, 0, sizeof(cfg));
    cfg_free(&cfg);
    assert_int_equal(cfg_defaults(&cfg), 0);
    cfg_free(&cfg);
    assert_null(cfg.greeting);
    cfg_free(&cfg); /* twice is fine: the pointers were cleared */
}

static const char *const all_keys[] = {
    "bind_address",
    "listening_port",
    "document_root",
    "greeting",
    "num_threads",
    "max_message_bytes",
    "log_level",
    "max_room_members",
    "max_rooms",
    "max_connections",
    "send_queue_bytes",
    "send_queue_messages",
    "rate_limit_per_sec",
    "rate_limit_burst",
    "ping_interval",
    "stall_timeout_ms",
    "resume_window_s",
    "ice_servers",
    "turn_username",
    "turn_credential",
    "ssl_port",
    "ssl_certificate",
    "redirect_to_https",
    "allowed_origins",
    "access_log",
    "max_connections_per_ip",
    "max_http_connections_per_ip",
    "request_header_timeout_ms",
    "flood_close_after",
    "trusted_proxies",
};
#define N_KEYS (sizeof(all_keys) / sizeof(all_keys[0]))

static void test_keys_list(void **state)
{
    const char *const *keys = cfg_keys();
    size_t n = 0;

    for (; keys[n]; n++) {
        bool found = false;

        for (size_t i = 0; i < N_KEYS; i++)
            found = found || strcmp(keys[n], all_keys[i]) == 0;
        assert_true(found);
    }
    assert_int_equal(n, N_KEYS);
}

static void test_file_sets_every_key(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(load_text(&cfg,
                               "bind_address = 127.0.0.1\n"
                               "listening_port = 8080\n"
                               "document_root = /srv/huddle/www\n"
                               "greeting = welcome to huddle\n"
                               "num_threads = 500\n"
                               "max_message_bytes = 125\n"
                               "log_level = debug\n"
                               "max_room_members = 1000\n"
                               "max_rooms = 100000\n"
                               "max_connections = 1000000\n"
                               "send_queue_bytes = 1073741824\n"
                               "send_queue_messages = 1000000\n"
                               "rate_limit_per_sec = 0\n"
                               "rate_limit_burst = 1\n"
                               "ping_interval = 3600\n"
                               "stall_timeout_ms = 100\n"
                               "ice_servers = stun:a.example:3478,turn:b.example,turns:c.example\n"
                               "turn_username = alice\n"
                               "turn_credential = s3cret\n"
                               "ssl_port = 3443\n"
                               "ssl_certificate = /etc/huddle/cert.pem\n"
                               "redirect_to_https = yes\n"
                               "allowed_origins = https://a.example,http://b.example:8080\n"
                               "access_log = on\n",
                               err),
                     0);
    assert_string_equal(err, "");
    assert_string_equal(cfg.bind_address, "127.0.0.1");
    assert_int_equal(cfg.listening_port, 8080);
    assert_string_equal(cfg.document_root, "/srv/huddle/www");
    assert_string_equal(cfg.greeting, "welcome to huddle");
    assert_int_equal(cfg.num_threads, 500);
    assert_int_equal(cfg.max_message_bytes, 125);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_int_equal(cfg.max_room_members, 1000);
    assert_int_equal(cfg.max_rooms, 100000);
    assert_int_equal(cfg.max_connections, 1000000);
    assert_int_equal(cfg.send_queue_bytes, 1073741824L);
    assert_int_equal(cfg.send_queue_messages, 1000000);
    assert_int_equal(cfg.rate_limit_per_sec, 0);
    assert_int_equal(cfg.rate_limit_burst, 1);
    assert_int_equal(cfg.ping_interval, 3600);
    assert_int_equal(cfg.stall_timeout_ms, 100);
    assert_string_equal(cfg.ice_servers, "stun:a.example:3478,turn:b.example,turns:c.example");
    assert_string_equal(cfg.turn_username, "alice");
    assert_string_equal(cfg.turn_credential, "s3cret");
    assert_int_equal(cfg.ssl_port, 3443);
    assert_string_equal(cfg.ssl_certificate, "/etc/huddle/cert.pem");
    assert_true(cfg.redirect_to_https);
    assert_string_equal(cfg.allowed_origins, "https://a.example,http://b.example:8080");
    assert_true(cfg.access_log);
    assert_int_equal(cfg_validate(&cfg, err, sizeof(err)), 0);
    cfg_free(&cfg);
}

/* Independent copy of the documented integer ranges. */
static const struct {
    const char *key;
    const char *min, *below, *max, *above;
} int_ranges[] = {
    {"listening_port", "0", "-1", "65535", "65536"},
    {"ssl_port", "0", "-1", "65535", "65536"},
    {"num_threads", "4", "3", "10000", "10001"},
    {"max_message_bytes", "125", "124", "16777216", "16777217"},
    {"max_room_members", "1", "0", "1000", "1001"},
    {"max_rooms", "1", "0", "100000", "100001"},
    {"max_connections", "1", "0", "1000000", "1000001"},
    {"send_queue_bytes", "1024", "1023", "1073741824", "1073741825"},
    {"send_queue_messages", "1", "0", "1000000", "1000001"},
    {"rate_limit_per_sec", "0", "-1", "1000000", "1000001"},
    {"rate_limit_burst", "1", "0", "1000000", "1000001"},
    {"ping_interval", "0", "-1", "3600", "3601"},
    {"stall_timeout_ms", "100", "99", "600000", "600001"},
    {"resume_window_s", "0", "-1", "3600", "3601"},
    {"max_connections_per_ip", "0", "-1", "1000000", "1000001"},
    {"max_http_connections_per_ip", "0", "-1", "10000", "10001"},
    {"request_header_timeout_ms", "100", "99", "600000", "600001"},
    {"flood_close_after", "0", "-1", "1000000", "1000001"},
};

static void assert_rejected(struct config *cfg, const char *key, const char *value,
                            const char *expected)
{
    char err[CFG_ERR_MAX] = "";
    char want[CFG_ERR_MAX];

    assert_int_equal(cfg_set(cfg, key, value, "--test", err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "--test: bad value for '%s': '%s' (expected %s)", key, value,
             expected);
    assert_string_equal(err, want);
}

static void assert_accepted(struct config *cfg, const char *key, const char *value)
{
    char err[CFG_ERR_MAX] = "";

    assert_int_equal(cfg_set(cfg, key, value, "--test", err, sizeof(err)), 0);
    assert_string_equal(err, "");
}

static void test_integer_ranges(void **state)
{
    struct config cfg;
    char expected[64];

    assert_int_equal(cfg_defaults(&cfg), 0);
    for (size_t i = 0; i < sizeof(int_ranges) / sizeof(int_ranges[0]); i++) {
        snprintf(expected, sizeof(expected), "an integer %s..%s", int_ranges[i].min,
                 int_ranges[i].max);
        assert_accepted(&cfg, int_ranges[i].key, int_ranges[i].min);
        assert_accepted(&cfg, int_ranges[i].key, int_ranges[i].max);
        assert_rejected(&cfg, int_ranges[i].key, int_ranges[i].below, expected);
        assert_rejected(&cfg, int_ranges[i].key, int_ranges[i].above, expected);
        assert_rejected(&cfg, int_ranges[i].key, "", expected);
        assert_rejected(&cfg, int_ranges[i].key, "12x", expected);
        assert_rejected(&cfg, int_ranges[i].key, "abc", expected);
    }
    cfg_free(&cfg);
}

static void test_integer_syntax(void **state)
{
    struct config cfg;
    const char *exp = "an integer 0..65535";

    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_rejected(&cfg, "listening_port", "3003x", exp);
    assert_rejected(&cfg, "listening_port", "3003 ", exp);
    assert_rejected(&cfg, "listening_port", " 3003", exp);
    assert_rejected(&cfg, "listening_port", "+3003", exp);
    assert_rejected(&cfg, "listening_port", "0x10", exp);
    assert_rejected(&cfg, "listening_port", "1e3", exp);
    assert_rejected(&cfg, "listening_port", "-", exp);
    assert_rejected(&cfg, "listening_port", "3.5", exp);
    assert_rejected(&cfg, "listening_port", "99999999999999999999999", exp);
    assert_rejected(&cfg, "listening_port", "4294970299", exp); /* 3003 + 2^32 */
    assert_rejected(&cfg, "max_message_bytes", "18446744073709551617", "an integer 125..16777216");
    assert_accepted(&cfg, "listening_port", "007");
    assert_int_equal(cfg.listening_port, 7);
    cfg_free(&cfg);
}

static void test_booleans(void **state)
{
    static const char *const yes[] = {"yes", "true", "on", "1", "YES", "True"};
    static const char *const no[] = {"no", "false", "off", "0", "NO", "Off"};
    struct config cfg;
    const char *exp = "yes/no, true/false, on/off or 1/0";

    assert_int_equal(cfg_defaults(&cfg), 0);
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        cfg.access_log = false;
        assert_accepted(&cfg, "access_log", yes[i]);
        assert_true(cfg.access_log);
        assert_accepted(&cfg, "access_log", no[i]);
        assert_false(cfg.access_log);
    }
    assert_accepted(&cfg, "redirect_to_https", "true");
    assert_true(cfg.redirect_to_https);
    assert_rejected(&cfg, "access_log", "maybe", exp);
    assert_rejected(&cfg, "access_log", "", exp);
    assert_rejected(&cfg, "access_log", "2", exp);
    assert_rejected(&cfg, "redirect_to_https", "yess", exp);
    cfg_free(&cfg);
}

static void test_log_levels(void **state)
{
    struct config cfg;
    const char *exp = "debug, info, warn or error";

    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_accepted(&cfg, "log_level", "debug");
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_accepted(&cfg, "log_level", "warn");
    assert_int_equal(cfg.log_level, LOG_WARN);
    assert_accepted(&cfg, "log_level", "error");
    assert_int_equal(cfg.log_level, LOG_ERROR);
    assert_accepted(&cfg, "log_level", "INFO");
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_rejected(&cfg, "log_level", "verbose", exp);
    assert_rejected(&cfg, "log_level", "warning", exp);
    assert_rejected(&cfg, "log_level", "", exp);
    assert_string_equal(cfg_log_level_name(LOG_DEBUG), "debug");
    assert_string_equal(cfg_log_level_name(LOG_INFO), "info");
    assert_string_equal(cfg_log_level_name(LOG_WARN), "warn");
    assert_string_equal(cfg_log_level_name(LOG_ERROR), "error");
    cfg_free(&cfg);
}

static void test_strings(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];
    char long_text[300];
    const char *greet = "1..256 bytes of UTF-8 text without control characters";
    const char *ice = "a comma list of stun:, turn: or turns: URLs";
    const char *origins = "empty, '*' or a comma list of http(s)://host[:port]";
    const char *proxies = "empty or a comma list of IPv4 addresses";
    const char *ipv4 = "an IPv4 address such as 0.0.0.0 or 127.0.0.1";

    assert_int_equal(cfg_defaults(&cfg), 0);

    memset(long_text, 'a', 256);
    long_text[256] = '\0';
    assert_accepted(&cfg, "greeting", long_text);
    assert_int_equal(strlen(cfg.greeting), 256);
    long_text[256] = 'a';
    long_text[257] = '\0';
    assert_int_equal(cfg_set(&cfg, "greeting", long_text, "--test", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "--test: bad value for 'greeting': 'aaaa"));
    assert_non_null(strstr(err, "...' (expected 1..256 bytes"));
    assert_int_equal(strlen(cfg.greeting), 256); /* unchanged after the error */

    assert_accepted(&cfg, "greeting", "h\xC3\xA9llo \xF0\x9F\x91\x8B");
    assert_string_equal(cfg.greeting, "h\xC3\xA9llo \xF0\x9F\x91\x8B");
    assert_rejected(&cfg, "greeting", "", greet);
    assert_int_equal(cfg_set(&cfg, "greeting", "a\tb", "--test", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--test: bad value for 'greeting': 'a?b' (expected 1..256 bytes of "
                             "UTF-8 text without control characters)");
    assert_rejected(&cfg, "greeting", "bad \xC3\x28 utf8", greet);
    assert_int_equal(cfg_set(&cfg, "greeting", "del\x7f", "--test", err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "'del?'"));

    assert_rejected(&cfg, "document_root", "",
                    "a non-empty UTF-8 string without control characters");
    assert_accepted(&cfg, "document_root", "/srv/www");

    assert_accepted(&cfg, "bind_address", "127.0.0.1");
    assert_rejected(&cfg, "bind_address", "localhost", ipv4);
    assert_rejected(&cfg, "bind_address", "1.2.3.256", ipv4);
    assert_rejected(&cfg, "bind_address", "::1", ipv4);
    assert_rejected(&cfg, "bind_address", "", ipv4);

    assert_accepted(&cfg, "ice_servers", "");
    assert_accepted(&cfg, "ice_servers", "stun:a:3478,turn:b:3478?transport=tcp,turns:c");
    assert_rejected(&cfg, "ice_servers", "http://a", ice);
    /* spaces around the commas, as people write lists */
    assert_accepted(&cfg, "ice_servers", "stun:a:3478, turn:b:3478");
    assert_accepted(&cfg, "ice_servers", " stun:a:3478 ,turn:b:3478 ");
    assert_rejected(&cfg, "ice_servers", "stun:a b", ice);
    assert_rejected(&cfg, "ice_servers", "stun:a,", ice);
    assert_rejected(&cfg, "ice_servers", "stun:a,,turn:b", ice);
    assert_rejected(&cfg, "ice_servers", ",", ice);
    assert_rejected(&cfg, "ice_servers", "stun:", ice);

    assert_accepted(&cfg, "allowed_origins", "*");
    assert_accepted(&cfg, "allowed_origins", "https://a.example:8443,http://b.example");
    assert_accepted(&cfg, "allowed_origins", "");
    assert_rejected(&cfg, "allowed_origins", "https://a.example/", origins);
    assert_rejected(&cfg, "allowed_origins", "a.example", origins);
    assert_rejected(&cfg, "allowed_origins", "*,https://a.example", origins);
    assert_accepted(&cfg, "allowed_origins", "https://a.example, https://b.example");
    assert_rejected(&cfg, "allowed_origins", "https://a.example, ", origins);

    assert_accepted(&cfg, "trusted_proxies", "");
    assert_accepted(&cfg, "trusted_proxies", "127.0.0.1, 10.0.0.2");
    assert_rejected(&cfg, "trusted_proxies", "localhost", proxies);
    assert_rejected(&cfg, "trusted_proxies", "10.0.0.0/8", proxies);

    assert_accepted(&cfg, "ssl_certificate", "/etc/huddle/cert.pem");
    assert_accepted(&cfg, "turn_username", "");
    assert_int_equal(cfg_set(&cfg, "turn_username", "a\nb", "--test", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--test: bad value for 'turn_username': 'a?b' (expected UTF-8 text "
                             "without control characters)");
    cfg_free(&cfg);
}

static void test_secret_not_echoed(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_int_equal(
        cfg_set(&cfg, "turn_credential", "topsecret\n", "HUDDLE_TURN_CREDENTIAL", err, sizeof(err)),
        -EINVAL);
    assert_string_equal(err, "HUDDLE_TURN_CREDENTIAL: bad value for 'turn_credential' (expected "
                             "UTF-8 text without control characters)");
    assert_null(strstr(err, "topsecret"));
    cfg_free(&cfg);
}

static void test_set_unknown_key(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_int_equal(cfg_set(&cfg, "listen_port", "1", "--port", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--port: unknown key 'listen_port'");
    assert_int_equal(cfg_set(&cfg, "Listening_Port", "1", "--port", err, sizeof(err)), -EINVAL);
    assert_int_equal(cfg.listening_port, 3003);
    cfg_free(&cfg);
}

static void test_file_unknown_key(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(load_text(&cfg,
                               "# huddle\n"
                               "\n"
                               "greeting = hi\n"
                               "   # indented comment\n"
                               "\t\n"
                               "log_level = warn\n"
                               "listen_port = 8080\n"
                               "listening_port = 9\n",
                               err),
                     -EINVAL);
    assert_err_at(err, ":7: unknown key 'listen_port'");
    cfg_free(&cfg);
}

static void test_file_bad_value(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(load_text(&cfg, "# x\n\nlistening_port = abc\n", err), -EINVAL);
    assert_err_at(err, ":3: bad value for 'listening_port': 'abc' (expected an integer 0..65535)");
    cfg_free(&cfg);

    assert_int_equal(load_text(&cfg, "listening_port = 3003x\n", err), -EINVAL);
    assert_err_at(err,
                  ":1: bad value for 'listening_port': '3003x' (expected an integer 0..65535)");
    cfg_free(&cfg);

    assert_int_equal(load_text(&cfg, "num_threads =\n", err), -EINVAL);
    assert_err_at(err, ":1: bad value for 'num_threads': '' (expected an integer 4..10000)");
    cfg_free(&cfg);

    assert_int_equal(load_text(&cfg, "access_log = perhaps\n", err), -EINVAL);
    assert_err_at(err, ":1: bad value for 'access_log': 'perhaps' (expected yes/no, true/false, "
                       "on/off or 1/0)");
    cfg_free(&cfg);

    assert_int_equal(load_text(&cfg, "\nlog_level = loud\n", err), -EINVAL);
    assert_err_at(err,
                  ":2: bad value for 'log_level': 'loud' (expected debug, info, warn or error)");
    cfg_free(&cfg);

    assert_int_equal(load_text(&cfg, "document_root = \"\"\n", err), -EINVAL);
    assert_err_at(err, ":1: bad value for 'document_root': '' (expected a non-empty UTF-8 string "
                       "without control characters)");
    cfg_free(&cfg);
}

static void test_file_missing_equals(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(load_text(&cfg, "#\n\n\nlistening_port 3003\n", err), -EINVAL);
    assert_err_at(err, ":4: expected 'key = value'");
    cfg_free(&cfg);

    assert_int_equal(load_text(&cfg, " = 3003\n", err), -EINVAL);
    assert_err_at(err, ":1: expected 'key = value'");
    cfg_free(&cfg);
}

static void test_file_duplicate_key(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(load_text(&cfg,
                               "greeting = one\n"
                               "listening_port = 1\n"
                               "#\n"
                               "\n"
                               "greeting = two\n",
                               err),
                     -EINVAL);
    assert_err_at(err, ":5: duplicate key 'greeting'");
    cfg_free(&cfg);
}

static void test_file_long_line(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];
    char *text = malloc(2 * CFG_LINE_MAX + 64);
    size_t n;

    assert_non_null(text);
    /* A comment line of exactly CFG_LINE_MAX bytes (also with CRLF) is fine. */
    n = (size_t)sprintf(text, "greeting = hi\n");
    text[n] = '#';
    memset(text + n + 1, 'x', CFG_LINE_MAX - 1);
    n += CFG_LINE_MAX;
    n += (size_t)sprintf(text + n, "\r\nlistening_port = 1\n");
    assert_int_equal(load_text(&cfg, text, err), 0);
    assert_int_equal(cfg.listening_port, 1);
    cfg_free(&cfg);

    /* One byte more is an error naming the line. */
    n = (size_t)sprintf(text, "greeting = hi\n");
    text[n] = '#';
    memset(text + n + 1, 'x', CFG_LINE_MAX);
    n += CFG_LINE_MAX + 1;
    sprintf(text + n, "\nlistening_port = 1\n");
    assert_int_equal(load_text(&cfg, text, err), -EINVAL);
    assert_err_at(err, ":2: line longer than 4096 bytes");
    cfg_free(&cfg);

    /* Also without a final newline. */
    memset(text, 'x', CFG_LINE_MAX + 1);
    text[CFG_LINE_MAX + 1] = '\0';
    assert_int_equal(load_text(&cfg, text, err), -EINVAL);
    assert_err_at(err, ":1: line longer than 4096 bytes");
    cfg_free(&cfg);
    free(text);
}

static void test_file_nul_byte(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];
    static const char text[] = "greeting = hi\ngreet\0ing = x\n";

    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_int_equal(
        cfg_load_file(&cfg, write_conf_len(text, sizeof(text) - 1), true, err, sizeof(err)),
        -EINVAL);
    assert_err_at(err, ":2: NUL byte in line");
    cfg_free(&cfg);
}

static void test_file_missing(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX] = "";
    char path[160];

    snprintf(path, sizeof(path), "%s/nope.conf", tmp_dir);
    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_int_equal(cfg_load_file(&cfg, path, false, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(cfg.listening_port, 3003);

    assert_int_equal(cfg_load_file(&cfg, path, true, err, sizeof(err)), -ENOENT);
    assert_string_equal(strstr(err, ": cannot open: "), ": cannot open: No such file or directory");
    assert_memory_equal(err, path, strlen(path));
    cfg_free(&cfg);
}

static void test_file_is_directory(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX] = "";
    int rc;

    assert_int_equal(cfg_defaults(&cfg), 0);
    rc = cfg_load_file(&cfg, tmp_dir, false, err, sizeof(err));
    assert_int_equal(rc, -EIO);
    assert_memory_equal(err, tmp_dir, strlen(tmp_dir));
    cfg_free(&cfg);
}

static void test_file_quotes(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(load_text(&cfg,
                               "greeting = \"hi # there\"\n"
                               "document_root = \"  padded  \"   # trailing comment\n"
                               "turn_username = \"say \\\"hi\\\" \\\\o/\"\n"
                               "turn_credential = \"\"\n",
                               err),
                     0);
    assert_string_equal(cfg.greeting, "hi # there");
    assert_string_equal(cfg.document_root, "  padded  ");
    assert_string_equal(cfg.turn_username, "say \"hi\" \\o/");
    assert_string_equal(cfg.turn_credential, "");
    cfg_free(&cfg);

    assert_int_equal(load_text(&cfg, "\ngreeting = \"hi\n", err), -EINVAL);
    assert_err_at(err, ":2: unterminated quoted value for 'greeting'");
    cfg_free(&cfg);

    assert_int_equal(load_text(&cfg, "greeting = \"hi\" there\n", err), -EINVAL);
    assert_err_at(err, ":1: unexpected text after the closing quote for 'greeting'");
    cfg_free(&cfg);
}

static void test_file_comments(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(load_text(&cfg,
                               "# full line\n"
                               "  # indented\n"
                               "greeting = hi#there\n"
                               "listening_port = 4000 # trailing comment\n"
                               "document_root=web\t# tab before the hash\n"
                               "ice_servers = # nothing\n"
                               "# listening_port = 1\n",
                               err),
                     0);
    assert_string_equal(cfg.greeting, "hi#there");
    assert_int_equal(cfg.listening_port, 4000);
    assert_string_equal(cfg.document_root, "web");
    assert_string_equal(cfg.ice_servers, "");
    cfg_free(&cfg);
}

static void test_file_whitespace_crlf_bom(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(load_text(&cfg,
                               "\xEF\xBB\xBFgreeting = hello there  \r\n"
                               "\t listening_port\t=\t4001\t\r\n"
                               "\r\n"
                               "log_level=error",
                               err),
                     0);
    assert_string_equal(cfg.greeting, "hello there");
    assert_int_equal(cfg.listening_port, 4001);
    assert_int_equal(cfg.log_level, LOG_ERROR);
    cfg_free(&cfg);
}

/* A fake environment: name=value pairs, and a record of the names asked for. */
static const char *const *fake_env;
static char asked[N_KEYS + 4][64];
static size_t n_asked;

static char *fake_getenv(const char *name)
{
    if (n_asked < sizeof(asked) / sizeof(asked[0]))
        snprintf(asked[n_asked++], sizeof(asked[0]), "%s", name);
    for (size_t i = 0; fake_env && fake_env[i]; i += 2)
        if (strcmp(fake_env[i], name) == 0)
            return (char *)fake_env[i + 1];
    return NULL;
}

static void test_env_names(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    fake_env = NULL;
    n_asked = 0;
    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_int_equal(cfg_load_env(&cfg, fake_getenv, err, sizeof(err)), 0);
    assert_int_equal(n_asked, N_KEYS);
    for (size_t i = 0; i < N_KEYS; i++) {
        char want[64] = "HUDDLE_";
        bool found = false;

        for (size_t j = 0; all_keys[i][j]; j++)
            want[7 + j] = (char)toupper((unsigned char)all_keys[i][j]);
        for (size_t j = 0; j < n_asked; j++)
            found = found || strcmp(asked[j], want) == 0;
        if (!found)
            fail_msg("environment variable %s was not consulted", want);
    }
    cfg_free(&cfg);
}

static void test_env_over_file_flags_over_env(void **state)
{
    static const char *const env[] = {
        "HUDDLE_LISTENING_PORT",
        "5000",
        "HUDDLE_GREETING",
        "from env",
        "HUDDLE_ACCESS_LOG",
        "yes",
        "LISTENING_PORT",
        "1",
        NULL,
    };
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(load_text(&cfg,
                               "listening_port = 4000\n"
                               "greeting = from file\n"
                               "document_root = filedir\n",
                               err),
                     0);
    fake_env = env;
    n_asked = 0;
    assert_int_equal(cfg_load_env(&cfg, fake_getenv, err, sizeof(err)), 0);
    assert_int_equal(cfg.listening_port, 5000);
    assert_string_equal(cfg.greeting, "from env");
    assert_true(cfg.access_log);
    assert_string_equal(cfg.document_root, "filedir");
    assert_int_equal(cfg.num_threads, 64);

    assert_int_equal(cfg_set(&cfg, "listening_port", "6000", "--port", err, sizeof(err)), 0);
    assert_int_equal(cfg.listening_port, 6000);
    assert_int_equal(cfg_set(&cfg, "listening_port", "x", "--port", err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "--port: bad value for 'listening_port': 'x' (expected an integer "
                             "0..65535)");
    assert_int_equal(cfg.listening_port, 6000);
    cfg_free(&cfg);
    fake_env = NULL;
}

static void test_env_values_taken_verbatim(void **state)
{
    static const char *const env[] = {"HUDDLE_GREETING", "\"quoted\" # not a comment", NULL};
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(cfg_defaults(&cfg), 0);
    fake_env = env;
    assert_int_equal(cfg_load_env(&cfg, fake_getenv, err, sizeof(err)), 0);
    assert_string_equal(cfg.greeting, "\"quoted\" # not a comment");
    cfg_free(&cfg);
    fake_env = NULL;
}

static void test_env_errors(void **state)
{
    static const char *const env[] = {"HUDDLE_LISTENING_PORT", "abc", NULL};
    static const char *const env2[] = {"HUDDLE_LOG_LEVEL", "chatty", NULL};
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(cfg_defaults(&cfg), 0);
    fake_env = env;
    assert_int_equal(cfg_load_env(&cfg, fake_getenv, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "HUDDLE_LISTENING_PORT: bad value for 'listening_port': 'abc' "
                             "(expected an integer 0..65535)");
    fake_env = env2;
    assert_int_equal(cfg_load_env(&cfg, fake_getenv, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "HUDDLE_LOG_LEVEL: bad value for 'log_level': 'chatty' (expected "
                             "debug, info, warn or error)");
    cfg_free(&cfg);
    fake_env = NULL;
}

/* Applies key=value pairs (NULL-terminated) on top of the defaults, then validates. */
static int validate_with(struct config *cfg, char *err, ...)
{
    va_list ap;
    const char *key;

    assert_int_equal(cfg_defaults(cfg), 0);
    va_start(ap, err);
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);

        assert_int_equal(cfg_set(cfg, key, value, "--test", err, CFG_ERR_MAX), 0);
    }
    va_end(ap);
    err[0] = '\0';
    return cfg_validate(cfg, err, CFG_ERR_MAX);
}

/* max_connections is no longer tied to num_threads: WebSockets leave CivetWeb's workers after
 * the handshake, so the defaults (10000 connections, 64 threads) validate, and so does the
 * smallest pool with the largest limit. */
static void test_validate_connections_independent_of_threads(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(
        validate_with(&cfg, err, "num_threads", "64", "max_connections", "10000", NULL), 0);
    assert_string_equal(err, "");
    cfg_free(&cfg);
    assert_int_equal(
        validate_with(&cfg, err, "num_threads", "4", "max_connections", "1000000", NULL), 0);
    assert_string_equal(err, "");
    cfg_free(&cfg);
}

static void test_validate_tls(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(validate_with(&cfg, err, "ssl_port", "3443", NULL), -EINVAL);
    assert_string_equal(err, "ssl_port is 3443 but ssl_certificate is not set");
    cfg_free(&cfg);

    assert_int_equal(validate_with(&cfg, err, "ssl_port", "3443", "ssl_certificate", "c.pem", NULL),
                     0);
    cfg_free(&cfg);

    assert_int_equal(validate_with(&cfg, err, "ssl_port", "3003", "ssl_certificate", "c.pem", NULL),
                     -EINVAL);
    assert_string_equal(err, "ssl_port and listening_port are both 3003");
    cfg_free(&cfg);

    assert_int_equal(validate_with(&cfg, err, "listening_port", "0", NULL), 0);
    cfg_free(&cfg);

    assert_int_equal(validate_with(&cfg, err, "redirect_to_https", "yes", NULL), -EINVAL);
    assert_non_null(strstr(err, "redirect_to_https"));
    assert_non_null(strstr(err, "ssl_port"));
    cfg_free(&cfg);

    assert_int_equal(validate_with(&cfg, err, "redirect_to_https", "yes", "ssl_port", "3443",
                                   "ssl_certificate", "c.pem", NULL),
                     0);
    cfg_free(&cfg);
}

static void test_validate_queue_vs_message(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(
        validate_with(&cfg, err, "max_message_bytes", "1000", "send_queue_bytes", "2000", NULL), 0);
    cfg_free(&cfg);
    assert_int_equal(
        validate_with(&cfg, err, "max_message_bytes", "1000", "send_queue_bytes", "1999", NULL),
        -EINVAL);
    assert_non_null(strstr(err, "send_queue_bytes (1999)"));
    assert_non_null(strstr(err, "max_message_bytes (1000)"));
    cfg_free(&cfg);
}

static void test_validate_turn(void **state)
{
    struct config cfg;
    char err[CFG_ERR_MAX];

    assert_int_equal(validate_with(&cfg, err, "turn_username", "u", NULL), -EINVAL);
    assert_string_equal(err, "turn_username and turn_credential must be set together");
    cfg_free(&cfg);
    assert_int_equal(validate_with(&cfg, err, "turn_credential", "p", NULL), -EINVAL);
    assert_string_equal(err, "turn_username and turn_credential must be set together");
    cfg_free(&cfg);
    assert_int_equal(validate_with(&cfg, err, "turn_username", "u", "turn_credential", "p", NULL),
                     -EINVAL);
    assert_string_equal(err, "turn_username is set but ice_servers has no turn: or turns: URL");
    cfg_free(&cfg);
    assert_int_equal(validate_with(&cfg, err, "turn_username", "u", "turn_credential", "p",
                                   "ice_servers", "stun:a,turns:b:5349", NULL),
                     0);
    cfg_free(&cfg);
}

/* Asserts that a and b hold the same settings. */
static void assert_same_config(const struct config *a, const struct config *b)
{
    assert_string_equal(a->bind_address, b->bind_address);
    assert_int_equal(a->listening_port, b->listening_port);
    assert_string_equal(a->document_root, b->document_root);
    assert_string_equal(a->greeting, b->greeting);
    assert_int_equal(a->num_threads, b->num_threads);
    assert_int_equal(a->max_message_bytes, b->max_message_bytes);
    assert_int_equal(a->log_level, b->log_level);
    assert_int_equal(a->max_room_members, b->max_room_members);
    assert_int_equal(a->max_rooms, b->max_rooms);
    assert_int_equal(a->max_connections, b->max_connections);
    assert_int_equal(a->send_queue_bytes, b->send_queue_bytes);
    assert_int_equal(a->send_queue_messages, b->send_queue_messages);
    assert_int_equal(a->rate_limit_per_sec, b->rate_limit_per_sec);
    assert_int_equal(a->rate_limit_burst, b->rate_limit_burst);
    assert_int_equal(a->ping_interval, b->ping_interval);
    assert_int_equal(a->stall_timeout_ms, b->stall_timeout_ms);
    assert_int_equal(a->resume_window_s, b->resume_window_s);
    assert_string_equal(a->ice_servers, b->ice_servers);
    assert_string_equal(a->turn_username, b->turn_username);
    assert_string_equal(a->turn_credential, b->turn_credential);
    assert_int_equal(a->ssl_port, b->ssl_port);
    assert_string_equal(a->ssl_certificate, b->ssl_certificate);
    assert_int_equal(a->redirect_to_https, b->redirect_to_https);
    assert_string_equal(a->allowed_origins, b->allowed_origins);
    assert_int_equal(a->access_log, b->access_log);
}

/* The repository's sample huddle.conf, found next to this source file. */
static void sample_path(char *buf, size_t len)
{
    const char *slash = strstr(__FILE__, "tests/unit/");

    snprintf(buf, len, "%.*shuddle.conf", slash ? (int)(slash - __FILE__) : 0, __FILE__);
}

/* The sample loads as it is, and with every "#key = value" line uncommented it sets every key to
 * its default: the sample documents all keys with their real defaults. */
static void test_sample_file(void **state)
{
    struct config defaults, cfg;
    char err[CFG_ERR_MAX] = "";
    char path[PATH_MAX];
    char line[CFG_LINE_MAX + 2];
    bool seen[N_KEYS] = {false};
    FILE *in, *out;

    sample_path(path, sizeof(path));
    assert_int_equal(cfg_defaults(&defaults), 0);
    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_int_equal(cfg_load_file(&cfg, path, true, err, sizeof(err)), 0);
    assert_same_config(&cfg, &defaults);
    cfg_free(&cfg);

    in = fopen(path, "r");
    assert_non_null(in);
    out = fopen(conf_path, "w");
    assert_non_null(out);
    while (fgets(line, sizeof(line), in)) {
        if (line[0] != '#' || line[1] < 'a' || line[1] > 'z' || !strstr(line, " ="))
            continue;
        for (size_t i = 0; i < N_KEYS; i++)
            if (strncmp(line + 1, all_keys[i], strlen(all_keys[i])) == 0 &&
                line[1 + strlen(all_keys[i])] == ' ')
                seen[i] = true;
        fputs(line + 1, out);
    }
    fclose(in);
    assert_int_equal(fclose(out), 0);
    for (size_t i = 0; i < N_KEYS; i++) {
        if (!seen[i]) {
            cfg_free(&defaults); /* no leak reported on top of the failure */
            fail_msg("huddle.conf does not document '%s'", all_keys[i]);
        }
    }
    assert_int_equal(cfg_defaults(&cfg), 0);
    assert_int_equal(cfg_load_file(&cfg, conf_path, true, err, sizeof(err)), 0);
    assert_same_config(&cfg, &defaults);
    cfg_free(&cfg);
    cfg_free(&defaults);
}

static void test_error_buffer_small(void **state)
{
    struct config cfg;
    char err[16];

    assert_int_equal(cfg_defaults(&cfg), 0);
    memset(err, 'z', sizeof(err));
    assert_int_equal(
        cfg_set(&cfg, "listening_port", "abc", "HUDDLE_LISTENING_PORT", err, sizeof(err)), -EINVAL);
    assert_int_equal(strlen(err), sizeof(err) - 1);
    assert_int_equal(cfg_set(&cfg, "listening_port", "abc", "x", NULL, 0), -EINVAL);
    cfg_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_defaults_are_valid),
        cmocka_unit_test(test_free_is_safe),
        cmocka_unit_test(test_keys_list),
        cmocka_unit_test(test_file_sets_every_key),
        cmocka_unit_test(test_integer_ranges),
        cmocka_unit_test(test_integer_syntax),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_log_levels),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_secret_not_echoed),
        cmocka_unit_test(test_set_unknown_key),
        cmocka_unit_test(test_file_unknown_key),
        cmocka_unit_test(test_file_bad_value),
        cmocka_unit_test(test_file_missing_equals),
        cmocka_unit_test(test_file_duplicate_key),
        cmocka_unit_test(test_file_long_line),
        cmocka_unit_test(test_file_nul_byte),
        cmocka_unit_test(test_file_missing),
        cmocka_unit_test(test_file_is_directory),
        cmocka_unit_test(test_file_quotes),
        cmocka_unit_test(test_file_comments),
        cmocka_unit_test(test_file_whitespace_crlf_bom),
        cmocka_unit_test(test_env_names),
        cmocka_unit_test(test_env_over_file_flags_over_env),
        cmocka_unit_test(test_env_values_taken_verbatim),
        cmocka_unit_test(test_env_errors),
        cmocka_unit_test(test_validate_connections_independent_of_threads),
        cmocka_unit_test(test_validate_tls),
        cmocka_unit_test(test_validate_queue_vs_message),
        cmocka_unit_test(test_validate_turn),
        cmocka_unit_test(test_error_buffer_small),
        cmocka_unit_test(test_sample_file),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
