// SPDX-License-Identifier: MIT
// The course's chat server on Node's http + ws, kept as the benchmark baseline for huddle. It speaks
// the same protocol subset (docs/protocol.md, issue 3) with the same limits, written the way the
// course did: JSON.parse / JSON.stringify, and one ws.send per member.
'use strict';

const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

function envInt(name, def) {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number.parseInt(v, 10);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`node-peer: ${name} must be a non-negative integer`);
    process.exit(2);
  }
  return n;
}

const config = {
  host: process.env.HOST || '127.0.0.1',
  port: envInt('PORT', 3003),
  greeting: process.env.GREETING || 'hello!',
  maxRoomMembers: envInt('MAX_ROOM_MEMBERS', 8),
  maxRooms: envInt('MAX_ROOMS', 1000),
  maxConnections: envInt('MAX_CONNECTIONS', 200),
  maxMessageBytes: envInt('MAX_MESSAGE_BYTES', 65536),
  sendQueueBytes: envInt('SEND_QUEUE_BYTES', 1048576),
  ratePerSec: envInt('RATE_LIMIT_PER_SEC', 100), // 0 = off
  rateBurst: envInt('RATE_LIMIT_BURST', 500),
  logLevel: process.env.LOG_LEVEL || 'info',
};

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 };
function log(level, ...args) {
  if (LEVELS[level] >= (LEVELS[config.logLevel] ?? 1)) console.log(`[${level}]`, ...args);
}

const NICKNAME_MAX = 32;
const ROOM_MAX = 64;
const CHAT_MAX = 2000;
const DEFAULT_NICK = 'Anon';
const ROOMS_FLUSH_MS = 100;
const CONTROL = /\p{Cc}/u;
const CONTROL_EXCEPT_BREAKS = /[^\P{Cc}\n\r\t]/u;

const clients = new Set(); // every open session
const rooms = new Map(); // name -> { name, members: Set<client>, seq }
let nextId = 1;
let roomsDirty = false;
let roomsTimer = null;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function send(client, obj) {
  sendRaw(client, JSON.stringify(obj));
}

// Sends an already serialized message; a client that stops reading is closed (1008) like huddle's
// bounded send queue does, instead of letting ws buffer without limit.
function sendRaw(client, str) {
  const ws = client.ws;
  if (ws.readyState !== WebSocket.OPEN) return;
  if (ws.bufferedAmount > config.sendQueueBytes) {
    log('warn', `client ${client.id} is not reading: closing`);
    ws.close(1008, 'send queue overflow');
    return;
  }
  ws.send(str);
}

function sendError(client, code, message) {
  send(client, { type: 'error', code, message });
}

// Trims s and checks 1..max code points and control characters; returns the trimmed string or an
// error message.
function cleanText(s, max, allowBreaks, what) {
  const t = s.trim();
  if (t.length === 0) return { error: `${what} must not be empty` };
  if ((allowBreaks ? CONTROL_EXCEPT_BREAKS : CONTROL).test(t)) return { error: `${what} contains control characters` };
  let count = 0;
  for (const _ of t) {
    if (++count > max) return { error: `${what} is longer than ${max} characters` };
  }
  return { value: t };
}

function roomList() {
  const list = [];
  for (const room of rooms.values()) list.push({ name: room.name, count: room.members.size });
  list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return list;
}

function markRoomsDirty() {
  roomsDirty = true;
  if (!roomsTimer) roomsTimer = setTimeout(flushRooms, ROOMS_FLUSH_MS);
}

// Connections not in a room get the room list whenever it changed (coalesced).
function flushRooms() {
  roomsTimer = null;
  if (!roomsDirty) return;
  roomsDirty = false;
  const msg = JSON.stringify({ type: 'rooms', rooms: roomList() });
  for (const client of clients) {
    if (!client.room) sendRaw(client, msg);
  }
}

function broadcast(room, obj, skip) {
  const msg = JSON.stringify(obj);
  for (const member of room.members) {
    if (member !== skip) sendRaw(member, msg);
  }
}

function leaveRoom(client) {
  const room = client.room;
  if (!room) return;
  room.members.delete(client);
  client.room = null;
  markRoomsDirty();
  log('info', `client ${client.id} left room '${room.name}' (${room.members.size} left)`);
  if (room.members.size === 0) {
    rooms.delete(room.name);
    return;
  }
  broadcast(room, {
    type: 'bye',
    room: room.name,
    id: client.id,
    nickname: client.nickname,
    count: room.members.size,
  });
}

function sendJoined(client) {
  const room = client.room;
  const members = [];
  for (const m of room.members) {
    if (m !== client) members.push({ id: m.id, nickname: m.nickname });
  }
  send(client, { type: 'joined', room: room.name, id: client.id, members, count: room.members.size });
}

function chat(client, text) {
  const room = client.room;
  room.seq += 1;
  broadcast(room, {
    type: 'chat',
    room: room.name,
    from: { id: client.id, nickname: client.nickname },
    text,
    seq: room.seq,
    ts: Date.now(),
  });
}

