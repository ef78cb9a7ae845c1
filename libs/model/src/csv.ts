/**
 * CSV with a header row, parsed by csv-parse (RFC 4180: quoted commas, newlines and "" escapes,
 * LF or CRLF, a UTF-8 BOM). The wrapper only adds what the training data needs on top: records
 * keyed by the trimmed header, blank lines skipped, and an error naming the record whose field
 * count is off.
 */
import { parse } from 'csv-parse/sync';

export function parseCsvRecords(text: string): Record<string, string>[] {
  // Both record delimiters: csv-parse otherwise fixes it from the first record, and a file that mixes
  // CRLF and LF lines (hand-edited CSVs do) fails with 'Invalid Closing Quote'.
  const rows = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, record_delimiter: ['\r\n', '\n'] }) as string[][];
  if (rows.length === 0) return [];
  const header = rows[0].map((h) => h.trim());
  return rows.slice(1).map((r, idx) => {
    if (r.length !== header.length) {
      throw new Error(`CSV parse error: record ${idx + 1} has ${r.length} fields, expected ${header.length}`);
    }
    return Object.fromEntries(header.map((h, j) => [h, r[j]]));
  });
}
