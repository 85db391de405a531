// SPDX-License-Identifier: MIT
// Page-level steps for huddle's UI, shared by the scenarios (what a user clicks and reads).

const WAIT_MS = 20000;

/** Opens the home page and waits until the server's greeting is shown. */
export async function openHome(page, path = '/') {
  await page.goto(path);
  await page.locator('#conn-state[data-state="open"]').waitFor({ timeout: WAIT_MS });
}

/** Waits for an element matching `selector` whose text contains `text`. */
export async function seeText(page, selector, text, ms = WAIT_MS) {
  await page.locator(selector, { hasText: text }).first().waitFor({ timeout: ms });
}

/** Types a nickname into the home form and waits until the server confirmed it. */
export async function setNickname(page, nickname) {
  await page.fill('#nick-input', nickname);
  await page.click('#nick-submit');
  await page.locator('#nick-current', { hasText: nickname }).waitFor({ timeout: WAIT_MS });
}

/** Joins (or creates) `room` with the home form and waits for the room screen. */
export async function joinRoom(page, room) {
  await page.fill('#room-input', room);
  await page.click('#join-form button[type="submit"]');
  await waitInRoom(page, room);
}

/** Waits until the room screen shows `room`; resolves to the member count in its header. */
export async function waitInRoom(page, room, count) {
  const title = count === undefined ? `Room ${room} (` : `Room ${room} (${count})`;
  await page.locator('#room-title', { hasText: title }).waitFor({ timeout: WAIT_MS });
  const text = await page.textContent('#room-title');
  return Number(/\((\d+)\)$/.exec(text)[1]);
}

/** Sends a chat line from the room screen. */
export async function sendChat(page, text) {
  await page.fill('#chat-input', text);
  await page.click('#chat-form button[type="submit"]');
}

/** Waits for a chat log entry containing `text`. */
export async function seeInLog(page, text, ms = WAIT_MS) {
  await seeText(page, '#chat-log li', text, ms);
}

/** Waits until the home screen's room list shows `room` with `count` members. */
export async function seeRoomInList(page, room, count, ms = WAIT_MS) {
  const button = page.locator(`#room-list button[data-room="${room}"][data-count="${count}"]`);
  await button.waitFor({ timeout: ms });
  return button;
}
