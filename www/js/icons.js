// SPDX-License-Identifier: MIT
// Inline SVG icons (24x24, stroked, after Lucide's shapes), built with createElementNS: no
// markup strings, no files. fillIcons() fills every [data-icon] placeholder of the page.

const NS = 'http://www.w3.org/2000/svg';

// Each icon: a list of [tag, attributes].
const SHAPES = {
  mic: [
    ['path', { d: 'M12 2a3 3 0 0 0-3 3v7a3 3 0 0 0 6 0V5a3 3 0 0 0-3-3Z' }],
    ['path', { d: 'M19 10v2a7 7 0 0 1-14 0v-2M12 19v3' }],
  ],
  'mic-off': [
    ['path', { d: 'M15 9.3V5a3 3 0 0 0-5.7-1.3M9 9v3a3 3 0 0 0 5.1 2.1' }],
    ['path', { d: 'M19 10v2a7 7 0 0 1-.9 3.4M16.5 17.5A7 7 0 0 1 5 12v-2M12 19v3' }],
    ['path', { d: 'M3 3l18 18' }],
  ],
  cam: [
    ['path', { d: 'm16 13 5.2 3.5a.5.5 0 0 0 .8-.4V7.9a.5.5 0 0 0-.8-.4L16 10.5' }],
    ['rect', { x: 2, y: 6, width: 14, height: 12, rx: 2 }],
  ],
  'cam-off': [
    ['path', { d: 'M10.7 6H14a2 2 0 0 1 2 2v3.3l1 1 4.2 3.2a.5.5 0 0 0 .8-.4V7.9a.5.5 0 0 0-.8-.4L16 10.5' }],
    ['path', { d: 'M16 16a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h2' }],
    ['path', { d: 'M3 3l18 18' }],
  ],
  share: [
    ['rect', { x: 2, y: 3, width: 20, height: 14, rx: 2 }],
    ['path', { d: 'M8 21h8M12 17v4M9 10l3-3 3 3M12 7v7' }],
  ],
  hand: [
    ['path', { d: 'M18 11V6a2 2 0 0 0-4 0v5M14 10V4a2 2 0 0 0-4 0v6M10 10.5V6a2 2 0 0 0-4 0v8a8 8 0 0 0 16 0v-3a2 2 0 0 0-4 0' }],
  ],
  more: [
    ['circle', { cx: 12, cy: 5, r: 1.3, class: 'fill' }],
    ['circle', { cx: 12, cy: 12, r: 1.3, class: 'fill' }],
    ['circle', { cx: 12, cy: 19, r: 1.3, class: 'fill' }],
  ],
  leave: [
    ['path', { d: 'M3.5 14.5c4.7-4.6 12.3-4.6 17 0l-2.3 2.4-3.4-1.4v-2.6a9.6 9.6 0 0 0-5.6 0v2.6l-3.4 1.4z', class: 'fill' }],
  ],
  people: [
    ['path', { d: 'M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2' }],
    ['circle', { cx: 9, cy: 7, r: 4 }],
    ['path', { d: 'M22 21v-2a4 4 0 0 0-3-3.9M16 3.1a4 4 0 0 1 0 7.8' }],
  ],
  chat: [['path', { d: 'M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z' }]],
  close: [['path', { d: 'M18 6 6 18M6 6l12 12' }]],
  send: [['path', { d: 'M22 2 11 13M22 2l-7 20-4-9-9-4z' }]],
  link: [
    ['path', { d: 'M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.8 1.7' }],
    ['path', { d: 'M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7' }],
  ],
  flip: [['path', { d: 'M3 12a9 9 0 0 1 15-6.7L21 8M21 3v5h-5M21 12a9 9 0 0 1-15 6.7L3 16M3 21v-5h5' }]],
  edit: [['path', { d: 'M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z' }]],
  pin: [['path', { d: 'M12 17v5M9 3h6l-1 7 4 4H6l4-4z' }]],
  unpin: [['path', { d: 'M12 17v5M9 3h6l-1 7 4 4H6l4-4zM3 3l18 18' }]],
  full: [['path', { d: 'M8 3H5a2 2 0 0 0-2 2v3M21 8V5a2 2 0 0 0-2-2h-3M16 21h3a2 2 0 0 0 2-2v-3M3 16v3a2 2 0 0 0 2 2h3' }]],
  alert: [['path', { d: 'M12 9v4M12 17h.01M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z' }]],
  lock: [
    ['rect', { x: 4, y: 11, width: 16, height: 10, rx: 2 }],
    ['path', { d: 'M8 11V7a4 4 0 0 1 8 0v4' }],
  ],
  unlock: [
    ['rect', { x: 4, y: 11, width: 16, height: 10, rx: 2 }],
    ['path', { d: 'M8 11V7a4 4 0 0 1 7.8-1.2' }],
  ],
  key: [
    ['circle', { cx: 7.5, cy: 15.5, r: 4.5 }],
    ['path', { d: 'm10.7 12.3 9.8-9.8M16 7l3 3M19 4l2 2' }],
  ],
  'user-x': [
    ['path', { d: 'M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2' }],
    ['circle', { cx: 9, cy: 7, r: 4 }],
    ['path', { d: 'm17 8 5 5M22 8l-5 5' }],
  ],
  'video-plus': [
    ['path', { d: 'm16 13 5.2 3.5a.5.5 0 0 0 .8-.4V7.9a.5.5 0 0 0-.8-.4L16 10.5' }],
    ['rect', { x: 2, y: 6, width: 14, height: 12, rx: 2 }],
    ['path', { d: 'M9 9v6M6 12h6' }],
  ],
  bars: [
    ['rect', { x: 3, y: 15, width: 4, height: 6, rx: 1, class: 'fill bar1' }],
    ['rect', { x: 10, y: 10, width: 4, height: 11, rx: 1, class: 'fill bar2' }],
    ['rect', { x: 17, y: 4, width: 4, height: 17, rx: 1, class: 'fill bar3' }],
  ],
};

/** A new <svg> element for icon `name` (aria-hidden: the button around it carries the label). */
export function icon(name) {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.classList.add('svg-icon');
  for (const [tag, attrs] of SHAPES[name] ?? []) {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    svg.append(node);
  }
  return svg;
}

/** Shows icon `name` inside `holder` (an element with data-icon), replacing what was there. */
export function setIcon(holder, name) {
  if (holder.dataset.icon === name && holder.firstChild) return;
  holder.dataset.icon = name;
  holder.replaceChildren(icon(name));
}

/** Fills every [data-icon] element under `root`. */
export function fillIcons(root = document) {
  for (const holder of root.querySelectorAll('[data-icon]')) holder.replaceChildren(icon(holder.dataset.icon));
}

/**
 * Shows a microphone/camera toggle: `what` ('microphone'), `icon` ('mic'; 'mic-off' when off),
 * `key` the shortcut letter or ''. Pressed (red) when off or unavailable.
 */
export function showToggle(button, { available, on, what, icon: name, key = '' }) {
  const live = available && on;
  const label = !available ? `No ${what}` : `Turn ${on ? 'off' : 'on'} ${what}${key ? ` (${key})` : ''}`;
  button.disabled = !available;
  button.setAttribute('aria-pressed', String(!live));
  button.setAttribute('aria-label', label);
  button.title = label;
  setIcon(button.querySelector('.ico'), live ? name : `${name}-off`);
}
