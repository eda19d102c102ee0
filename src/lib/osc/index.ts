import * as change from './change.ts'
import {permissionError} from './change.ts'

/** A statement refused for a missing grant is an environment error naming it, wherever it happens. */
function namingGrants<A extends unknown[], R>(work: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await work(...args)
    } catch (error) {
      throw permissionError(error)
    }
  }
}

export const planChange = namingGrants(change.planChange)
export const runChange = namingGrants(change.runChange)
export const resumeChange = namingGrants(change.resumeChange)
export const controlChange = namingGrants(change.controlChange)
export const rollbackChange = namingGrants(change.rollbackChange)
export const cleanupChange = namingGrants(change.cleanupChange)
export const cleanupExpired = namingGrants(change.cleanupExpired)
export const changeStatus = namingGrants(change.changeStatus)
export type {ChangePlan, ChangeProgress, ChangeResult, Method} from './change.ts'
export {ACTIVE_STATES, type ChangeRecord, type ChangeState} from './journal.ts'
export {parseTableName} from './table.ts'
