/** Entry point of `payflux backtest`'s reader thread: see backtest-reader.ts. */
import { parentPort, workerData } from 'node:worker_threads';
import { runReader, type BacktestMessage, type BacktestWorkerData } from './backtest-reader.js';

const port = parentPort;
if (port !== null) {
  runReader(port, workerData as BacktestWorkerData).catch((err: unknown) => {
    const failed: BacktestMessage = {
      kind: 'failed',
      message: (err as Error).message,
      code: (err as NodeJS.ErrnoException).code,
    };
    port.postMessage(failed);
  });
}
