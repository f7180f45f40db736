/**
 * `npm run seal:key`: makes the platform's seal key (SEAL_KEY_FILE, db/seal.ts) when there is none, and prints its
 * key id and public key. Copy the one file to every API and worker machine; publish the key id.
 */
import fs from 'node:fs';
import { loadSealKey } from '../db/seal';
import { sealSettings } from '../domain/config';

const { keyFile } = sealSettings();
const existed = fs.existsSync(keyFile);
const key = loadSealKey(keyFile);
console.log(`[seal] ${existed ? '已有 / existing' : '新建 / new'} seal key ${keyFile}`);
console.log(`[seal] key id ${key.keyId}`);
console.log(key.publicPem.trim());
