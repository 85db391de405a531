// SPDX-License-Identifier: MIT
// Where each tile goes on the stage (pure arithmetic, no DOM): a grid that fills the stage with
// the biggest tiles that fit, a small self view once others are present, and a spotlight (a
// pinned tile or a shared screen) with the others in a strip beside or below it.

const GAP = 8;
const MAX_ASPECT = 16 / 9; // tiles may be this wide, and as tall as 4:3 on a landscape
const MIN_ASPECT_PORTRAIT = 3 / 4; // stage or 3:4 on a portrait one

/** The grid of `n` equal tiles in w x h with the largest tile area: {cols, rows, tw, th}. */
export function bestGrid(n, w, h, gap = GAP) {
  let best = { cols: 1, rows: 1, tw: 0, th: 0 };
  const minAspect = w >= h ? 4 / 3 : MIN_ASPECT_PORTRAIT;
  for (let cols = 1; cols <= n; cols += 1) {
    const rows = Math.ceil(n / cols);
    const cw = (w - gap * (cols - 1)) / cols;
    const ch = (h - gap * (rows - 1)) / rows;
    if (cw <= 0 || ch <= 0) continue;
    const aspect = Math.min(MAX_ASPECT, Math.max(minAspect, cw / ch));
    const tw = Math.min(cw, ch * aspect);
    const th = tw / aspect;
    if (tw * th > best.tw * best.th + 1) best = { cols, rows, tw, th };
  }
  return best;
}

/** Rects for `keys` as a centred grid inside the box {x, y, w, h}. */
function gridRects(keys, box, gap = GAP) {
  const out = new Map();
  if (keys.length === 0) return out;
  const { cols, rows, tw, th } = bestGrid(keys.length, box.w, box.h, gap);
  const usedH = rows * th + (rows - 1) * gap;
  const top = box.y + (box.h - usedH) / 2;
  keys.forEach((key, i) => {
    const row = Math.floor(i / cols);
    const inRow = row === rows - 1 ? keys.length - row * cols : cols;
    const col = i - row * cols;
    const rowW = inRow * tw + (inRow - 1) * gap;
    const left = box.x + (box.w - rowW) / 2;
    out.set(key, { x: left + col * (tw + gap), y: top + row * (th + gap), w: tw, h: th });
  });
  return out;
}

/** Rects for `keys` in a strip: a column (vertical) or a row, tiles 16:9 shrunk to fit. */
function stripRects(keys, box, vertical, gap = GAP) {
  const out = new Map();
  const n = keys.length;
  if (n === 0) return out;
  let tw;
  let th;
  if (vertical) {
    tw = box.w;
    th = Math.min(tw * 9 / 16, (box.h - gap * (n - 1)) / n);
    tw = Math.min(tw, th * 16 / 9);
  } else {
    th = box.h;
    tw = Math.min(th * 16 / 9, (box.w - gap * (n - 1)) / n);
    th = Math.min(th, tw * 9 / 16 * 1.4);
  }
  const total = vertical ? n * th + (n - 1) * gap : n * tw + (n - 1) * gap;
  keys.forEach((key, i) => {
    if (vertical) {
      out.set(key, { x: box.x + (box.w - tw) / 2, y: box.y + (box.h - total) / 2 + i * (th + gap), w: tw, h: th });
    } else {
      out.set(key, { x: box.x + (box.w - total) / 2 + i * (tw + gap), y: box.y + (box.h - th) / 2, w: tw, h: th });
    }
  });
  return out;
}

/**
 * Places the tiles. `tiles`: [{key, self, screen}] in display order; `spot`: the key to
 * spotlight or null; `w`, `h`: the stage. Returns {mode: 'grid'|'pip'|'spotlight', rects:
 * Map key -> {x, y, w, h}, small: Set of keys drawn small}.
 */
export function placeTiles(tiles, spot, w, h) {
  const rects = new Map();
  const small = new Set();
  const self = tiles.find((t) => t.self) ?? null;
  const others = tiles.filter((t) => !t.self);
  if (spot !== null && tiles.some((t) => t.key === spot) && tiles.length > 1) {
    const rest = tiles.filter((t) => t.key !== spot).map((t) => t.key);
    const vertical = w >= h * 1.1;
    let main;
    let strip;
    if (vertical) {
      const sw = Math.max(120, Math.min(240, w * 0.2));
      main = { x: 0, y: 0, w: w - sw - GAP, h };
      strip = { x: w - sw, y: 0, w: sw, h };
    } else {
      const sh = Math.max(72, Math.min(150, h * 0.18));
      main = { x: 0, y: 0, w, h: h - sh - GAP };
      strip = { x: 0, y: h - sh, w, h: sh };
    }
    rects.set(spot, main);
    for (const [key, rect] of stripRects(rest, strip, vertical)) {
      rects.set(key, rect);
      small.add(key);
    }
    return { mode: 'spotlight', rects, small };
  }
  if (self && others.length >= 1 && others.length <= 2) {
    for (const [key, rect] of gridRects(others.map((t) => t.key), { x: 0, y: 0, w, h })) rects.set(key, rect);
    const portrait = w < h;
    const pw = portrait ? Math.max(90, Math.min(140, w * 0.3)) : Math.max(140, Math.min(280, w * 0.2));
    const ph = portrait ? pw * 4 / 3 : pw * 9 / 16;
    const margin = 12;
    rects.set(self.key, { x: w - pw - margin, y: h - ph - margin, w: pw, h: ph });
    small.add(self.key);
    return { mode: 'pip', rects, small };
  }
  const order = self ? [self.key, ...others.map((t) => t.key)] : others.map((t) => t.key);
  for (const [key, rect] of gridRects(order, { x: 0, y: 0, w, h })) rects.set(key, rect);
  return { mode: 'grid', rects, small };
}
