/* SPDX-License-Identifier: MIT */
/* The checks every HTTP request passes first (see guard.h): framing, an encoded NUL, methods,
 * WebSocket upgrade headers, the HTTPS redirect, dotfiles and Range on static files. */
#include "guard.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config.h"
#include "httpcheck.h"
#include "reply.h"

/* redirect_to_https: answers a plain-HTTP request with 308 to the same host on ssl_port
 * (CivetWeb's own "r" listener redirects to its authentication_domain instead). /healthz stays
 * on plain HTTP for health checks. Returns true when it answered. */
static bool redirect_https(struct mg_connection *conn, const struct mg_request_info *ri,
                           const struct config *cfg)
{
    if (!cfg->redirect_to_https || !cfg->ssl_port || ri->is_ssl ||
        !strcmp(ri->local_uri, "/healthz"))
        return false;
    const char *host = mg_get_header(conn, "Host");
    size_t hlen = 0;
    if (host) {
        if (host[0] == '[') {
            const char *end = strchr(host, ']');
            hlen = end ? (size_t)(end - host) + 1 : 0;
        } else {
            hlen = strcspn(host, ":");
        }
        for (size_t i = 0; i < hlen; i++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:",
                        host[i]))
                hlen = 0;
    }
    if (!hlen) {
        mg_printf(conn,
                  "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return true;
    }
    /* CivetWeb hands us the decoded path: encode it again for the Location header */
    const char *path = ri->local_uri ? ri->local_uri : "/";
    char *uri = malloc(strlen(path) * 3 + 1);
    if (!uri)
        return false;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/!$&'()*+,;=:@", *p))
            uri[o++] = (char)*p;
        else
            o += (size_t)sprintf(uri + o, "%%%02X", *p);
    }
    uri[o] = '\0';
    mg_printf(conn,
              "HTTP/1.1 308 Permanent Redirect\r\nLocation: https://%.*s:%d%s%s%s\r\n"
              "Content-Length: 0\r\nConnection: close\r\n\r\n",
              (int)hlen, host, cfg->ssl_port, uri, ri->query_string ? "?" : "",
              ri->query_string ? ri->query_string : "");
    free(uri);
    return true;
}

static bool is_ws_path(const char *uri)
{
    return uri && (!strcmp(uri, "/") || !strcmp(uri, "/ws"));
}

/* The request's framing: a Content-Length next to Transfer-Encoding, or two Content-Lengths,
 * mean two parsers (a proxy's and ours) could split the stream differently (request
 * smuggling); a second Host is the same kind of ambiguity. Returns the status to refuse with,
 * or 0. */
static int check_framing(const struct mg_request_info *ri)
{
    int cl = 0, te = 0, host = 0;
    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name;
        if (!strcasecmp(name, "Content-Length"))
            cl += strchr(ri->http_headers[i].value, ',') ? 2 : 1;
        else if (!strcasecmp(name, "Transfer-Encoding"))
            te++;
        else if (!strcasecmp(name, "Host"))
            host++;
    }
    if (cl > 1 || (cl && te) || host > 1)
        return 400;
    if (!host && ri->http_version && !strcmp(ri->http_version, "1.1"))
        return 400; /* RFC 9112 3.2: a 1.1 request without Host is malformed */
    return 0;
}

/* Range on a static file: CivetWeb 1.15 answers an inverted or out-of-file range with a 206 and
 * a negative Content-Length. Returns true when it answered 416. */
static bool check_range(struct mg_connection *conn, const struct mg_request_info *ri,
                        const struct config *cfg)
{
    const char *range = mg_get_header(conn, "Range");
    if (!range || !ri->local_uri)
        return false;
    char path[4096];
    struct stat st;
    int n = snprintf(path, sizeof(path), "%s%s", cfg->document_root, ri->local_uri);
    if (n < 0 || (size_t)n >= sizeof(path) - 16 || stat(path, &st) != 0)
        return false; /* not a file: CivetWeb answers (404, or one of our handlers) */
    if (S_ISDIR(st.st_mode)) {
        snprintf(path + n, sizeof(path) - (size_t)n, "%sindex.html",
                 n && path[n - 1] == '/' ? "" : "/");
        if (stat(path, &st) != 0)
            return false;
    }
    if (!S_ISREG(st.st_mode) || httpcheck_range(range, (long long)st.st_size) == HTTPCHECK_RANGE_OK)
        return false;
    char extra[64];
    snprintf(extra, sizeof(extra), "Content-Range: bytes */%lld\r\n", (long long)st.st_size);
    reply_refuse(conn, 416, extra, "range not satisfiable\n");
    return true;
}

/* A WebSocket upgrade CivetWeb 1.15 would answer with a bare body and no status line. */
static int check_upgrade(struct mg_connection *conn, const struct mg_request_info *ri)
{
    const char *up = mg_get_header(conn, "Upgrade");
    if (!up || !strcasestr(up, "websocket") || !is_ws_path(ri->local_uri))
        return 0;
    const char *version = mg_get_header(conn, "Sec-WebSocket-Version");
    if (!version || strcmp(version, "13"))
        return reply_refuse(conn, 426, "Sec-WebSocket-Version: 13\r\n",
                            "WebSocket version 13 required\n");
    if (!httpcheck_ws_key(mg_get_header(conn, "Sec-WebSocket-Key")))
        return reply_refuse(conn, 400, NULL, "missing or malformed Sec-WebSocket-Key\n");
    return 0;
}

/* True when the request target had an encoded NUL (%00). CivetWeb 1.15 refuses a raw NUL itself
 * but hands over only the decoded target, where %00 has already cut the string short
 * (/index.html%00.txt arrives as /index.html). It decodes in place inside the request line,
 * "METHOD target\0HTTP/1.1": the decoded bytes, then the terminating NUL, then the untouched rest
 * of the encoded target (which cannot hold a NUL). So a NUL between the string's end and the end
 * of the original target means a decoded NUL. Checked only when the layout is exactly that. */
static bool decoded_nul(const struct mg_request_info *ri)
{
    const char *t = ri->request_uri, *v = ri->http_version;
    if (!t || !v || v <= t || v - t > 16384 || v - t < 7 || memcmp(v - 5, "HTTP/", 5) ||
        v[-6] != '\0')
        return false;
    const char *end = v - 6; /* where the space after the target was */
    for (const char *p = t + strlen(t) + 1; p < end; p++)
        if (*p == '\0')
            return true;
    return false;
}

int guard_begin_request(struct mg_connection *conn, const struct config *cfg)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int status;
    if (!ri)
        return 0;
    if ((status = check_framing(ri)))
        return reply_refuse(conn, status, NULL, "bad request\n");
    if (decoded_nul(ri))
        return reply_refuse(conn, 400, NULL, "bad request\n");
    const char *m = ri->request_method;
    if (!strcmp(m, "OPTIONS")) {
        mg_printf(conn, "HTTP/1.1 204 No Content\r\nAllow: GET, HEAD, OPTIONS\r\n"
                        "Content-Length: 0\r\n\r\n");
        return 204;
    }
    if (strcmp(m, "GET") && strcmp(m, "HEAD"))
        return reply_refuse(conn, 405, "Allow: GET, HEAD, OPTIONS\r\n", "method not allowed\n");
    if ((status = check_upgrade(conn, ri)))
        return status;
    if (redirect_https(conn, ri, cfg))
        return 308;
    if (ri->local_uri && strstr(ri->local_uri, "/."))
        return reply_refuse(conn, 404, NULL, "Not Found\n");
    if (check_range(conn, ri, cfg))
        return 416;
    return 0;
}
