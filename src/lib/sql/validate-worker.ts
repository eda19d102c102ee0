import {parentPort, workerData} from 'node:worker_threads'
import {rejectedIn, type WorkerInput} from './validate.ts'

const {flavor, statements, batchSize, nextBatch} = workerData as WorkerInput
const batchCount = Math.ceil(statements.length / batchSize)
for (let batch = Atomics.add(nextBatch, 0, 1); batch < batchCount; batch = Atomics.add(nextBatch, 0, 1)) {
  const start = batch * batchSize
  const rejected = rejectedIn(statements.slice(start, start + batchSize), flavor, start)
  if (rejected.length > 0) parentPort!.postMessage(rejected)
}
parentPort!.postMessage('done')
