import { parseArgs } from 'node:util'
import { defaultDataDir } from './data-dir'
import { startHeadless } from './headless'

const USAGE = `Usage: npm run serve -- [--data-dir DIR] [--port 7770] [--api-port 7771] [--host 127.0.0.1]
                        [--no-tunnel] [--tunnel-host URL] [--subdomain NAME] [--external-url URL]`

const HELP = `Switchboard, headless: the receiver, the workflows and the UI in a browser.

${USAGE}

  --data-dir DIR       where the database, the secret key and the API token live
                       (default: SWITCHBOARD_DATA_DIR, else the platform's app-data folder)
  --port N             the public receiver, the only port the tunnel forwards (default 7770; 0: a free port)
  --api-port N         the control API and the UI, always on 127.0.0.1 (default 7771; 0: a free port)
  --host ADDR          the receiver's bind address (default 127.0.0.1)
  --no-tunnel          do not open a localtunnel
  --tunnel-host URL    a self-hosted localtunnel relay (default https://localtunnel.me)
  --subdomain NAME     the subdomain to ask the relay for (default: the one last used)
  --external-url URL   you run your own reverse proxy: no tunnel, and this is the public URL
  -h, --help           this text

Environment: SWITCHBOARD_API_TOKEN sets the control API token (else one is made once and kept in
<data-dir>/api-token); SWITCHBOARD_DATA_DIR sets the data folder.`

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`--${name} must be a port number (0 picks a free one)`)
  return n
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      'api-port': { type: 'string' },
      host: { type: 'string' },
      'no-tunnel': { type: 'boolean' },
      'tunnel-host': { type: 'string' },
      subdomain: { type: 'string' },
      'external-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    console.log(HELP)
    return
  }
  const headless = await startHeadless({
    engine: {
      dataDir: values['data-dir'] ?? defaultDataDir(),
      receiver: { port: port(values.port, 7770, 'port'), host: values.host ?? '127.0.0.1' },
      // Without tunnel flags the engine uses what the user last chose in the UI (or the public relay).
      tunnel: values['external-url']
        ? { mode: 'external', externalUrl: values['external-url'] }
        : values['no-tunnel']
          ? { mode: 'off' }
          : values['tunnel-host'] || values.subdomain
            ? { mode: 'tunnel', host: values['tunnel-host'], subdomain: values.subdomain }
            : undefined,
      log: (level, message, data) => {
        if (level !== 'info') console.error(`[${level}] ${message}`, data ?? '')
      },
    },
    apiPort: port(values['api-port'], 7771, 'api-port'),
  })
  console.log(`Switchboard receiver: ${headless.receiverUrl}`)
  console.log(`Switchboard control API: ${headless.apiUrl}`)
  console.log(`Open: ${headless.loginUrl}`)

  let signals = 0
  const shutdown = (signal: string) => {
    if (++signals > 1) process.exit(1)
    console.log(`${signal}: stopping (intake first, the store last)…`)
    headless.stop().then(
      () => process.exit(0),
      (error) => {
        console.error(error)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

main().catch((error: Error) => {
  console.error(`switchboard: ${error.message}`)
  console.error(USAGE)
  process.exit(1)
})
