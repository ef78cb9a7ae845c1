import { parseCsvRecords } from './csv';

describe('parseCsvRecords', () => {
  it('handles quoted commas, newlines and escaped quotes', () => {
    const text = 'id,title,description\r\n1,"A, B","line one\nline two"\n2,plain,"He said ""hi"""\n';
    expect(parseCsvRecords(text)).toEqual([
      { id: '1', title: 'A, B', description: 'line one\nline two' },
      { id: '2', title: 'plain', description: 'He said "hi"' },
    ]);
  });

  it('keeps empty fields, a quoted CRLF and a last line without newline', () => {
    expect(parseCsvRecords('a,b,c\n,"x\r\ny",\n1,2,3')).toEqual([
      { a: '', b: 'x\r\ny', c: '' },
      { a: '1', b: '2', c: '3' },
    ]);
  });

  it('strips a BOM, trims the header and skips blank lines', () => {
    const recs = parseCsvRecords('\uFEFFid, tag\n1,"computer-vision"\n\n2,mlops\n');
    expect(recs).toEqual([
      { id: '1', tag: 'computer-vision' },
      { id: '2', tag: 'mlops' },
    ]);
  });

  it('rejects an unterminated quote', () => {
    expect(() => parseCsvRecords('a,b\n1,"b\n')).toThrow(/quote/i);
  });

  it('rejects records with the wrong field count', () => {
    expect(() => parseCsvRecords('a,b\n1,2,3\n')).toThrow(/record 1 has 3 fields/);
  });

  it('parses the course and check-set files with the columns training needs', () => {
    // The committed check set: 120 rows, 30 per tag (data/README.md).
    const fs = jest.requireActual<typeof import('fs')>('fs');
    const path = jest.requireActual<typeof import('path')>('path');
    const recs = parseCsvRecords(fs.readFileSync(path.resolve(__dirname, '../../../data/fresh.csv'), 'utf8'));
    expect(recs).toHaveLength(120);
    expect(Object.keys(recs[0])).toEqual(['title', 'description', 'tag']);
  });
});
