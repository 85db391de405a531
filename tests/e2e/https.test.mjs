// SPDX-License-Identifier: MIT
// Phones need HTTPS for the camera (issue 5): the page over https with a certificate from
// scripts/make-cert.sh, trusted by Chromium through that certificate's key only. The page must
// switch to wss:, be a secure context, and get a camera.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHome, seeText } from './lib/huddle.mjs';
import { expectEqual } from './lib/wait.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'huddle-e2e-cert-'));
execFileSync(path.join(repoRoot, 'scripts', 'make-cert.sh'), [certDir], { stdio: 'ignore' });
const pem = path.join(certDir, 'huddle.pem');
const crt = path.join(certDir, 'huddle.crt');
// base64 SHA-256 of the certificate's public key, for --ignore-certificate-errors-spki-list
const spki = execFileSync('sh', [
  '-c',
  'openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64',
  'spki',
  crt,
]).toString().trim();
const sslPort = await freePort();

export const scenarios = [
  {
    name: 'page over https: wss socket, secure context, camera available',
    config: `ssl_port = ${sslPort}\nssl_certificate = ${pem}\n`,
    async run(t) {
      const browser = await t.browser({ media: 'fake', extraArgs: [`--ignore-certificate-errors-spki-list=${spki}`] });
      const page = await t.page(browser, {
        label: 'https',
        baseUrl: `https://localhost:${sslPort}`,
        permissions: ['camera', 'microphone'],
        addCsp: false,
      });
      const sockets = [];
      page.on('websocket', (ws) => sockets.push(ws.url()));

      await openHome(page);
      await seeText(page, '#greeting', 'hello!');
      await t.server.waitForLog(/recv text \d+ B: hello from the browser!$/m);
      expectEqual(sockets, [`wss://localhost:${sslPort}/`], 'WebSocket URL over https');
      expectEqual(await page.evaluate(() => window.isSecureContext), true, 'secure context');
      const tracks = await page.evaluate(async () => {
        const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
        const kinds = stream.getTracks().map((track) => track.kind).sort();
        stream.getTracks().forEach((track) => track.stop());
        return kinds;
      });
      expectEqual(tracks, ['audio', 'video'], 'camera and microphone over https');
      await t.screenshot(page, 'https');
    },
  },
];
