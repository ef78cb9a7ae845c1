import { parseCsv, parseCsvRecords } from './csv';

describe('parseCsv', () => {
  it('handles quoted commas, newlines and escaped quotes', () => {
    const text = 'id,title,description\r\n1,"A, B","line one\nline two"\n2,plain,"He said ""hi"""\n';
    expect(parseCsv(text)).toEqual([
      ['id', 'title', 'description'],
      ['1', 'A, B', 'line one\nline two'],
      ['2', 'plain', 'He said "hi"'],
    ]);
  });

  it('keeps empty fields and a last line without newline', () => {
    expect(parseCsv('a,,c\n,"",\nx,y,z')).toEqual([
      ['a', '', 'c'],
      ['', '', ''],
      ['x', 'y', 'z'],
    ]);
  });

  it('keeps a quoted CRLF inside a field', () => {
    expect(parseCsv('"a\r\nb",c\r\n')).toEqual([['a\r\nb', 'c']]);
  });

  it('rejects an unterminated quote', () => {
    expect(() => parseCsv('a,"b\n')).toThrow(/unterminated/);
  });

  it('maps records by header and skips blank lines', () => {
    const recs = parseCsvRecords('\uFEFFid,tag\n1,"computer-vision"\n\n2,mlops\n');
    expect(recs).toEqual([
      { id: '1', tag: 'computer-vision' },
      { id: '2', tag: 'mlops' },
    ]);
  });

  it('rejects records with the wrong field count', () => {
    expect(() => parseCsvRecords('a,b\n1,2,3\n')).toThrow(/3 fields/);
  });
});
