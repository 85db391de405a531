// SPDX-License-Identifier: MIT
// Friendly words for the server's error codes: users never see a protocol code.

/**
 * The sentence to show for error `code`; `context` says what was being done: 'join', 'chat',
 * 'nickname', 'passcode' (a join with a passcode, or the host changing it), 'lock', 'remove'
 * or '' (unknown).
 */
export function friendlyError(code, context = '') {
  switch (code) {
    case 'room_full':
      return 'That meeting is full. Try again later, or start a meeting with another name.';
    case 'rate_limited':
      if (context === 'passcode') return 'Too many wrong passcodes. Try again in a minute.';
      return context === 'chat'
        ? 'You are sending messages too quickly. Your message is still in the box; send it again in a moment.'
        : 'Slow down a little: the server asks for a short pause.';
    case 'room_exists':
      return 'A meeting with that name is already happening. Choose another name, or join it with “Join a meeting”.';
    case 'bad_passcode':
      return 'This meeting needs a passcode.';
    case 'room_locked':
      return 'The host has locked this meeting. You can join when they unlock it.';
    case 'not_host':
      return 'Only the host can do that.';
    case 'bad_field':
      if (context === 'join') return 'That meeting name cannot be used. Use 1 to 64 characters, without special control characters.';
      if (context === 'nickname') return 'That name cannot be used. Use 1 to 32 characters.';
      if (context === 'chat') return 'That message cannot be sent: it is empty or too long (2,000 characters at most). Your text is still in the box.';
      if (context === 'passcode') return 'A passcode has 4 to 64 characters, without line breaks.';
      return 'The server could not accept that. Please check what you typed.';
    case 'not_in_room':
      return 'You are not in a meeting any more. Join again to keep talking.';
    case 'bad_token':
      return 'Your earlier session had expired, so you joined again.';
    case 'bad_json':
    case 'unknown_type':
      return 'The server did not understand this page. Reload the page to get the latest version.';
    case 'no_such_peer':
      return 'That person has just left.';
    default:
      return 'Something went wrong on the server. Please try again.';
  }
}
