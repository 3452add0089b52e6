import { defineErrors } from '../errors.js';

/** People's accounts: the closed list of errors. */
export const accountError = defineErrors({
  username_taken: [409, 'That username is already taken.'],
  account_disabled: [403, 'This account is disabled. Ask the administrator of this service.'],
  account_not_found: [404, 'This account no longer exists.'],
});
