// `npm run sample-origin`: the sample image server on 127.0.0.1:8701 (IMGPULL_SAMPLE_ORIGIN_PORT),
// stopped by Ctrl-C or a SIGTERM to npm.
import { isAddressInUse, onStopSignal, portInUseMessage } from '../devkit/processes.ts'
import { SAMPLE_ORIGIN_PORT, sampleOriginServer } from '../devkit/sampleOrigin.ts'

const port = Number(process.env['IMGPULL_SAMPLE_ORIGIN_PORT'] ?? SAMPLE_ORIGIN_PORT)
const server = sampleOriginServer()

server.on('error', (error) => {
  console.error(isAddressInUse(error) ? portInUseMessage({ port, what: 'sample origin' }, 'move it with IMGPULL_SAMPLE_ORIGIN_PORT') : String(error))
  process.exit(1)
})
server.listen(port, '127.0.0.1', () => console.log(`sample origin on http://127.0.0.1:${port}`))
onStopSignal(
  () =>
    new Promise((resolve) => {
      // Keep-alive connections would hold close() open; they are the caller's to retry.
      server.closeAllConnections()
      server.close(() => resolve(0))
    }),
)
