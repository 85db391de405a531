// SPDX-License-Identifier: MIT
// The home screen's live list of the meetings their creators chose to list: one big button per
// room with its head count and capacity ("3/8"). Full and locked rooms are marked and cannot
// be picked; a room with a passcode is marked with a key (the pre-join screen asks for it).

import { el } from './dom.js';
import { icon } from './icons.js';

export class RoomList {
  #list;
  #empty;
  #onPick;

  /** `onPick(name, {protected})` runs when the user taps a room. */
  constructor(listEl, emptyEl, onPick) {
    this.#list = listEl;
    this.#empty = emptyEl;
    this.#onPick = onPick;
  }

  /** Replaces the list with `rooms` ([{name, count, capacity, locked, protected}]), sorted by name. */
  render(rooms) {
    const valid = (Array.isArray(rooms) ? rooms : [])
      .filter((r) => r && typeof r.name === 'string')
      .sort((a, b) => a.name.localeCompare(b.name));
    const items = valid.map((room) => {
      const count = Number.isInteger(room.count) ? room.count : 0;
      const capacity = Number.isInteger(room.capacity) && room.capacity > 0 ? room.capacity : null;
      const full = capacity !== null && count >= capacity;
      const locked = room.locked === true;
      const guarded = room.protected === true;
      const status = locked ? 'Locked' : full ? 'Full' : '';
      const said = [
        `${count}${capacity !== null ? ` of ${capacity}` : ''} in it`,
        locked ? 'locked by the host' : '',
        full ? 'full' : '',
        guarded && !locked && !full ? 'needs a passcode' : '',
      ].filter(Boolean).join(', ');
      const marks = el('span', { className: 'room-marks' });
      if (guarded) marks.append(el('span', { className: 'room-mark', title: 'Needs a passcode' }, icon('key')));
      if (locked) marks.append(el('span', { className: 'room-mark', title: 'Locked by the host' }, icon('lock')));
      if (status) marks.append(el('span', { className: 'room-status', text: status }));
      const button = el(
        'button',
        {
          className: 'btn room-item',
          type: 'button',
          disabled: locked || full,
          dataset: {
            room: room.name,
            count: String(count),
            capacity: capacity === null ? '' : String(capacity),
            locked: String(locked),
            full: String(full),
            protected: String(guarded),
          },
          attrs: { 'aria-label': `${locked || full ? '' : 'Join '}${room.name}, ${said}` },
        },
        el('span', { className: 'room-name', text: room.name }),
        marks,
        el('span', { className: 'room-count', text: capacity !== null ? `${count}/${capacity}` : String(count) }),
      );
      button.addEventListener('click', () => this.#onPick(room.name, { protected: guarded }));
      return el('li', {}, button);
    });
    this.#list.replaceChildren(...items);
    this.#empty.hidden = items.length > 0;
  }
}
