// SPDX-License-Identifier: MIT
// The participant list: everyone in the call with a raised hand, microphone and camera state,
// speaking, and connection quality (read from the tiles, which hold the live state), a "Host"
// badge, and for the host a Remove button per member (asks to confirm in place).
// The list refreshes twice a second: rows are kept and only their changed parts rebuilt, so a
// button under the pointer or the keyboard focus survives the refresh.

import { el } from './dom.js';
import { icon } from './icons.js';
import { avatarColor } from './tiles.js';

function stateIcon(name, label, className) {
  return el('span', { className: `pl-icon ${className}`, title: label, attrs: { role: 'img', 'aria-label': label } }, icon(name));
}

export class PeopleList {
  #list;
  #onRemove;
  #rows = new Map(); // key -> {li, avatar, name, badge, icons, actions, sig: {base, icons, actions}}
  #confirming = null; // the key whose removal waits for a confirm

  /** `onRemove(key, nickname)`: the host confirmed removing that member. */
  constructor(list, { onRemove }) {
    this.#list = list;
    this.#onRemove = onRemove;
  }

  /**
   * Renders `people` ([{key, nickname, self, host, tile}]); `canRemove`: we are the host.
   * Hands first (in the order they were raised), then you, then the others by name.
   */
  render(people, { canRemove = false } = {}) {
    const sorted = [...people].sort((a, b) => {
      const ha = a.tile?.root.dataset.hand === 'true';
      const hb = b.tile?.root.dataset.hand === 'true';
      if (ha !== hb) return ha ? -1 : 1;
      if (a.self !== b.self) return a.self ? -1 : 1;
      return a.nickname.localeCompare(b.nickname);
    });
    if (this.#confirming !== null && !people.some((p) => p.key === this.#confirming && !p.self)) this.#confirming = null;
    const keys = new Set();
    const nodes = sorted.map((p) => {
      keys.add(p.key);
      return this.#row(p, canRemove);
    });
    for (const key of [...this.#rows.keys()]) if (!keys.has(key)) this.#rows.delete(key);
    const now = this.#list.children;
    if (now.length !== nodes.length || nodes.some((n, i) => now[i] !== n)) this.#list.replaceChildren(...nodes);
  }

  /** Forgets every row (left the room). */
  clear() {
    this.#rows.clear();
    this.#confirming = null;
    this.#list.replaceChildren();
  }

  #row(p, canRemove) {
    let row = this.#rows.get(p.key);
    if (!row) {
      const avatar = el('span', { className: 'avatar avatar-small' });
      const name = el('span', { className: 'pl-name' });
      const badge = el('span', { className: 'pl-host', text: 'Host' });
      const who = el('span', { className: 'pl-who' }, name, badge);
      const icons = el('span', { className: 'pl-icons' });
      const actions = el('span', { className: 'pl-actions' });
      const li = el('li', { className: 'pl-item' }, avatar, who, icons, actions);
      row = { li, avatar, name, badge, icons, actions, sig: { base: null, icons: null, actions: null } };
      this.#rows.set(p.key, row);
    }
    const d = p.tile ? p.tile.root.dataset : {};
    Object.assign(row.li.dataset, { peer: String(p.key), speaking: d.speaking ?? 'false', hand: d.hand ?? 'false', audio: d.audio ?? 'on', host: String(Boolean(p.host)) });
    const base = JSON.stringify([p.nickname, p.self, Boolean(p.host)]);
    if (row.sig.base !== base) {
      row.sig.base = base;
      row.avatar.textContent = ([...p.nickname][0] ?? '?').toUpperCase();
      row.avatar.style.background = avatarColor(p.nickname);
      row.name.textContent = p.self ? `${p.nickname} (you)` : p.nickname;
      row.badge.hidden = !p.host;
    }
    const iconSig = JSON.stringify([d.hand, d.quality, d.video, d.audio, d.speaking]);
    if (row.sig.icons !== iconSig) {
      row.sig.icons = iconSig;
      const icons = [];
      if (d.hand === 'true') icons.push(el('span', { className: 'pl-icon pl-hand', title: 'Hand raised', text: '✋', attrs: { role: 'img', 'aria-label': 'Hand raised' } }));
      if (d.quality) icons.push(stateIcon('bars', `${d.quality[0].toUpperCase()}${d.quality.slice(1)} connection`, `pl-quality q-${d.quality}`));
      if (d.video === 'off') icons.push(stateIcon('cam-off', 'Camera off', 'pl-off'));
      if (d.audio === 'off') icons.push(stateIcon('mic-off', 'Microphone off', 'pl-off'));
      else icons.push(stateIcon('mic', d.speaking === 'true' ? 'Speaking' : 'Microphone on', d.speaking === 'true' ? 'pl-speaking' : 'pl-on'));
      row.icons.replaceChildren(...icons);
    }
    const mode = !canRemove || p.self ? '' : this.#confirming === p.key ? 'confirm' : 'remove';
    const actionSig = JSON.stringify([mode, p.nickname]);
    if (row.sig.actions !== actionSig) {
      const hadFocus = row.actions.contains(document.activeElement);
      row.sig.actions = actionSig;
      row.li.classList.toggle('pl-confirming', mode === 'confirm');
      row.actions.replaceChildren(...this.#actions(p, mode));
      if (hadFocus) row.actions.querySelector('button')?.focus();
    }
    return row.li;
  }

  #actions(p, mode) {
    if (mode === 'remove') {
      const remove = el(
        'button',
        { type: 'button', className: 'icon-btn pl-remove', title: `Remove ${p.nickname}`, attrs: { 'aria-label': `Remove ${p.nickname} from the meeting` } },
        icon('user-x'),
      );
      remove.addEventListener('click', () => {
        this.#confirming = p.key;
        this.#rerender(p);
      });
      return [remove];
    }
    if (mode === 'confirm') {
      const question = el('span', { className: 'pl-question', text: `Remove ${p.nickname}?` });
      const yes = el('button', { type: 'button', className: 'btn btn-small btn-danger pl-confirm-remove', text: 'Remove', attrs: { 'aria-label': `Remove ${p.nickname} from the meeting` } });
      const no = el('button', { type: 'button', className: 'btn btn-small btn-quiet pl-cancel', text: 'Cancel' });
      yes.addEventListener('click', () => {
        this.#confirming = null;
        this.#onRemove(p.key, p.nickname);
        this.#rerender(p);
      });
      no.addEventListener('click', () => {
        this.#confirming = null;
        this.#rerender(p);
      });
      return [question, yes, no];
    }
    return [];
  }

  /** After a click on a row's action: rebuild that row's buttons now, keeping the focus in the row. */
  #rerender(p) {
    const row = this.#rows.get(p.key);
    if (!row) return;
    const mode = this.#confirming === p.key ? 'confirm' : 'remove';
    row.sig.actions = JSON.stringify([mode, p.nickname]);
    row.li.classList.toggle('pl-confirming', mode === 'confirm');
    row.actions.replaceChildren(...this.#actions(p, mode));
    row.actions.querySelector(mode === 'confirm' ? '.pl-cancel' : 'button')?.focus();
  }
}
