/**
 * Reading a password for an operator command: typed at a hidden prompt (twice) on a terminal,
 * else the first line of standard input, so scripts can pipe it in. Never an argument: those
 * end up in shell history and process lists.
 */
import { UsageError } from './command';

async function firstLineOfStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

function hiddenPrompt(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (finish: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      finish();
    };
    const onData = (keys: string) => {
      for (const key of keys) {
        if (key === '\r' || key === '\n') return done(() => resolve(typed));
        if (key === '\u0003') return done(() => reject(new UsageError('cancelled')));
        if (key === '\u007f' || key === '\b') typed = typed.slice(0, -1);
        else typed += key;
      }
    };
    stdin.on('data', onData);
  });
}

export async function readNewPassword(): Promise<string> {
  if (!process.stdin.isTTY) return firstLineOfStdin();
  const password = await hiddenPrompt('Password: ');
  if ((await hiddenPrompt('Repeat the password: ')) !== password) throw new UsageError('the passwords differ');
  return password;
}
