// SPDX-License-Identifier: MIT
// Debian's Chromium, headless, through playwright-core: browser launch flags that work on
// these machines, pages that record their errors, and a strict CSP added to every document.

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The page must work under this policy: no inline code, nothing from other origins. */
export const CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const BASE_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fake camera(s) and microphone, auto-accepted prompts, ICE over loopback. */
export const MEDIA_ARGS = [
  '--use-fake-device-for-media-stream=device-count=3',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * Launches a headless Chromium with a fresh profile. `media`: 'fake' (fake devices, prompts
 * accepted), 'none' (no capture device at all) or false (no WebRTC flags). `extraArgs` are added
 * to the command line (e.g. to trust one test certificate).
 */
export async function launchBrowser({ media = false, extraArgs = [] } = {}) {
  const args = [...BASE_ARGS, ...extraArgs];
  if (media === 'fake') args.push(...MEDIA_ARGS);
  if (media === 'none') args.push('--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args, timeout: 30000 });
}

/**
 * Opens a page in its own context (own storage, own permissions). Every document response
 * gets the strict CSP on top of the server's own; page errors and CSP violations are collected in `page.problems`.
 * `permissions` e.g. ['camera', 'microphone']; `init` is a function run before page scripts;
 * `phone` makes a touch-screen mobile context (coarse pointer); `addCsp` false leaves the
 * server's own policy alone; `colorScheme` 'light' or 'dark'.
 */
export async function openPage(
  browser,
  {
    baseUrl,
    viewport = { width: 1280, height: 800 },
    permissions = [],
    init,
    label = 'page',
    phone = false,
    addCsp = true,
    colorScheme = 'light',
  } = {},
) {
  // A document fulfilled by route() counts as coming from the public internet, and Chromium's
  // Local Network Access checks would then block its WebSocket to 127.0.0.1: grant that access.
  const context = await browser.newContext({
    viewport,
    baseURL: baseUrl,
    permissions: ['local-network-access', ...permissions],
    colorScheme,
    ...(phone ? { isMobile: true, hasTouch: true } : {}),
  });
  // addCsp false: the server's own policy only (route.fetch runs in Node, which would not trust a
  // test certificate that only the browser was told about).
  if (addCsp) await context.route('**/*', async (route) => {
    const request = route.request();
    if (request.resourceType() !== 'document') return route.continue();
    const response = await route.fetch();
    // Comma-joined policies are all enforced: the server's own (if any) and ours.
    const headers = response.headers();
    const policy = headers['content-security-policy'] ? `${headers['content-security-policy']}, ${CSP}` : CSP;
    return route.fulfill({ response, headers: { ...headers, 'content-security-policy': policy } });
  });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  page.label = label;
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) {
      page.problems.push(`csp: ${msg.text()}`);
    }
  });
  return page;
}
