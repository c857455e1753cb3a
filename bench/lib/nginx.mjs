// nginx instances: the fixture upstream (plus the "direct" baseline server on the same files) and
// the nginx proxy_cache peer. Each runs in the foreground as our child, with everything it writes
// under its own folder of the temp dir.
import { mkdirSync, writeFileSync, readFileSync, existsSync, rmSync, chownSync, statSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { startProcess, stopProcess, waitFor } from './proc.mjs';
import { httpGet } from './measure.mjs';

export const NGINX = '/usr/sbin/nginx';

/** When run as root, workers run as www-data (or nobody); else nginx keeps the caller's user. */
function workerUser() {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['www-data', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch { /* try the next */ }
  }
  return undefined;
}

/** The top of every config: pid, logs and temp paths inside `dir`, sendfile on. */
export function head(dir, user) {
  return `${user ? `user ${user.name};\n` : ''}worker_processes auto;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
`;
}

/**
 * The fixture upstream on `upPort` (access log, throttled to 25 MiB/s per connection while the
 * file `throttleFlag` exists) and the direct baseline on `directPort` (same files, no log, no throttle).
 */
export function upstreamConfig({ dir, www, upPort, directPort, throttleFlag, user }) {
  return `${head(dir, user)}
  log_format up '$msec $remote_addr "$request" $status $body_bytes_sent $request_time ua="$http_user_agent"';
  server {
    listen 127.0.0.1:${directPort};
    root ${www};
  }
  server {
    listen 127.0.0.1:${upPort};
    root ${www};
    access_log ${dir}/upstream.log up;
    set $rate 0;
    if (-f ${throttleFlag}) { set $rate 25m; }
    limit_rate $rate;
  }
}
`;
}

/** nginx proxy_cache in front of the upstream, configured as in shared/docs/peers-bench.md. */
export function proxyCacheConfig({ dir, port, upPort, user }) {
  return `${head(dir, user)}
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=pc:10m max_size=20g inactive=30d use_temp_path=off;
  upstream origin { server 127.0.0.1:${upPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache pc;
      proxy_cache_valid 200 30d;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 300s;
      proxy_cache_lock_age 300s;
      add_header X-Cache $upstream_cache_status;
    }
  }
}
`;
}

/**
 * Writes `config` (a function of { dir, user }) into `dir`, starts nginx in the foreground and
 * waits until `probeUrl` answers. Returns { child, dir, stop() }.
 */
export async function startNginx(name, dir, config, probeUrl) {
  const user = workerUser();
  for (const sub of ['tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'cache']) mkdirSync(path.join(dir, sub), { recursive: true });
  if (user) {
    for (const sub of ['tmp', 'tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'cache']) chownSync(path.join(dir, sub), user.uid, user.gid);
  }
  const file = path.join(dir, 'nginx.conf');
  writeFileSync(file, config({ dir, user }));
  const child = startProcess(NGINX, ['-p', `${dir}/`, '-c', file, '-e', `${dir}/error.log`, '-g', 'daemon off;'], { logFile: path.join(dir, 'stdout.log'), lastResort: 'SIGTERM' });
  try {
    await waitFor(`nginx ${name}`, async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${tail(path.join(dir, 'error.log'))}`);
      return (await httpGet(probeUrl)).status === 200;
    });
  } catch (err) {
    await stopProcess(child, 'SIGTERM', 3000);
    throw err;
  }
  return {
    child, dir,
    /** Graceful stop (QUIT lets open connections finish), then TERM/KILL if it hangs. */
    stop: () => stopProcess(child, 'SIGQUIT', 5000),
  };
}

/** "nginx/1.22.1" (nginx -v prints to stderr). */
export function nginxVersion() {
  const { stdout, stderr } = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return `${stdout}${stderr}`.trim().replace(/^nginx version: /, '');
}

/** The upstream's access log: mark a position, then count GETs of one path since the mark. */
export class AccessLog {
  constructor(file) { this.file = file; }

  mark() { return existsSync(this.file) ? statSync(this.file).size : 0; }

  getsSince(mark, urlPath) {
    if (!existsSync(this.file)) return 0;
    const text = readFileSync(this.file).subarray(mark).toString('utf8');
    return text.split('\n').filter((line) => line.includes(`"GET ${urlPath} `)).length;
  }

  allGetsSince(mark) {
    if (!existsSync(this.file)) return 0;
    return readFileSync(this.file).subarray(mark).toString('utf8').split('\n').filter((line) => line.includes('"GET ')).length;
  }
}

/** The throttle flag: while the file exists the upstream sends 25 MiB/s per connection. */
export class Throttle {
  constructor(flag) { this.flag = flag; }
  on() { writeFileSync(this.flag, ''); }
  off() { rmSync(this.flag, { force: true }); }
}

function tail(file, lines = 5) {
  try { return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | '); } catch { return '(no error log)'; }
}

/**
 * The fixture upstream over `<tmp>/www` (see {@link upstreamConfig}), unthrottled to begin with,
 * with its access log and throttle flag. Returns { upstream, log, throttle }.
 */
export async function startFixtureUpstream({ tmp, upPort, directPort }) {
  const throttle = new Throttle(path.join(tmp, 'THROTTLE'));
  throttle.off();
  const upDir = path.join(tmp, 'upstream');
  const upstream = await startNginx('upstream', upDir,
    ({ dir, user }) => upstreamConfig({ dir, www: path.join(tmp, 'www'), upPort, directPort, throttleFlag: throttle.flag, user }),
    `http://127.0.0.1:${directPort}/files/k1.bin`);
  return { upstream, log: new AccessLog(path.join(upDir, 'upstream.log')), throttle };
}
