// A primary.xml shaped like Fedora's Everything (createrepo_c's layout): per package its name,
// arch, epoch/version/release, sha256 pkgid checksum, summary and description of real lengths,
// packager, url, times, sizes, location, and a <format> with license, vendor, group, buildhost,
// source rpm, header range, a few provides, requires (some with pre="1") and files. Deterministic:
// the same count gives the same bytes.
import { createHash } from 'node:crypto';

/** A small seeded generator (mulberry32), so every run writes the same index. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ('library tool daemon plugin bindings development files documentation runtime support module extension utilities ' +
  'client server framework data fonts python perl ruby golang rust java qt gtk kde gnome kernel firmware headers static shared ' +
  'command line interface for the and of with a to is an in that provides package contains this').split(' ');
const ARCHES = ['x86_64', 'x86_64', 'x86_64', 'noarch', 'noarch', 'i686'];
const LICENSES = ['MIT', 'GPL-2.0-or-later', 'LGPL-2.1-or-later', 'Apache-2.0', 'BSD-3-Clause', 'GPL-3.0-or-later AND MIT'];
const REQUIRES = ['libc.so.6()(64bit)', 'libc.so.6(GLIBC_2.34)(64bit)', 'libm.so.6()(64bit)', 'libstdc++.so.6()(64bit)', 'libgcc_s.so.1()(64bit)',
  'libz.so.1()(64bit)', 'libssl.so.3()(64bit)', 'libcrypto.so.3()(64bit)', 'python(abi) = 3.12', '/usr/bin/sh', 'rtld(GNU_HASH)', 'glib2'];

const sentence = (rnd, words) => Array.from({ length: words }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');

/** The `<package>` element of package `i`. */
export function packageElement(i, rnd) {
  const name = `${sentence(rnd, 1)}-${sentence(rnd, 1)}${i}`;
  const arch = ARCHES[Math.floor(rnd() * ARCHES.length)];
  const ver = `${1 + Math.floor(rnd() * 9)}.${Math.floor(rnd() * 30)}.${Math.floor(rnd() * 12)}`;
  const rel = `${1 + Math.floor(rnd() * 20)}.fc40`;
  const nevra = `${name}-${ver}-${rel}.${arch}`;
  const checksum = createHash('sha256').update(nevra).digest('hex');
  const size = 2000 + Math.floor(rnd() * 5_000_000);
  const headerEnd = 4504 + Math.floor(rnd() * 90_000);
  const provides = [`<rpm:entry name="${name}" flags="EQ" epoch="0" ver="${ver}" rel="${rel}"/>`];
  if (arch !== 'noarch') provides.push(`<rpm:entry name="${name}(${arch === 'i686' ? 'x86-32' : 'x86-64'})" flags="EQ" epoch="0" ver="${ver}" rel="${rel}"/>`);
  if (rnd() < 0.4) provides.push(`<rpm:entry name="lib${name}.so.${Math.floor(rnd() * 9)}()(64bit)"/>`);
  const requires = Array.from({ length: 1 + Math.floor(rnd() * 7) }, () => REQUIRES[Math.floor(rnd() * REQUIRES.length)])
    .map((r) => (r === '/usr/bin/sh' ? `<rpm:entry name="${r}" pre="1"/>` : `<rpm:entry name="${r.replace(/ = .*/, '')}"${r.includes(' = ') ? ` flags="EQ" epoch="0" ver="${r.split(' = ')[1]}"` : ''}/>`));
  const files = Array.from({ length: Math.floor(rnd() * 4) }, (_, f) => (f === 0 && rnd() < 0.5 ? `<file type="dir">/usr/share/${name}</file>` : `<file>/usr/bin/${name}${f || ''}</file>`));
  return `<package type="rpm">
  <name>${name}</name>
  <arch>${arch}</arch>
  <version epoch="0" ver="${ver}" rel="${rel}"/>
  <checksum type="sha256" pkgid="YES">${checksum}</checksum>
  <summary>${sentence(rnd, 3 + Math.floor(rnd() * 6))}</summary>
  <description>${sentence(rnd, 12 + Math.floor(rnd() * 60))}.
${rnd() < 0.5 ? `${sentence(rnd, 10 + Math.floor(rnd() * 40))}.` : ''}</description>
  <packager>Fedora Project</packager>
  <url>https://${name}.example.org/</url>
  <time file="${1713000000 + i}" build="${1712990000 + i}"/>
  <size package="${size}" installed="${size * 3}" archive="${size * 3 + 1024}"/>
  <location href="Packages/${name[0]}/${nevra}.rpm"/>
  <format>
    <rpm:license>${LICENSES[Math.floor(rnd() * LICENSES.length)]}</rpm:license>
    <rpm:vendor>Fedora Project</rpm:vendor>
    <rpm:group>Unspecified</rpm:group>
    <rpm:buildhost>buildvm-x86-${Math.floor(rnd() * 40)}.iad2.fedoraproject.org</rpm:buildhost>
    <rpm:sourcerpm>${name}-${ver}-${rel}.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="4504" end="${headerEnd}"/>
    <rpm:provides>
      ${provides.join('\n      ')}
    </rpm:provides>
    <rpm:requires>
      ${requires.join('\n      ')}
    </rpm:requires>
${files.map((f) => `    ${f}\n`).join('')}  </format>
</package>
`;
}

/** The whole primary.xml of `count` packages, in pieces (written to a file as they come). */
export function* primaryXml(count, seed = 40) {
  const rnd = random(seed);
  yield `<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${count}">\n`;
  for (let i = 0; i < count; i += 1) yield packageElement(i, rnd);
  yield '</metadata>\n';
}

/** The location of package `i` (for checking what the parser kept). */
export function locationOf(count, i, seed = 40) {
  let last;
  let n = 0;
  for (const piece of primaryXml(count, seed)) if (n++ === i + 1) last = piece;
  return /<location href="([^"]+)"/.exec(last)[1];
}
