// Starts and stops the bare koa route (koa-server.mjs) as a child process.
import path from 'node:path';
import { startProcess, stopProcess, waitFor } from './proc.mjs';
import { httpGet } from './measure.mjs';

export async function startBareKoa({ dir, port, files }) {
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), 'koa-server.mjs');
  const child = startProcess(process.execPath, [script, String(port), ...files], { logFile: path.join(dir, 'koa.log') });
  await waitFor('bare koa', async () => {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    return (await httpGet(`http://127.0.0.1:${port}/files/${path.basename(files[0])}`)).status === 200;
  });
  return { child, stop: () => stopProcess(child, 'SIGTERM', 5000) };
}
