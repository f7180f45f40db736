/**
 * The text encodings a batch may come in: UTF-8 (the default), or GB18030 and its subsets GBK and GB2312 (what
 * Excel on Chinese Windows saves), declared in the Content-Type's `charset`. Bytes that do not decode are refused,
 * naming the line: a U+FFFD is never stored in place of a character that could not be read.
 */
import { isUtf8 } from 'node:buffer';
import { Transform } from 'node:stream';
import iconv from 'iconv-lite';

export type Charset = 'utf-8' | 'gb18030';

const CHARSETS: Record<string, Charset> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  gb18030: 'gb18030',
  gbk: 'gb18030',
  gb2312: 'gb18030',
  cp936: 'gb18030',
};

/** The charset a Content-Type declares: `declared` is false without one (UTF-8 is assumed); `unknown` names one not supported. */
export function charsetOf(contentType: string | undefined): { charset: Charset; declared: boolean } | { unknown: string } {
  const m = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType ?? '');
  if (!m) return { charset: 'utf-8', declared: false };
  const name = m[2].toLowerCase();
  const charset = CHARSETS[name];
  return charset ? { charset, declared: true } : { unknown: m[2] || '(empty)' };
}

/** Bytes that are not text in the charset, first met on `line` (counted from 1). */
export class UndecodableBody extends Error {
  constructor(
    readonly charset: Charset,
    readonly declared: boolean,
    readonly line: number,
    readonly mediaType: string,
  ) {
    super(
      charset === 'utf-8'
        ? `第 ${line} 行不是有效的 UTF-8 编码，整批未入库；GBK/GB18030 文件（如中文 Windows 上 Excel 保存的文件）请声明 Content-Type: ${mediaType}; charset=gb18030 / line ${line} is not valid UTF-8, nothing was stored; send a GBK or GB18030 file (as Excel on Chinese Windows saves it) with Content-Type: ${mediaType}; charset=gb18030`
        : `第 ${line} 行不是有效的 GB18030（GBK、GB2312）编码，整批未入库；UTF-8 文件请声明 charset=utf-8 / line ${line} is not valid GB18030 (GBK, GB2312), nothing was stored; send a UTF-8 file with charset=utf-8`,
    );
  }
}

function countNewlines(buf: Buffer, end = buf.length): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

function countNewlinesIn(s: string, end = s.length): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1 && i < end; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** The offset of the first byte that does not begin a well-formed UTF-8 sequence, or -1 (RFC 3629: no overlong forms, no surrogates). */
export function firstInvalidUtf8(buf: Buffer): number {
  const cont = (i: number, lo = 0x80, hi = 0xbf) => i < buf.length && buf[i] >= lo && buf[i] <= hi;
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    if (b < 0x80) i++;
    else if (b >= 0xc2 && b <= 0xdf && cont(i + 1)) i += 2;
    else if (b === 0xe0 && cont(i + 1, 0xa0) && cont(i + 2)) i += 3;
    else if (((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) && cont(i + 1) && cont(i + 2)) i += 3;
    else if (b === 0xed && cont(i + 1, 0x80, 0x9f) && cont(i + 2)) i += 3;
    else if (b === 0xf0 && cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3)) i += 4;
    else if (b >= 0xf1 && b <= 0xf3 && cont(i + 1) && cont(i + 2) && cont(i + 3)) i += 4;
    else if (b === 0xf4 && cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3)) i += 4;
    else return i;
  }
  return -1;
}

/** How many bytes at the end of `buf` begin a UTF-8 sequence that the next chunk may complete (0–3). */
function incompleteTail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/**
 * A stream stage that turns the body into UTF-8 bytes: UTF-8 is checked (and passed through), GB18030 decoded.
 * It fails with UndecodableBody at the first line that does not decode.
 */
