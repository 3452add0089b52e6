import { defineErrors } from '../errors.js';

/** Administration's closed list of errors (the admin API, CLI and console share it). */
export const adminError = defineErrors({
  admin_exists: [409, 'An admin with this username already exists.'],
  last_admin: [409, 'This is the only active admin; create another admin first.'],
  ambiguous_token: [409, 'Several active tokens have this name; use the token id (tokens:list).'],
  developer_exists: [409, 'A developer account with this id already exists.'],
  developer_has_apps: [409, 'This developer account still owns apps; delete them or move them to another account first.'],
  wrong_password: [403, 'Your current password is not right.'],
  invalid_csrf_token: [403, 'This form has expired or did not come from the console. Reload the page and try again.'],
});
