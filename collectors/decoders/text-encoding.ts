/**
 * Raw bytes → text, per source encoding. Many government systems still write GBK, so a source
 * declares its encoding and gets one decoder, built once, that never throws on bad bytes.
 */

export type SourceEncoding = 'utf-8' | 'gbk' | 'gb18030';

export interface DecodedText {
  text: string;
  /** The bytes were not valid in the encoding; the bad parts became U+FFFD. The caller flags the event. */
  invalid: boolean;
}

export type TextDecodeFn = (bytes: Uint8Array) => DecodedText;

// Node's ICU decodes the label "gbk" with Windows code page 936 (0xFF becomes a private-use char and
// GB18030 four-byte sequences such as rare name characters are lost). WHATWG decodes "gbk" with the
// GB18030 decoder, a superset of GBK, so we do the same.
const ICU_LABEL: Record<SourceEncoding, string> = { 'utf-8': 'utf-8', gbk: 'gb18030', gb18030: 'gb18030' };

/** Builds the decoder for one source; throws only if this Node lacks the encoding (a build without full ICU). */
export function createTextDecoder(encoding: SourceEncoding): TextDecodeFn {
  const label = ICU_LABEL[encoding];
  const lenient = new TextDecoder(label);
  const strict = new TextDecoder(label, { fatal: true });
  return (bytes) => {
    const text = lenient.decode(bytes);
    // No U+FFFD means nothing was replaced. When there is one, it may also have been written on purpose
    // (a valid encoding of U+FFFD), so only then ask the strict decoder, which throws on bad bytes.
    if (!text.includes('\uFFFD')) return { text, invalid: false };
    try {
      strict.decode(bytes);
      return { text, invalid: false };
    } catch {
      return { text, invalid: true };
    }
  };
}
