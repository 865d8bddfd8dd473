import argon2 from 'argon2';
import type { Argon2Params } from '../config.js';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Burns the same time as a real check, so an unknown e-mail is not faster to reject than a wrong password. */
  dummyVerify(password: string): Promise<void>;
}

export function passwordHasher(params: Argon2Params): PasswordHasher {
  const opts = { type: argon2.argon2id as 2, ...params };
  let dummy: Promise<string> | null = null;
  return {
    hash: (password) => argon2.hash(password, opts),
    verify: async (hash, password) => {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    },
    dummyVerify: async (password) => {
      dummy ??= argon2.hash('gatehouse-dummy-password', opts);
      await argon2.verify(await dummy, password).catch(() => false);
    },
  };
}
