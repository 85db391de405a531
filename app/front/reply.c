/* SPDX-License-Identifier: MIT */
/* Answers written by huddle's handlers (see reply.h). */
#include "reply.h"

#include <civetweb.h>
#include <string.h>
#include <sys/socket.h>

#include "adopt.h"

void reply_send(struct mg_connection *conn, int status, const char *type, const char *body)
{
    size_t len = strlen(body);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
              status, mg_get_response_code_text(conn, status), type, len);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (!ri || strcmp(ri->request_method, "HEAD"))
        mg_write(conn, body, len);
}

bool reply_get_only(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (!strcmp(ri->request_method, "GET") || !strcmp(ri->request_method, "HEAD"))
        return true;
    mg_printf(conn, "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"
                    "Content-Length: 0\r\n\r\n");
    return false;
}

void reply_text(struct mg_connection *conn, int status, const char *extra, const char *body)
{
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: %zu\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n"
              "%s\r\n%s",
              status, mg_get_response_code_text(conn, status), strlen(body), extra ? extra : "",
              body);
}

int reply_refuse(struct mg_connection *conn, int status, const char *extra, const char *body)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    reply_text(conn, status, extra, body);
    if (ri) {
        struct adopt_peer peer = {ri->remote_addr, ri->remote_port, ri->server_port};
        int fd = adopt_find(&peer);
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
    }
    return status;
}
