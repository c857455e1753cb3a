// nginx for the PyPI benchmark: the upstream (an index host that negotiates HTML / JSON on Accept
// from static files, and a file host) and the peer, nginx proxy_cache set up as a PyPI mirror:
// pages and files cached, file-host URLs in pages rewritten to the mirror with sub_filter.

import { head } from '../lib/nginx.mjs';

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
const HTML_TYPE = 'application/vnd.pypi.simple.v1+html';

/** The index host on `indexPort` (JSON when Accept names it first-class) and the file host on `filesPort`. */
export function pypiUpstreamConfig({ dir, www, indexPort, filesPort, user }) {
  return `${head(dir, user)}
  log_format up '$msec "$request" $status $body_bytes_sent "$http_accept"';
  map $http_accept $simple_format {
    "~*application/vnd\\.pypi\\.simple\\.v1\\+json\\s*(?:,|$)" json;
    default html;
  }
  server {
    listen 127.0.0.1:${indexPort};
    root ${www};
    access_log ${dir}/index.log up;
    # A named capture: evaluating the map's regex would reset $1.
    rewrite ^(?<page>/simple/(?:[^/]+/)?)$ \${page}index.$simple_format last;
    location ~ ^/simple/.*\.json$ { types { } default_type ${JSON_TYPE}; add_header Vary Accept; }
    location ~ ^/simple/.*\.html$ { types { } default_type ${HTML_TYPE}; add_header Vary Accept; }
  }
  server {
    listen 127.0.0.1:${filesPort};
    root ${www};
    access_log ${dir}/files.log up;
    location /packages/ { }
  }
}
`;
}

/**
 * nginx proxy_cache as a PyPI mirror on `port`: \`/simple/\` from the index host, cached 10 min per
 * Accept value (the key includes it); \`/files/\` from the file host, cached 30 days; the file host's
 * URL in pages replaced by the mirror's with sub_filter (as nginx PyPI mirrors are set up).
 */
export function pypiProxyCacheConfig({ dir, port, indexPort, filesPort, user }) {
  return `${head(dir, user)}
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=pypi:10m max_size=20g inactive=30d use_temp_path=off;
  upstream pypi_index { server 127.0.0.1:${indexPort}; keepalive 16; }
  upstream pypi_files { server 127.0.0.1:${filesPort}; keepalive 16; }
  server {
    listen 127.0.0.1:${port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_cache pypi;
    proxy_cache_lock on;
    proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
    add_header X-Cache $upstream_cache_status;
    location /simple/ {
      proxy_pass http://pypi_index;
      proxy_set_header Accept-Encoding "";
      proxy_cache_key "$request_uri|$http_accept";
      proxy_cache_valid 200 10m;
      sub_filter_types ${JSON_TYPE} ${HTML_TYPE};
      sub_filter_once off;
      sub_filter "http://127.0.0.1:${filesPort}/" "http://$http_host/files/";
    }
    location /files/ {
      proxy_pass http://pypi_files/;
      proxy_cache_valid 200 30d;
    }
  }
}
`;
}
