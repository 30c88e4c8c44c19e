/** Debian's Chromium on PATH (`chromium`, or `chromium-browser` elsewhere), or null. */
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

const NAMES = ['chromium', 'chromium-browser']

export function findChromium (path = process.env.PATH ?? ''): string | null {
  for (const name of NAMES) {
    for (const dir of path.split(delimiter).filter(Boolean)) {
      const file = join(dir, name)
      try {
        accessSync(file, constants.X_OK)
        return file
      } catch {}
    }
  }
  return null
}
