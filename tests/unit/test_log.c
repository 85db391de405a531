/* SPDX-License-Identifier: MIT */
/* Unit tests for the logger: line format, level filtering, session tags, one line per event
 * (control characters, truncation) and whole lines under concurrent writers. */
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "utf8.h"

#define LINE_RE                                                                                    \
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z (DEBUG|INFO |WARN "        \
    "|ERROR) "

static char cap_path[64];
static int saved_stderr = -1;

/* Sends stderr to a fresh temporary file until capture_end. */
static void capture_begin(void)
{
    int fd;

    snprintf(cap_path, sizeof(cap_path), "/tmp/huddle-test-log-XXXXXX");
    fd = mkstemp(cap_path);
    assert_true(fd >= 0);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    assert_true(saved_stderr >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
}

/* Restores stderr and returns what was written (caller frees). */
static char *capture_end(size_t *len)
{
    FILE *f;
    char *buf;
    long size;

    fflush(stderr);
    assert_true(dup2(saved_stderr, STDERR_FILENO) >= 0);
    close(saved_stderr);
    f = fopen(cap_path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    rewind(f);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    unlink(cap_path);
    if (len)
        *len = (size_t)size;
    return buf;
}

static void assert_matches(const char *text, const char *pattern)
{
    regex_t re;

    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    if (regexec(&re, text, 0, NULL, 0) != 0)
        fail_msg("'%s' does not match /%s/", text, pattern);
    regfree(&re);
}

static int reset_level(void **state)
{
    log_set_level(LOG_INFO);
    return 0;
}

static void test_line_format(void **state)
{
    char *out;
    struct tm tm;
    time_t before, after, logged;

    log_set_level(LOG_DEBUG);
    capture_begin();
    before = time(NULL);
    log_info(12, "joined %s (%d)", "lobby", 3);
    after = time(NULL);
    log_debug(0, "no session");
    log_warn(7, "w");
    log_error(18446744073709551615ULL, "e");
    out = capture_end(NULL);

    assert_matches(out, LINE_RE "\\[s12\\] joined lobby \\(3\\)\n"
                                ".{24} DEBUG no session\n"
                                ".{24} WARN  \\[s7\\] w\n"
                                ".{24} ERROR \\[s18446744073709551615\\] e\n$");
    memset(&tm, 0, sizeof(tm));
    assert_non_null(strptime(out, "%Y-%m-%dT%H:%M:%S", &tm));
    logged = timegm(&tm);
    assert_true(logged >= before && logged <= after);
    free(out);
}

static void test_levels(void **state)
{
    char *out;

    assert_int_equal(log_get_level(), LOG_INFO);
    assert_false(log_enabled(LOG_DEBUG));
    assert_true(log_enabled(LOG_INFO));
    log_set_level(LOG_WARN);
    assert_int_equal(log_get_level(), LOG_WARN);
    assert_false(log_enabled(LOG_INFO));
    assert_true(log_enabled(LOG_ERROR));

    capture_begin();
    log_debug(1, "hidden debug");
    log_info(1, "hidden info");
    log_warn(1, "shown warn");
    log_error(1, "shown error");
    out = capture_end(NULL);
    assert_null(strstr(out, "hidden"));
    assert_matches(out, LINE_RE "\\[s1\\] shown warn\n.{24} ERROR \\[s1\\] shown error\n$");
    free(out);
}

static void test_control_characters_stay_on_one_line(void **state)
{
    char *out;

    capture_begin();
    log_info(3, "decoded: %s", "line1\nline2\r\x1b[31m\x7f");
    out = capture_end(NULL);
    assert_matches(out, LINE_RE "\\[s3\\] decoded: line1\\?line2\\?\\?\\[31m\\?\n$");
    free(out);
}

static void test_long_line_truncated(void **state)
{
    char *text = malloc(5001);
    char *out;
    size_t len;

    assert_non_null(text);
    memset(text, 'x', 5000);
    text[5000] = '\0';
    capture_begin();
    log_info(5, "%s", text);
    log_info(5, "after");
    out = capture_end(&len);
    assert_non_null(strstr(out, "xxx...\n"));
    assert_int_equal(strchr(out, '\n') - out + 1, 1024);
    assert_matches(out, "\n"
                        ".{24} INFO  \\[s5\\] after\n$");
    free(out);

    /* Two-byte characters: the cut never leaves half a sequence before the dots. */
    for (size_t i = 0; i + 1 < 5000; i += 2)
        memcpy(text + i, "\xC3\xA9", 2);
    for (int shift = 0; shift < 2; shift++) {
        capture_begin();
        log_info(5, "%.*s%s", shift, "a", text);
        out = capture_end(&len);
        assert_true(len <= 1024);
        assert_true(utf8_valid(out, len));
        assert_string_equal(out + len - 4, "...\n");
        free(out);
    }
    free(text);
}

static void test_exact_fit_not_truncated(void **state)
{
    /* 1024 bytes = 24 time + 1 + 5 level + 1 + text + newline */
    char text[1024 - 24 - 1 - 5 - 1 - 1 + 1];
    char *out;
    size_t len;

    memset(text, 'y', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    capture_begin();
    log_info(0, "%s", text);
    out = capture_end(&len);
    assert_int_equal(len, 1024);
    assert_null(strstr(out, "..."));
    assert_int_equal(strspn(out + 31, "y"), sizeof(text) - 1);
    free(out);
}

#define N_THREADS 4
#define N_LINES   200

static void *log_many(void *arg)
{
    char text[801];
    int id = (int)(intptr_t)arg;

    memset(text, 'a' + id, sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    for (int i = 0; i < N_LINES; i++)
        log_info((uint64_t)id + 1, "%d %s", i, text);
    return NULL;
}

static void test_threads_write_whole_lines(void **state)
{
    pthread_t threads[N_THREADS];
    int next[N_THREADS] = {0};
    regex_t re;
    char *out, *line, *save = NULL;
    char fill[2] = "";
    int lines = 0;

    capture_begin();
    for (int t = 0; t < N_THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, log_many, (void *)(intptr_t)t), 0);
    for (int t = 0; t < N_THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    out = capture_end(NULL);

    assert_int_equal(regcomp(&re, LINE_RE "\\[s[1-4]\\] [0-9]+ [a-d]{800}$", REG_EXTENDED), 0);
    for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int t, i, end = 0;

        if (regexec(&re, line, 0, NULL, 0) != 0)
            fail_msg("mangled line: %.80s", line);
        assert_int_equal(sscanf(strstr(line, "[s"), "[s%d] %d %n", &t, &i, &end), 2);
        fill[0] = (char)('a' + t - 1);
        assert_int_equal(strspn(strstr(line, "[s") + end, fill), 800);
        assert_int_equal(i, next[t - 1]); /* each thread's lines arrive whole and in order */
        next[t - 1]++;
        lines++;
    }
    regfree(&re);
    assert_int_equal(lines, N_THREADS * N_LINES);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, reset_level, reset_level),
        cmocka_unit_test_setup_teardown(test_levels, reset_level, reset_level),
        cmocka_unit_test_setup_teardown(test_control_characters_stay_on_one_line, reset_level,
                                        reset_level),
        cmocka_unit_test_setup_teardown(test_long_line_truncated, reset_level, reset_level),
        cmocka_unit_test_setup_teardown(test_exact_fit_not_truncated, reset_level, reset_level),
        cmocka_unit_test_setup_teardown(test_threads_write_whole_lines, reset_level, reset_level),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
