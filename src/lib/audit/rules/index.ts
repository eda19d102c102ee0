import type {Rule} from '../types.ts'
import {rules as design} from './design.ts'
import {rules as destructive} from './destructive.ts'
import {rules as dml} from './dml.ts'
import {rules as locking} from './locking.ts'
import {rules as query} from './query.ts'
import {rules as security} from './security.ts'

/** The catalog, most dangerous families first (the order `dbakit audit rules` lists them in). */
export const ALL_RULES: Rule[] = [...destructive, ...locking, ...dml, ...security, ...design, ...query]
