/**
 * PEP 503 project names. An index addresses a project by its normalized name: lowercase, with
 * every run of `-`, `_` and `.` collapsed to one `-` (`Foo.Bar__baz` is `foo-bar-baz`).
 */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** A project name as PEP 508 allows it: ASCII letters and digits, with `-`, `_`, `.` inside. */
const VALID_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

export function isValidName(name: string): boolean {
  return VALID_NAME.test(name);
}
