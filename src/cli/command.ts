/** The shape of one `physode` sub-command: src/cli/commands/<name>.ts exports `command`. */
export interface Command {
  readonly name: string;
  /** One line for `physode --help`. */
  readonly summary: string;
  /** Full usage text for `physode <name> --help`. */
  readonly usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: readonly string[]): Promise<number>;
}
