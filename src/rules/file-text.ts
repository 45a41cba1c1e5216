/**
 * The text of a rule or channels file. YAML 1.2 files are Unicode, and these are read as
 * UTF-8: a file saved in another encoding (Big5, Shift_JIS, a legacy Windows code page) would
 * otherwise be read with U+FFFD in place of every character it holds beyond ASCII — a rule
 * that passes `validate` and never matches, a tag id MantaGo has never heard of.
 */
export type FileText = { text: string } | { problem: { line: number; column: number; message: string } };

export function decodeFileText(bytes: Buffer): FileText {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return { problem: { line: 1, column: 1, message: 'the file is UTF-16 (it starts with a UTF-16 byte order mark): save it as UTF-8' } };
  }
  const text = bytes.toString('utf8');
  // A valid prefix encodes back to the same bytes; the first byte that differs is where the
  // decoder had to put U+FFFD.
  const back = Buffer.from(text, 'utf8');
  if (back.equals(bytes)) return { text };
  let i = 0;
  while (i < bytes.length && bytes[i] === back[i]) i++;
  // Back to the start of the sequence the bad byte is part of (a lead byte, not a continuation).
  while (i > 0 && i < bytes.length && ((bytes[i] as number) & 0xc0) === 0x80 && ((bytes[i - 1] as number) & 0x80) !== 0) i--;
  const before = bytes.subarray(0, i).toString('utf8');
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  const hex = bytes
    .subarray(i, i + 2)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?=.)/g, '$1 ');
  return {
    problem: {
      line,
      column: before.length - lineStart + 1,
      message: `the file is not UTF-8 (bytes ${hex} here are not): it was saved in another encoding (Big5, Shift_JIS, a Windows code page?); save it as UTF-8`,
    },
  };
}
