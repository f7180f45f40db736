/** HTTP for the entry points: listening with clear errors, closing gracefully, and URLs for people. */
import http from 'node:http';
import { PlatformError, describeError } from './platform';

/** Listens and resolves once the port is bound; a busy port becomes a clear error. */
export function listen(handler: http.RequestListener, host: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handler);
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? new PlatformError(`port ${port} on ${host} is already in use (is the platform already running?): set PORT to another port`)
          : e.code === 'EACCES'
            ? new PlatformError(`not allowed to listen on ${host}:${port}: set PORT to a port above 1024`)
            : new PlatformError(`cannot listen on ${host}:${port}: ${describeError(e)}`),
      );
    });
    server.listen(port, host, () => resolve(server));
  });
}

/** Stops accepting connections, lets requests in flight finish (up to `graceMs`), then closes what is left. */
export function closeServer(server: http.Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close((e) => {
      clearTimeout(timer);
      if (e) reject(e);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/** A URL for people: a wildcard bind address is shown as 127.0.0.1. */
export function httpUrl(host: string, port: number, pathname = ''): string {
  const shown = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}${pathname}`;
}