export function decodingStage(charset: Charset, declared: boolean, mediaType: string): Transform {
  let lines = 0; // newlines passed on so far
  const fail = (lineInChunk: number) => new UndecodableBody(charset, declared, lines + lineInChunk + 1, mediaType);
  if (charset === 'utf-8') {
    let carry: Buffer = Buffer.alloc(0);
    return new Transform({
      transform(chunk: Buffer, _enc, cb) {
        const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
        const keep = incompleteTail(buf);
        const whole = keep ? buf.subarray(0, buf.length - keep) : buf;
        carry = keep ? Buffer.from(buf.subarray(buf.length - keep)) : Buffer.alloc(0);
        if (!isUtf8(whole)) {
          cb(fail(countNewlines(whole, firstInvalidUtf8(whole))));
          return;
        }
        lines += countNewlines(whole);
        cb(null, whole);
      },
      flush(cb) {
        cb(carry.length ? fail(0) : null);
      },
    });
  }
  // GB18030 is cut at whole sequences and each piece decoded on its own: iconv-lite's streaming decoder loses code
  // units when a four-byte sequence ends in a later chunk (pillarjs/iconv-lite#417), and decodes the pointers that
  // GB18030 leaves unassigned into characters, so the sequences are checked here first.
  let carry: Buffer = Buffer.alloc(0);
  const decodeSome = (buf: Buffer, final: boolean): Error | Buffer => {
    const { end, bad } = scanGb18030(buf, final);
    if (bad !== -1) return fail(countNewlines(buf, bad)); // a newline byte is never inside a GB18030 sequence
    const text = iconv.decode(buf.subarray(0, end), 'gb18030');
    // iconv-lite writes U+FFFD for two-byte codes that are not assigned; such text is refused, never stored.
    const unassigned = text.indexOf('\ufffd');
    if (unassigned !== -1) return fail(countNewlinesIn(text, unassigned));
    lines += countNewlines(buf, end);
    carry = Buffer.from(buf.subarray(end));
    return Buffer.from(text, 'utf8');
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const out = decodeSome(carry.length ? Buffer.concat([carry, chunk]) : chunk, false);
      if (out instanceof Error) cb(out);
      else cb(null, out);
    },
    flush(cb) {
      const out = decodeSome(carry, true);
      if (out instanceof Error) cb(out);
      else cb(null, out.length ? out : undefined);
    },
  });
}

/**
 * Where the whole GB18030 sequences at the start of `buf` end (the rest may be completed by the next chunk unless
 * `final`), and the offset of the first malformed one (-1: none): single bytes 0x00–0x80 (0x80: €), two bytes (lead 0x81–0xFE,
 * trail 0x40–0x7E or 0x80–0xFE), four bytes (0x81–0xFE, 0x30–0x39, 0x81–0xFE, 0x30–0x39) on an assigned pointer.
 */
export function scanGb18030(buf: Buffer, final: boolean): { end: number; bad: number } {
  const n = buf.length;
  const lead = (b: number) => b >= 0x81 && b <= 0xfe;
  const digit = (b: number) => b >= 0x30 && b <= 0x39;
  let i = 0;
  while (i < n) {
    const b = buf[i];
    if (b <= 0x80) {
      // 0x80: the euro sign, as Excel's code page 936 writes it
      i++;
      continue;
    }
    if (!lead(b)) return { end: i, bad: i };
    if (i + 1 >= n) return { end: i, bad: final ? i : -1 };
    const b2 = buf[i + 1];
    if ((b2 >= 0x40 && b2 <= 0x7e) || (b2 >= 0x80 && b2 <= 0xfe)) {
      i += 2;
      continue;
    }
    if (!digit(b2) || (i + 2 < n && !lead(buf[i + 2])) || (i + 3 < n && !digit(buf[i + 3]))) return { end: i, bad: i };
    if (i + 3 >= n) return { end: i, bad: final ? i : -1 };
    const pointer = (b - 0x81) * 12600 + (b2 - 0x30) * 1260 + (buf[i + 2] - 0x81) * 10 + (buf[i + 3] - 0x30);
    if (pointer > 39419 && (pointer < 189000 || pointer > 1237575)) return { end: i, bad: i };
    i += 4;
  }
  return { end: n, bad: -1 };
}

/** A whole body (JSON) as text: the UTF-8 or GB18030 decoding of `buf`, a leading BOM dropped. */
export function decodeWhole(buf: Buffer, charset: Charset, declared: boolean, mediaType: string): string {
  let text: string;
  if (charset === 'utf-8') {
    if (!isUtf8(buf)) throw new UndecodableBody(charset, declared, countNewlines(buf, firstInvalidUtf8(buf)) + 1, mediaType);
    text = buf.toString('utf8');
  } else {
    const { bad } = scanGb18030(buf, true);
    if (bad !== -1) throw new UndecodableBody(charset, declared, countNewlines(buf, bad) + 1, mediaType);
    text = iconv.decode(buf, 'gb18030');
    const unassigned = text.indexOf('\ufffd');
    if (unassigned !== -1) throw new UndecodableBody(charset, declared, countNewlinesIn(text, unassigned) + 1, mediaType);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The first place in `value` nested deeper than `max` arrays and objects, found without recursion (so before
 * anything recursive runs on it), as a path of at most its first two steps (`payload.notes`); null when none.
 */
export function tooDeep(value: unknown, max: number): string | null {
  const stack: Array<[unknown, number, string]> = [[value, 0, '']];
  while (stack.length) {
    const [v, depth, path] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return path || '(record)';
    const named = (step: string) => (depth < 2 ? (path ? `${path}${step.startsWith('[') ? '' : '.'}${step}` : step) : path);
    if (Array.isArray(v)) v.forEach((item, i) => stack.push([item, depth + 1, named(`[${i}]`)]));
    else for (const [k, inner] of Object.entries(v as Record<string, unknown>)) stack.push([inner, depth + 1, named(k)]);
  }
  return null;
}
