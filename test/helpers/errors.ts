import assert from 'node:assert/strict'
import {DbakitError} from '../../src/lib/core/errors.ts'

/** The DbakitError a promise rejects with; anything else, or no rejection, fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<DbakitError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof DbakitError, `not a DbakitError: ${String(error)}`)
    return error
  }
  assert.fail('expected a rejection')
}
