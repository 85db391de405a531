// SPDX-License-Identifier: MIT
// The seed: the page connects to the WebSocket at its own origin, shows the greeting, and the
// server log shows the browser's messages decoded.

import { openHome, seeText } from './lib/huddle.mjs';
import { expectEqual } from './lib/wait.mjs';

export const scenarios = [
  {
    name: 'greeting shown, browser text decoded in the server log',
    async run(t) {
      const browser = await t.browser();
      const page = await t.page(browser, { label: 'seed' });
      const sockets = [];
      page.on('websocket', (ws) => sockets.push(ws.url()));

      await openHome(page, '/?debug=1');
      await seeText(page, '#greeting', 'hello!');
      await t.server.waitForLog(/recv text \d+ B: hello from the browser!$/m);
      expectEqual(sockets, [`ws://127.0.0.1:${t.server.port}/`], 'WebSocket URL derived from location');

      const more = 'more text: grüße 👋';
      await page.click('.raw summary');
      await page.fill('#raw-input', more);
      await page.click('#raw-form button[type="submit"]');
      await t.server.waitForLog(new RegExp(`recv text \\d+ B: ${more}$`, 'm'));
      await t.screenshot(page, 'seed');
    },
  },
];
