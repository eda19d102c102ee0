import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {renderTable} from '../../lib/core/table.ts'

export interface RuleSummary {
  id: string
  family: string
  level: string
  summary: string
  needsSchema: boolean
}

export default class AuditRules extends BaseCommand {
  static override summary = 'List the audit rule catalog: ids, default levels and what each checks.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --family locking', "<%= config.bin %> <%= command.id %> --json | jq -r '.rules[].id'"]
  static override flags = {family: Flags.string({summary: 'Only rules of this family (destructive, locking, design, dml, query, security, syntax).'})}

  async run(): Promise<{rules: RuleSummary[]}> {
    const {flags} = await this.parse(AuditRules)
    const {catalog} = await import('../../lib/audit/run.ts')
    const rules = catalog()
      .filter((rule) => !flags.family || rule.family === flags.family)
      .map((rule) => ({id: rule.id, family: rule.family, level: rule.level, summary: rule.summary, needsSchema: Boolean(rule.needsSchema)}))
    this.print(await renderTable(['RULE', 'FAMILY', 'LEVEL', 'CHECKS'], rules.map((rule) => [rule.id, rule.family, rule.level, `${rule.summary}${rule.needsSchema ? ' (needs a schema)' : ''}`])))
    return {rules}
  }
}
