/**
 * The package as a platform team gets it, made once per test file: `npm pack` of this checkout
 * (dist/ as `npm test` built it; --ignore-scripts, so the pack does not rebuild dist/ under the
 * other tests), then examples/host-app copied into a temporary directory outside the repository
 * and installed there without dev dependencies, chat-api from the tarball, from the npm registry
 * through the npm cache (--prefer-offline).
 */
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const EXAMPLE = join(ROOT, 'examples', 'host-app')
/** The example's own files: what the test copies next to the tarball (not its node_modules). */
const EXAMPLE_FILES = ['package.json', 'server.js']
/** A cold npm cache fetches ~140 packages: bounded, so a registry that hangs fails the test. */
const INSTALL_TIMEOUT_MS = 150_000

export interface PackedFile { path: string, size: number }
export interface Packed {
  /** The temporary directory holding the tarball and the app; removed by `remove`. */
  dir: string
  /** The installed host app (examples/host-app with its node_modules). */
  app: string
  /** The files of the tarball, as `npm pack --json` lists them. */
  files: PackedFile[]
  tarball: { filename: string, size: number, unpackedSize: number }
  packMs: number
  installMs: number
  remove: () => void
}

const run = promisify(execFile)

/**
 * npm's environment without the variables `npm test` passes down (npm_config_local_prefix names
 * this checkout: an `npm install` that read it would install here, not in the temporary directory).
 */
function npmEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')))
}

export async function packAndInstall (): Promise<Packed> {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'chat-api-package-')))
  if (!relative(ROOT, dir).startsWith('..')) throw new Error(`${dir} is inside the repository`)
  const remove = () => rmSync(dir, { recursive: true, force: true })
  try {
    const env = npmEnv()
    const packStarted = Date.now()
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 })
    const [{ filename, size, unpackedSize, files }] = JSON.parse(stdout) as Array<Packed['tarball'] & { files: PackedFile[] }>
    const packMs = Date.now() - packStarted
    const app = join(dir, 'host-app')
    mkdirSync(app)
    for (const file of EXAMPLE_FILES) copyFileSync(join(EXAMPLE, file), join(app, file))
    // The example's package.json takes chat-api from ./chat-api.tgz, as its install script names it.
    renameSync(join(dir, filename), join(app, 'chat-api.tgz'))
    const started = Date.now()
    await run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-package-lock', '--prefer-offline', '--no-audit', '--no-fund'],
      { cwd: app, env, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 })
    return { dir, app, files, tarball: { filename, size, unpackedSize }, packMs, installMs: Date.now() - started, remove }
  } catch (err) {
    remove()
    throw err
  }
}
