/**
 * `--baseline REF`: chat-api as it was at a git commit, built into a throw-away worktree and run
 * as one more target (`chat-api@REF`), interleaved with the others in the same run. What a change
 * costs is then measured side by side on the same machine, the only comparison this noisy
 * hardware allows.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, TARGETS } from './targets.mjs'

function run (cmd, args, cwd) {
  const result = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] })
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}`)
}

/**
 * Builds `ref` and registers its target; returns the target's name and a function that removes
 * the worktree. The build uses this checkout's node_modules (a baseline whose dependencies
 * differ in what it imports fails at start, and says so).
 */
export function addBaseline (ref) {
  const dir = mkdtempSync(join(tmpdir(), 'chat-api-baseline-'))
  run('git', ['worktree', 'add', '--detach', dir, ref], ROOT)
  let removed = false
  const remove = () => {
    if (removed) return
    removed = true
    spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT })
    rmSync(dir, { recursive: true, force: true })
  }
  // Also when the run dies (onFatal exits): no worktree is left behind.
  process.once('exit', remove)
  try {
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], dir)
    if (existsSync(join(dir, 'src/redis/lua'))) cpSync(join(dir, 'src/redis/lua'), join(dir, 'dist/redis/lua'), { recursive: true })
  } catch (err) {
    remove()
    throw err
  }
  const name = `chat-api@${ref}`
  TARGETS[name] = { ...TARGETS['chat-api'], label: `chat-api at ${ref}`, script: join(dir, 'dist/server.js') }
  return { name, remove }
}
