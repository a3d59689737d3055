/**
 * The project's error type: what went wrong, and how to fix it.
 * The CLI prints `message` and, when present, `hint` on one line each and exits non-zero.
 */
export class PhysodeError extends Error {
  readonly hint?: string;
  constructor(message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** Invalid user input (arguments, options, requests). */
export class InvalidArgumentError extends PhysodeError {}

/** A file that is missing, truncated, corrupt, or of the wrong format. */
export class CorruptFileError extends PhysodeError {
  readonly file: string;
  constructor(file: string, problem: string, hint?: string) {
    super(`${file}: ${problem}`, hint);
    this.file = file;
  }
}
