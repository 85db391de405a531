// SPDX-License-Identifier: MIT
// What the page remembers between visits (name, chosen devices) in localStorage; silently
// nothing where storage is blocked.

const PREFIX = 'huddle.';

export const store = {
  /** The remembered string for `key`, '' when none. */
  get(key) {
    try {
      return localStorage.getItem(PREFIX + key) ?? '';
    } catch {
      return '';
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(PREFIX + key, value);
    } catch {
      /* storage blocked: nothing remembered */
    }
  },
};
