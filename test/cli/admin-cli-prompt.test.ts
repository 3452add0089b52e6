/** The CLI's terminal prompts: a password is read without being echoed; a confirmation line is. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { terminalPrompter } from '../../provider/src/admin/cli/prompt.js';

function terminal() {
  const input = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.ReadStream & PassThrough;
  const output = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let shown = '';
  output.on('data', (c: Buffer) => (shown += c.toString()));
  return { input, output, shown: () => shown };
}

describe('admin CLI prompts', () => {
  it('reads a password without echoing it, showing only the question', async () => {
    const t = terminal();
    const prompt = terminalPrompter(t.input, t.output);
    expect(prompt.interactive).toBe(true);
    const answer = prompt.secret('Password: ');
    t.input.write('hunter2 hunter2\r');
    await expect(answer).resolves.toBe('hunter2 hunter2');
    expect(t.shown()).toContain('Password: ');
    expect(t.shown()).not.toContain('hunter2');
  });

  it('echoes a confirmation line as typed', async () => {
    const t = terminal();
    const answer = terminalPrompter(t.input, t.output).line('Type "Shop" to confirm: ');
    t.input.write('Shop\r');
    await expect(answer).resolves.toBe('Shop');
    expect(t.shown()).toContain('Shop');
  });

  it('is not interactive when stdin is a pipe, and reads stdin whole for --password-stdin', async () => {
    const input = new PassThrough() as unknown as NodeJS.ReadStream & PassThrough;
    const prompt = terminalPrompter(input, new PassThrough() as unknown as NodeJS.WriteStream);
    expect(prompt.interactive).toBe(false);
    input.end('from a pipe with spaces\n');
    await expect(prompt.stdin()).resolves.toBe('from a pipe with spaces');
  });
});
