// SPDX-License-Identifier: MIT
// Page-level steps for huddle's UI, shared by the scenarios (what a user clicks and reads).

const WAIT_MS = 20000;

/** Opens the home page and waits until the connection is up. */
export async function openHome(page, path = '/') {
  await page.goto(path);
  await page.locator('#conn-state[data-state="open"]').waitFor({ timeout: WAIT_MS });
}

/** Waits for an element matching `selector` whose text contains `text`. */
export async function seeText(page, selector, text, ms = WAIT_MS) {
  await page.locator(selector, { hasText: text }).first().waitFor({ timeout: ms });
}

/** Types the name into the home form (remembered, sent when joining). */
export async function setNickname(page, nickname) {
  await page.fill('#nick-input', nickname);
}

/** On the pre-join screen: waits for it, then clicks "Join now". */
export async function joinFromPreJoin(page) {
  await page.locator('#prejoin').waitFor({ timeout: WAIT_MS });
  await page.click('#prejoin-join');
}

/** Joins (or creates) `room` from the home form through the pre-join screen. */
export async function joinRoom(page, room) {
  await page.fill('#room-input', room);
  await page.click('#join-btn');
  await joinFromPreJoin(page);
  await waitInRoom(page, room);
}

/**
 * Starts a new meeting from the home screen ("New meeting"): `room` replaces the made-up name
 * when given, `listed` ticks "List this meeting publicly", `passcode` sets one. Goes through the
 * pre-join screen and resolves to the meeting's name once in the call.
 */
export async function createMeeting(page, { room, listed = false, passcode } = {}) {
  await page.click('#new-btn');
  await page.locator('#create-form').waitFor({ timeout: WAIT_MS });
  if (room !== undefined) await page.fill('#create-name', room);
  if (listed) await page.check('#create-listed');
  if (passcode !== undefined) await page.fill('#create-passcode', passcode);
  await page.click('#create-start');
  await joinFromPreJoin(page);
  await page.locator('#room:not([hidden])').waitFor({ timeout: WAIT_MS });
  const name = await page.getAttribute('#room', 'data-room');
  await waitInRoom(page, name);
  return name;
}

/** Waits until the call screen shows `room` (with `count` people, within `ms`); resolves to the count. */
export async function waitInRoom(page, room, count, ms = WAIT_MS) {
  const sel = count === undefined ? `#room[data-room="${room}"]` : `#room[data-room="${room}"][data-count="${count}"]`;
  await page.locator(sel).waitFor({ timeout: ms });
  return Number(await page.getAttribute('#room', 'data-count'));
}

/** Opens the chat panel (if closed). */
export async function openChat(page) {
  if ((await page.getAttribute('#chat-btn', 'aria-pressed')) !== 'true') await page.click('#chat-btn');
  await page.locator('#chat-input').waitFor({ timeout: WAIT_MS });
}

/** Sends a chat line from the call screen. */
export async function sendChat(page, text) {
  await openChat(page);
  await page.fill('#chat-input', text);
  await page.click('#chat-send');
}

/** Waits for a chat log entry containing `text` (the panel may be closed). */
export async function seeInLog(page, text, ms = WAIT_MS) {
  await page.locator('#chat-log li', { hasText: text }).first().waitFor({ state: 'attached', timeout: ms });
}

/** Opens the "More options" menu (if closed). */
export async function openMore(page) {
  if ((await page.getAttribute('#more-btn', 'aria-expanded')) !== 'true') await page.click('#more-btn');
  await page.locator('#more-menu').waitFor({ timeout: WAIT_MS });
}

/** Waits until the home screen's room list shows `room` with `count` members. */
export async function seeRoomInList(page, room, count, ms = WAIT_MS) {
  const button = page.locator(`#room-list button[data-room="${room}"][data-count="${count}"]`);
  await button.waitFor({ timeout: ms });
  return button;
}

/** The own tile's name on the call screen. */
export async function seeOwnName(page, nickname) {
  await seeText(page, '#grid .tile-self .tile-name', nickname);
}
