export {changeStatus, cleanupChange, controlChange, planChange, resumeChange, rollbackChange, runChange, type ChangePlan, type ChangeProgress, type ChangeResult, type Method} from './change.ts'
export {ACTIVE_STATES, type ChangeRecord, type ChangeState} from './journal.ts'
export {parseTableName} from './table.ts'
