// SPDX-License-Identifier: MIT
// Bounded polling for conditions that become true eventually (never a timing assertion).

/**
 * Calls `probe` until it returns a truthy value and resolves to that value; rejects with
 * `what` (a string, or a function called then) and the last value seen once `ms` have passed.
 */
export async function eventually(what, probe, { ms = 20000, every = 200 } = {}) {
  const deadline = Date.now() + ms;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await probe();
      lastErr = undefined;
      if (last) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const seen = lastErr ? `error: ${lastErr.message}` : `last: ${JSON.stringify(last)}`;
      const label = typeof what === 'function' ? await what() : what;
      throw new Error(`timed out waiting for ${label} (${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

/** Throws with `message` and both values unless they are equal (JSON comparison). */
export function expectEqual(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message}: expected ${e}, got ${a}`);
}
