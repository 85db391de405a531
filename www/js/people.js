// SPDX-License-Identifier: MIT
// The participant list: everyone in the call with a raised hand, microphone and camera state,
// speaking, and connection quality (read from the tiles, which hold the live state).

import { el } from './dom.js';
import { icon } from './icons.js';
import { avatarColor } from './tiles.js';

function stateIcon(name, label, className) {
  return el('span', { className: `pl-icon ${className}`, title: label, attrs: { role: 'img', 'aria-label': label } }, icon(name));
}

/**
 * Renders `people` ([{key, nickname, self, tile}]) into `list`. Hands first (in the order they
 * were raised), then you, then the others by name.
 */
export function renderPeople(list, people) {
  const sorted = [...people].sort((a, b) => {
    const ha = a.tile?.root.dataset.hand === 'true';
    const hb = b.tile?.root.dataset.hand === 'true';
    if (ha !== hb) return ha ? -1 : 1;
    if (a.self !== b.self) return a.self ? -1 : 1;
    return a.nickname.localeCompare(b.nickname);
  });
  const items = sorted.map((p) => {
    const d = p.tile ? p.tile.root.dataset : {};
    const name = p.self ? `${p.nickname} (you)` : p.nickname;
    const avatar = el('span', { className: 'avatar avatar-small', text: ([...p.nickname][0] ?? '?').toUpperCase() });
    avatar.style.background = avatarColor(p.nickname);
    const icons = el('span', { className: 'pl-icons' });
    if (d.hand === 'true') icons.append(el('span', { className: 'pl-icon pl-hand', title: 'Hand raised', text: '✋', attrs: { role: 'img', 'aria-label': 'Hand raised' } }));
    if (d.quality) icons.append(stateIcon('bars', `${d.quality[0].toUpperCase()}${d.quality.slice(1)} connection`, `pl-quality q-${d.quality}`));
    if (d.video === 'off') icons.append(stateIcon('cam-off', 'Camera off', 'pl-off'));
    if (d.audio === 'off') icons.append(stateIcon('mic-off', 'Microphone off', 'pl-off'));
    else icons.append(stateIcon('mic', d.speaking === 'true' ? 'Speaking' : 'Microphone on', d.speaking === 'true' ? 'pl-speaking' : 'pl-on'));
    return el(
      'li',
      { className: 'pl-item', dataset: { peer: String(p.key), speaking: d.speaking ?? 'false', hand: d.hand ?? 'false', audio: d.audio ?? 'on' } },
      avatar,
      el('span', { className: 'pl-name', text: name }),
      icons,
    );
  });
  list.replaceChildren(...items);
}
