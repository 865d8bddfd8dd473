/**
 * Broker passwords. They are stored as Mosquitto's own PBKDF2-SHA512 hash
 * (`$7$iterations$salt$hash`, what `mosquitto_passwd` writes), so the one
 * stored hash serves both the embedded broker's authenticate hook and the
 * password file generated for an external Mosquitto. The passwords themselves
 * are 256-bit random tokens, so the iteration count only has to make the file
 * not free to test against, not to stretch a weak secret.
 */
import { pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

const ITERATIONS = 1000;

export function newBrokerPassword(): string {
  return randomBytes(32).toString('base64url');
}

export function hashBrokerPassword(password: string, salt: Buffer = randomBytes(12), iterations = ITERATIONS): string {
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function verifyBrokerPassword(password: string, stored: string): boolean {
  const m = /^\$7\$(\d{1,7})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const expected = Buffer.from(m[3] ?? '', 'base64');
  const actual = pbkdf2Sync(password, Buffer.from(m[2] ?? '', 'base64'), Number(m[1]), expected.length, 'sha512');
  return expected.length === 64 && timingSafeEqual(actual, expected);
}
