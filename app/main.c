/* SPDX-License-Identifier: MIT */
/* huddle: command line, configuration, start-up and graceful shutdown (SIGTERM/SIGINT: every
 * WebSocket gets a close 1001, then CivetWeb stops). */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <pthread.h>

#include "config.h"
#include "http.h"
#include "iplimit.h"
#include "loop.h"
#include "log.h"
#include "ws.h"

#define EXIT_CONFIG        2
#define SHUTDOWN_WAIT_MS   1000
#define DEFAULT_ETC_CONFIG "/etc/huddle/huddle.conf"

static void usage(FILE *f)
{
    fprintf(f, "Usage: huddle [--config FILE] [--port N] [--root DIR] [--bind ADDR]\n"
               "              [--log-level debug|info|warn|error] [--help] [--version]\n"
               "\n"
               "A small self-hosted video-meeting server: web page, chat rooms and WebRTC\n"
               "signaling on one port.\n"
               "\n"
               "Configuration, later sources win: built-in defaults < config file < HUDDLE_<KEY>\n"
               "environment variables < flags. The config file is FILE, else $HUDDLE_CONFIG, else\n"
               "./huddle.conf or " DEFAULT_ETC_CONFIG " when present. Keys:\n");
    for (const char *const *k = cfg_keys(); *k; k++)
        fprintf(f, "  %s\n", *k);
}

/* Flags that map onto config keys. */
static const struct {
    const char *flag, *key;
} flag_keys[] = {
    {"--port", "listening_port"},
    {"--root", "document_root"},
    {"--bind", "bind_address"},
    {"--log-level", "log_level"},
};

static const char *flag_key(const char *flag)
{
    for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++)
        if (!strcmp(flag, flag_keys[i].flag))
            return flag_keys[i].key;
    return NULL;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Logs where to open the page, including every LAN address when bound to all interfaces. */
static void log_addresses(const struct config *cfg, int port, int ssl_port)
{
    log_info(0, "listening on http://%s:%d", cfg->bind_address, port);
    if (ssl_port)
        log_info(0, "listening on https://%s:%d", cfg->bind_address, ssl_port);
    if (strcmp(cfg->bind_address, "0.0.0.0"))
        return;
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0)
        return;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
            continue;
        char ip[INET_ADDRSTRLEN];
        struct sockaddr_in *sin = (struct sockaddr_in *)i->ifa_addr;
        if (!inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)))
            continue;
        if (ssl_port)
            log_info(0, "open https://%s:%d (%s)", ip, ssl_port, i->ifa_name);
        else
            log_info(0, "open http://%s:%d (%s)", ip, port, i->ifa_name);
    }
    freeifaddrs(ifs);
}

/* Every WebSocket is a descriptor (two for a moment while it is adopted): raise the soft limit to
 * the hard one and say so when max_connections cannot be reached. */
static void raise_fd_limit(const struct config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t need = (rlim_t)cfg->max_connections + (rlim_t)cfg->num_threads + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
        log_warn(0,
                 "open-file limit %llu is below max_connections + num_threads + 64 (%llu): "
                 "new connections fail past it (raise it with ulimit -n or LimitNOFILE=)",
                 (unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

int main(int argc, char **argv)
{
    struct config cfg;
    char err[CFG_ERR_MAX];
    const char *config_path = NULL;
    int status = EXIT_FAILURE;

    if (cfg_defaults(&cfg) < 0) {
        fprintf(stderr, "huddle: out of memory\n");
        return EXIT_FAILURE;
    }
    /* first pass: --help, --version, --config, and flag syntax */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            cfg_free(&cfg);
            return EXIT_SUCCESS;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("huddle %s\n", HUDDLE_VERSION);
            cfg_free(&cfg);
            return EXIT_SUCCESS;
        }
        if (!strcmp(argv[i], "--config") || flag_key(argv[i])) {
            if (i + 1 >= argc) {
                fprintf(stderr, "huddle: %s needs a value\n", argv[i]);
                goto out_cfg;
            }
            if (!strcmp(argv[i], "--config"))
                config_path = argv[i + 1];
            i++;
            continue;
        }
        fprintf(stderr, "huddle: unknown argument '%s' (see --help)\n", argv[i]);
        status = EXIT_CONFIG;
        goto out_cfg;
    }
    bool required = true;
    if (!config_path)
        config_path = getenv("HUDDLE_CONFIG");
    if (config_path && !*config_path)
        config_path = NULL;
    if (!config_path) {
        required = false;
        config_path = file_exists(CFG_DEFAULT_FILE) ? CFG_DEFAULT_FILE : DEFAULT_ETC_CONFIG;
    }
    if (cfg_load_file(&cfg, config_path, required, err, sizeof(err)) < 0 ||
        cfg_load_env(&cfg, getenv, err, sizeof(err)) < 0) {
        fprintf(stderr, "huddle: %s\n", err);
        status = EXIT_CONFIG;
        goto out_cfg;
    }
    for (int i = 1; i + 1 < argc; i++) {
        const char *key = flag_key(argv[i]);
        if (!key) {
            if (!strcmp(argv[i], "--config"))
                i++;
            continue;
        }
        if (cfg_set(&cfg, key, argv[i + 1], argv[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "huddle: %s\n", err);
            status = EXIT_CONFIG;
            goto out_cfg;
        }
        i++;
    }
    if (cfg_validate(&cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "huddle: %s\n", err);
        status = EXIT_CONFIG;
        goto out_cfg;
    }
    struct stat st;
    if (stat(cfg.document_root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "huddle: document_root '%s' is not a directory\n", cfg.document_root);
        status = EXIT_CONFIG;
        goto out_cfg;
    }
    log_set_level(cfg.log_level);

    /* Block the stop signals in every thread (CivetWeb's inherit the mask); main waits for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    raise_fd_limit(&cfg);
    static struct ws_counters ctr;
    struct iplimit *ipl = NULL;
    struct loop *lp = NULL;
    struct ws_server *ws = NULL;
    struct http_server *http = NULL;
    ipl = iplimit_new((unsigned)cfg.max_http_connections_per_ip,
                      (unsigned)cfg.max_connections_per_ip, cfg.trusted_proxies);
    lp = ipl ? loop_new(&cfg, &ctr, ipl) : NULL;
    ws = lp ? ws_new(lp, &ctr, ipl, &cfg) : NULL;
    if (!ws || loop_start(lp) < 0) {
        log_error(0, "cannot start the event loop (out of memory?)");
        goto out_free;
    }
    http = http_start(&cfg, lp, ws, ipl, err, sizeof(err));
    if (!http) {
        log_error(0, "%s", err);
        status = EXIT_CONFIG;
        goto out_free;
    }
    log_info(0, "huddle %s serving %s (config %s%s)", HUDDLE_VERSION, cfg.document_root,
             config_path, required || file_exists(config_path) ? "" : ": not present, defaults");
    log_addresses(&cfg, http_port(http), http_ssl_port(http));

    int sig = 0;
    sigwait(&stop, &sig);
    log_info(0, "%s: closing every WebSocket with 1001 and stopping", strsignal(sig));
    unsigned left = ws_shutdown(ws, SHUTDOWN_WAIT_MS);
    if (left)
        log_info(0, "%u sessions still open: stopping anyway", left);
    http_stop(http);
    http = NULL;
    log_info(0, "stopped");
    status = EXIT_SUCCESS;

out_free:
    http_stop(http);
    loop_free(lp); /* after CivetWeb: its TLS sessions post their ends to the loop */
    ws_free(ws);
    iplimit_free(ipl);
out_cfg:
    cfg_free(&cfg);
    return status;
}
