// SPDX-License-Identifier: MIT
// Friendly words for the server's error codes: users never see a protocol code.

/**
 * The sentence to show for error `code`; `context` says what was being done: 'join', 'chat',
 * 'nickname' or '' (unknown).
 */
export function friendlyError(code, context = '') {
  switch (code) {
    case 'room_full':
      return 'That meeting is full. Try again later, or start a meeting with another name.';
    case 'rate_limited':
      return context === 'chat'
        ? 'You are sending messages too quickly. Your message is still in the box; send it again in a moment.'
        : 'Slow down a little: the server asks for a short pause.';
    case 'bad_field':
      if (context === 'join') return 'That meeting name cannot be used. Use 1 to 64 characters, without special control characters.';
      if (context === 'nickname') return 'That name cannot be used. Use 1 to 32 characters.';
      if (context === 'chat') return 'That message cannot be sent: it is empty or too long (2,000 characters at most). Your text is still in the box.';
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
