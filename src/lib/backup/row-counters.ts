import {countRows} from './mysql/rows.ts'
import type {Engine, RowCounterFactory} from './repository.ts'

/**
 * How `backup verify` counts the rows of a chunk whose manifest entry records them: one counter
 * per engine that knows its own chunk format. An engine without one has its chunks checked by
 * hash, tag and size only.
 */
export const DEFAULT_ROW_COUNTERS: Partial<Record<Engine, RowCounterFactory>> = {
  mysql: (chunk) => (chunk.meta?.format === 'mysql-load-data-v1' ? countRows() : undefined),
}
