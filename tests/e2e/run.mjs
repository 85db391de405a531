// SPDX-License-Identifier: MIT
// End-to-end runner: for each scenario of each *.test.mjs, starts the huddle binary
// ($HUDDLE_BIN, default build/huddle) on 127.0.0.1:0, runs the scenario in headless Chromium,
// and ends with "e2e: N passed, M failed". Screenshots go to tests/artifacts/e2e/ (or
// $HUDDLE_ARTIFACTS/e2e/).
// Usage: node run.mjs [name-filter ...]

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchBrowser, openPage } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const bin = path.resolve(process.env.HUDDLE_BIN ?? path.join(repoRoot, 'build', 'huddle'));
const wwwRoot = path.join(repoRoot, 'www');
const artifacts = path.join(path.resolve(process.env.HUDDLE_ARTIFACTS ?? path.join(repoRoot, 'tests', 'artifacts')), 'e2e');
const DEFAULT_TIMEOUT_MS = 120000;
const FIRST = ['seed.test.mjs', 'chat.test.mjs', 'call.test.mjs'];

function testFiles() {
  const all = fs.readdirSync(here).filter((f) => f.endsWith('.test.mjs'));
  return [...FIRST.filter((f) => all.includes(f)), ...all.filter((f) => !FIRST.includes(f)).sort()];
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** What a scenario gets: the server, browsers and pages that are cleaned up for it, screenshots. */
function makeContext(server, scenario, config) {
  const browsers = [];
  const pages = [];
  return {
    server,
    baseUrl: server.url,
    pages,
    /** Stops the server and starts a new one on the same port (pages keep their URL). */
    async restartServer() {
      await this.server.stop();
      this.server = await startServer({ bin, root: wwwRoot, configText: config, port: this.server.port });
      return this.server;
    },
    async browser(opts) {
      const browser = await launchBrowser(opts);
      browsers.push(browser);
      return browser;
    },
    async page(browser, opts = {}) {
      const page = await openPage(browser, { baseUrl: server.url, ...opts });
      pages.push(page);
      return page;
    },
    async screenshot(page, name) {
      const file = path.join(artifacts, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true, timeout: 60000 });
      return file;
    },
    /** Throws if any page saw a script error or a CSP violation. */
    checkProblems() {
      const found = pages.flatMap((p) => p.problems.map((msg) => `${p.label}: ${msg}`));
      if (found.length) throw new Error(`page problems:\n  ${found.join('\n  ')}`);
    },
    async cleanup(failed) {
      if (failed) {
        let i = 0;
        for (const page of pages) {
          i += 1;
          const file = path.join(artifacts, `FAIL-${slug(scenario)}-${i}-${slug(page.label)}.png`);
          await page.screenshot({ path: file, fullPage: true, timeout: 5000 }).catch(() => {});
        }
      }
      for (const browser of browsers) await browser.close().catch(() => {});
    },
  };
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function runScenario(file, scenario) {
  const name = `${file.replace(/\.test\.mjs$/, '')}: ${scenario.name}`;
  let server = null;
  let t = null;
  let failed = false;
  try {
    server = await startServer({ bin, root: wwwRoot, configText: scenario.config });
    t = makeContext(server, name, scenario.config);
    await withTimeout(scenario.run(t), scenario.timeoutMs ?? DEFAULT_TIMEOUT_MS, name);
    t.checkProblems();
    console.log(`ok - ${name}`);
  } catch (err) {
    if (t) server = t.server;
    failed = true;
    console.log(`FAIL - ${name}\n  ${String(err && err.stack ? err.stack : err).replace(/\n/g, '\n  ')}`);
    if (server) {
      const tail = server.log().split('\n').slice(-40).join('\n    ');
      console.log(`  --- server log (tail) ---\n    ${tail}`);
    }
  } finally {
    if (t) await t.cleanup(failed);
    if (t) server = t.server;
    if (server) await server.stop();
  }
  return !failed;
}

async function main() {
  const filters = process.argv.slice(2);
  if (!fs.existsSync(bin)) {
    console.log(`e2e: huddle binary not found at ${bin} (build it, or set HUDDLE_BIN)`);
    console.log('e2e: 0 passed, 1 failed');
    return 1;
  }
  fs.mkdirSync(artifacts, { recursive: true });
  for (const f of fs.readdirSync(artifacts)) if (f.endsWith('.png')) fs.rmSync(path.join(artifacts, f));
  let passed = 0;
  let failed = 0;
  for (const file of testFiles()) {
    const mod = await import(pathToFileURL(path.join(here, file)).href);
    for (const scenario of mod.scenarios ?? []) {
      const name = `${file}: ${scenario.name}`;
      if (filters.length && !filters.some((f) => name.includes(f))) continue;
      if (await runScenario(file, scenario)) passed += 1;
      else failed += 1;
    }
  }
  if (passed + failed === 0) {
    console.log('e2e: no scenario matched');
    failed = 1;
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
