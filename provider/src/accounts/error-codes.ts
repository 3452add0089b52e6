import { defineErrors } from '../errors.js';

/** People's accounts: the closed list of errors. */
export const accountError = defineErrors({
  username_taken: [409, 'That username is already taken.'],
});
