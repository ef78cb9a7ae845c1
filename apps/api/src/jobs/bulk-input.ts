import { HttpStatus } from '@nestjs/common';
import { parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import { undecodableBody } from '../http/json-body';

/** Bad bulk input, with the status that says why (413 too large, 415 wrong encoding, 422 content). */
export class BulkInputError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface BulkLimits {
  maxTexts: number;
  maxTextLength: number;
  /** Bytes of body read before giving up with 413. */
  maxBytes: number;
}

export interface BulkInput {
  texts: string[];
  /** Expected tags, one per text (labelled CSV for /evaluate). */
  tags?: string[];
}

const unprocessable = (message: string) => new BulkInputError(HttpStatus.UNPROCESSABLE_ENTITY, message);

/** Checks one text like /predict does (blank, too long); `where` names it in the message. */
function checkText(text: string, where: string, limits: BulkLimits): void {
  if (!/\S/.test(text)) throw unprocessable(`${where} must not be blank`);
  if (text.length > limits.maxTextLength) throw unprocessable(`${where} must be at most ${limits.maxTextLength} characters (got ${text.length})`);
}

/** A JSON body `{"texts":[{"text": ...}, ...]}`, checked by hand: a class-validator pass over 100,000 objects costs seconds. */
export function readJsonTexts(body: unknown, limits: BulkLimits): BulkInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw unprocessable('body must be an object like {"texts": [{"text": "..."}]}');
  const unknown = Object.keys(body).filter((key) => key !== 'texts');
  if (unknown.length > 0) throw unprocessable(`property ${unknown[0]} should not exist`);
  const items = (body as { texts?: unknown }).texts;
  if (!Array.isArray(items)) throw unprocessable('texts must be an array of {"text": string} objects');
  if (items.length === 0) throw unprocessable('texts must contain at least one item');
  if (items.length > limits.maxTexts) throw unprocessable(`texts must contain at most ${limits.maxTexts} items (got ${items.length})`);
  const texts = items.map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw unprocessable(`texts[${i}] must be an object like {"text": "..."}`);
    const extra = Object.keys(item).find((key) => key !== 'text');
    if (extra) throw unprocessable(`texts[${i}].${extra} should not exist`);
    const { text } = item as { text?: unknown };
    if (typeof text !== 'string') throw unprocessable(`texts[${i}].text must be a string`);
    checkText(text, `texts[${i}].text`, limits);
    return text;
  });
  return { texts };
}

/** `text/csv` must be UTF-8 (the default when no charset is given, RFC 7111 allows others: we do not). */
export function assertUtf8Charset(contentType: string | undefined): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1];
  if (charset && !/^utf-?8$/i.test(charset)) {
    throw new BulkInputError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, `CSV must be UTF-8 (got charset=${charset}); convert it, e.g. iconv -f ${charset} -t utf-8`);
  }
}

/**
 * Reads a CSV body with `title`, `description` (and, when `withTags`, `tag`) columns as a stream:
 * a limit (bytes, rows, text length) stops the read the moment it is crossed, so a file too
 * large is refused without being held in memory first. The text of a row is `title description`,
 * as the model was trained. Bytes that are not UTF-8 (a Latin-1 or UTF-16 export) are refused,
 * not decoded into garbage.
 */
export async function readCsvTexts(source: Readable, limits: BulkLimits, withTags: boolean): Promise<BulkInput> {
  const required = withTags ? ['title', 'description', 'tag'] : ['title', 'description'];
  let columnsError: BulkInputError | undefined;
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    // Longest valid record: its texts at the limit, plus the other columns of a dataset.csv row.
    max_record_size: limits.maxTextLength * 2 + 64 * 1024,
    columns: (header: string[]) => {
      const names = header.map((name) => String(name).trim().toLowerCase());
      const missing = required.filter((name) => !names.includes(name));
      if (missing.length > 0) {
        columnsError = unprocessable(
          `CSV must have a header row with columns ${required.join(', ')} (missing ${missing.join(', ')}; got ${names.join(', ') || 'none'})`,
        );
        throw columnsError;
      }
      // Which of two `title` columns is the title? Refused rather than guessed.
      const twice = required.find((name) => names.indexOf(name) !== names.lastIndexOf(name));
      if (twice) throw (columnsError = unprocessable(`CSV header names the column ${twice} more than once`));
      return names;
    },
  });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let bytes = 0;
  const feed = (async () => {
    for await (const chunk of source) {
      if (parser.destroyed) return; // the reader gave up (a limit, a bad row): stop reading
      bytes += (chunk as Buffer).length;
      if (bytes > limits.maxBytes) throw new BulkInputError(HttpStatus.PAYLOAD_TOO_LARGE, `CSV body is larger than ${limits.maxBytes} bytes`);
      if (!parser.write(decode(decoder, chunk as Buffer, bytes))) await new Promise((resolve) => parser.once('drain', resolve).once('close', resolve));
    }
    const rest = decode(decoder, undefined, bytes);
    if (rest) parser.write(rest);
    parser.end();
  })();
  feed.catch((err) => parser.destroy(err));

  const texts: string[] = [];
  const tags: string[] = [];
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      const row = texts.length + 2; // 1-based, after the header
      if (texts.length >= limits.maxTexts) throw unprocessable(`CSV has more than ${limits.maxTexts} rows (JOBS_MAX_TEXTS)`);
      const text = `${record.title ?? ''} ${record.description ?? ''}`;
      checkText(text, `row ${row} (title and description)`, limits);
      if (withTags) {
        const tag = (record.tag ?? '').trim();
        if (!tag) throw unprocessable(`row ${row}: tag must not be empty`);
        tags.push(tag);
      }
      texts.push(text);
    }
    await feed;
  } catch (err) {
    source.unpipe?.();
    parser.destroy();
    throw describeCsvError(columnsError ?? err);
  }
  if (bytes === 0) throw unprocessable('CSV body is empty');
  if (texts.length === 0) throw unprocessable('CSV has a header but no rows');
  return withTags ? { texts, tags } : { texts };
}

function decode(decoder: TextDecoder, chunk: Buffer | undefined, bytesSoFar: number): string {
  try {
    return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
  } catch {
    throw unprocessable(`CSV is not valid UTF-8 (near byte ${bytesSoFar}); save it as UTF-8 (a UTF-16 or Latin-1 export will not do)`);
  }
}

/** csv-parse's errors (unclosed quote, ragged rows, record too large) as a 422 naming the line. */
function describeCsvError(err: unknown): BulkInputError {
  if (err instanceof BulkInputError) return err;
  const { code, message, lines } = err as { code?: string; message?: string; lines?: number };
  // zlib's errors: a body declared gzip, deflate or br that is not.
  if (code?.startsWith('Z_') || code?.startsWith('ERR_BROTLI') || code?.startsWith('ERR__'))
    return new BulkInputError(HttpStatus.BAD_REQUEST, undecodableBody(message));
  if (code === 'CSV_MAX_RECORD_SIZE')
    return unprocessable(`CSV record near line ${lines} is too long (a text may have at most the configured MAX_TEXT_LENGTH characters)`);
  if (code?.startsWith('CSV_')) return unprocessable(`malformed CSV: ${message}`);
  return unprocessable(`could not read the CSV body: ${message ?? String(err)}`);
}
