#!/usr/bin/env node
// `npm start`'s first step: packs the chat-api checkout two folders up (`npm pack`, whose
// `prepack` builds it) into ./chat-api.tgz, and installs this app's dependencies from
// package.json, chat-api from that tarball, without dev dependencies: what a platform team gets
// from a registry. A team with chat-api in its registry puts `"chat-api": "^0.1.0"` in its
// package.json instead and needs none of this.
import { execFileSync } from 'node:child_process'
import { readFileSync, renameSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const checkout = join(here, '..', '..')
// Without the npm_* variables of the `npm start` that runs this: its npm_config_local_prefix
// would make `npm pack` pack this folder rather than the checkout.
const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')))
const npm = (args, cwd) => execFileSync('npm', args, { cwd, env, stdio: 'inherit' })

const { name, version } = JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8'))
const filename = `${name}-${version}.tgz`
npm(['pack', '--pack-destination', here], checkout)
renameSync(join(here, filename), join(here, 'chat-api.tgz'))
npm(['install', '--omit=dev', '--no-package-lock', '--no-audit', '--no-fund'], here)
console.log(`install-chat-api: ${filename} installed in ${here}`)