const handlers = {
  nickname(client, msg) {
    if (typeof msg.nickname !== 'string') return sendError(client, 'bad_field', "'nickname' must be a string");
    const r = cleanText(msg.nickname, NICKNAME_MAX, false, 'nickname');
    if (r.error) return sendError(client, 'bad_field', r.error);
    const old = client.nickname;
    client.nickname = r.value;
    send(client, { type: 'nickname', nickname: client.nickname });
    if (client.room) {
      broadcast(client.room, { type: 'renamed', id: client.id, old, nickname: client.nickname }, client);
    }
  },

  join(client, msg) {
    if (typeof msg.room !== 'string') return sendError(client, 'bad_field', "'room' must be a string");
    const r = cleanText(msg.room, ROOM_MAX, false, 'room');
    if (r.error) return sendError(client, 'bad_field', r.error);
    const name = r.value;
    if (client.room && client.room.name === name) return sendJoined(client);
    let room = rooms.get(name);
    if (room && room.members.size >= config.maxRoomMembers) {
      return sendError(client, 'room_full', 'the room is full');
    }
    const freesOne = client.room && client.room.members.size === 1;
    if (!room && rooms.size - (freesOne ? 1 : 0) >= config.maxRooms) {
      return sendError(client, 'room_full', 'the server has no room for another room');
    }
    leaveRoom(client);
    if (!room) {
      room = { name, members: new Set(), seq: 0 };
      rooms.set(name, room);
    }
    room.members.add(client);
    client.room = room;
    markRoomsDirty();
    log('info', `client ${client.id} joined room '${name}' (${room.members.size} members)`);
    sendJoined(client);
    broadcast(
      room,
      { type: 'welcome', room: name, id: client.id, nickname: client.nickname, count: room.members.size },
      client,
    );
  },

  leave(client) {
    if (!client.room) return sendError(client, 'not_in_room', 'you are not in a room');
    const name = client.room.name;
    leaveRoom(client);
    send(client, { type: 'left', room: name });
  },

  chat(client, msg) {
    if (typeof msg.text !== 'string') return sendError(client, 'bad_field', "'text' must be a string");
    const r = cleanText(msg.text, CHAT_MAX, true, 'text');
    if (r.error) return sendError(client, 'bad_field', r.error);
    if (!client.room) return sendError(client, 'not_in_room', 'join a room to chat');
    chat(client, r.value);
  },

  signal(client, msg) {
    if (!Number.isInteger(msg.to) || msg.to <= 0) return sendError(client, 'bad_field', "'to' must be a session id");
    if (!('data' in msg)) return sendError(client, 'bad_field', "missing field 'data'");
    let peer = null;
    if (client.room) {
      for (const m of client.room.members) if (m.id === msg.to) peer = m;
    }
    if (!peer || peer === client) return sendError(client, 'no_such_peer', 'no such peer in your room');
    send(peer, { type: 'signal', from: client.id, data: msg.data });
  },

  list(client) {
    send(client, { type: 'rooms', rooms: roomList() });
  },
};

// Token bucket: true when the client may send one more message now.
function rateOk(client) {
  if (!config.ratePerSec) return true;
  const now = Date.now();
  client.tokens = Math.min(config.rateBurst, client.tokens + ((now - client.refill) * config.ratePerSec) / 1000);
  client.refill = now;
  if (client.tokens < 1) return false;
  client.tokens -= 1;
  return true;
}

function onMessage(client, data, isBinary) {
  let text;
  if (isBinary) {
    try {
      text = utf8.decode(data);
    } catch {
      client.ws.close(1007, 'invalid utf-8');
      return;
    }
  } else {
    text = data.toString();
  }
  if (!rateOk(client)) return sendError(client, 'rate_limited', 'too many messages: slow down');
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') {
    // plain text: a chat message inside a room, only logged outside
    log(client.room ? 'debug' : 'info', `client ${client.id} says: ${text.slice(0, 200)}`);
    if (!client.room) return;
    const r = cleanText(text, CHAT_MAX, true, 'text');
    if (r.error) return sendError(client, 'bad_field', r.error);
    return chat(client, r.value);
  }
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    return sendError(client, 'bad_json', 'not valid JSON');
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    return sendError(client, 'bad_json', 'expected a JSON object');
  }
  if (typeof msg.type !== 'string') return sendError(client, 'unknown_type', "missing string field 'type'");
  const handler = Object.hasOwn(handlers, msg.type) ? handlers[msg.type] : null;
  if (!handler) return sendError(client, 'unknown_type', 'unknown message type');
  handler(client, msg);
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok' }));
  } else if (req.url === '/api/rooms') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ rooms: roomList() }));
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  }
});

const wss = new WebSocketServer({
  server,
  maxPayload: config.maxMessageBytes,
  verifyClient(info, done) {
    if (clients.size >= config.maxConnections) {
      log('warn', `refused WebSocket: server full (max ${config.maxConnections})`);
      return done(false, 503, 'server full', { 'Retry-After': '5' });
    }
    return done(true);
  },
});

wss.on('connection', (ws, req) => {
  const client = {
    id: nextId++,
    ws,
    nickname: DEFAULT_NICK,
    room: null,
    tokens: config.rateBurst,
    refill: Date.now(),
  };
  clients.add(client);
  log('info', `client ${client.id} connected from ${req.socket.remoteAddress}`);
  send(client, { type: 'hello', text: config.greeting, id: client.id, nickname: client.nickname, rooms: roomList() });

  ws.on('message', (data, isBinary) => onMessage(client, data, isBinary));
  ws.on('close', () => {
    clients.delete(client);
    leaveRoom(client);
    log('info', `client ${client.id} disconnected`);
  });
  ws.on('error', (err) => log('info', `client ${client.id}: ${err.message}`));
});

function shutdown(signal) {
  log('info', `${signal}: closing every WebSocket with 1001 and stopping`);
  for (const client of clients) client.ws.close(1001, 'server shutting down');
  wss.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1500).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

server.listen(config.port, config.host, () => {
  const { address, port } = server.address();
  console.log(`listening on http://${address}:${port}`);
});
