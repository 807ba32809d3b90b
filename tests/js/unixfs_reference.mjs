// Reference CIDs from npm's ipfs-unixfs-importer (an independent UnixFS implementation),
// configured like kubo's defaults: CIDv1, raw leaves, fixed 256 KiB chunks, balanced
// layout with at most 174 links per node. The tests pass other chunk sizes and widths to
// exercise deep trees on small files.
//
// usage: node unixfs_reference.mjs NODE_MODULES < jobs.json
//   jobs: [{"path": "/abs/file-or-dir", "chunkSize": 262144, "maxLinks": 174}, ...]
// prints: [{"root": "<cid>", "entries": {"rel/path": "<cid>", ...}}, ...]
import { createReadStream, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const modules = process.argv[2]
const load = (rel) => import(pathToFileURL(join(modules, rel)).href)
const { importer } = await load('ipfs-unixfs-importer/dist/src/index.js')
const { fixedSize } = await load('ipfs-unixfs-importer/dist/src/chunker/index.js')
const { balanced } = await load('ipfs-unixfs-importer/dist/src/layout/index.js')

// CIDs only: nothing needs to be kept.
const blockstore = { put: async (cid) => cid }

function * candidates (dir, prefix) {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name)
    const rel = `${prefix}/${name}`
    if (statSync(full).isDirectory()) {
      yield { path: rel }
      yield * candidates(full, rel)
    } else {
      yield { path: rel, content: createReadStream(full, { highWaterMark: 1 << 20 }) }
    }
  }
}

const jobs = JSON.parse(await new Promise((resolve) => {
  let text = ''
  process.stdin.on('data', (d) => { text += d })
  process.stdin.on('end', () => resolve(text))
}))

const results = []
for (const job of jobs) {
  const options = {
    cidVersion: 1,
    rawLeaves: true,
    chunker: fixedSize({ chunkSize: job.chunkSize ?? 262144 }),
    layout: balanced({ maxChildrenPerNode: job.maxLinks ?? 174 })
  }
  const isDir = statSync(job.path).isDirectory()
  const source = isDir
    ? [{ path: 'root' }, ...candidates(job.path, 'root')]
    : [{ content: createReadStream(job.path, { highWaterMark: 1 << 20 }) }]
  const entries = {}
  let root
  for await (const entry of importer(source, blockstore, options)) {
    if (!isDir || entry.path === 'root') root = entry.cid.toString()
    else entries[entry.path.slice('root/'.length)] = entry.cid.toString()
  }
  results.push({ root, entries })
}
process.stdout.write(JSON.stringify(results))
