// SPDX-License-Identifier: MIT
// Invite links, a stable contract: /?room=NAME asks for a nickname then joins;
// /?room=NAME&name=NICK joins as NICK straight away.

/** {room, name} from the page URL; each is a trimmed string or null. */
export function readInvite(loc = location) {
  const params = new URLSearchParams(loc.search);
  const pick = (key) => {
    const value = (params.get(key) ?? '').trim();
    return value === '' ? null : value;
  };
  return { room: pick('room'), name: pick('name') };
}

/** The link that brings someone else into `room`. */
export function inviteUrl(room, loc = location) {
  const url = new URL('/', loc.href);
  url.searchParams.set('room', room);
  return url.href;
}

/** Drops the invite parameters from the address bar so a reload does not rejoin as someone else. */
export function clearInvite() {
  if (location.search === '') return;
  history.replaceState(null, '', location.pathname);
}
