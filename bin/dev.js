#!/usr/bin/env node
// Runs the TypeScript sources directly (Node strips the types), without a build.
const {execute} = await import('@oclif/core')
await execute({development: true, dir: import.meta.url})
