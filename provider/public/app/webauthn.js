// Passkeys in the browser: @simplewebauthn/browser's ES modules, served by the provider from
// node_modules (/app/vendor/simplewebauthn) and loaded only when a passkey is used.
const WEBAUTHN = '/app/vendor/simplewebauthn/index.js';
/** @type {Promise<typeof import('@simplewebauthn/browser')> | undefined} */
let library;
const load = () => (library ??= import(WEBAUTHN));

/** WebAuthn needs a secure context (HTTPS, or localhost) and a browser that has it. */
export const passkeysAvailable = () => window.isSecureContext && typeof window.PublicKeyCredential === 'function';

/** Makes a passkey for the creation options the server gave; its RegistrationResponseJSON. */
export async function createPasskey(optionsJSON) {
  const { startRegistration } = await load();
  return startRegistration({ optionsJSON });
}

/** Proves the person with a passkey for the request options the server gave; its AuthenticationResponseJSON. */
export async function usePasskey(optionsJSON) {
  const { startAuthentication } = await load();
  return startAuthentication({ optionsJSON });
}

/** The person closed the passkey prompt, or it timed out: say "try again", not "failed". */
export const cancelled = (err) => err?.name === 'NotAllowedError' || err?.name === 'AbortError' || err?.code === 'ERROR_CEREMONY_ABORTED';
