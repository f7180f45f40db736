import crypto from 'node:crypto';

/**
 * API keys: `qzk_<prefix>_<secret>`. Only the prefix (to find the key) and a SHA-256 hash of the secret are
 * stored; the key itself is shown once, when it is made.
 */
export interface NewApiKey {
  token: string;
  prefix: string;
  secretHash: string;
}

export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function generateApiKey(): NewApiKey {
  const prefix = crypto.randomBytes(6).toString('hex');
  const secret = crypto.randomBytes(24).toString('base64url');
  return { token: `qzk_${prefix}_${secret}`, prefix, secretHash: hashSecret(secret) };
}

export function parseApiKey(token: string): { prefix: string; secret: string } | null {
  const m = /^qzk_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/.exec(token);
  return m ? { prefix: m[1], secret: m[2] } : null;
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
