import { defineErrors } from '../errors.js';

/** The phone API's own errors (the login core's are in login/error-codes.ts). */
export const mobileError = defineErrors({
  invalid_credentials: [401, 'Wrong username or password.'],
  invalid_qr: [400, 'This is not a Saoma login QR code.'],
});
