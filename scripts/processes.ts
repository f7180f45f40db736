/**
 * Processes and ports on this machine: whether a process still runs, which Node.js process started it, stopping
 * one left behind by an earlier run that is gone, and whether a port is taken (Linux `/proc`).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { sleep, type Log } from './platform';

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function procRead(pid: number, file: string): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

function parentPid(pid: number): number | null {
  const stat = procRead(pid, 'stat');
  if (!stat) return null;
  // "pid (comm) state ppid ..." — comm may contain spaces and parentheses: read after the last ')'.
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isInteger(ppid) ? ppid : null;
}

/**
 * The process that started `pid`, if it is still a Node.js process (a running platform or command), or null when
 * `pid` was left behind by a process that is gone (its parent is now init or a subreaper).
 */
export function nodeOwner(pid: number): number | null {
  const ppid = parentPid(pid);
  if (!ppid || ppid === 1) return null;
  const cmd = (procRead(ppid, 'cmdline') ?? '').split('\0');
  const comm = (procRead(ppid, 'comm') ?? '').trim();
  return comm === 'node' || path.basename(cmd[0] ?? '') === 'node' ? ppid : null;
}

export async function stopLeftover(pid: number, what: string, signal: NodeJS.Signals, logFn: Log): Promise<void> {
  logFn(`stopping ${what} left running by an earlier run (pid ${pid})`);
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + 30_000;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(200);
  if (pidAlive(pid)) {
    logFn(`${what} (pid ${pid}) did not stop within 30 s: killing it`);
    process.kill(pid, 'SIGKILL');
    while (pidAlive(pid)) await sleep(100);
  }
}

/** True when something accepts TCP connections on host:port. */
export function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
