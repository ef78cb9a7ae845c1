/** One RFC 4180 line: fields with a comma, quote or line break are quoted, quotes doubled. */
export function csvLine(fields: Array<string | number | undefined>): string {
  return fields.map((field) => csvField(field === undefined ? '' : String(field))).join(',') + '\r\n';
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
