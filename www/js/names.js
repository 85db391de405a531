// SPDX-License-Identifier: MIT
// Names for new meetings that nobody can guess: "quiet-otter-7kq2-m9xd-4hpt".
// Randomness: a word from ADJECTIVES (64 = 6 bits), one from ANIMALS (64 = 6 bits) and three
// groups of four base32 characters (12 x 5 = 60 bits): 72 bits from crypto.getRandomValues.
// Every pick masks a random byte to a power of two (64 or 32 entries), so there is no modulo
// bias. Base32 here leaves out i, l, o and u, which are easily misread.

export const ADJECTIVES = [
  'amber', 'bold', 'brave', 'brisk', 'calm', 'clear', 'cool', 'cosy',
  'crisp', 'dawn', 'deep', 'eager', 'early', 'easy', 'fair', 'fast',
  'fresh', 'gentle', 'glad', 'golden', 'grand', 'green', 'happy', 'jolly',
  'keen', 'kind', 'light', 'lively', 'lucky', 'merry', 'mild', 'misty',
  'noble', 'proud', 'quick', 'quiet', 'rapid', 'ready', 'rosy', 'royal',
  'rustic', 'shiny', 'silent', 'silver', 'sleek', 'smart', 'snowy', 'solid',
  'sunny', 'swift', 'tidy', 'tiny', 'upbeat', 'vivid', 'warm', 'wild',
  'windy', 'wise', 'witty', 'young', 'zesty', 'breezy', 'cheery', 'dapper',
];

export const ANIMALS = [
  'badger', 'bear', 'beaver', 'bison', 'camel', 'cat', 'crane', 'crow',
  'deer', 'dingo', 'dolphin', 'dove', 'duck', 'eagle', 'eel', 'egret',
  'falcon', 'ferret', 'finch', 'fox', 'frog', 'gecko', 'goat', 'goose',
  'hare', 'hawk', 'heron', 'horse', 'ibis', 'koala', 'lark', 'lemur',
  'lion', 'llama', 'lynx', 'magpie', 'marten', 'mole', 'moose', 'newt',
  'otter', 'owl', 'panda', 'parrot', 'pelican', 'puffin', 'quail', 'rabbit',
  'raven', 'robin', 'salmon', 'seal', 'shark', 'sloth', 'swan', 'tiger',
  'toad', 'trout', 'turtle', 'walrus', 'whale', 'wolf', 'wren', 'yak',
];

export const BASE32 = '0123456789abcdefghjkmnpqrstvwxyz';
const GROUPS = 3;
const GROUP_LEN = 4;

/** The random bits in one generated name: 6 + 6 + 3 * 4 * 5 = 72. */
export const NAME_BITS = Math.log2(ADJECTIVES.length) + Math.log2(ANIMALS.length) + GROUPS * GROUP_LEN * Math.log2(BASE32.length);

/** Matches a generated name. */
export const NAME_RE = /^[a-z]+-[a-z]+(-[0-9a-hjkmnp-tv-z]{4}){3}$/;

/** A new meeting name with NAME_BITS bits of randomness. */
export function newMeetingName() {
  const bytes = new Uint8Array(2 + GROUPS * GROUP_LEN);
  crypto.getRandomValues(bytes);
  const parts = [ADJECTIVES[bytes[0] & 63], ANIMALS[bytes[1] & 63]];
  for (let g = 0; g < GROUPS; g += 1) {
    let group = '';
    for (let i = 0; i < GROUP_LEN; i += 1) group += BASE32[bytes[2 + g * GROUP_LEN + i] & 31];
    parts.push(group);
  }
  return parts.join('-');
}
