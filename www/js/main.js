// SPDX-License-Identifier: MIT
// Entry point: builds the screens (home, pre-join, the call, "you left" or "you were removed"),
// the call and the session, and wires them together: the socket feeds the session
// (session.js, the state and every server message), and the session tells the screens what
// changed through the `view` below.

import { byId } from './dom.js';
import { HuddleSocket } from './socket.js';
import { ChatLog } from './chat.js';
import { readInvite, clearInvite, clearHash, rememberPasscode } from './invite.js';
import { Meeting, serverConfig } from './meeting.js';
import { PreJoin } from './prejoin.js';
import { fillIcons } from './icons.js';
import { chime } from './audio.js';
import { SidePanel } from './panel.js';
import { store } from './store.js';
import { createSession } from './session.js';
import { Shell } from './shell.js';
import { HomeView } from './home.js';
import { LeftView } from './left.js';
import { RoomView } from './roomview.js';

fillIcons();

const params = new URLSearchParams(location.search);
const socket = new HuddleSocket();
const invite = readInvite();

/** What the session shows: each change goes to the screen that renders it. */
const view = {
  screen(name) {
    shell.screen(name);
    if (name !== 'prejoin') prejoin.close();
    if (name !== 'room') room.closeMenu();
    if (name === 'room') home.openCreate(false);
    updateTitle();
  },
  conn: () => shell.conn(),
  alert: (text) => shell.alert(text),
  toast: (text) => room.toast(text),
  notice: (text) => chat.notice(text),
  chat: (entry) => chat.message(entry),
  ownEcho: () => panel.ownEcho(),
  incoming: () => panel.incoming(),
  chatFailed: () => panel.chatFailed(),
  chatReset() {
    chat.clear();
    panel.setUnread(0);
  },
  leftRoom() {
    chat.clear();
    panel.reset();
  },
  notify: (title, body) => shell.notify(title, body),
  chime: (kind) => chime(kind),
  greeting: (text) => shell.greeting(text),
  rooms: (list) => home.rooms(list),
  prejoinCount: (count) => prejoin.setCount(count),
  openPreJoin: ({ room: name, count, ...options }) => prejoin.open(name, home.rememberedName(), count, options),
  prejoinRoom(name) {
    prejoin.setRoom(name);
    updateTitle();
  },
  askPasscode: (message, wrong) => prejoin.askPasscode(message, wrong),
  refuse: (text) => prejoin.refuse(text),
  asksPasscode: () => prejoin.asksPasscode,
  openCreate: (name) => home.openCreate(true, name),
  count: (n) => room.count(n),
  roomState: () => room.render(),
  people: () => panel.refreshPeople(),
  entered: (name) => room.entered(name),
  hand: (up) => room.hand(up),
  left: (mode, name) => left.render(mode, name),
  focus: (screen) => (screen === 'room' ? room.focus() : left.focus()),
  reaction: (emoji, who) => room.reaction(emoji, who),
  clearInvite: () => clearInvite(),
  nickname: (name) => store.set('name', name),
};

const meeting = new Meeting({ send: (message) => session.sendSignal(message), onProblem: (text) => shell.alert(text) });
const session = createSession({ socket, call: meeting, view, invite });
const state = session.state;
const shell = new Shell(session, socket, { debug: params.get('debug') === '1' });
const chat = new ChatLog(byId('chat-log'));
const panel = new SidePanel({
  chat,
  send: (message, context) => session.send(message, context),
  showAlert: (text) => shell.alert(text),
  people: () => [
    { key: 'self', nickname: state.nickname, self: true, host: session.isHost(), tile: meeting.grid.self() },
    ...[...state.members].map(([id, m]) => ({ key: id, nickname: m.nickname, self: false, host: id === state.host, tile: meeting.grid.get(id) })),
  ],
  isHost: () => session.isHost(),
  onRemove: (id) => session.remove(id),
  onChange: () => {
    updateTitle();
    meeting.grid.layout();
  },
});
const home = new HomeView(session, { alert: (text) => shell.alert(text) });
const prejoin = new PreJoin(meeting, {
  onJoin: (name, passcode) => {
    home.setName(name);
    return session.joinFromPreJoin(name, passcode);
  },
  onBack: () => session.back(),
  alert: (text) => shell.alert(text),
});
const left = new LeftView(session);
const room = new RoomView(session, { meeting, panel, alert: (text) => shell.alert(text) });

function updateTitle() {
  shell.title(panel.unread);
}

socket.addEventListener('state', () => shell.conn());
socket.addEventListener('open', () => session.opened());
socket.addEventListener('close', (ev) => session.closed(ev.detail.code));
socket.addEventListener('message', (ev) => session.handle(ev.detail));

// Closing the tab or navigating away leaves at once (no resume window for the others to wait).
window.addEventListener('pagehide', () => {
  if (state.room !== null) socket.send({ type: 'leave' });
  socket.close();
});

window.addEventListener('pageshow', (ev) => {
  if (ev.persisted) location.reload(); // back from the page cache with a closed socket
});

meeting.onLocalChange = () => session.sendState();
meeting.onTilesChange = () => panel.refreshPeople();

// A passcode in the fragment is kept for this tab and taken out of the address bar at once.
if (invite.room !== null && invite.passcode !== null) rememberPasscode(invite.room, invite.passcode);
clearHash();

shell.greeting('');
panel.open(null);
session.resetRoomState();
session.show('home');
serverConfig();
socket.connect();
