// SPDX-License-Identifier: MIT
// Invite links, a stable contract: /?room=NAME asks for a nickname then joins;
// /?room=NAME&name=NICK joins as NICK straight away. A passcode travels in the fragment,
// /?room=NAME#pw=PASSCODE, which browsers never send in an HTTP request. The page keeps a
// passcode it was given for the rest of the tab's life (sessionStorage, keyed by room) and takes
// the fragment out of the address bar at once, so it does not show in a screen share.

const PW_PREFIX = 'huddle.pw.';
const PASSCODE_MIN = 4;
const PASSCODE_MAX = 64;
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/** The passcode in a URL fragment (`#pw=...`, percent-encoded), or null. */
export function passcodeFromHash(hash) {
  const m = /(?:^#|&)pw=([^&]*)/.exec(hash ?? '');
  if (!m) return null;
  try {
    const pw = decodeURIComponent(m[1]);
    return pw === '' ? null : pw;
  } catch {
    return null;
  }
}

/**
 * {room, name, passcode} from the page URL; room and name are trimmed strings or null, the
 * passcode (from the fragment, not trimmed) a string or null.
 */
export function readInvite(loc = location) {
  const params = new URLSearchParams(loc.search);
  const pick = (key) => {
    const value = (params.get(key) ?? '').trim();
    return value === '' ? null : value;
  };
  return { room: pick('room'), name: pick('name'), passcode: passcodeFromHash(loc.hash) };
}

/** Takes the fragment (the passcode) out of the address bar, keeping the rest. */
export function clearHash() {
  if (location.hash === '') return;
  history.replaceState(history.state, '', location.pathname + location.search);
}

/** The link that brings someone else into `room` (with `passcode` in the fragment when given). */
export function inviteUrl(room, passcode = null, loc = location) {
  const url = new URL('/', loc.href);
  url.searchParams.set('room', room);
  if (passcode) url.hash = `pw=${encodeURIComponent(passcode)}`;
  return url.href;
}

/** Drops the invite parameters from the address bar so a reload does not rejoin as someone else. */
export function clearInvite() {
  if (location.search === '' && location.hash === '') return;
  history.replaceState(null, '', location.pathname);
}

/**
 * What the user typed in the "Join" field: a meeting name or a pasted invite link.
 * Returns {room, passcode} (passcode null when none), or {error} with a sentence to show.
 */
export function parseJoinInput(text, loc = location) {
  const value = text.trim();
  if (value === '') return { error: 'Type a meeting name or paste an invite link.' };
  const looksLikeLink = /^https?:\/\//i.test(value) || /^[^\s/]+\.[^\s/]+\/.*[?&]room=/i.test(value) || /^\/?\?room=/i.test(value);
  if (looksLikeLink) {
    let url;
    try {
      url = new URL(/^https?:\/\//i.test(value) || value.startsWith('/') || value.startsWith('?') ? value : `https://${value}`, loc.href);
    } catch {
      return { error: 'That link does not look like a meeting invite. Paste the whole link, or type the meeting name.' };
    }
    const room = (url.searchParams.get('room') ?? '').trim();
    if (room === '') return { error: 'That link does not look like a meeting invite. Paste the whole link, or type the meeting name.' };
    return { room, passcode: passcodeFromHash(url.hash) };
  }
  return { room: value, passcode: null };
}

/** Why `passcode` cannot be used, or '' when it can (4 to 64 characters, no control characters). */
export function passcodeProblem(passcode) {
  const n = [...passcode].length;
  if (n < PASSCODE_MIN || n > PASSCODE_MAX) return `A passcode has ${PASSCODE_MIN} to ${PASSCODE_MAX} characters.`;
  if (CONTROL_RE.test(passcode)) return 'A passcode cannot contain line breaks or other control characters.';
  return '';
}

/** The passcode this tab knows for `room`, or null. */
export function knownPasscode(room) {
  try {
    return sessionStorage.getItem(PW_PREFIX + room) || null;
  } catch {
    return null;
  }
}

/** Remembers (or, with null, forgets) the passcode of `room` for this tab. */
export function rememberPasscode(room, passcode) {
  try {
    if (passcode) sessionStorage.setItem(PW_PREFIX + room, passcode);
    else sessionStorage.removeItem(PW_PREFIX + room);
  } catch {
    /* storage blocked: the passcode lives in memory only */
  }
}
