import {parentPort, workerData} from 'node:worker_threads'
import {parseStatement, type SqlFlavor} from './parser.ts'

const {statements, flavor} = workerData as {statements: string[]; flavor: SqlFlavor}
parentPort!.postMessage(statements.map((statement) => parseStatement(statement, flavor)))
