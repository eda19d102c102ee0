import {randomInt} from 'node:crypto'
import {usageError} from '../core/errors.ts'

/**
 * Symbols that mean nothing to a shell, in a URL's userinfo or in a my.cnf/redis.conf line, so a
 * generated password can be pasted anywhere unquoted; they still count as "special characters" for
 * MySQL's validate_password.
 */
const SAFE_SYMBOLS = '-_.'
const CLASSES = {
  lower: 'abcdefghijklmnopqrstuvwxyz',
  upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digit: '0123456789',
  symbol: SAFE_SYMBOLS,
} as const

export const PASSWORD_LENGTH = {min: 16, default: 32, max: 128} as const

export function checkPasswordLength(length: number): number {
  if (!Number.isInteger(length) || length < PASSWORD_LENGTH.min || length > PASSWORD_LENGTH.max) {
    throw usageError('PASSWORD_LENGTH_INVALID', `--password-length ${length} is out of range`, {hint: `pass a length from ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} (default ${PASSWORD_LENGTH.default})`})
  }
  return length
}

/**
 * A password from the CSPRNG (crypto.randomInt draws without modulo bias) with at least one
 * character of every class, so server password policies (validate_password MEDIUM) accept it. The
 * first character is a letter: some clients and config formats treat a leading `-` or digit oddly.
 */
export function generatePassword(length: number = PASSWORD_LENGTH.default): string {
  checkPasswordLength(length)
  const alphabet = Object.values(CLASSES).join('')
  const letters = CLASSES.lower + CLASSES.upper
  for (;;) {
    const characters = [letters[randomInt(letters.length)]!]
    while (characters.length < length) characters.push(alphabet[randomInt(alphabet.length)]!)
    const password = characters.join('')
    if (Object.values(CLASSES).every((members) => [...password].some((character) => members.includes(character)))) return password
  }
}
