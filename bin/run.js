#!/usr/bin/env node
import {enableCompileCache} from 'node:module'

// Caches compiled bytecode between runs: start-up is most of a short command's time.
enableCompileCache?.()

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
