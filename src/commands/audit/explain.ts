import {Args} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {usageError} from '../../lib/core/errors.ts'
import {closestMatch} from '../../lib/core/text.ts'
import type {Rule} from '../../lib/audit/types.ts'

export default class AuditExplain extends BaseCommand {
  static override summary = 'Explain one audit rule: why it matters, a bad and a good example, and the fix.'
  static override examples = ['<%= config.bin %> <%= command.id %> dml-update-without-where']
  static override args = {rule: Args.string({description: 'rule id (see `dbakit audit rules`)', required: true, ignoreStdin: true})}

  async run(): Promise<Omit<Rule, 'check'>> {
    const {args} = await this.parse(AuditExplain)
    const {catalog} = await import('../../lib/audit/run.ts')
    const rules = catalog()
    const rule = rules.find((r) => r.id === args.rule)
    if (!rule) {
      const near = closestMatch(args.rule, rules.map((r) => r.id))
      throw usageError('RULE_UNKNOWN', `no rule named ${args.rule}`, {hint: near ? `did you mean ${near}?` : 'see `dbakit audit rules`'})
    }
    const {check: _check, ...described} = rule
    const style = this.style
    this.print(
      [
        `${style('bold', rule.id)}  (${rule.family}, default ${rule.level}${rule.needsSchema ? ', needs a schema' : ''})`,
        '',
        rule.summary,
        '',
        rule.rationale,
        '',
        style('red', 'Bad:'),
        indent(rule.bad),
        '',
        style('green', 'Good:'),
        indent(rule.good),
        '',
        `${style('bold', 'Fix:')} ${rule.fix}`,
        '',
        `Turn it off or change its level in .dbakit.yaml (rules: {${rule.id}: warning}), or suppress one statement with -- dbakit-ignore ${rule.id}: reason`,
      ].join('\n'),
    )
    return described
  }
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')
