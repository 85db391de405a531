// SPDX-License-Identifier: MIT
// Imports the page's modules (www/js) into Node for the unit tests. They are ES modules in
// `.js` files, and www/ has no package.json saying so (Node would read them as CommonJS): this
// copies www/js into a temporary folder beside a {"type":"module"} package.json and imports
// them from there, so their relative imports resolve as in the browser and nothing is added to
// what the server serves. Where Node has no global `crypto` (older releases; names.js needs
// getRandomValues), the Web Crypto of node:crypto stands in.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';

globalThis.crypto ??= webcrypto;

const source = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'www', 'js');
const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'huddle-web-'));
for (const file of fs.readdirSync(source)) {
  if (file.endsWith('.js')) fs.copyFileSync(path.join(source, file), path.join(copy, file));
}
fs.writeFileSync(path.join(copy, 'package.json'), '{"type":"module"}\n');
process.on('exit', () => fs.rmSync(copy, { recursive: true, force: true }));

/** The module www/js/`name` (e.g. 'session.js'). */
export function load(name) {
  return import(pathToFileURL(path.join(copy, name)).href);
}
