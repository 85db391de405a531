// SPDX-License-Identifier: MIT
// The home screen's live list of open rooms: one big button per room with its member count.

import { el } from './dom.js';

export class RoomList {
  #list;
  #empty;
  #onPick;

  /** `onPick(name)` runs when the user taps a room. */
  constructor(listEl, emptyEl, onPick) {
    this.#list = listEl;
    this.#empty = emptyEl;
    this.#onPick = onPick;
  }

  /** Replaces the list with `rooms` ([{name, count}]), sorted by name. */
  render(rooms) {
    const valid = (Array.isArray(rooms) ? rooms : [])
      .filter((r) => r && typeof r.name === 'string')
      .sort((a, b) => a.name.localeCompare(b.name));
    const items = valid.map((room) => {
      const count = Number.isInteger(room.count) ? room.count : 0;
      const button = el(
        'button',
        {
          className: 'btn room-item',
          type: 'button',
          dataset: { room: room.name, count: String(count) },
          attrs: { 'aria-label': `Join room ${room.name}, ${count} in it` },
        },
        el('span', { className: 'room-name', text: room.name }),
        el('span', { className: 'room-count', text: String(count) }),
      );
      button.addEventListener('click', () => this.#onPick(room.name));
      return el('li', {}, button);
    });
    this.#list.replaceChildren(...items);
    this.#empty.hidden = items.length > 0;
  }
}
