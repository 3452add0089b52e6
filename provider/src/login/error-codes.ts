import { AppError } from '../errors.js';
import type { QrErrorCode } from './machine.js';

/** The QR capability's closed list of errors: code → HTTP status and the text people read. */
const errors: Record<QrErrorCode | 'qr_not_found', [number, string]> = {
  qr_not_found: [404, 'This QR code is not known. Scan the code shown on the screen again.'],
  qr_expired: [410, 'This QR code has expired. Refresh the page on the computer and scan the new code.'],
  already_scanned: [409, 'This QR code has already been scanned by someone else.'],
  not_scanned: [409, 'Scan this QR code before confirming or denying it.'],
  not_yours: [403, 'This QR code was scanned by another account.'],
  already_decided: [409, 'This login has already been confirmed or denied.'],
  not_decided: [409, 'This login is still waiting for the phone.'],
  already_completed: [409, 'This login has already been completed.'],
};

export function qrError(code: keyof typeof errors): AppError {
  const [status, description] = errors[code];
  return new AppError(code, status, description);
}
