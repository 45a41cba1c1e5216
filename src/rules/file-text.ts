/**
 * The text of a rule or channels file. YAML 1.2 files are Unicode, and these are read as
 * UTF-8: a file saved in another encoding (Big5, Shift_JIS, a legacy Windows code page) would
 * otherwise be read with U+FFFD in place of every character it holds beyond ASCII — a rule
 * that passes `validate` and never matches, a tag id MantaGo has never heard of.
 */
export type FileText = { text: string } | { problem: { line: number; column: number; message: string } };

/**
 * Byte order marks of the encodings a file is named by, UTF-32 first: its little-endian mark
 * (FF FE 00 00) begins with UTF-16's (FF FE), and a UTF-16 file whose first character is
 * U+0000 would be refused anyway (YAML may not hold it).
 */
const BYTE_ORDER_MARKS: readonly { bytes: readonly number[]; encoding: string }[] = [
  { bytes: [0xff, 0xfe, 0x00, 0x00], encoding: 'UTF-32 LE' },
  { bytes: [0x00, 0x00, 0xfe, 0xff], encoding: 'UTF-32 BE' },
  { bytes: [0xff, 0xfe], encoding: 'UTF-16' },
  { bytes: [0xfe, 0xff], encoding: 'UTF-16' },
];

/** UTF-8's byte order mark, which some editors (Windows Notepad) write at the start of a file. */
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

export function decodeFileText(file: Buffer): FileText {
  const marked = BYTE_ORDER_MARKS.find((m) => m.bytes.every((b, i) => file[i] === b));
  if (marked) return { problem: { line: 1, column: 1, message: `the file is ${marked.encoding} (it starts with a ${marked.encoding} byte order mark): save it as UTF-8` } };
  // A UTF-8 byte order mark is left out of the text: YAML ignores it, and an editor shows no
  // column for it, so counted it put every problem on line 1 one column to the right.
  const bytes = UTF8_BOM.every((b, i) => file[i] === b) ? file.subarray(UTF8_BOM.length) : file;
  const text = bytes.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(bytes)) return { text };
  // Up to its first U+FFFD that the file did not hold as such, the text is the file's own bytes,
  // character for character: that is where the decoder met bytes that are not UTF-8.
  let i = 0;
  let index = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp === 0xfffd && !(bytes[i] === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd)) break;
    i += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    index += ch.length;
  }
  const before = text.slice(0, index);
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
