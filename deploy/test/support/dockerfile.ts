/**
 * The Dockerfile's last stage, carried out in a folder instead of an image: no Docker engine runs
 * where the tests do, so the test proves what the image would run by doing what the file says.
 * Only the instructions the file uses are understood; anything else fails the test, so a change
 * to the Dockerfile that this cannot follow is noticed rather than skipped.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  /** The rest of the line, flags removed. */
  argument: string;
}

export interface Stage {
  name?: string;
  image: string;
  instructions: Instruction[];
}

/** The stages of a Dockerfile: comments and the parser directive dropped, continued lines joined. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line)!;
    const flags: Record<string, string> = {};
    let argument = rest;
    for (let flag = /^--([\w-]+)=(\S+)\s*/.exec(argument); flag; flag = /^--([\w-]+)=(\S+)\s*/.exec(argument)) {
      flags[flag[1]!] = flag[2]!;
      argument = argument.slice(flag[0].length);
    }
    if (keyword.toUpperCase() === 'FROM') {
      const [image, as, name] = argument.split(/\s+/);
      stages.push({ image: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`Dockerfile: ${keyword} before FROM`);
      stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), flags, argument });
    }
  }
  return stages;
}

/** An exec-form argument list, e.g. CMD ["node", "main.js"]. */
export function execForm(argument: string): string[] {
  const parsed: unknown = JSON.parse(argument);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) throw new Error(`Dockerfile: not an exec form: ${argument}`);
  return parsed as string[];
}

export interface CarriedOutStage {
  env: Record<string, string>;
  cmd: string[];
  /** The HEALTHCHECK's command, exec form. */
  healthcheck: string[];
  user?: string;
  exposed: string[];
}

/**
 * Carries out `stage` in `folder` standing for its WORKDIR: COPY from `context` (the repository),
 * COPY --from=<stage> from `stageOutputs` (where that stage's WORKDIR was built, e.g. this
 * checkout after `npm run build`), RUN with the stage's ENV in a shell. Build cache mounts
 * (RUN --mount=type=cache) change no result and are left out.
 */
export function carryOutStage(
  stage: Stage,
  { folder, context, stageOutputs, path }: { folder: string; context: string; stageOutputs: Record<string, { workdir: string; folder: string }>; path: string },
): CarriedOutStage {
  const env: Record<string, string> = {};
  let workdir: string | undefined;
  let cmd: string[] | undefined;
  let healthcheck: string[] | undefined;
  let user: string | undefined;
  const exposed: string[] = [];
  const inFolder = (target: string) => {
    if (!workdir) throw new Error('Dockerfile: a path before WORKDIR');
    const absolute = posix.resolve(workdir, target);
    if (absolute !== workdir && !absolute.startsWith(`${workdir}/`)) throw new Error(`Dockerfile: ${target} is outside WORKDIR ${workdir}`);
    return join(folder, posix.relative(workdir, absolute));
  };
  for (const { keyword, flags, argument } of stage.instructions) {
    switch (keyword) {
      case 'ENV': {
        const [, name, value] = /^(\w+)=(.*)$/.exec(argument) ?? [];
        if (!name) throw new Error(`Dockerfile: ENV ${argument}: only NAME=value is understood`);
        env[name] = value!;
        break;
      }
      case 'WORKDIR':
        workdir = argument;
        mkdirSync(folder, { recursive: true });
        break;
      case 'COPY': {
        const parts = argument.split(/\s+/);
        const target = parts.pop()!;
        for (const source of parts) {
          let from: string;
          if (flags.from) {
            const output = stageOutputs[flags.from];
            if (!output) throw new Error(`Dockerfile: COPY --from=${flags.from}: no output given for that stage`);
            from = join(output.folder, posix.relative(output.workdir, source));
          } else {
            from = join(context, source);
          }
          const to = target.endsWith('/') ? join(inFolder(target), posix.basename(source)) : inFolder(target);
          mkdirSync(dirname(to), { recursive: true });
          cpSync(from, to, { recursive: true });
        }
        break;
      }
      case 'RUN':
        if (flags.mount && !flags.mount.startsWith('type=cache')) throw new Error(`Dockerfile: RUN --mount=${flags.mount} is not understood`);
        execFileSync('sh', ['-c', argument], { cwd: inFolder('.'), env: { PATH: path, HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
        break;
      case 'CMD':
        cmd = execForm(argument);
        break;
      case 'HEALTHCHECK': {
        const [, command] = /\bCMD\s+(\[.*\])$/.exec(argument) ?? [];
        if (!command) throw new Error(`Dockerfile: HEALTHCHECK ${argument}: an exec-form CMD is expected`);
        healthcheck = execForm(command);
        break;
      }
      case 'USER':
        user = argument;
        break;
      case 'EXPOSE':
        exposed.push(...argument.split(/\s+/));
        break;
      default:
        throw new Error(`Dockerfile: ${keyword} is not understood by this test (deploy/test/support/dockerfile.ts)`);
    }
  }
  if (!cmd) throw new Error('Dockerfile: the last stage has no CMD');
  if (!healthcheck) throw new Error('Dockerfile: the last stage has no HEALTHCHECK');
  return { env, cmd, healthcheck, user, exposed };
}

export function readDockerfile(path: string): Stage[] {
  return parseDockerfile(readFileSync(path, 'utf8'));
}
