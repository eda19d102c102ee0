import {parentPort, workerData} from 'node:worker_threads'
import {isDbakitError} from '../core/errors.ts'
import {executeAudit, type AuditPlan, type AuditThreadMessage} from './run.ts'
import type {Finding} from './types.ts'

/** Findings per message: one message per statement would cost more than the audit itself. */
const FINDINGS_PER_MESSAGE = 500
/** Progress is a display: a few updates a second are enough, not one per statement. */
const PROGRESS_EVERY_MS = 100

const send = (message: AuditThreadMessage) => parentPort!.postMessage(message)
let pending: Finding[] = []
const flush = () => {
  if (pending.length === 0) return
  send({findings: pending})
  pending = []
}
let lastProgress = 0

try {
  const outcome = await executeAudit(
    workerData as AuditPlan,
    {
      begin() {},
      findings(batch) {
        pending.push(...batch)
        if (pending.length >= FINDINGS_PER_MESSAGE) flush()
      },
    },
    (event) => {
      const now = Date.now()
      if (event.done !== undefined && event.done !== event.total && now - lastProgress < PROGRESS_EVERY_MS) return
      lastProgress = now
      send({progress: event})
    },
  )
  flush()
  send({outcome})
} catch (error) {
  const {message} = error as Error
  send({error: isDbakitError(error) ? {message, exitCode: error.exitCode, code: error.code, ...(error.hint ? {hint: error.hint} : {})} : {message}})
}
