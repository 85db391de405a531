// SPDX-License-Identifier: MIT
// A TCP relay in front of the server that can cut every connection at once without a
// WebSocket close frame: a network drop (Wi-Fi hand-over, tunnel) as the browser and the
// server see it. It keeps listening, so the page can reconnect through it.

import net from 'node:net';

/** Starts a relay on 127.0.0.1 to `port`; resolves to { url, port, cut(), close() }. */
export function startProxy(port) {
  const pairs = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const own = server.address().port;
      resolve({
        port: own,
        url: `http://127.0.0.1:${own}/`,
        /** Drops every open connection (TCP reset, no close frame). */
        cut() {
          for (const { client, upstream } of pairs) {
            client.resetAndDestroy();
            upstream.resetAndDestroy();
          }
          pairs.clear();
        },
        close() {
          for (const { client, upstream } of pairs) {
            client.destroy();
            upstream.destroy();
          }
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}
