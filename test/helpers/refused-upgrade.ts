/** A WebSocket upgrade the server is expected to refuse with an HTTP status and a JSON body. */
import WebSocket from 'ws'

export interface Refusal {
  statusCode: number
  body: { error: string, message: string }
  headers: Record<string, string | string[] | undefined>
}

/**
 * Resolves with the refusal the `ws` client sees as 'unexpected-response'; rejects if the socket
 * opens, since the server must answer before any upgrade.
 */
export function refusedUpgrade (url: string, headers: Record<string, string> = {}): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => {
      ws.terminate()
      reject(new Error(`the upgrade of ${url} was accepted`))
    })
    ws.once('error', reject)
    ws.once('unexpected-response', (request, response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.once('end', () => {
        request.destroy()
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          resolve({ statusCode: response.statusCode ?? 0, body, headers: response.headers })
        } catch (err) {
          reject(err)
        }
      })
    })
  })
}
