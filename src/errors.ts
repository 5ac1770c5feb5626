/**
 * Error helpers shared by every layer.
 *
 * `OperatorError` is the base of every problem an operator can fix (configuration, data files, storage out of reach,
 * a refused token): start-up stops with its message on one line, no stack trace, exit code 1. Its message names the
 * variable or file to fix and how.
 */
export class OperatorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Error name and message only, for logs: stacks and payloads may carry personal data. */
export function describeError(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Unknown', message: String(err) };
}

/**
 * zod's issues as one line each, `path: message` (the path joined with dots; `root` names the whole value when the
 * issue is about it, e.g. `body` or `(file)`).
 */
export function formatZodIssues(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>, root = 'body'): string[] {
  return issues.map((i) => `${i.path.map(String).join('.') || root}: ${i.message}`);
}
