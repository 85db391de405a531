// SPDX-License-Identifier: MIT
// WCAG 2 contrast ratios of what a page really renders (computed styles), for the themes'
// accessibility checks: text needs 4.5:1 against what is behind it, a field's border 3:1.

/**
 * The contrast ratio of each named pair on `page`. A pair is [[selector, property], [selector,
 * property]]: the first colour against the second. ':root' is the document element. Every
 * colour must be opaque (rgb or an alpha of 1), which is what the stylesheet uses.
 */
export function contrastRatios(page, pairs) {
  return page.evaluate((named) => {
    const luminance = (colour) => {
      const [r, g, b] = colour.match(/[\d.]+/g).slice(0, 3).map((v) => Number(v) / 255)
        .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const colour = ([selector, property]) => {
      const el = selector === ':root' ? document.documentElement : document.querySelector(selector);
      if (!el) throw new Error(`contrast: nothing matches ${selector}`);
      return getComputedStyle(el)[property];
    };
    const out = {};
    for (const [name, [fg, bg]] of Object.entries(named)) {
      const [hi, lo] = [luminance(colour(fg)), luminance(colour(bg))].sort((p, q) => q - p);
      out[name] = (hi + 0.05) / (lo + 0.05);
    }
    return out;
  }, pairs);
}

/** Throws, naming `what` and every ratio, unless each is at least its minimum (`min(name)`). */
export async function seeContrast(page, what, pairs, min) {
  const ratios = await contrastRatios(page, pairs);
  const low = Object.entries(ratios).filter(([name, ratio]) => ratio < min(name));
  if (low.length) throw new Error(`${page.label}: ${what} contrast too low: ${JSON.stringify(ratios)}`);
}
