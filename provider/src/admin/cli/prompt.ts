import readline from 'node:readline';
import type { Prompter } from './kit.js';

/** Prompts on the terminal (stderr, so `--json` stdout stays clean); hidden echo for secrets. */
export function terminalPrompter(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Prompter {
  function ask(question: string, hidden: boolean): Promise<string> {
    const rl = readline.createInterface({ input, output, terminal: true });
    if (hidden) {
      // readline echoes through _writeToOutput; print the question, then nothing of what is typed.
      const internals = rl as unknown as { _writeToOutput(s: string): void };
      let asked = false;
      internals._writeToOutput = (s: string) => {
        if (!asked || s.includes('\n')) output.write(asked ? '\n' : s);
        asked = true;
      };
    }
    return new Promise((resolve) => {
      rl.question(question, (answer) => {
        rl.close();
        resolve(answer);
      });
    });
  }
  return {
    interactive: (input as { isTTY?: boolean }).isTTY === true, // undefined when stdin is a pipe, whatever the type says
    secret: (q) => ask(q, true),
    line: (q) => ask(q, false),
    async stdin() {
      const chunks: Buffer[] = [];
      for await (const chunk of input) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\r?\n$/, '');
    },
  };
}
