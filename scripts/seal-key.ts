/**
 * `npm run seal:key`: makes the platform's seal key (SEAL_KEY_FILE, db/seal.ts) when there is none, and prints its
 * key id and public key. Copy the one file to every API and worker machine; publish the key id.
 *
 * `npm run seal:key -- --rotate`: retires the current key into SEAL_RETIRED_DIR and makes a new one. Copy the new key
 * and the retired folder to every API and worker machine and restart them within SEAL_ROTATION_GRACE_MINUTES: after
 * that, what the old key seals or signs is refused by the verifier.
 */
import fs from 'node:fs';
import { loadSealKey, rotateSealKey } from '../db/seal';
import { sealSettings } from '../domain/config';
import { startCommand } from './cli';

const USAGE = `用法 / usage:
  npm run seal:key              没有印章密钥时生成（SEAL_KEY_FILE），并打印其密钥编号与公钥
                                make the seal key (SEAL_KEY_FILE) if there is none; print its key id and public key
  npm run seal:key -- --rotate  停用当前密钥（保存在 SEAL_RETIRED_DIR，用于校验其所加印章）并生成新密钥
                                retire the current key (kept in SEAL_RETIRED_DIR to check what it sealed) and make a new one
  -h, --help                    显示本说明 / show this help`;

// --help answered, an unknown argument refused, every setting checked, before any key is read or made (scripts/cli.ts).
const { args } = startCommand('seal', USAGE, { rotate: {} });
const { keyFile, retiredDir, rotationGraceMinutes } = sealSettings();
if (args.rotate) {
  if (!fs.existsSync(keyFile)) {
    console.error(`[seal] 没有可停用的密钥 / no seal key to retire at ${keyFile}: run npm run seal:key first`);
    process.exit(1);
  }
  const { retired, current, retiredFile } = rotateSealKey(keyFile, retiredDir, new Date());
  console.log(`[seal] 已停用 / retired key id ${retired.keyId}: ${retiredFile}`);
  console.log(`[seal] 新密钥 / new seal key ${keyFile}, key id ${current.keyId}`);
  console.log(
    `[seal] 请在 ${rotationGraceMinutes} 分钟内将新密钥与停用目录复制到每台 API 与 worker 机器并重启 / copy the new key and ${retiredDir} to every API and worker machine and restart them within ${rotationGraceMinutes} minutes`,
  );
  console.log(current.publicPem.trim());
} else {
  const existed = fs.existsSync(keyFile);
  const key = loadSealKey(keyFile);
  console.log(`[seal] ${existed ? '已有 / existing' : '新建 / new'} seal key ${keyFile}`);
  console.log(`[seal] key id ${key.keyId}`);
  console.log(key.publicPem.trim());
}
