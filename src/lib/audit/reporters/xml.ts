/**
 * Escaping for XML 1.0 text and attribute values, shared by the JUnit and checkstyle reporters.
 *
 * In attributes, tabs and line breaks are written as character references because parsers
 * otherwise normalise them to spaces; in text a raw `\r` would become `\n` on parsing, so it is a
 * reference there too. Characters XML 1.0 forbids outright (most C0 controls, U+FFFE, U+FFFF and
 * unpaired surrogates) cannot be written even as references, so they are spelled out as `\uXXXX`:
 * the document stays well formed and a reader still sees what the SQL held.
 */
export function escapeXml(value: string, where: 'text' | 'attribute'): string {
  return value.replaceAll(/[&<>"'\t\n\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|\p{Surrogate}/gu, (character) => {
    switch (character) {
      case '&':
        return '&amp;'
      case '<':
        return '&lt;'
      case '>':
        return '&gt;'
      case '"':
        return '&quot;'
      case "'":
        return '&apos;'
      case '\t':
      case '\n':
        return where === 'attribute' ? `&#${character.charCodeAt(0)};` : character
      case '\r':
        return '&#13;'
      default:
        return `\\u${character.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`
    }
  })
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
