/**
 * GONOSUMDB-style patterns: each is a path glob matched against the leading elements of a module
 * path (`example.com/private` covers `example.com/private/x`; `*.corp.example` covers any host there).
 */
export class ModulePatterns {
  private readonly patterns: readonly RegExp[][];

  constructor(patterns: readonly string[]) {
    this.patterns = patterns.map((p) => p.replace(/\/+$/, '')).filter((p) => p !== '').map((p) => p.split('/').map(globElement));
  }

  matches(module: string): boolean {
    const elements = module.split('/');
    return this.patterns.some((p) => p.length <= elements.length && p.every((re, i) => re.test(elements[i]!)));
  }
}

function globElement(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) { source += '\\['; continue; }
      source += `[${glob.slice(i + 1, end).replace(/^\^/, '^').replace(/\\/g, '\\\\')}]`;
      i = end;
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
