/**
 * The key of the duplicates projection's keyed hashes (HMAC-SHA256): DUPLICATES_KEY, at least 32
 * characters, the same in every process of a deployment. Changing it makes every stored hash
 * unmatched: rebuild the projection (`chronicle projections rebuild duplicates`) afterwards.
 *
 * Without it, a process outside production (NODE_ENV≠production) uses DEV_DUPLICATES_KEY, a
 * published constant, so `npm start` and the tests need nothing. In production the key is
 * undefined: the projection keeps nothing (it never fails, so it never holds back read-your-writes
 * waits), and `GET /customers/duplicates` answers 503 naming the variable.
 */
export const DEV_DUPLICATES_KEY = 'chronicle-dev-duplicates-key-not-for-production';

export const MIN_DUPLICATES_KEY_LENGTH = 32;

/** The key from the environment; throws naming DUPLICATES_KEY when it is too short. */
export function duplicatesKeyFrom(env: NodeJS.ProcessEnv): Buffer | undefined {
  const text = env.DUPLICATES_KEY?.trim();
  if (text) {
    if (text.length < MIN_DUPLICATES_KEY_LENGTH)
      throw new Error(`Invalid configuration: DUPLICATES_KEY must be at least ${MIN_DUPLICATES_KEY_LENGTH} characters`);
    return Buffer.from(text, 'utf8');
  }
  return env.NODE_ENV?.trim() === 'production' ? undefined : Buffer.from(DEV_DUPLICATES_KEY, 'utf8');
}
