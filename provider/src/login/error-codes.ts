import { defineErrors } from '../errors.js';

/** The login core's closed list of errors: code → HTTP status and the text people read. */
export const loginError = defineErrors({
  qr_not_found: [404, 'This QR code is not known. Scan the code shown on the screen again.'],
  qr_expired: [410, 'This QR code has expired. Refresh the page on the computer and scan the new code.'],
  already_scanned: [409, 'This QR code has already been scanned by someone else.'],
  not_scanned: [409, 'Scan this QR code before confirming or denying it.'],
  not_yours: [403, 'This QR code was scanned by another account.'],
  already_decided: [409, 'This login has already been confirmed or denied.'],
  not_decided: [409, 'This login is still waiting for the phone.'],
  already_completed: [409, 'This login has already been completed.'],
  login_not_found: [404, 'This login request has ended. Go back to the site and start again.'],
  conflict: [409, 'The QR code is changing too fast; try again.'],
  too_many_waiting: [429, 'Too many pages are waiting on logins from here; close some and try again.'],
});
