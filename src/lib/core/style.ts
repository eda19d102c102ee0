/**
 * Colour decisions in one place: NO_COLOR wins, then FORCE_COLOR, then whether the stream is a
 * terminal. https://no-color.org and https://force-color.org
 */
export function colorEnabled(stream: {isTTY?: boolean}, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
  return Boolean(stream.isTTY) && env.TERM !== 'dumb'
}

const codes = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const
export type StyleName = keyof typeof codes

export type Styler = (style: StyleName, text: string) => string

export function createStyler(enabled: boolean): Styler {
  if (!enabled) return (_style, text) => text
  return (style, text) => `\u001B[${codes[style][0]}m${text}\u001B[${codes[style][1]}m`
}
