import { Readable } from 'node:stream';
import { assertUtf8Charset, BulkInputError, readCsvTexts, readJsonTexts } from './bulk-input';

const limits = { maxTexts: 3, maxTextLength: 40, maxBytes: 10_000 };

/** A body arriving in small pieces, as a socket delivers it (splits multi-byte characters too); `pulled` counts pieces read. */
function body(content: string | Buffer, pieceBytes = 7, pulled = { pieces: 0 }): Readable {
  const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += pieceBytes) {
        pulled.pieces++;
        yield bytes.subarray(i, i + pieceBytes);
      }
    })(),
  );
}

async function refusal(work: Promise<unknown>): Promise<{ status: number; message: string }> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BulkInputError);
  return { status: (err as BulkInputError).status, message: (err as BulkInputError).message };
}

describe('readCsvTexts', () => {
  it('reads title and description (any column order, quoted fields, CRLF, BOM, UTF-8 split across pieces) as "title description"', async () => {
    const csv = '\ufeffid,description,title,tag\r\n1,"Detects cats, dogs",Vision ✓,computer-vision\r\n2,"He said ""hi""\nagain",Talk,other\r\n\r\n';
    expect(await readCsvTexts(body(csv), limits, false)).toEqual({ texts: ['Vision ✓ Detects cats, dogs', 'Talk He said "hi"\nagain'] });
    expect(await readCsvTexts(body(csv), limits, true)).toEqual({
      texts: ['Vision ✓ Detects cats, dogs', 'Talk He said "hi"\nagain'],
      tags: ['computer-vision', 'other'],
    });
  });

  it('refuses a CSV without the columns, naming what is missing', async () => {
    const { status, message } = await refusal(readCsvTexts(body('name,text\na,b\n'), limits, false));
    expect(status).toBe(422);
    expect(message).toContain('missing title, description');
    expect((await refusal(readCsvTexts(body('title,description\na,b\n'), limits, true))).message).toContain('missing tag');
    const twice = await refusal(readCsvTexts(body('title,Title,description\na,b,c\n'), limits, false));
    expect(twice).toEqual({ status: 422, message: 'CSV header names the column title more than once' });
  });

  it('refuses an empty body and a header without rows', async () => {
    expect(await refusal(readCsvTexts(body(''), limits, false))).toEqual({ status: 422, message: 'CSV body is empty' });
    expect((await refusal(readCsvTexts(body('title,description\n'), limits, false))).message).toContain('no rows');
  });

  it('refuses more rows than the limit while reading, without reading the rest', async () => {
    const pulled = { pieces: 0 };
    const rows = Array.from({ length: 50_000 }, (_, i) => `t${i},d${i}`).join('\n');
    const { status, message } = await refusal(readCsvTexts(body(`title,description\n${rows}\n`, 1024, pulled), { ...limits, maxBytes: 1e7 }, false));
    expect(status).toBe(422);
    expect(message).toContain('more than 3 rows');
    // About 690 pieces of 1 KiB in all: only the parser's buffers (16 KiB in, 16 records out) are read ahead.
    expect(pulled.pieces).toBeLessThan(40);
  });

  it('refuses a body over the byte limit with 413', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `t${i},d${i}`).join('\n');
    const { status } = await refusal(readCsvTexts(body(`title,description\n${rows}\n`, 512), { ...limits, maxTexts: 1e6 }, false));
    expect(status).toBe(413);
  });

  it('refuses bytes that are not UTF-8 (Latin-1, UTF-16)', async () => {
    const latin1 = Buffer.from('title,description\ncaf\xe9,cr\xe8me\n', 'latin1');
    expect((await refusal(readCsvTexts(body(latin1), limits, false))).message).toContain('not valid UTF-8');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('title,description\na,b\n', 'utf16le')]);
    expect((await refusal(readCsvTexts(body(utf16), limits, false))).status).toBe(422);
  });

  it('refuses blank and too long texts, empty tags and malformed CSV, naming the row', async () => {
    expect((await refusal(readCsvTexts(body('title,description\na,b\n ,  \n'), limits, false))).message).toBe(
      'row 3 (title and description) must not be blank',
    );
    expect((await refusal(readCsvTexts(body(`title,description\n${'x'.repeat(50)},b\n`), limits, false))).message).toContain('at most 40 characters');
    expect((await refusal(readCsvTexts(body('title,description,tag\na,b,\n'), limits, true))).message).toBe('row 2: tag must not be empty');
    expect((await refusal(readCsvTexts(body('title,description\na,b,c\n'), limits, false))).message).toContain('malformed CSV');
    expect((await refusal(readCsvTexts(body('title,description\n"a,b\n'), limits, false))).message).toContain('malformed CSV');
  });
});

describe('readJsonTexts', () => {
  it('takes {"texts":[{"text"}]} like /predict', () => {
    expect(readJsonTexts({ texts: [{ text: 'a b' }, { text: 'c' }] }, limits)).toEqual({ texts: ['a b', 'c'] });
  });

  it.each([
    [null, 'body must be an object'],
    [{ texts: [] }, 'at least one item'],
    [{ texts: 'x' }, 'texts must be an array'],
    [{ texts: [{ text: 'a' }], extra: 1 }, 'property extra should not exist'],
    [{ texts: [{ text: 'a' }, { text: 1 }] }, 'texts[1].text must be a string'],
    [{ texts: [{ text: 'a', tag: 'x' }] }, 'texts[0].tag should not exist'],
    [{ texts: [{ text: '  ' }] }, 'texts[0].text must not be blank'],
    [{ texts: [{ text: 'x'.repeat(41) }] }, 'at most 40 characters'],
    [{ texts: [{ text: 'a' }, { text: 'b' }, { text: 'c' }, { text: 'd' }] }, 'at most 3 items (got 4)'],
  ])('refuses %j with 422', (input, message) => {
    let err: unknown;
    try {
      readJsonTexts(input, limits);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BulkInputError);
    expect((err as BulkInputError).status).toBe(422);
    expect((err as Error).message).toContain(message);
  });
});

describe('assertUtf8Charset', () => {
  it('accepts no charset or UTF-8 and refuses others with 415', () => {
    expect(() => assertUtf8Charset('text/csv')).not.toThrow();
    expect(() => assertUtf8Charset('text/csv; charset=UTF-8')).not.toThrow();
    expect(() => assertUtf8Charset('text/csv;charset="utf8"')).not.toThrow();
    expect(() => assertUtf8Charset('text/csv; charset=iso-8859-1')).toThrow(expect.objectContaining({ status: 415 }));
  });
});
