import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiKeyConfig, ChronicleConfig, parseApiKeys, Role } from '@chronicle/infrastructure';

export interface Principal {
  actor: string;
  role: Role;
  /**
   * Names the key without revealing it (the start of its SHA-256 digest): the rate limit counts per
   * key, so two keys given to one actor have a budget each.
   */
  keyId: string;
}

const digest = (key: string) => createHash('sha256').update(key).digest();

/**
 * API keys are kept as SHA-256 digests and looked up by digest, then compared in constant time,
 * so neither the lookup nor the comparison leaks the key; keys are never logged.
 */
export class ApiKeyRegistry {
  private readonly byDigest = new Map<string, { digest: Buffer; principal: Principal }>();

  constructor(keys: ApiKeyConfig[]) {
    for (const { key, actor, role } of keys) {
      const d = digest(key);
      const hex = d.toString('hex');
      this.byDigest.set(hex, { digest: d, principal: { actor, role, keyId: hex.slice(0, 16) } });
    }
  }

  get size(): number {
    return this.byDigest.size;
  }

  authenticate(presented: string): Principal | undefined {
    const d = digest(presented);
    const entry = this.byDigest.get(d.toString('hex'));
    return entry && timingSafeEqual(entry.digest, d) ? entry.principal : undefined;
  }
}

export const GENERATED_KEYS_FILE = 'api-keys.json';

/**
 * Keys come from API_KEYS / API_KEYS_FILE. With none configured, the embedded default generates an
 * admin key into DATA_DIR on the first start and prints it once, so a newcomer can call the API.
 */
export function resolveApiKeys(config: ChronicleConfig, announce: (message: string) => void): ApiKeyConfig[] {
  if (config.apiKeys.length > 0) return config.apiKeys;
  const file = join(config.dataDir, GENERATED_KEYS_FILE);
  if (existsSync(file)) {
    const keys = parseApiKeys({ API_KEYS_FILE: file });
    announce(`API keys: ${keys.length} from ${file}`);
    return keys;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const key = `chr_${randomBytes(24).toString('base64url')}`;
  const keys: ApiKeyConfig[] = [{ key, actor: 'admin', role: 'admin' }];
  writeFileSync(file, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  announce(
    `No API key configured: generated an admin key into ${file}\n\n    Authorization: Bearer ${key}\n\n` +
      `  It is shown only this once; it stays valid on later starts (set API_KEYS or API_KEYS_FILE to manage keys).`,
  );
  return keys;
}
