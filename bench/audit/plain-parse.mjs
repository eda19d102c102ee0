// The peer: node-sql-parser alone parsing the same statements, one astify() call per statement
// (what a tool without its own splitter has to do). Statements are split on ";\n", which is exact
// for the generated file and costs nothing next to parsing.
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)
const {Parser} = require('node-sql-parser/build/mysql')
const parser = new Parser()
const statements = readFileSync(process.argv[2], 'utf8').split(';\n').filter((s) => s.trim())
let failed = 0
for (const statement of statements) {
  try {
    parser.astify(statement, {database: 'mysql'})
  } catch {
    failed++
  }
}
console.error(`parsed ${statements.length} statements, ${failed} rejected`)
