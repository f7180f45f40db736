// The part of unzipper (the zip reader exceljs streams with) that db/xlsx.ts uses; unzipper ships no types.
declare module 'unzipper' {
  import type { Duplex, PassThrough } from 'node:stream';

  /** One member of the zip, its bytes inflated as they are read. */
  export interface Entry extends PassThrough {
    path: string;
    type: 'File' | 'Directory';
    autodrain(): unknown;
  }

  /** A stream that is written the zip's bytes and reads as its entries, one at a time (each must be consumed). */
  export function Parse(opts?: { forceStream?: boolean }): Duplex;
}
