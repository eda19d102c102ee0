import type {AuditReport} from '../types.ts'

/** The report as it is: docs/audit-json.schema.json describes it and docs/audit-json.md says what may change. */
export const renderJson = (report: AuditReport): string => JSON.stringify(report, null, 2)
