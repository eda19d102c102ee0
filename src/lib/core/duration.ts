import {usageError} from './errors.ts'

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** `500ms`, `2s`, `1.5s`, `30m`, `1h`, `7d` in milliseconds; a bare number is seconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim())
  if (!match) throw usageError('DURATION_INVALID', `${flag} ${text} is not a duration`, {hint: 'write it like 500ms, 2s, 30m, 1h or 7d'})
  return Math.round(Number(match[1]) * UNITS[match[2] ?? 's']!)
}
